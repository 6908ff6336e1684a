#pragma once
// What the load generator's phases share: options, /proc sampling (server, own and other CPU),
// output helpers, the io thread pool, and opening and closing sessions. Header-only: the
// phases live in loadgen.cpp and muc_phase.cpp.
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
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

namespace parley::bench {

namespace asio = boost::asio;
using asio::awaitable;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  ClientOptions client;
  std::string tlsMode = "none";
  std::string mechanism = "SCRAM-SHA-1";
  std::string usersPrefix = "bench";
  std::string password = "benchpass";
  std::string provision;
  unsigned provisionJobs = 4;
  bool registerInBand = false;
  long serverPid = 0;
  std::string label = "server";
  std::vector<std::string> phases = {"sessions", "login", "msg"};
  size_t sessions = 10000;
  std::vector<size_t> checkpoints = {0, 1000, 5000, 10000};
  bool checkpointsGiven = false;
  unsigned openConcurrency = 64;
  unsigned loginClients = 16;
  double duration = 10;
  double warmup = 1;
  double settle = 2;
  unsigned pairs = 100;
  unsigned window = 16;
  double rate = 2000;
  unsigned threads = 1;
  std::string mucService;  // "" = conference.<domain>
  unsigned mucOccupants = 100;
  unsigned mucSenders = 10;
  double mucRate = 10;  // per sender
};

// ---------------------------------------------------------------------------------------------
// /proc sampling

inline std::optional<long> serverRssKiB(long pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return std::nullopt;
}

// utime + stime of the whole process (all threads), in milliseconds.
inline std::optional<double> serverCpuMs(long pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  // Fields after "pid (comm)" start at field 3 (state); utime is field 14, stime 15.
  for (int index = 3; index <= 15 && (fields >> field); ++index) {
    if (index == 14) utime = std::strtoul(field.c_str(), nullptr, 10);
    if (index == 15) stime = std::strtoul(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

inline double selfCpuMs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

// CPU time (ms) all processes on the machine spent busy, from /proc/stat.
inline double hostBusyMs() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                     steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return static_cast<double>(user + nice + system + irq + softirq + steal) * 1000.0 /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU usage snapshot used to attribute a measurement window: the server, this process, and
// everything else on the machine (other work competing for the cores skews throughput and
// latency, so it is reported next to them).
struct CpuSnapshot {
  Clock::time_point at = Clock::now();
  std::optional<double> serverMs;
  double selfMs = 0;
  double hostMs = 0;

  static CpuSnapshot take(long pid) {
    CpuSnapshot s;
    s.serverMs = serverCpuMs(pid);
    s.selfMs = selfCpuMs();
    s.hostMs = hostBusyMs();
    return s;
  }
};

struct CpuWindow {
  double seconds = 0;
  std::optional<double> serverMs;
  double selfMs = 0;
  double otherMs = 0;

  CpuWindow(const CpuSnapshot& a, const CpuSnapshot& b)
      : seconds(std::chrono::duration<double>(b.at - a.at).count()), selfMs(b.selfMs - a.selfMs) {
    if (a.serverMs && b.serverMs) serverMs = *b.serverMs - *a.serverMs;
    otherMs = std::max(0.0, (b.hostMs - a.hostMs) - selfMs - serverMs.value_or(0));
  }
  std::optional<double> serverPct() const {
    if (!serverMs) return std::nullopt;
    return *serverMs / (seconds * 10.0);
  }
  double selfPct() const { return selfMs / (seconds * 10.0); }
  double otherPct() const { return otherMs / (seconds * 10.0); }
};

inline double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline void sleepFor(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// Polls `done` every 10 ms for at most `limit` seconds; true when it became true.
template <typename Predicate>
bool waitUntil(Predicate done, double limit) {
  const auto start = Clock::now();
  while (!done()) {
    if (secondsSince(start) > limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Waits (at most 60 s) until the server uses under 5% of a core, so work left over from the
// previous phase (e.g. tearing down thousands of sessions) is not billed to the next one.
inline void waitServerIdle(const Options& o) {
  if (o.serverPid <= 0) return;
  const auto start = Clock::now();
  while (secondsSince(start) < 60) {
    auto a = serverCpuMs(o.serverPid);
    sleepFor(0.5);
    auto b = serverCpuMs(o.serverPid);
    if (!a || !b || (*b - *a) < 25) break;
  }
  if (secondsSince(start) > 1.5) {
    std::cout << "  (waited " << std::lround(secondsSince(start))
              << " s for the server to go idle)\n";
  }
}

// ---------------------------------------------------------------------------------------------
// Output

class Json {
 public:
  Json& add(const std::string& key, const std::string& value) {
    std::string escaped;
    for (char c : value) {
      if (c == '"' || c == '\\') {
        escaped += '\\';
        escaped += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        escaped += ' ';
      } else {
        escaped += c;
      }
    }
    return raw(key, "\"" + escaped + "\"");
  }
  Json& add(const std::string& key, double value) {
    if (!std::isfinite(value)) return raw(key, "null");
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", value);
    return raw(key, buf);
  }
  Json& add(const std::string& key, std::optional<double> value) {
    return value ? add(key, *value) : raw(key, "null");
  }
  Json& raw(const std::string& key, const std::string& value) {
    text_.push_back(text_.empty() ? '{' : ',');
    text_.push_back('"');
    text_.append(key);
    text_.append("\":");
    text_.append(value);
    return *this;
  }

  std::string str() const { return text_ + "}"; }

 private:
  std::string text_;
};

inline std::string fmt(std::optional<double> value, int decimals) {
  if (!value || !std::isfinite(*value)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *value);
  return buf;
}

// First error seen in a phase, for the report.
class ErrorLog {
 public:
  void record(const std::string& message) {
    std::lock_guard lock(mutex_);
    ++count_;
    if (first_.empty()) first_ = message;
  }
  unsigned long count() {
    std::lock_guard lock(mutex_);
    return count_;
  }
  std::string first() {
    std::lock_guard lock(mutex_);
    return first_;
  }

 private:
  std::mutex mutex_;
  unsigned long count_ = 0;
  std::string first_;
};

// ---------------------------------------------------------------------------------------------
// io threads

class IoPool {
 public:
  explicit IoPool(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    for (auto& context : contexts_) {
      threads_.emplace_back([ctx = context.get()] { ctx->run(); });
    }
  }
  ~IoPool() { stop(); }

  asio::any_io_executor executor(size_t index) {
    return contexts_[index % contexts_.size()]->get_executor();
  }
  size_t size() const { return contexts_.size(); }

  void stop() {
    guards_.clear();
    for (auto& context : contexts_) context->stop();
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
};

struct Env {
  Options& options;
  IoPool& pool;

  std::string user(size_t index) const { return options.usersPrefix + std::to_string(index); }
};

// ---------------------------------------------------------------------------------------------
// Shared session helpers

// Logs in `user`, sends initial presence and waits for a round trip so the server has done all
// its work for the session.
inline awaitable<std::shared_ptr<Connection>> openSession(asio::any_io_executor executor, Env& env,
                                                          const std::string& user,
                                                          const std::string& resource) {
  auto conn = std::make_shared<Connection>(executor, env.options.client);
  try {
    co_await conn->open(user, env.options.password, resource);
    co_await conn->write("<presence/>");
    co_await conn->sync();
  } catch (...) {
    conn->abort();
    throw;
  }
  co_return conn;
}

// Closes every session (each on its own executor) and waits, bounded, for their readers.
inline void closeAll(std::vector<std::shared_ptr<Connection>>& sessions,
                     std::vector<asio::any_io_executor>& executors,
                     const std::shared_ptr<std::atomic<long>>& liveReaders) {
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (!sessions[i]) continue;
    asio::post(executors[i], [conn = sessions[i]] { conn->requestClose(); });
  }
  if (!waitUntil([&] { return *liveReaders <= 0; }, 30)) {
    std::cout << "warning: " << *liveReaders << " sessions did not close within 30 s\n";
  }
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (!sessions[i]) continue;
    asio::post(executors[i], [conn = sessions[i]] { conn->abort(); });
  }
  waitUntil([] { return false; }, 0.2);
  sessions.clear();
}

inline double percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  size_t index = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace parley::bench
