#pragma once
// Levelled logging to stderr or journald. Message bodies and passwords are never passed to the
// logger at info level or above: callers log stanza ids, JIDs and sizes, not content.

#include <sstream>
#include <string>
#include <string_view>

namespace parley::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };

// Thread-safe; may be called again on reload. `target` is "stderr" or "journald".
void configure(Level level, std::string_view target);
bool parseLevel(std::string_view name, Level& out);
bool enabled(Level level);
void write(Level level, std::string_view message);

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

template <class... Args>
void debug(const Args&... args) {
  if (enabled(Level::Debug)) write(Level::Debug, detail::concat(args...));
}
template <class... Args>
void info(const Args&... args) {
  if (enabled(Level::Info)) write(Level::Info, detail::concat(args...));
}
template <class... Args>
void warn(const Args&... args) {
  if (enabled(Level::Warn)) write(Level::Warn, detail::concat(args...));
}
template <class... Args>
void error(const Args&... args) {
  if (enabled(Level::Error)) write(Level::Error, detail::concat(args...));
}

}  // namespace parley::log
