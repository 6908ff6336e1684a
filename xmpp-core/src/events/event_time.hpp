#pragma once
// Event timestamps: microseconds (PostgreSQL's timestamptz resolution), always UTC. An event's
// `at` is part of its primary key, so every copy of it (queue, spool, replay) must carry exactly
// the value the table will hold; rounding happens once, when the event enters the pipeline.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::events {

using Clock = std::chrono::system_clock;

int64_t toMicros(Clock::time_point t);
Clock::time_point fromMicros(int64_t micros);
Clock::time_point truncateToMicros(Clock::time_point t);

// "2024-05-01 12:34:56.123456+00": a timestamptz literal whatever the session's TimeZone.
std::string sqlTimestamp(Clock::time_point t);
// "2024-05-01": the first day of t's month (UTC), the argument of the partition function.
std::string monthStart(Clock::time_point t);
// "2024-05-01T12:34:56Z", or with ".123456" before the Z when `micros`.
std::string isoTimestamp(Clock::time_point t, bool micros = false);

// A time given on parleyctl's command line: "2024-05-01", "2024-05-01T13:00",
// "2024-05-01 13:00:30", optionally followed by "Z" or an offset "+02:00" (UTC without one), or
// a duration back from `now`: "90s", "15m", "24h", "7d". nullopt when it is none of these.
std::optional<Clock::time_point> parseTimeArgument(std::string_view text, Clock::time_point now);

}  // namespace parley::events
