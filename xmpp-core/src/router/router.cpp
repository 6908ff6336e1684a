#include "router/router.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "parley/xml/serializer.hpp"
#include "router/blocklist.hpp"
#include "router/stanza_errors.hpp"
#include "util/log.hpp"
#include "xml/stream_parser.hpp"

namespace parley::router {
namespace {

constexpr std::string_view kDelayNs = "urn:xmpp:delay";

bool isLocalAccountJid(const ServerContext& ctx, const Jid& jid) {
  return !jid.node().empty() && ctx.isLocalDomain(jid.domain());
}

}  // namespace

Router::Router(ServerContext& ctx) : ctx_(ctx) {}

void Router::addIqService(std::string ns, IqService service) {
  iq_services_[std::move(ns)] = std::move(service);
}

const DomainService* Router::subdomainService(std::string_view domain) const {
  for (const auto& sub : subdomain_services_) {
    if (domain.size() > sub.label.size() + 1 && domain.starts_with(sub.label) &&
        domain[sub.label.size()] == '.' &&
        ctx_.isLocalDomain(domain.substr(sub.label.size() + 1))) {
      return &sub.service;
    }
  }
  return nullptr;
}

std::vector<DiscoItem> Router::subdomainItems(std::string_view domain) const {
  std::vector<DiscoItem> items;
  for (const auto& sub : subdomain_services_) {
    items.push_back({sub.label + "." + std::string(domain), "", sub.name});
  }
  for (const auto& component : ctx_.components().domains()) {
    // A component at a subdomain shows under its parent host; one under no local host (a
    // gateway named after the network it bridges) under every host.
    const auto dot = component.find('.');
    const std::string_view parent = std::string_view(component).substr(dot + 1);
    if (parent == domain || !ctx_.isLocalDomain(parent)) items.push_back({component, "", ""});
  }
  return items;
}

xml::Element makeResult(const Stanza& request) {
  xml::Element reply(std::string(ns::kClient), "iq");
  reply.setAttr("type", "result");
  if (auto id = request.element.attr("id")) reply.setAttr("id", *id);
  if (auto from = request.element.attr("from")) reply.setAttr("to", *from);
  if (auto to = request.element.attr("to")) reply.setAttr("from", *to);
  return reply;
}

std::optional<xml::Element> parseStoredStanza(const std::string& text) {
  xml::ParserLimits limits;
  limits.max_stanza_bytes = text.size() + 4096;
  limits.max_depth = 64;
  xml::StreamParser parser(limits);
  std::vector<xml::StreamEvent> events;
  static const std::string kHeader =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  if (!parser.feed(kHeader, events) || !parser.feed(text, events)) return std::nullopt;
  for (auto& ev : events) {
    if (ev.kind == xml::StreamEvent::Kind::Stanza) return std::move(ev.element);
  }
  return std::nullopt;
}

std::string utcTimestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void Router::deliver(const SessionPtr& session, std::shared_ptr<const xml::Element> stanza) {
  if (ctx_.modules().hasHooks(HookPoint::BeforeLocalDelivery)) {
    stanza = beforeLocalDelivery(session, std::move(stanza));
    if (!stanza) return;
  }
  session->deliver(std::move(stanza));
}

void Router::deliver(const SessionPtr& session, xml::Element stanza) {
  deliver(session, std::make_shared<const xml::Element>(std::move(stanza)));
}

void Router::deliverBacklog(const SessionPtr& session,
                            std::vector<std::shared_ptr<const xml::Element>> stanzas) {
  if (ctx_.modules().hasHooks(HookPoint::BeforeLocalDelivery)) {
    std::vector<std::shared_ptr<const xml::Element>> allowed;
    allowed.reserve(stanzas.size());
    for (auto& s : stanzas) {
      if (auto checked = beforeLocalDelivery(session, std::move(s))) {
        allowed.push_back(std::move(checked));
      }
    }
    stanzas = std::move(allowed);
  }
  if (!stanzas.empty()) session->deliverBacklog(std::move(stanzas));
}

std::shared_ptr<const xml::Element> Router::beforeLocalDelivery(
    const SessionPtr& session, std::shared_ptr<const xml::Element> element) {
  // A copy: the same element may be on its way to other sessions too.
  Stanza stanza{*element, Jid(), session->jid(), Origin::Internal};
  if (auto from = Jid::parse(stanza.element.attrOr("from"))) stanza.from = *from;
  Verdict verdict = ctx_.modules().runStanza(HookPoint::BeforeLocalDelivery, stanza);
  switch (verdict.kind) {
    case Verdict::Kind::Pass:
      return element;
    case Verdict::Kind::Modify:
      return std::make_shared<const xml::Element>(std::move(stanza.element));
    case Verdict::Kind::Drop:
      return nullptr;
    case Verdict::Kind::Reject:
      break;
  }
  // Tell a local sender; the reply itself goes straight to its session (no second check, so
  // a module refusing errors cannot make a loop).
  if (mayBounce(*element) && !stanza.from.isBare()) {
    if (auto sender = ctx_.registry().find(stanza.from)) {
      sender->deliver(std::make_shared<const xml::Element>(
          makeStanzaError(*element, verdict.condition, verdict.text,
                          verdict.retry_after_change ? "modify" : "cancel")));
    }
  }
  return nullptr;
}

void Router::sendFromServer(xml::Element stanza) {
  auto to = Jid::parse(stanza.attrOr("to"));
  if (!to || !ctx_.isLocalDomain(to->domain())) {
    log::warn("a server-generated ", stanza.name(), " to '", stanza.attrOr("to"),
              "' was not sent: not a local address");
    return;
  }
  if (stanza.attrOr("from").empty()) stanza.setAttr("from", to->domain());
  if (!to->isBare()) {
    if (auto s = ctx_.registry().find(*to)) deliver(s, std::move(stanza));
    return;
  }
  auto shared = std::make_shared<const xml::Element>(std::move(stanza));
  for (auto& s : ctx_.registry().sessionsOf(to->full()))
    if (s->available()) deliver(s, shared);
}

void Router::bounce(const SessionPtr& session, const xml::Element& stanza,
                    std::string_view condition, std::string_view text, std::string_view type) {
  if (!session || !mayBounce(stanza)) return;
  deliver(session, makeStanzaError(stanza, condition, text, type));
}

Task<bool> Router::isBlocked(const std::string& owner, const Jid& other) {
  auto list = ctx_.blocklists().find(owner);
  if (!list) list = co_await ctx_.blocklists().get(owner);
  co_return list->blocks(other);
}

bool Router::blockedEitherWay(const Jid& a, const Jid& b) const {
  auto a_list = ctx_.blocklists().find(a.bareString());
  if (a_list && a_list->blocks(b)) return true;
  auto b_list = ctx_.blocklists().find(b.bareString());
  return b_list && b_list->blocks(a);
}

Task<bool> Router::stoppedByBlocking(const Stanza& stanza, const SessionPtr& session) {
  // Named, not temporaries: GCC 12 mishandles temporaries that live across a co_await.
  const std::string sender = stanza.from.bareString(), recipient = stanza.to.bareString();
  if (co_await isBlocked(sender, stanza.to)) {
    refuseBlocked(session, stanza.element);
    co_return true;
  }
  if (co_await isBlocked(recipient, stanza.from)) {
    bounce(session, stanza.element, "service-unavailable", "The recipient is not available.");
    co_return true;
  }
  co_return false;
}

void Router::refuseBlocked(const SessionPtr& session, const xml::Element& stanza) {
  if (session && mayBounce(stanza)) deliver(session, makeBlockedError(stanza));
}

Task<void> Router::fromClient(Stanza stanza, SessionPtr session) {
  if (!admitted(stanza, session)) co_return;
  co_await dispatch(stanza, session);
}

bool Router::admitted(Stanza& stanza, const SessionPtr& session) {
  // stanza.in, then stanza.route: empty until the module host attaches policy modules.
  if (ctx_.recordingFailed()) {
    bounce(session, stanza.element, "internal-server-error",
           "The server cannot record messages as the IM policy requires, so it accepts none "
           "until an administrator has fixed it. Nothing you send now is delivered.");
    return false;
  }
  const auto& modules = ctx_.modules();
  Verdict final_verdict;
  // stanza.in has a chain per origin in the API, but none for components: their stanzas go
  // through the clients' chain (origin says which it is), so no policy misses them.
  for (HookPoint point : {HookPoint::StanzaFromClient, HookPoint::PreRoute}) {
    Verdict verdict = modules.runStanza(point, stanza);
    if (verdict.kind == Verdict::Kind::Modify) final_verdict.kind = Verdict::Kind::Modify;
    if (verdict.stops()) {
      final_verdict = std::move(verdict);
      break;
    }
  }
  // stanza.decided: observers (an archive) see what is about to happen, whatever it is.
  if (modules.hasHooks(HookPoint::Decided)) modules.runDecided(stanza, final_verdict);
  if (final_verdict.kind == Verdict::Kind::Drop) return false;
  if (final_verdict.kind == Verdict::Kind::Reject) {
    // Only the core builds error stanzas; errors and iq results are never answered.
    bounce(session, stanza.element, final_verdict.condition, final_verdict.text,
           final_verdict.retry_after_change ? "modify" : "cancel");
    return false;
  }
  return true;
}

Task<void> Router::dispatch(Stanza& stanza, const SessionPtr& session) {
  if (!stanza.to.empty() && isComponentDomain(stanza.to.domain())) {
    // Messages and a client's presence go through their usual routing first, so the sender's
    // side (carbons, archive, roster, directed presence) treats the component's addresses like
    // any other contact's; that routing hands them to the component.
    if (stanza.kind() == "message") {
      co_await routeMessage(stanza, session);
      co_return;
    }
    if (stanza.kind() == "presence" && stanza.origin == Origin::Client) {
      co_await routePresence(stanza, session);
      co_return;
    }
    const std::string domain = stanza.to.domain();
    toComponent(std::make_shared<const xml::Element>(std::move(stanza.element)), domain, session);
    co_return;
  }
  if (stanza.kind() == "presence" && stanza.type().empty()) {
    for (const auto& decorate : presence_decorators_) co_await decorate(session, stanza.element);
  }
  if (const DomainService* service = subdomainService(stanza.to.domain())) {
    co_await (*service)(stanza, session);
    co_return;
  }
  if (stanza.kind() == "message") {
    co_await routeMessage(stanza, session);
  } else if (stanza.kind() == "presence") {
    if (stanza.origin == Origin::Component) {
      co_await routePresenceFromComponent(stanza, session);
    } else {
      co_await routePresence(stanza, session);
    }
  } else {
    co_await routeIq(stanza, session);
  }
}

// ---- messages (RFC 6121 §8.5) ----

Task<void> Router::routeMessage(Stanza& stanza, const SessionPtr& session) {
  if (stanza.to.empty()) {
    // RFC 6120 §10.3: no 'to' means the sender's own account.
    stanza.to = stanza.from.bare();
    stanza.element.setAttr("to", stanza.to.full());
  }
  std::string_view type = stanza.type();
  // XEP-0114: to an external component; the sender's side (blocking, carbons, its archive) is
  // handled here as for a local recipient, the recipient's side is the component's.
  const bool to_component = isComponentDomain(stanza.to.domain());
  if (!to_component && !ctx_.isLocalDomain(stanza.to.domain())) {
    bounce(session, stanza.element, "remote-server-not-found",
           "This server does not federate with other domains.");
    co_return;
  }
  if (stanza.to.node().empty() && !to_component) {
    // Messages to the server itself: a module's service may take them (message.server).
    if (type == "error" || type == "headline") co_return;
    if (ctx_.modules().hasHooks(HookPoint::ServerMessage)) {
      if (auto verdict = ctx_.modules().runServerMessage(stanza)) {
        if (verdict->kind == Verdict::Kind::Reject) {
          bounce(session, stanza.element,
                 verdict->condition.empty() ? "bad-request" : verdict->condition, verdict->text,
                 verdict->retry_after_change ? "modify" : "");
        }
        co_return;
      }
    }
    bounce(session, stanza.element, "service-unavailable", "The server does not accept messages.");
    co_return;
  }
  // Errors go to full JIDs only (a component decides for its own addresses).
  if (type == "error" && stanza.to.isBare() && !to_component) co_return;

  if (co_await stoppedByBlocking(stanza, session)) co_return;  // XEP-0191
  const std::string sender = stanza.from.bareString(), recipient = stanza.to.bareString();

  // XEP-0359: only this server says where it archived a message.
  archiving::stripOwnStanzaIds(
      stanza.element, [this](std::string_view domain) { return ctx_.isLocalDomain(domain); });
  // XEP-0280: the sender's other clients see what it sent, the recipient's other clients what
  // it received. Decided on the message as sent; <private/> is not passed on.
  const bool copy = carbons::eligible(stanza.element);
  carbons::stripPrivate(stanza.element);

  // XEP-0313: which archives take the message is decided before anything is sent, because the
  // copies carry the archive ids; the rows are written after delivery (or with the offline
  // copy). Delivery comes first because this archive is the users' convenience, not the
  // compliance record: a slow or failing database delays or loses a history entry rather than
  // the conversation. The price is a window of a few milliseconds (the group commit's delay
  // and one round trip) in which a recipient holds a stanza-id its archive cannot answer for
  // yet (archive queries wait for it: router/archive_writes.hpp), and a history entry lost
  // (logged) if the write fails.
  archiving::Plan plan = co_await planArchive(stanza);

  if (copy && session && sender != recipient) {
    if (plan.sender_id.empty()) {
      sendCarbons(carbons::Copy::Sent, sender, stanza.element, {session});
    } else {
      // XEP-0313 §3.5: the sender's own clients learn its archive id from the carbon.
      xml::Element sent = stanza.element;
      archiving::addStanzaId(sent, sender, plan.sender_id);
      sendCarbons(carbons::Copy::Sent, sender, sent, {session});
    }
  }
  if (!plan.recipient_id.empty())
    archiving::addStanzaId(stanza.element, recipient, plan.recipient_id);

  auto shared = std::make_shared<const xml::Element>(std::move(stanza.element));
  if (to_component) {
    // Archived only when handed over: a message to an absent component bounces.
    const bool connected = ctx_.components().find(stanza.to.domain()) != nullptr;
    toComponent(shared, stanza.to.domain(), session);
    if (connected) co_await archiveDelivered(std::move(plan));
    co_return;
  }
  if (!stanza.to.isBare()) {
    if (auto target = ctx_.registry().find(stanza.to)) {
      deliver(target, shared);
      if (copy) sendCarbons(carbons::Copy::Received, recipient, *shared, {target, session});
      co_await archiveDelivered(std::move(plan));
      co_return;
    }
    // §8.5.3.2.1: no such resource.
    if (type == "error") co_return;
    if (type == "groupchat") {
      bounce(session, *shared, "service-unavailable", "That resource is not online.");
      co_return;
    }
  }
  if (type == "groupchat") {
    bounce(session, *shared, "service-unavailable",
           "Group chat messages cannot be sent to a user account.");
    co_return;
  }
  std::vector<SessionPtr> targets;
  for (auto& s : ctx_.registry().sessionsOf(recipient)) {
    if (s->available() && s->priority() >= 0) targets.push_back(std::move(s));
  }
  if (!targets.empty()) {
    for (const auto& t : targets) deliver(t, shared);
    // Never back to the sender (a message to its own account's other resources).
    targets.push_back(session);
    if (copy) sendCarbons(carbons::Copy::Received, recipient, *shared, targets);
    co_await archiveDelivered(std::move(plan));
    co_return;
  }
  if (type == "headline") co_return;  // headlines are not stored (§8.5.2.1.1)
  stanza.element = *shared;
  co_await storeOfflineOrBounce(stanza, session, plan.any() ? &plan.record : nullptr);
}

void Router::sendCarbons(carbons::Copy copy, const std::string& owner, const xml::Element& message,
                         const std::vector<SessionPtr>& except) {
  for (const auto& s : ctx_.registry().sessionsOf(owner)) {
    if (!s->carbonsEnabled() || std::find(except.begin(), except.end(), s) != except.end()) {
      continue;
    }
    deliver(s, carbons::wrap(copy, s->jid(), message));
  }
}

Task<void> Router::storeOfflineOrBounce(const Stanza& stanza, const SessionPtr& sender,
                                        const storage::ArchiveRecord* archive) {
  const std::string owner = stanza.to.bareString();
  const size_t cap = ctx_.config()->limits.offline_max_messages;
  std::string text = xml::toString(stanza.element, ns::kClient);
  enum class Outcome { Stored, Full, NoAccount };
  Outcome outcome = Outcome::NoAccount;
  std::string archive_failure;
  try {
    std::optional<storage::ArchiveRecord> record;
    if (archive) record = *archive;
    auto job = [owner, text, cap, record](pqxx::connection& c) {
      if (!storage::accountExists(c, owner))
        return std::make_pair(Outcome::NoAccount, std::string());
      if (!storage::storeOffline(c, owner, text, cap))
        return std::make_pair(Outcome::Full, std::string());
      // Archived only once stored (a bounced message was not delivered). A failure here must
      // not undo or repeat the stored copy, so it is reported, not thrown.
      std::string failure;
      try {
        if (record) storage::archiveMessage(c, *record);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      return std::make_pair(Outcome::Stored, failure);
    };
    std::tie(outcome, archive_failure) = co_await ctx_.db().run(std::move(job));
  } catch (const std::exception& e) {
    log::error("offline storage for ", owner, " failed: ", e.what());
    bounce(sender, stanza.element, "internal-server-error",
           "The message could not be stored for later delivery; please retry.");
    co_return;
  }
  if (!archive_failure.empty())
    log::warn("message to ", owner, " stored offline but not archived: ", archive_failure);
  switch (outcome) {
    case Outcome::Stored:
      ctx_.offlineIndex().add(owner);
      co_await deliverOfflineIfOnline(owner);
      break;
    case Outcome::Full:
      bounce(sender, stanza.element, "service-unavailable",
             "The recipient is offline and their offline message store is full.");
      break;
    case Outcome::NoAccount:
      bounce(sender, stanza.element, "service-unavailable", "No such user on this server.");
      break;
  }
}

// ---- iq (RFC 6120 §8.2.3) ----

Task<void> Router::routeIq(Stanza& stanza, const SessionPtr& session) {
  std::string_view type = stanza.type();
  bool request = (type == "get" || type == "set");
  // Addressed to an account's bare JID (or none: the sender's own) or a local domain: a service
  // answers on the entity's behalf.
  bool to_own_account = stanza.to.empty() || stanza.to == stanza.from.bare();
  bool to_server =
      !stanza.to.empty() && stanza.to.isDomain() && ctx_.isLocalDomain(stanza.to.domain());
  bool to_bare_account =
      !stanza.to.empty() && stanza.to.isBare() && isLocalAccountJid(ctx_, stanza.to);

  if (!stanza.to.empty() && !ctx_.isLocalDomain(stanza.to.domain())) {
    bounce(session, stanza.element, "remote-server-not-found",
           "This server does not federate with other domains.");
    co_return;
  }
  // XEP-0191 §3.3, for an iq to another account (a resource, or a service answering for it).
  // Results and errors are never answered, so a blocked one is just dropped.
  if (!stanza.to.empty() && !stanza.to.node().empty()) {
    const bool stopped = co_await stoppedByBlocking(stanza, session);
    if (stopped) co_return;
  }
  if (!stanza.to.empty() && !stanza.to.isBare()) {
    if (stanza.to.node().empty()) {
      bounce(session, stanza.element, "service-unavailable", "No such service on this server.");
      co_return;
    }
    // To a full JID: the resource answers, or nobody does.
    if (auto target = ctx_.registry().find(stanza.to)) {
      deliver(target, std::move(stanza.element));
    } else if (request) {
      bounce(session, stanza.element, "service-unavailable", "That resource is not online.");
    }
    co_return;
  }
  if (!request) {
    // Results and errors to the server or a bare JID end here, answers to the server's own
    // queries excepted.
    if (to_server) takeClientAnswer(stanza);
    co_return;
  }

  const xml::Element* payload = stanza.element.firstChildElement();
  if (payload == nullptr) {
    bounce(session, stanza.element, "bad-request", "An iq get or set must carry one payload.");
    co_return;
  }
  if (to_server && ctx_.modules().hasHooks(HookPoint::IqNamespace)) {
    // iq.<namespace>: a policy module's own service (e.g. an acknowledgement service).
    xml::Element payload_reply;
    if (auto verdict = ctx_.modules().runIq(stanza, payload_reply)) {
      if (verdict->kind == Verdict::Kind::Reject) {
        bounce(session, stanza.element,
               verdict->condition.empty() ? "bad-request" : verdict->condition, verdict->text,
               verdict->retry_after_change ? "modify" : "");
      } else if (verdict->kind != Verdict::Kind::Drop && session) {
        xml::Element reply = makeResult(stanza);
        if (!payload_reply.name().empty()) reply.addChild(std::move(payload_reply));
        deliver(session, std::move(reply));
      }
      co_return;
    }
  }
  auto it = iq_services_.find(payload->ns());
  if (it == iq_services_.end()) {
    bounce(session, stanza.element, "feature-not-implemented",
           "This server does not implement " + payload->ns() + ".");
    co_return;
  }
  const IqService& service = it->second;
  bool served = to_server ? service.for_server : service.for_accounts;
  if (!served || (!to_server && !to_own_account && !to_bare_account)) {
    bounce(session, stanza.element, "service-unavailable",
           "That entity does not offer " + payload->ns() + ".");
    co_return;
  }
  if (!to_server && !to_own_account) {
    // An account that does not exist answers nothing (RFC 6121 §8.5.1).
    bool exists = false;
    if (!ctx_.registry().sessionsOf(stanza.to.bareString()).empty()) {
      exists = true;
    } else {
      std::string bare = stanza.to.bareString();
      auto job = [bare](pqxx::connection& c) { return storage::accountExists(c, bare); };
      exists = co_await ctx_.db().run(std::move(job));
    }
    if (!exists) {
      bounce(session, stanza.element, "service-unavailable", "No such user on this server.");
      co_return;
    }
  }
  IqRequest req{stanza,
                *payload,
                session,
                *this,
                ctx_,
                to_server,
                to_server ? stanza.to : (to_own_account ? stanza.from.bare() : stanza.to)};
  xml::Element reply;
  try {
    reply = co_await service.handler(req);
  } catch (const std::exception& e) {
    log::error("iq ", payload->ns(), " from ", stanza.from.full(), " failed: ", e.what());
    reply = makeStanzaError(stanza.element, "internal-server-error",
                            "The server could not complete this request; please retry.");
  }
  if (session) deliver(session, std::move(reply));
}

void Router::queryClient(const SessionPtr& session, xml::Element iq,
                         ClientAnswerHandler on_answer) {
  constexpr size_t kMaxPending = 10000;
  std::string id;
  {
    std::lock_guard lock(queries_mutex_);
    // Unanswered queries are forgotten oldest first (ids grow, so the map's first is oldest).
    if (pending_queries_.size() >= kMaxPending) pending_queries_.erase(pending_queries_.begin());
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "parley-q%016llx",
                  static_cast<unsigned long long>(++next_query_));
    id = buffer;
    pending_queries_[id] = PendingQuery{session->jid().full(), std::move(on_answer)};
  }
  iq.setAttr("id", id);
  iq.setAttr("to", session->jid().full());
  iq.setAttr("from", session->jid().domain());
  deliver(session, std::move(iq));
}

bool Router::takeClientAnswer(const Stanza& answer) {
  const std::string_view id = answer.element.attrOr("id");
  if (!id.starts_with("parley-q")) return false;
  ClientAnswerHandler handler;
  {
    std::lock_guard lock(queries_mutex_);
    auto it = pending_queries_.find(std::string(id));
    // Only the client asked may answer: another cannot feed us its idea of that client.
    if (it == pending_queries_.end() || it->second.asked != answer.from.full()) return false;
    handler = std::move(it->second.on_answer);
    pending_queries_.erase(it);
  }
  handler(answer.element);
  return true;
}

}  // namespace parley::router
