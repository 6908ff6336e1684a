#include "util/log.hpp"

#include <systemd/sd-journal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace parley::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::atomic<bool> g_journald{false};
std::mutex g_stderr_mutex;

const char* levelName(Level level) {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
  }
  return "?";
}

int syslogPriority(Level level) {
  switch (level) {
    case Level::Debug:
      return 7;
    case Level::Info:
      return 6;
    case Level::Warn:
      return 4;
    case Level::Error:
      return 3;
  }
  return 6;
}

}  // namespace

void configure(Level level, std::string_view target) {
  g_level = static_cast<int>(level);
  g_journald = (target == "journald");
}

bool parseLevel(std::string_view name, Level& out) {
  if (name == "debug")
    out = Level::Debug;
  else if (name == "info")
    out = Level::Info;
  else if (name == "warn")
    out = Level::Warn;
  else if (name == "error")
    out = Level::Error;
  else
    return false;
  return true;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void write(Level level, std::string_view message) {
  if (g_journald) {
    sd_journal_print(syslogPriority(level), "%.*s", static_cast<int>(message.size()),
                     message.data());
    return;
  }
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(g_stderr_mutex);
  std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, static_cast<int>(ms), levelName(level),
               static_cast<int>(message.size()), message.data());
}

}  // namespace parley::log
