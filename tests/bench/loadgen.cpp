// parley-loadgen: an XMPP c2s load generator (Boost.Asio, C++20 coroutines) that measures a
// server from the outside, so the same run can measure Parley, Prosody and ejabberd.
//
// Phases:
//   sessions  open N idle authenticated sessions; server RSS at checkpoints → KiB per session
//   login     SCRAM + bind + initial presence + close in a loop with C clients → logins/s and
//             server CPU ms per login
//   msg       1:1 chat between P online pairs, at saturation (W in flight per sender) and at a
//             fixed total rate → delivered msg/s, p50/p99 latency, server CPU µs per message
//   muc       group chat fan-out: N occupants in one room, S senders at R msg/s each →
//             delivered copies/s, p50/p99 latency, server CPU per message (muc_phase.cpp)
// Server figures come from /proc/PID (VmRSS, utime+stime) of --server-pid. Each phase prints
// human-readable lines and one JSON line (starting with '{') for scripts.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "connection.hpp"
#include "loadgen_support.hpp"
#include "muc_phase.hpp"

namespace parley::bench {
namespace {
void usage() {
  std::cout <<
      R"(usage: parley-loadgen [options]
  --host H              server address (default 127.0.0.1)
  --port P              c2s port (default 5222)
  --domain D            XMPP domain (default localhost)
  --tls starttls|none   STARTTLS or plaintext (default none)
  --mech M              SCRAM-SHA-1 (default) or SCRAM-SHA-256
  --users-prefix S      accounts are S0, S1, ... (default bench)
  --password PW         password of every account (default benchpass)
  --provision "CMD"     run once per account before the phases; {user} {password} {domain}
                        are substituted (e.g. "prosodyctl register {user} localhost {password}")
  --provision-jobs J    provisioning commands run in parallel (default 4)
  --register            provision with XEP-0077 in-band registration instead
  --server-pid PID      server process for RSS/CPU figures from /proc
  --label NAME          server name in the output (default server)
  --phases LIST         comma list of sessions,login,msg,muc (default sessions,login,msg); "none" only
                        provisions the accounts (needs --provision or --register)
  --sessions N          idle sessions to open (default 10000)
  --checkpoints LIST    session counts where RSS is sampled (default 0,1000,5000,10000)
  --open-concurrency C  logins in progress at once while opening sessions (default 64)
  --login-clients C     concurrent clients in the login phase (default 16)
  --duration S          measured seconds per login/msg run (default 10)
  --warmup S            unmeasured seconds before each login/msg run (default 1)
  --settle S            seconds to wait before sampling RSS (default 2)
  --pairs P             online pairs in the msg phase (default 100)
  --window W            messages in flight per sender at saturation (default 16)
  --rate R              total msg/s in the fixed-rate run (default 2000)
  --threads T           load generator io threads (default 1)
  --muc-service S       MUC service of the muc phase (default conference.<domain>)
  --muc-occupants N     occupants of the muc phase's room (default 100)
  --muc-senders S       of them sending (default 10)
  --muc-rate R          groupchat messages per second per sender (default 10)
  --timeout S           per-step timeout in seconds (default 30)
)";
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

template <typename T>
T parseNumber(const std::string& name, const std::string& text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument("bad number for " + name + ": " + text);
  }
  return value;
}

double parseSeconds(const std::string& name, const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || value < 0) {
    throw std::invalid_argument("bad number for " + name + ": " + text);
  }
  return value;
}

Options parseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      usage();
      std::exit(0);
    }
    if (arg == "--register") {
      o.registerInBand = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument("missing value for " + arg);
    std::string value = argv[++i];
    if (arg == "--host") {
      o.client.host = value;
    } else if (arg == "--port") {
      o.client.port = value;
    } else if (arg == "--domain") {
      o.client.domain = value;
    } else if (arg == "--tls") {
      if (value != "none" && value != "starttls") throw std::invalid_argument("--tls " + value);
      o.tlsMode = value;
    } else if (arg == "--mech") {
      o.mechanism = value;
    } else if (arg == "--users-prefix") {
      o.usersPrefix = value;
    } else if (arg == "--password") {
      o.password = value;
    } else if (arg == "--provision") {
      o.provision = value;
    } else if (arg == "--provision-jobs") {
      o.provisionJobs = std::max(1u, parseNumber<unsigned>(arg, value));
    } else if (arg == "--server-pid") {
      o.serverPid = parseNumber<long>(arg, value);
    } else if (arg == "--label") {
      o.label = value;
    } else if (arg == "--phases") {
      o.phases = splitList(value);
    } else if (arg == "--sessions") {
      o.sessions = parseNumber<size_t>(arg, value);
    } else if (arg == "--checkpoints") {
      o.checkpoints.clear();
      for (const auto& item : splitList(value))
        o.checkpoints.push_back(parseNumber<size_t>(arg, item));
      o.checkpointsGiven = true;
    } else if (arg == "--open-concurrency") {
      o.openConcurrency = std::max(1u, parseNumber<unsigned>(arg, value));
    } else if (arg == "--login-clients") {
      o.loginClients = std::max(1u, parseNumber<unsigned>(arg, value));
    } else if (arg == "--duration") {
      o.duration = std::max(0.1, parseSeconds(arg, value));
    } else if (arg == "--warmup") {
      o.warmup = parseSeconds(arg, value);
    } else if (arg == "--settle") {
      o.settle = parseSeconds(arg, value);
    } else if (arg == "--pairs") {
      o.pairs = std::max(1u, parseNumber<unsigned>(arg, value));
    } else if (arg == "--window") {
      o.window = std::max(1u, parseNumber<unsigned>(arg, value));
    } else if (arg == "--muc-service") {
      o.mucService = value;
    } else if (arg == "--muc-occupants") {
      o.mucOccupants = std::max(1u, parseNumber<unsigned>(arg, value));
    } else if (arg == "--muc-senders") {
      o.mucSenders = parseNumber<unsigned>(arg, value);
    } else if (arg == "--muc-rate") {
      o.mucRate = std::max(0.1, parseSeconds(arg, value));
    } else if (arg == "--rate") {
      o.rate = std::max(1.0, parseSeconds(arg, value));
    } else if (arg == "--threads") {
      o.threads = std::clamp(parseNumber<unsigned>(arg, value), 1u, 64u);
    } else if (arg == "--timeout") {
      o.client.timeout = std::chrono::milliseconds(
          static_cast<long>(std::max(1.0, parseSeconds(arg, value)) * 1000));
    } else {
      throw std::invalid_argument("unknown option " + arg);
    }
  }
  auto hash = scramHashFromMechanism(o.mechanism);
  if (!hash) throw std::invalid_argument("unsupported --mech " + o.mechanism);
  o.client.hash = *hash;
  o.client.starttls = o.tlsMode == "starttls";
  if (o.phases.size() == 1 && o.phases[0] == "none") o.phases.clear();  // provisioning only
  for (const auto& phase : o.phases) {
    if (phase != "sessions" && phase != "login" && phase != "msg" && phase != "muc") {
      throw std::invalid_argument("unknown phase " + phase);
    }
  }
  return o;
}

bool hasPhase(const Options& o, const std::string& phase) {
  return std::find(o.phases.begin(), o.phases.end(), phase) != o.phases.end();
}

// ---------------------------------------------------------------------------------------------
// Provisioning

std::string substitute(std::string text, const std::string& key, const std::string& value) {
  for (size_t pos = 0; (pos = text.find(key, pos)) != std::string::npos; pos += value.size()) {
    text.replace(pos, key.size(), value);
  }
  return text;
}

bool provisionWithCommand(Env& env, size_t count) {
  const Options& o = env.options;
  std::cout << "provisioning " << count << " accounts with: " << o.provision << "\n" << std::flush;
  const auto start = Clock::now();
  std::atomic<size_t> next{0};
  ErrorLog errors;
  std::vector<std::thread> workers;
  for (unsigned j = 0; j < o.provisionJobs; ++j) {
    workers.emplace_back([&] {
      for (size_t i; (i = next++) < count;) {
        std::string command = substitute(o.provision, "{user}", env.user(i));
        command = substitute(command, "{password}", o.password);
        command = substitute(command, "{domain}", o.client.domain);
        command += " >/dev/null 2>&1 </dev/null";
        int status = std::system(command.c_str());
        if (status != 0) {
          errors.record(command + " exited with " + std::to_string(WEXITSTATUS(status)));
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  std::cout << "provisioned " << count << " accounts in " << fmt(secondsSince(start), 1) << " s";
  if (errors.count() > 0) {
    std::cout << ", " << errors.count() << " commands failed (first: " << errors.first()
              << "); accounts that already exist are fine";
  }
  std::cout << "\n" << std::flush;
  return true;
}

bool provisionInBand(Env& env, size_t count) {
  const Options& o = env.options;
  std::cout << "registering " << count << " accounts in-band (XEP-0077)\n" << std::flush;
  const auto start = Clock::now();
  auto next = std::make_shared<std::atomic<size_t>>(0);
  auto created = std::make_shared<std::atomic<size_t>>(0);
  auto running = std::make_shared<std::atomic<unsigned>>(0);
  auto errors = std::make_shared<ErrorLog>();
  const unsigned workers = std::min<unsigned>(o.openConcurrency, static_cast<unsigned>(count));
  for (unsigned w = 0; w < workers; ++w) {
    ++*running;
    auto executor = env.pool.executor(w);
    asio::co_spawn(
        executor,
        [&env, executor, next, created, running, errors, count]() -> awaitable<void> {
          for (size_t i; (i = (*next)++) < count;) {
            for (int attempt = 1; attempt <= 3; ++attempt) {  // a loaded server may time out
              auto conn = std::make_shared<Connection>(executor, env.options.client);
              bool done = true;
              try {
                if (co_await conn->registerAccount(env.user(i), env.options.password)) ++*created;
              } catch (const std::exception& e) {
                if (attempt == 3) errors->record(env.user(i) + ": " + e.what());
                done = false;
              }
              conn->abort();
              if (done) break;
            }
          }
          --*running;
        },
        asio::detached);
  }
  waitUntil([&] { return *running == 0; }, 3600);
  std::cout << "registered " << *created << " new accounts (" << count - *created - errors->count()
            << " existed) in " << fmt(secondsSince(start), 1) << " s";
  if (errors->count() > 0) {
    std::cout << ", " << errors->count() << " failed (first: " << errors->first() << ")";
  }
  std::cout << "\n" << std::flush;
  return errors->count() == 0;
}

// ---------------------------------------------------------------------------------------------
// Phase: sessions

void phaseSessions(Env& env) {
  const Options& o = env.options;
  std::vector<size_t> checkpoints;
  for (size_t c : o.checkpoints) {
    if (c <= o.sessions) checkpoints.push_back(c);
  }
  if (!o.checkpointsGiven || checkpoints.empty() || checkpoints.back() != o.sessions) {
    checkpoints.push_back(o.sessions);
  }
  if (checkpoints.front() != 0) checkpoints.insert(checkpoints.begin(), 0);
  checkpoints.erase(std::unique(checkpoints.begin(), checkpoints.end()), checkpoints.end());

  std::cout << "== sessions: " << o.label << ", up to " << o.sessions << " idle sessions, tls "
            << o.tlsMode << "\n"
            << std::flush;
  const size_t total = checkpoints.back();
  std::vector<std::shared_ptr<Connection>> sessions(total);
  std::vector<asio::any_io_executor> executors(total);
  auto liveReaders = std::make_shared<std::atomic<long>>(0);
  auto next = std::make_shared<std::atomic<size_t>>(0);
  auto errors = std::make_shared<ErrorLog>();
  std::atomic<unsigned> running{0};

  struct Point {
    size_t sessions;
    std::optional<double> rssKiB;
    double openSeconds;
  };
  std::vector<Point> points;
  std::optional<double> baseRss;
  bool stopped = false;
  for (size_t target : checkpoints) {
    const auto start = Clock::now();
    const size_t from = next->load();
    const unsigned workers =
        static_cast<unsigned>(std::min<size_t>(o.openConcurrency, target - from));
    for (unsigned w = 0; w < workers; ++w) {
      ++running;
      auto executor = env.pool.executor(w);
      asio::co_spawn(
          executor,
          [&env, &sessions, &executors, &running, executor, next, errors, liveReaders,
           target]() -> awaitable<void> {
            for (;;) {
              size_t i = next->load();
              do {
                if (i >= target) break;
              } while (!next->compare_exchange_weak(i, i + 1));
              if (i >= target) break;
              try {
                auto conn = co_await openSession(executor, env, env.user(i), "idle");
                ++*liveReaders;
                conn->startReader([](std::string_view) {}, [liveReaders] { --*liveReaders; });
                sessions[i] = conn;
                executors[i] = executor;
              } catch (const std::exception& e) {
                errors->record(env.user(i) + ": " + e.what());
              }
            }
            --running;
          },
          asio::detached);
    }
    if (!waitUntil([&] { return running == 0; }, 3600)) {
      std::cout << "opening sessions did not finish within an hour\n";
    }
    const double openSeconds = secondsSince(start);
    sleepFor(o.settle);
    auto rss = serverRssKiB(o.serverPid);
    std::optional<double> rssValue;
    if (rss) rssValue = static_cast<double>(*rss);
    if (target == 0) baseRss = rssValue;
    const size_t alive = static_cast<size_t>(std::max(0L, liveReaders->load()));
    points.push_back({alive, rssValue, openSeconds});
    std::cout << "  " << target << " sessions (" << alive << " alive): server RSS "
              << fmt(rssValue, 0) << " KiB";
    if (alive > 0 && rssValue && baseRss) {
      std::cout << ", " << fmt((*rssValue - *baseRss) / static_cast<double>(alive), 1)
                << " KiB/session";
    }
    if (target > from) {
      std::cout << "; opened " << target - from << " in " << fmt(openSeconds, 1) << " s";
    }
    std::cout << "\n" << std::flush;
    if (errors->count() > 0) {
      std::cout << "  " << errors->count() << " sessions failed (first: " << errors->first()
                << "); stopping the ramp here\n";
      stopped = true;
      break;
    }
  }

  const size_t reached = points.back().sessions;
  std::optional<double> perSession;
  if (reached > 0 && points.back().rssKiB && baseRss) {
    perSession = (*points.back().rssKiB - *baseRss) / static_cast<double>(reached);
  }
  std::cout << "  => " << fmt(perSession, 1) << " KiB per idle session at " << reached
            << " sessions\n";
  std::string pointsJson = "[";
  for (const auto& p : points) {
    if (pointsJson.size() > 1) pointsJson.push_back(',');
    pointsJson.append(Json()
                          .add("sessions", double(p.sessions))
                          .add("rss_kib", p.rssKiB)
                          .add("open_s", p.openSeconds)
                          .str());
  }
  pointsJson += "]";
  std::cout << Json()
                   .add("phase", "sessions")
                   .add("server", o.label)
                   .add("tls", o.tlsMode)
                   .add("mech", o.mechanism)
                   .add("sessions", double(reached))
                   .add("kib_per_session", perSession)
                   .raw("points", pointsJson)
                   .add("failed", double(errors->count()))
                   .add("complete", stopped ? "no" : "yes")
                   .add("error", errors->first())
                   .str()
            << "\n"
            << std::flush;
  closeAll(sessions, executors, liveReaders);
}

// ---------------------------------------------------------------------------------------------
// Phase: login

void phaseLogin(Env& env) {
  const Options& o = env.options;
  std::cout << "== login: " << o.label << ", " << o.loginClients << " clients, " << o.duration
            << " s, tls " << o.tlsMode << ", " << o.mechanism << "\n"
            << std::flush;
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto logins = std::make_shared<std::atomic<unsigned long>>(0);
  auto running = std::make_shared<std::atomic<unsigned>>(0);
  auto errors = std::make_shared<ErrorLog>();
  for (unsigned w = 0; w < o.loginClients; ++w) {
    ++*running;
    auto executor = env.pool.executor(w);
    asio::co_spawn(
        executor,
        [&env, executor, stop, logins, running, errors, w]() -> awaitable<void> {
          const std::string user = env.user(w);
          asio::steady_timer pause(executor);
          for (unsigned long iteration = 0; !*stop; ++iteration) {
            auto conn = std::make_shared<Connection>(executor, env.options.client);
            bool failed = false;
            try {
              co_await conn->open(user, env.options.password, "login" + std::to_string(iteration));
              co_await conn->write("<presence/>");
              co_await conn->closeGracefully();
              ++*logins;
            } catch (const std::exception& e) {
              conn->abort();
              errors->record(user + ": " + e.what());
              failed = true;
            }
            if (failed) {  // back off a little instead of spinning on a failing server
              pause.expires_after(std::chrono::milliseconds(100));
              co_await pause.async_wait(kTuple);
            }
          }
          --*running;
        },
        asio::detached);
  }
  sleepFor(o.warmup);
  const unsigned long logins0 = *logins;
  const auto snap0 = CpuSnapshot::take(o.serverPid);
  sleepFor(o.duration);
  const unsigned long logins1 = *logins;
  const CpuWindow cpu(snap0, CpuSnapshot::take(o.serverPid));
  const double elapsed = cpu.seconds;
  *stop = true;
  if (!waitUntil([&] { return *running == 0; }, 60)) {
    std::cout << "  warning: login clients did not stop within 60 s\n";
  }
  const double count = static_cast<double>(logins1 - logins0);
  std::optional<double> cpuPerLogin;
  if (cpu.serverMs && count > 0) cpuPerLogin = *cpu.serverMs / count;
  std::cout << "  " << count << " logins in " << fmt(elapsed, 2)
            << " s = " << fmt(count / elapsed, 1) << " logins/s; server CPU " << fmt(cpuPerLogin, 3)
            << " ms/login (" << fmt(cpu.serverPct(), 0) << "% of one core); loadgen CPU "
            << fmt(cpu.selfPct(), 0) << "%, other processes " << fmt(cpu.otherPct(), 0)
            << "%; PBKDF2 runs so far " << ScramClient::pbkdf2Count() << "\n";
  if (errors->count() > 0) {
    std::cout << "  " << errors->count() << " failed logins (first: " << errors->first() << ")\n";
  }
  std::cout << Json()
                   .add("phase", "login")
                   .add("server", o.label)
                   .add("tls", o.tlsMode)
                   .add("mech", o.mechanism)
                   .add("clients", double(o.loginClients))
                   .add("seconds", elapsed)
                   .add("logins", count)
                   .add("logins_per_s", count / elapsed)
                   .add("server_cpu_ms_per_login", cpuPerLogin)
                   .add("server_cpu_pct", cpu.serverPct())
                   .add("loadgen_cpu_pct", cpu.selfPct())
                   .add("other_cpu_pct", cpu.otherPct())
                   .add("failed", double(errors->count()))
                   .add("error", errors->first())
                   .str()
            << "\n"
            << std::flush;
}

// ---------------------------------------------------------------------------------------------
// Phase: msg

struct Peer {
  std::shared_ptr<Connection> conn;
  std::string to;  // partner's bare JID
  Peer* partner = nullptr;
  unsigned long sent = 0;
  unsigned long receivedFromPartner = 0;
  std::unique_ptr<asio::steady_timer> wake;
};

// Latency samples of one io thread.
struct Shard {
  std::mutex mutex;
  std::vector<double> latencyUs;
};

struct MsgState {
  std::vector<std::unique_ptr<Peer>> peers;  // 2 per pair; peers[2p] and peers[2p+1] partners
  std::vector<asio::any_io_executor> executors;
  std::vector<std::unique_ptr<Shard>> shards;
  std::atomic<bool> stop{false};
  std::atomic<bool> recording{false};
  std::atomic<unsigned long> sent{0};
  std::atomic<unsigned long> delivered{0};
  std::atomic<unsigned long> bad{0};
  std::atomic<unsigned> runningSenders{0};
};

void onMessage(MsgState& state, Peer& self, size_t shard, std::string_view stanza) {
  if (elementName(stanza) != "message") return;
  auto body = childText(stanza, "body");
  if (!body || body->substr(0, 3) != "lg ") {
    if (attributeValue(stanza, "type") == "error") ++state.bad;
    return;
  }
  long long sentNs = 0;
  std::string_view digits = body->substr(3);
  std::from_chars(digits.data(), digits.data() + digits.size(), sentNs);
  const long long nowNs =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  ++self.receivedFromPartner;
  ++state.delivered;
  if (state.recording.load(std::memory_order_relaxed)) {
    std::lock_guard lock(state.shards[shard]->mutex);
    state.shards[shard]->latencyUs.push_back(static_cast<double>(nowNs - sentNs) / 1000.0);
  }
  self.partner->wake->cancel();
}

void sendMessage(MsgState& state, Peer& peer) {
  const long long nowNs =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  ++peer.sent;
  ++state.sent;
  peer.conn->send("<message type='chat' to='" + peer.to + "'><body>lg " + std::to_string(nowNs) +
                  " " + std::to_string(peer.sent) + "</body></message>");
}

awaitable<void> saturatedSender(MsgState& state, Peer& peer, unsigned window) {
  while (!state.stop && !peer.conn->closed()) {
    while (peer.sent - peer.partner->receivedFromPartner < window) sendMessage(state, peer);
    peer.wake->expires_at(Clock::time_point::max());
    co_await peer.wake->async_wait(kTuple);
  }
  --state.runningSenders;
}

awaitable<void> paidSender(MsgState& state, Peer& peer, Clock::duration interval,
                           Clock::time_point first) {
  auto next = first;
  while (!state.stop && !peer.conn->closed()) {
    peer.wake->expires_at(next);
    co_await peer.wake->async_wait(kTuple);
    if (state.stop) break;
    if (Clock::now() < next) continue;  // woken early by a delivery
    sendMessage(state, peer);
    next += interval;
  }
  --state.runningSenders;
}

struct MsgRun {
  double seconds = 0;
  double delivered = 0;
  double sent = 0;
  std::optional<double> cpuUsPerMsg;
  std::optional<double> serverCpuPct;
  double loadgenCpuPct = 0;
  double otherCpuPct = 0;
  double p50 = NAN, p99 = NAN, max = NAN;
  unsigned long lost = 0;
};

MsgRun runMessages(Env& env, MsgState& state, bool saturate) {
  const Options& o = env.options;
  state.stop = false;
  state.recording = false;
  for (auto& shard : state.shards) {
    std::lock_guard lock(shard->mutex);
    shard->latencyUs.clear();
  }
  const unsigned long sentBefore = state.sent;
  const unsigned long deliveredBefore = state.delivered;
  const size_t senders = state.peers.size();
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(senders) / o.rate));
  const auto first = Clock::now() + std::chrono::milliseconds(20);
  for (size_t i = 0; i < senders; ++i) {
    ++state.runningSenders;
    Peer& peer = *state.peers[i];
    if (saturate) {
      asio::co_spawn(state.executors[i], saturatedSender(state, peer, o.window), asio::detached);
    } else {
      auto offset = interval * static_cast<long>(i) / static_cast<long>(senders);
      asio::co_spawn(state.executors[i], paidSender(state, peer, interval, first + offset),
                     asio::detached);
    }
  }
  sleepFor(o.warmup);
  state.recording = true;
  const unsigned long delivered0 = state.delivered;
  const unsigned long sent0 = state.sent;
  const auto snap0 = CpuSnapshot::take(o.serverPid);
  sleepFor(o.duration);
  const unsigned long delivered1 = state.delivered;
  const unsigned long sent1 = state.sent;
  const CpuWindow cpu(snap0, CpuSnapshot::take(o.serverPid));
  state.recording = false;
  MsgRun run;
  run.seconds = cpu.seconds;
  state.stop = true;
  for (size_t i = 0; i < senders; ++i) {
    asio::post(state.executors[i], [&peer = *state.peers[i]] { peer.wake->cancel(); });
  }
  waitUntil([&] { return state.runningSenders == 0; }, 10);
  // Let in-flight messages arrive (bounded) so the next run starts clean.
  waitUntil([&] { return state.delivered - deliveredBefore >= state.sent - sentBefore; }, 10);
  run.lost = (state.sent - sentBefore) - (state.delivered - deliveredBefore);
  run.delivered = static_cast<double>(delivered1 - delivered0);
  run.sent = static_cast<double>(sent1 - sent0);
  if (cpu.serverMs && run.delivered > 0) run.cpuUsPerMsg = *cpu.serverMs * 1000.0 / run.delivered;
  run.serverCpuPct = cpu.serverPct();
  run.loadgenCpuPct = cpu.selfPct();
  run.otherCpuPct = cpu.otherPct();
  std::vector<double> all;
  for (auto& shard : state.shards) {
    std::lock_guard lock(shard->mutex);
    all.insert(all.end(), shard->latencyUs.begin(), shard->latencyUs.end());
  }
  std::sort(all.begin(), all.end());
  run.p50 = percentile(all, 0.50);
  run.p99 = percentile(all, 0.99);
  if (!all.empty()) run.max = all.back();
  return run;
}

void reportMessages(const Options& o, const std::string& mode, const MsgRun& run) {
  std::cout << "  " << mode << ": " << fmt(run.delivered / run.seconds, 0)
            << " msg/s delivered (sent " << fmt(run.sent / run.seconds, 0) << "/s), latency p50 "
            << fmt(run.p50 / 1000.0, 3) << " ms p99 " << fmt(run.p99 / 1000.0, 3) << " ms max "
            << fmt(run.max / 1000.0, 3) << " ms; server CPU " << fmt(run.cpuUsPerMsg, 1)
            << " us/msg (" << fmt(run.serverCpuPct, 0) << "% of one core); loadgen CPU "
            << fmt(run.loadgenCpuPct, 0) << "%, other processes " << fmt(run.otherCpuPct, 0) << "%";
  if (run.lost > 0) std::cout << "; " << run.lost << " not delivered within 10 s";
  std::cout << "\n";
  std::cout << Json()
                   .add("phase", "msg")
                   .add("mode", mode)
                   .add("server", o.label)
                   .add("tls", o.tlsMode)
                   .add("pairs", double(o.pairs))
                   .add("window", mode == "saturation" ? double(o.window) : NAN)
                   .add("target_rate", mode == "rate" ? o.rate : NAN)
                   .add("seconds", run.seconds)
                   .add("delivered_per_s", run.delivered / run.seconds)
                   .add("sent_per_s", run.sent / run.seconds)
                   .add("p50_ms", run.p50 / 1000.0)
                   .add("p99_ms", run.p99 / 1000.0)
                   .add("max_ms", run.max / 1000.0)
                   .add("server_cpu_us_per_msg", run.cpuUsPerMsg)
                   .add("server_cpu_pct", run.serverCpuPct)
                   .add("loadgen_cpu_pct", run.loadgenCpuPct)
                   .add("other_cpu_pct", run.otherCpuPct)
                   .add("lost", double(run.lost))
                   .str()
            << "\n"
            << std::flush;
}

void phaseMsg(Env& env) {
  const Options& o = env.options;
  std::cout << "== msg: " << o.label << ", " << o.pairs << " pairs, tls " << o.tlsMode << "\n"
            << std::flush;
  auto state = std::make_shared<MsgState>();
  for (size_t i = 0; i < env.pool.size(); ++i) state->shards.push_back(std::make_unique<Shard>());
  const size_t count = 2 * static_cast<size_t>(o.pairs);
  for (size_t i = 0; i < count; ++i) {
    // Both partners of a pair live on the same io thread, so the window needs no locking.
    auto executor = env.pool.executor(i / 2);
    state->executors.push_back(executor);
    auto peer = std::make_unique<Peer>();
    peer->wake = std::make_unique<asio::steady_timer>(executor);
    state->peers.push_back(std::move(peer));
  }
  auto opened = std::make_shared<std::atomic<size_t>>(0);
  auto liveReaders = std::make_shared<std::atomic<long>>(0);
  auto errors = std::make_shared<ErrorLog>();
  // Pair p: accounts p and pairs + p.
  for (size_t i = 0; i < count; ++i) {
    const size_t pair = i / 2;
    const size_t account = (i % 2 == 0) ? pair : o.pairs + pair;
    const size_t partnerAccount = (i % 2 == 0) ? o.pairs + pair : pair;
    Peer& peer = *state->peers[i];
    peer.partner = state->peers[i ^ 1].get();
    peer.to = env.user(partnerAccount) + "@" + o.client.domain;
    auto executor = state->executors[i];
    asio::co_spawn(
        executor,
        [&env, &peer, executor, account, opened, errors]() -> awaitable<void> {
          try {
            peer.conn = co_await openSession(executor, env, env.user(account), "msg");
          } catch (const std::exception& e) {
            errors->record(env.user(account) + ": " + e.what());
          }
          ++*opened;
        },
        asio::detached);
  }
  waitUntil([&] { return *opened == count; }, 600);
  if (errors->count() > 0) {
    std::cout << "  " << errors->count() << " sessions failed to open (first: " << errors->first()
              << ")\n";
    std::cout << Json()
                     .add("phase", "msg")
                     .add("server", o.label)
                     .add("tls", o.tlsMode)
                     .add("error", errors->first())
                     .str()
              << "\n";
  } else {
    for (size_t i = 0; i < count; ++i) {
      Peer& peer = *state->peers[i];
      const size_t shard = (i / 2) % env.pool.size();
      ++*liveReaders;
      asio::post(state->executors[i], [state, &peer, shard, liveReaders] {
        peer.conn->startReader(
            [state, &peer, shard](std::string_view stanza) {
              onMessage(*state, peer, shard, stanza);
            },
            [liveReaders] { --*liveReaders; });
      });
    }
    MsgRun saturated = runMessages(env, *state, true);
    reportMessages(o, "saturation", saturated);
    MsgRun paced = runMessages(env, *state, false);
    reportMessages(o, "rate", paced);
    if (state->bad > 0) std::cout << "  " << state->bad << " error messages received\n";
  }
  std::vector<std::shared_ptr<Connection>> sessions;
  for (auto& peer : state->peers) sessions.push_back(peer->conn);
  closeAll(sessions, state->executors, liveReaders);
  // Release the timers on their own threads before the state goes away.
  auto released = std::make_shared<std::atomic<size_t>>(0);
  for (size_t i = 0; i < count; ++i) {
    asio::post(state->executors[i], [state, i, released] {
      state->peers[i]->wake.reset();
      ++*released;
    });
  }
  waitUntil([&] { return *released == count; }, 10);
}

// ---------------------------------------------------------------------------------------------

void raiseFdLimit(Options& o) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  const size_t needed = (hasPhase(o, "sessions") ? o.sessions : 0) + 2 * o.pairs + o.mucOccupants +
                        o.loginClients + 64;
  std::cout << "fd limit " << limit.rlim_cur << " (needed about " << needed << ")\n";
  if (limit.rlim_cur < needed && hasPhase(o, "sessions")) {
    const size_t cap = limit.rlim_cur > 2 * o.pairs + o.loginClients + 64
                           ? limit.rlim_cur - 2 * o.pairs - o.loginClients - 64
                           : 0;
    std::cout << "warning: the fd limit is too low for " << o.sessions
              << " sessions (raise the hard limit: ulimit -Hn); capping at " << cap << "\n";
    o.sessions = cap;
  }
}

int run(int argc, char** argv) {
  Options options;
  try {
    options = parseOptions(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "parley-loadgen: " << e.what() << "\n";
    usage();
    return 2;
  }
  raiseFdLimit(options);
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_options(asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                  asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  tls.set_verify_mode(asio::ssl::verify_none);  // benchmark: self-signed certificates
  options.client.tlsContext = &tls;

  std::cout << "target " << options.client.host << ":" << options.client.port << " domain "
            << options.client.domain << ", tls " << options.tlsMode << ", " << options.mechanism
            << ", server pid " << options.serverPid << "\n";
  if (options.serverPid > 0 && !serverCpuMs(options.serverPid)) {
    std::cerr << "parley-loadgen: cannot read /proc/" << options.serverPid << "/stat\n";
    return 2;
  }

  IoPool pool(options.threads);
  Env env{options, pool};
  size_t accounts = 0;
  if (options.phases.empty()) {
    accounts = std::max<size_t>({options.sessions, options.loginClients, 2 * options.pairs});
  }
  if (hasPhase(options, "sessions")) accounts = std::max(accounts, options.sessions);
  if (hasPhase(options, "login")) accounts = std::max<size_t>(accounts, options.loginClients);
  if (hasPhase(options, "msg")) accounts = std::max<size_t>(accounts, 2 * options.pairs);
  if (hasPhase(options, "muc")) accounts = std::max<size_t>(accounts, options.mucOccupants);
  if (!options.provision.empty()) {
    provisionWithCommand(env, accounts);
  } else if (options.registerInBand) {
    if (!provisionInBand(env, accounts)) return 1;
  }

  for (const auto& phase : options.phases) {
    waitServerIdle(options);
    if (phase == "sessions") phaseSessions(env);
    if (phase == "login") phaseLogin(env);
    if (phase == "msg") phaseMsg(env);
    if (phase == "muc") phaseMuc(env);
  }
  pool.stop();
  return 0;
}

}  // namespace
}  // namespace parley::bench

int main(int argc, char** argv) { return parley::bench::run(argc, argv); }
