#include "muc_phase.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <charconv>

namespace parley::bench {
namespace {

struct Occupant {
  std::shared_ptr<Connection> conn;
  std::string nick;
  std::unique_ptr<asio::steady_timer> wake;  // senders only
};

struct MucState {
  std::string room;  // bare JID
  std::vector<std::unique_ptr<Occupant>> occupants;
  std::vector<asio::any_io_executor> executors;
  std::mutex mutex;
  std::vector<double> latencyUs;  // of delivered copies, while recording
  std::atomic<bool> stop{false};
  std::atomic<bool> recording{false};
  std::atomic<unsigned long> sent{0};
  std::atomic<unsigned long> delivered{0};
  std::atomic<unsigned long> errors{0};
  std::atomic<unsigned> runningSenders{0};
};

long long nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

bool hasStatus(std::string_view stanza, std::string_view code) {
  const std::string single = "code='" + std::string(code) + "'";
  const std::string dbl = "code=\"" + std::string(code) + "\"";
  return stanza.find(single) != std::string_view::npos ||
         stanza.find(dbl) != std::string_view::npos;
}

// Joins the room and waits for the occupant's own presence. The first occupant creates the
// room; a new room stays locked (XEP-0045 §10.1) until its owner accepts the default
// configuration, which it does here.
awaitable<void> join(MucState& state, Occupant& occupant) {
  const std::string occupantJid = state.room + "/" + occupant.nick;
  co_await occupant.conn->write("<presence to='" + occupantJid +
                                "'><x xmlns='http://jabber.org/protocol/muc'>"
                                "<history maxstanzas='0'/></x></presence>");
  for (;;) {
    auto stanza = co_await occupant.conn->readStanza();
    if (!stanza) throw BenchError("the server closed the stream while joining");
    if (elementName(*stanza) != "presence" || attributeValue(*stanza, "from") != occupantJid) {
      continue;
    }
    if (attributeValue(*stanza, "type") == "error") {
      throw BenchError("join refused: " + *stanza);
    }
    if (hasStatus(*stanza, "201")) {
      co_await occupant.conn->write("<iq type='set' id='create' to='" + state.room +
                                    "'><query xmlns='http://jabber.org/protocol/muc#owner'>"
                                    "<x xmlns='jabber:x:data' type='submit'/></query></iq>");
      for (;;) {
        auto reply = co_await occupant.conn->readStanza();
        if (!reply) throw BenchError("the server closed the stream while creating the room");
        if (elementName(*reply) == "iq" && attributeValue(*reply, "id") == "create") {
          if (attributeValue(*reply, "type") != "result") {
            throw BenchError("room configuration refused: " + *reply);
          }
          break;
        }
      }
    }
    co_return;
  }
}

void onStanza(MucState& state, std::string_view stanza) {
  if (elementName(stanza) != "message") return;
  if (attributeValue(stanza, "type") == "error") {
    ++state.errors;
    return;
  }
  auto body = childText(stanza, "body");
  if (!body || body->substr(0, 3) != "lg ") return;
  long long sentNs = 0;
  std::string_view digits = body->substr(3);
  std::from_chars(digits.data(), digits.data() + digits.size(), sentNs);
  const long long now = nowNs();
  ++state.delivered;
  if (state.recording.load(std::memory_order_relaxed)) {
    std::lock_guard lock(state.mutex);
    state.latencyUs.push_back(static_cast<double>(now - sentNs) / 1000.0);
  }
}

awaitable<void> pacedSender(MucState& state, Occupant& occupant, Clock::duration interval,
                            Clock::time_point first) {
  unsigned long seq = 0;
  for (auto next = first; !state.stop && !occupant.conn->closed(); next += interval) {
    occupant.wake->expires_at(next);
    co_await occupant.wake->async_wait(kTuple);
    if (state.stop) break;
    ++state.sent;
    occupant.conn->send("<message type='groupchat' to='" + state.room + "'><body>lg " +
                        std::to_string(nowNs()) + " " + std::to_string(++seq) +
                        "</body></message>");
  }
  --state.runningSenders;
}

}  // namespace

void phaseMuc(Env& env) {
  const Options& o = env.options;
  const std::string service = o.mucService.empty() ? "conference." + o.client.domain : o.mucService;
  auto state = std::make_shared<MucState>();
  state->room = "loadgen-" + std::to_string(::getpid()) + "@" + service;
  const size_t count = o.mucOccupants;
  const size_t senders = std::min<size_t>(o.mucSenders, count);
  std::cout << "== muc: " << o.label << ", " << count << " occupants of " << state->room << ", "
            << senders << " senders × " << o.mucRate << " msg/s, tls " << o.tlsMode << "\n"
            << std::flush;
  for (size_t i = 0; i < count; ++i) {
    auto executor = env.pool.executor(i);
    state->executors.push_back(executor);
    auto occupant = std::make_unique<Occupant>();
    occupant->nick = "occupant" + std::to_string(i);
    if (i < senders) occupant->wake = std::make_unique<asio::steady_timer>(executor);
    state->occupants.push_back(std::move(occupant));
  }

  // The first occupant creates the room; the others join it concurrently.
  auto errors = std::make_shared<ErrorLog>();
  auto joined = std::make_shared<std::atomic<size_t>>(0);
  auto openAndJoin = [&env, state, errors, joined](size_t i) {
    auto executor = state->executors[i];
    asio::co_spawn(
        executor,
        [&env, state, errors, joined, executor, i]() -> awaitable<void> {
          Occupant& occupant = *state->occupants[i];
          try {
            occupant.conn = co_await openSession(executor, env, env.user(i), "muc");
            co_await join(*state, occupant);
          } catch (const std::exception& e) {
            errors->record(env.user(i) + ": " + e.what());
          }
          ++*joined;
        },
        asio::detached);
  };
  openAndJoin(0);
  waitUntil([&] { return *joined == 1; }, 120);
  for (size_t i = 1; i < count; ++i) openAndJoin(i);
  waitUntil([&] { return *joined == count; }, 600);

  auto liveReaders = std::make_shared<std::atomic<long>>(0);
  if (errors->count() > 0) {
    std::cout << "  " << errors->count() << " occupants failed to join (first: " << errors->first()
              << ")\n";
    std::cout << Json()
                     .add("phase", "muc")
                     .add("server", o.label)
                     .add("tls", o.tlsMode)
                     .add("error", errors->first())
                     .str()
              << "\n";
  } else {
    for (size_t i = 0; i < count; ++i) {
      ++*liveReaders;
      asio::post(state->executors[i], [state, i, liveReaders] {
        state->occupants[i]->conn->startReader(
            [state](std::string_view stanza) { onStanza(*state, stanza); },
            [liveReaders] { --*liveReaders; });
      });
    }
    sleepFor(o.settle);  // the join presences die down
    const auto interval =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / o.mucRate));
    const auto first = Clock::now() + std::chrono::milliseconds(20);
    for (size_t i = 0; i < senders; ++i) {
      ++state->runningSenders;
      auto offset = interval * static_cast<long>(i) / static_cast<long>(senders);
      asio::co_spawn(state->executors[i],
                     pacedSender(*state, *state->occupants[i], interval, first + offset),
                     asio::detached);
    }
    sleepFor(o.warmup);
    state->recording = true;
    const unsigned long sent0 = state->sent, delivered0 = state->delivered;
    const auto snap0 = CpuSnapshot::take(o.serverPid);
    sleepFor(o.duration);
    const unsigned long sent1 = state->sent, delivered1 = state->delivered;
    const CpuWindow cpu(snap0, CpuSnapshot::take(o.serverPid));
    state->recording = false;
    state->stop = true;
    for (size_t i = 0; i < senders; ++i) {
      asio::post(state->executors[i], [state, i] { state->occupants[i]->wake->cancel(); });
    }
    waitUntil([&] { return state->runningSenders == 0; }, 10);
    // Copies still in flight may arrive (bounded) so that none counts as lost by mistake.
    waitUntil([&] { return state->delivered >= state->sent * count; }, 10);
    const unsigned long lost =
        state->sent * count - std::min(state->delivered.load(), state->sent.load() * count);

    const double sent = static_cast<double>(sent1 - sent0);
    const double delivered = static_cast<double>(delivered1 - delivered0);
    std::optional<double> usPerMsg, usPerCopy;
    if (cpu.serverMs && sent > 0) usPerMsg = *cpu.serverMs * 1000.0 / sent;
    if (cpu.serverMs && delivered > 0) usPerCopy = *cpu.serverMs * 1000.0 / delivered;
    std::vector<double> all;
    {
      std::lock_guard lock(state->mutex);
      all.swap(state->latencyUs);
    }
    std::sort(all.begin(), all.end());
    const double p50 = percentile(all, 0.50), p99 = percentile(all, 0.99);
    std::cout << "  " << fmt(sent / cpu.seconds, 0) << " msg/s sent, "
              << fmt(delivered / cpu.seconds, 0) << " copies/s delivered (of "
              << fmt(sent * static_cast<double>(count) / cpu.seconds, 0)
              << "/s expected), latency p50 " << fmt(p50 / 1000.0, 3) << " ms p99 "
              << fmt(p99 / 1000.0, 3) << " ms; server CPU " << fmt(usPerMsg, 1) << " us/msg sent, "
              << fmt(usPerCopy, 2) << " us/copy (" << fmt(cpu.serverPct(), 0)
              << "% of one core); loadgen CPU " << fmt(cpu.selfPct(), 0) << "%, other processes "
              << fmt(cpu.otherPct(), 0) << "%";
    if (lost > 0) std::cout << "; " << lost << " copies not delivered within 10 s";
    if (state->errors > 0) std::cout << "; " << state->errors << " error messages";
    std::cout << "\n";
    std::cout << Json()
                     .add("phase", "muc")
                     .add("server", o.label)
                     .add("tls", o.tlsMode)
                     .add("occupants", double(count))
                     .add("senders", double(senders))
                     .add("rate_per_sender", o.mucRate)
                     .add("seconds", cpu.seconds)
                     .add("sent_per_s", sent / cpu.seconds)
                     .add("copies_per_s", delivered / cpu.seconds)
                     .add("p50_ms", p50 / 1000.0)
                     .add("p99_ms", p99 / 1000.0)
                     .add("server_cpu_us_per_msg", usPerMsg)
                     .add("server_cpu_us_per_copy", usPerCopy)
                     .add("server_cpu_pct", cpu.serverPct())
                     .add("other_cpu_pct", cpu.otherPct())
                     .add("lost", double(lost))
                     .add("errors", double(state->errors.load()))
                     .str()
              << "\n"
              << std::flush;
  }
  std::vector<std::shared_ptr<Connection>> sessions;
  for (auto& occupant : state->occupants) sessions.push_back(occupant->conn);
  closeAll(sessions, state->executors, liveReaders);
  // Release the timers on their own threads before the state goes away.
  auto released = std::make_shared<std::atomic<size_t>>(0);
  for (size_t i = 0; i < count; ++i) {
    asio::post(state->executors[i], [state, i, released] {
      state->occupants[i]->wake.reset();
      ++*released;
    });
  }
  waitUntil([&] { return *released == count; }, 10);
}

}  // namespace parley::bench
