#include "modules/active_module.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <mutex>
#include <stdexcept>

#include "util/log.hpp"

namespace parley::modules {

namespace {

// The points this core dispatches today. Registering anything else fails loudly: a module
// must never believe it enforces a rule the server does not apply.
bool dispatched(HookPoint point) {
  switch (point) {
    case HookPoint::StanzaFromClient:
    case HookPoint::PreRoute:
    case HookPoint::BeforeLocalDelivery:
    case HookPoint::Decided:
    case HookPoint::SaslAuthenticated:
    case HookPoint::StreamFeatures:
    case HookPoint::IqNamespace:
    case HookPoint::ServerMessage:
    case HookPoint::Timer:
    case HookPoint::SessionOpened:
    case HookPoint::SessionClosed:
    case HookPoint::DiscoInfo:
    case HookPoint::PepPublish:
      return true;
    default:
      return false;
  }
}

}  // namespace

ActiveModule::ActiveModule(std::shared_ptr<ModuleLibrary> lib, config::ModuleSettings settings_,
                           EventSink& events_, std::function<void(xml::Element)>& send_,
                           std::shared_ptr<const GroupMap> groups_, ModuleServices& services_)
    : library(std::move(lib)),
      settings(std::move(settings_)),
      name(settings.name),
      clause(library->descriptor().clause),
      priority(settings.priority.value_or(library->descriptor().default_priority)),
      events(events_),
      send(send_),
      groups(std::move(groups_)),
      services(services_) {}

ActiveModule::~ActiveModule() {
  stopTimers();
  // The jobs are module code: destroy them now, while the library is certainly loaded. No job
  // is running (a running one holds a reference to this module).
  for (auto& t : timers) t->job = nullptr;
  if (!instance) return;
  try {
    instance->detach();
  } catch (const std::exception& e) {
    log::warn("module ", name, ": detach failed: ", e.what());
  }
}

void ActiveModule::onStanza(HookPoint point, StanzaHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  switch (point) {
    case HookPoint::StanzaFromClient:
    case HookPoint::StanzaFromServer:
    case HookPoint::PreRoute:
    case HookPoint::BeforeRemoteSend:
    case HookPoint::BeforeLocalDelivery:
    case HookPoint::PepPublish:
      break;
    default:
      throw std::logic_error(std::string(hookPointName(point)) + " is not a stanza hook point");
  }
  if (!dispatched(point)) {
    throw std::logic_error(std::string(hookPointName(point)) +
                           " is not dispatched by this parleyd yet");
  }
  stanza_hooks.emplace_back(point, std::move(hook));
}

void ActiveModule::onSession(HookPoint point, SessionHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  if (point != HookPoint::SessionOpened && point != HookPoint::SessionClosed) {
    throw std::logic_error(std::string(hookPointName(point)) + " is not a session hook point");
  }
  session_hooks.emplace_back(point, std::move(hook));
}

void ActiveModule::onDiscoInfo(DiscoHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  disco_hooks.push_back(std::move(hook));
}

void ActiveModule::onDecided(DecidedHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  decided_hooks.push_back(std::move(hook));
}

namespace {
std::mutex reserved_mutex;
std::set<std::string> reserved_namespaces;
}  // namespace

void ActiveModule::setReservedNamespaces(std::set<std::string> namespaces) {
  std::lock_guard lock(reserved_mutex);
  reserved_namespaces = std::move(namespaces);
}

void ActiveModule::onLogin(LoginHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  login_hooks.push_back(std::move(hook));
}

void ActiveModule::onStreamFeatures(FeaturesHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  features_hooks.push_back(std::move(hook));
}

void ActiveModule::onIq(std::string ns, IqHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  {
    std::lock_guard lock(reserved_mutex);
    if (ns.empty() || reserved_namespaces.count(ns)) {
      throw std::logic_error("the core serves " + (ns.empty() ? std::string("''") : ns) +
                             " itself; a module cannot take it over");
    }
  }
  iq_hooks.emplace_back(std::move(ns), std::move(hook));
}

void ActiveModule::onServerMessage(ServerMessageHook hook) {
  if (!attaching) throw std::logic_error("hooks can only be registered in attach()");
  server_message_hooks.push_back(std::move(hook));
}

void ActiveModule::every(std::chrono::milliseconds period, TimerJob job) {
  if (!attaching) throw std::logic_error("timers can only be registered in attach()");
  if (period < std::chrono::milliseconds(10)) {
    throw std::logic_error("a timer period must be at least 10 ms");
  }
  auto t = std::make_shared<ModuleTimer>();
  t->period = period;
  t->job = std::move(job);
  timers.push_back(std::move(t));
}

namespace {

void arm(std::weak_ptr<ActiveModule> weak, std::shared_ptr<ModuleTimer> t) {
  t->timer->expires_after(t->period);
  t->timer->async_wait([weak = std::move(weak), t](const boost::system::error_code& ec) {
    if (ec || t->stopped) return;
    auto m = weak.lock();  // keeps the module's code loaded while its job runs
    if (!m) return;
    m->calls.fetch_add(1, std::memory_order_relaxed);
    try {
      t->job();
    } catch (const std::exception& e) {
      m->recordFailure("timer", e.what());
    } catch (...) {
      m->recordFailure("timer", "a non-standard exception");
    }
    if (!t->stopped) arm(weak, t);
  });
}

// A query in flight: `done` is declared after `self`, so it is destroyed first, while the
// module (and its code) is still alive.
struct PendingQuery {
  std::shared_ptr<ActiveModule> self;
  DbDone done;
};

void finish(const std::shared_ptr<PendingQuery>& q, DbRows rows, std::string error) {
  boost::asio::post(q->self->services.jobs,
                    [q, rows = std::move(rows), error = std::move(error)]() mutable {
                      try {
                        q->done(std::move(rows), std::move(error));
                      } catch (const std::exception& e) {
                        q->self->recordFailure("query callback", e.what());
                      }
                    });
}

}  // namespace

void ActiveModule::startTimers() {
  std::weak_ptr<ActiveModule> weak = weak_from_this();
  for (auto& t : timers) {
    boost::asio::post(services.jobs, [weak, t, &jobs = services.jobs]() {
      if (t->stopped) return;
      t->timer = std::make_unique<boost::asio::steady_timer>(jobs);
      arm(weak, t);
    });
  }
}

void ActiveModule::stopTimers() {
  for (auto& t : timers) {
    if (t->stopped.exchange(true)) continue;
    // The timer belongs to the jobs thread: cancel it there.
    boost::asio::post(services.jobs, [t]() {
      if (t->timer) t->timer->cancel();
    });
  }
}

void ActiveModule::query(std::string sql, std::vector<std::optional<std::string>> params,
                         DbDone done) {
  auto q = std::make_shared<PendingQuery>(PendingQuery{shared_from_this(), std::move(done)});
  if (!services.db) {
    finish(q, {}, "no database is available to modules here");
    return;
  }
  auto job = [q, sql = std::move(sql), params = std::move(params),
              retried = false](pqxx::connection& c) mutable {
    DbRows out;
    std::string error;
    try {
      std::vector<const char*> values;  // nullptr binds NULL
      values.reserve(params.size());
      for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
      pqxx::work tx(c);
      pqxx::result r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(values));
      tx.commit();
      for (pqxx::row::size_type i = 0; i < r.columns(); ++i)
        out.columns.emplace_back(r.column_name(i));
      for (const auto& row : r) {
        std::vector<std::optional<std::string>> values_out;
        for (const auto& field : row) {
          values_out.push_back(field.is_null() ? std::nullopt
                                               : std::optional<std::string>(field.c_str()));
        }
        out.rows.push_back(std::move(values_out));
      }
      out.affected = r.affected_rows();
    } catch (const pqxx::broken_connection& e) {
      // Once, the pool reconnects and runs this job again.
      if (!retried) {
        retried = true;
        throw;
      }
      out = {};
      error = e.what();
    } catch (const std::exception& e) {
      out = {};
      error = e.what();
    }
    finish(q, std::move(out), std::move(error));
  };
  if (!services.db(std::move(job))) finish(q, {}, "the database queue is full; try again later");
}

void ActiveModule::recordFailure(const std::string& where, const std::string& what,
                                 ComplianceEvent about) {
  failures.fetch_add(1, std::memory_order_relaxed);
  log::warn("module ", name, " ", where, " failed: ", what);
  ComplianceEvent e = std::move(about);
  e.kind = name + ".failure";
  e.action = EventAction::Error;
  e.severity = Severity::High;
  e.detail_json = boost::json::serialize(boost::json::object{{"hook", where}, {"error", what}});
  emit(std::move(e));
}

void ActiveModule::emit(ComplianceEvent event) {
  event.module = name;
  event.clause = clause;
  events.emit(std::move(event));
}

void ActiveModule::sendFromServer(xml::Element stanza) { send(std::move(stanza)); }

bool ActiveModule::isMember(const Jid& user, std::string_view group) const {
  auto it = groups->find(std::string(group));
  return it != groups->end() && it->second.count(user.bareString()) > 0;
}

void ActiveModule::log(LogLevel level, std::string_view message) {
  switch (level) {
    case LogLevel::Debug:
      log::debug("module ", name, ": ", message);
      break;
    case LogLevel::Info:
      log::info("module ", name, ": ", message);
      break;
    case LogLevel::Warn:
      log::warn("module ", name, ": ", message);
      break;
    case LogLevel::Error:
      log::error("module ", name, ": ", message);
      break;
  }
}

}  // namespace parley::modules
