// The pieces under the pipeline that need no database: checksums, ids, timestamps, what
// normalize() makes of awkward input, and the spool record format.

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "event_test_support.hpp"
#include "events/crc32.hpp"
#include "events/event_codec.hpp"
#include "events/event_time.hpp"
#include "events/normalize.hpp"
#include "events/uuid.hpp"

namespace ev = parley::events;
using parley::ComplianceEvent;

TEST_CASE("crc32 matches the standard check value", "[events][spool]") {
  CHECK(ev::crc32("123456789") == 0xCBF43926u);
  CHECK(ev::crc32("") == 0u);
  CHECK(ev::crc32("6789", ev::crc32("12345")) == 0xCBF43926u);  // continues across calls
}

TEST_CASE("random UUIDs are version 4, well formed and distinct", "[events]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = ev::randomUuid();
    REQUIRE(ev::isUuid(id));
    CHECK(id[14] == '4');
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  CHECK_FALSE(ev::isUuid(""));
  CHECK_FALSE(ev::isUuid("3f2c9a0e-6b1d-4c1e-9f3a-0d8b7e6a5c4"));
  CHECK_FALSE(ev::isUuid("3f2c9a0e-6b1d-4c1e-9f3a-0d8b7e6a5c4g"));
}

TEST_CASE("timestamps: SQL and ISO forms are UTC with microseconds", "[events]") {
  auto t = ev::fromMicros(1714566896123456);  // 2024-05-01T12:34:56.123456Z
  CHECK(ev::sqlTimestamp(t) == "2024-05-01 12:34:56.123456+00");
  CHECK(ev::isoTimestamp(t) == "2024-05-01T12:34:56Z");
  CHECK(ev::isoTimestamp(t, true) == "2024-05-01T12:34:56.123456Z");
  CHECK(ev::monthStart(t) == "2024-05-01");
  CHECK(ev::toMicros(ev::truncateToMicros(t + std::chrono::nanoseconds(999))) == 1714566896123456);
  // Before 1970 the fraction stays positive.
  CHECK(ev::sqlTimestamp(ev::fromMicros(-1)) == "1969-12-31 23:59:59.999999+00");
}

TEST_CASE("time arguments: dates, times, offsets and durations", "[events][parleyctl]") {
  auto now = ev::fromMicros(1714566896000000);  // 2024-05-01T12:34:56Z
  auto parse = [&](const char* text) { return ev::parseTimeArgument(text, now); };
  auto at = [](long long secs) { return ev::fromMicros(secs * 1000000); };
  CHECK(parse("2024-05-01") == at(1714521600));
  CHECK(parse("2024-05-01T13:00") == at(1714568400));
  CHECK(parse("2024-05-01 13:00:30") == at(1714568430));
  CHECK(parse("2024-05-01T13:00:30Z") == at(1714568430));
  CHECK(parse("2024-05-01T15:00:30+02:00") == at(1714568430));
  CHECK(parse("2024-05-01T13:00:30.5Z") == ev::fromMicros(1714568430500000));
  CHECK(parse("24h") == now - std::chrono::hours(24));
  CHECK(parse("7d") == now - std::chrono::hours(24 * 7));
  CHECK(parse("15m") == now - std::chrono::minutes(15));
  for (const char* bad : {"", "yesterday", "2024-02-30", "2024-13-01", "2024-05-01T25:00",
                          "2024-05-01T13", "2024-05-01X", "h", "5w", "-5h"}) {
    INFO(bad);
    CHECK_FALSE(parse(bad).has_value());
  }
}

TEST_CASE("normalize: text becomes valid UTF-8, detail a JSON object", "[events]") {
  CHECK(ev::cleanText("bob@example.org/Résumé") == "bob@example.org/Résumé");
  CHECK(ev::cleanText(std::string("a\0b", 3)) ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(ev::cleanText("x\xFF\xC3") == "x\xEF\xBF\xBD\xEF\xBF\xBD");

  CHECK(ev::normalizedDetail("") == "{}");
  CHECK(ev::normalizedDetail(R"({"card": "****1234"})") == R"({"card":"****1234"})");
  // jsonb refuses \u0000; the rest of the detail survives.
  CHECK(ev::normalizedDetail(R"({"a\u0000": "x\u0000y"})") ==
        "{\"a\xEF\xBF\xBD\":\"x\xEF\xBF\xBDy\"}");
  // Not an object, or not JSON at all: kept as text rather than lost.
  CHECK(ev::normalizedDetail("[1,2]") == R"({"unparsed_detail":"[1,2]"})");
  CHECK(ev::normalizedDetail("card=1234") == R"({"unparsed_detail":"card=1234"})");
}

TEST_CASE("spool records round-trip every field exactly", "[events][spool]") {
  ComplianceEvent e = ev::testing::sampleEvent(7);
  e.id = ev::randomUuid();
  e.node = "node-1";
  e.at = ev::fromMicros(1714566896123456);
  e.action = parley::EventAction::WouldBlock;
  e.severity = parley::Severity::Critical;
  e.direction = parley::Direction::Inbound;
  auto back = ev::decodeSpoolRecord(ev::encodeSpoolRecord(e));
  REQUIRE(back.has_value());
  CHECK(back->id == e.id);
  CHECK(back->at == e.at);
  CHECK(back->node == e.node);
  CHECK(back->module == e.module);
  CHECK(back->clause == e.clause);
  CHECK(back->kind == e.kind);
  CHECK(back->action == e.action);
  CHECK(back->severity == e.severity);
  CHECK(back->actor == e.actor);
  CHECK(back->target == e.target);
  CHECK(back->stanza_id == e.stanza_id);
  CHECK(back->direction == e.direction);
  CHECK(back->session == e.session);
  CHECK(back->detail_json == e.detail_json);

  CHECK_FALSE(ev::decodeSpoolRecord("{}").has_value());
  CHECK_FALSE(ev::decodeSpoolRecord("not json").has_value());
  CHECK_FALSE(ev::decodeSpoolRecord(R"({"v":2})").has_value());
}

TEST_CASE("action, severity and direction names parse back", "[events]") {
  using parley::EventAction;
  for (auto a :
       {EventAction::Allowed, EventAction::Blocked, EventAction::Redacted, EventAction::Flagged,
        EventAction::WouldBlock, EventAction::Admin, EventAction::Error}) {
    CHECK(ev::parseAction(parley::actionName(a)) == a);
  }
  CHECK(ev::parseSeverity("critical") == parley::Severity::Critical);
  CHECK(ev::parseDirection("local") == parley::Direction::Local);
  CHECK_FALSE(ev::parseAction("dropped").has_value());
}
