#include "events/event_time.hpp"

#include <cstdio>
#include <ctime>

namespace parley::events {
namespace {

using std::chrono::microseconds;

struct Split {
  std::tm tm{};
  int64_t micros = 0;  // 0..999999 past tm's second
};

Split split(Clock::time_point t) {
  int64_t us = toMicros(t);
  // Floor division: an instant before 1970 still gets a non-negative fraction.
  int64_t secs = us / 1000000;
  int64_t frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  Split s;
  std::time_t tt = static_cast<std::time_t>(secs);
  gmtime_r(&tt, &s.tm);
  s.micros = frac;
  return s;
}

// Reads exactly `width` digits at `pos`; advances pos.
bool digits(std::string_view text, size_t& pos, size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int v = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += width;
  out = v;
  return true;
}

std::optional<Clock::time_point> parseDuration(std::string_view text, Clock::time_point now) {
  if (text.size() < 2 || text.size() > 12) return std::nullopt;
  int64_t n = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  switch (text.back()) {
    case 's':
      return now - std::chrono::seconds(n);
    case 'm':
      return now - std::chrono::minutes(n);
    case 'h':
      return now - std::chrono::hours(n);
    case 'd':
      return now - std::chrono::hours(24 * n);
    default:
      return std::nullopt;
  }
}

}  // namespace

int64_t toMicros(Clock::time_point t) {
  return std::chrono::floor<microseconds>(t.time_since_epoch()).count();
}

Clock::time_point fromMicros(int64_t micros) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(microseconds(micros)));
}

Clock::time_point truncateToMicros(Clock::time_point t) { return fromMicros(toMicros(t)); }

std::string sqlTimestamp(Clock::time_point t) {
  Split s = split(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00", s.tm.tm_year + 1900,
                s.tm.tm_mon + 1, s.tm.tm_mday, s.tm.tm_hour, s.tm.tm_min, s.tm.tm_sec,
                static_cast<long long>(s.micros));
  return buf;
}

std::string monthStart(Clock::time_point t) {
  Split s = split(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-01", s.tm.tm_year + 1900, s.tm.tm_mon + 1);
  return buf;
}

std::string isoTimestamp(Clock::time_point t, bool micros) {
  Split s = split(t);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", s.tm.tm_year + 1900,
                        s.tm.tm_mon + 1, s.tm.tm_mday, s.tm.tm_hour, s.tm.tm_min, s.tm.tm_sec);
  if (micros && n > 0) {
    std::snprintf(buf + n, sizeof buf - static_cast<size_t>(n), ".%06lld",
                  static_cast<long long>(s.micros));
  }
  return std::string(buf) + "Z";
}

std::optional<Clock::time_point> parseTimeArgument(std::string_view text, Clock::time_point now) {
  if (auto relative = parseDuration(text, now)) return relative;
  std::tm tm{};
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !digits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  int64_t frac_us = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    if (!digits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
        !digits(text, pos, 2, minute)) {
      return std::nullopt;
    }
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      if (!digits(text, pos, 2, second)) return std::nullopt;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int64_t scale = 100000;
        size_t start = pos;
        for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
          frac_us += (text[pos] - '0') * scale;
          scale /= 10;
        }
        if (pos == start) return std::nullopt;
      }
    }
  }
  int offset_minutes = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!digits(text, pos, 2, oh)) return std::nullopt;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (pos < text.size() && !digits(text, pos, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  }
  if (pos != text.size()) return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::time_t secs = timegm(&tm);
  // timegm normalises 2024-02-31 to March 2nd; a date that does not exist is a typo.
  if (tm.tm_mday != day || tm.tm_mon != month - 1) return std::nullopt;
  secs -= static_cast<std::time_t>(offset_minutes) * 60;
  return fromMicros(static_cast<int64_t>(secs) * 1000000 + frac_us);
}

}  // namespace parley::events
