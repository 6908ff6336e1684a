// The spool on its own: what a crash or a damaged disk leaves behind must cost at most the
// damaged record, never the records around it.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "event_test_support.hpp"
#include "events/event_time.hpp"
#include "events/spool.hpp"
#include "events/uuid.hpp"

namespace ev = parley::events;
namespace fs = std::filesystem;
using ev::testing::TempDir;

namespace {

std::vector<parley::ComplianceEvent> events(int from, int count) {
  std::vector<parley::ComplianceEvent> out;
  for (int i = from; i < from + count; ++i) {
    auto e = ev::testing::sampleEvent(i);
    e.id = ev::randomUuid();
    e.node = "node-1";
    e.at = ev::fromMicros(1714566896000000 + i);
    out.push_back(e);
  }
  return out;
}

std::vector<std::string> stanzaIds(const std::vector<parley::ComplianceEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.stanza_id);
  return out;
}

std::string readAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeAll(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

// Spools 10 events, one append (one fsync'd write) each, into one segment; returns its path.
fs::path spoolTen(const fs::path& dir) {
  ev::Spool spool(dir);
  for (int i = 0; i < 10; ++i) spool.append(events(i, 1));
  auto segments = spool.seal();
  REQUIRE(segments.size() == 1);
  return segments.front();
}

}  // namespace

TEST_CASE("spool: appended events read back in order", "[events][spool]") {
  TempDir dir;
  ev::Spool spool(dir.path());
  CHECK(spool.empty());
  spool.append(events(0, 3));
  spool.append(events(3, 2));
  CHECK_FALSE(spool.empty());
  CHECK(spool.bytes() == fs::file_size(spool.seal().front()));
  spool.append(events(5, 1));  // after seal(): a new segment
  auto segments = spool.seal();
  REQUIRE(segments.size() == 2);
  auto first = ev::Spool::read(segments[0]);
  auto second = ev::Spool::read(segments[1]);
  CHECK(stanzaIds(first.events) == std::vector<std::string>{"s0", "s1", "s2", "s3", "s4"});
  CHECK(stanzaIds(second.events) == std::vector<std::string>{"s5"});
  CHECK(first.discarded == 0);
  spool.remove(segments[0]);
  spool.remove(segments[1]);
  CHECK(spool.empty());
  CHECK(spool.bytes() == 0);
  CHECK_FALSE(fs::exists(segments[0]));
}

TEST_CASE("spool: segments left by an earlier run are found again, oldest first",
          "[events][spool]") {
  TempDir dir;
  {
    ev::Spool spool(dir.path(), /*segment_bytes=*/1);  // every append closes its segment
    spool.append(events(0, 1));
    spool.append(events(1, 1));
    spool.append(events(2, 1));
  }
  ev::Spool again(dir.path());
  auto segments = again.seal();
  REQUIRE(segments.size() == 3);
  std::vector<std::string> ids;
  for (const auto& s : segments) {
    for (const auto& e : ev::Spool::read(s).events) ids.push_back(e.stanza_id);
  }
  CHECK(ids == std::vector<std::string>{"s0", "s1", "s2"});
  again.append(events(3, 1));  // numbering continues after the old segments
  CHECK(again.seal().size() == 4);
}

TEST_CASE("spool: a torn last record is discarded, every complete one kept", "[events][spool]") {
  TempDir dir;
  fs::path segment = spoolTen(dir.path());
  // A crash in the middle of the last write: its tail never reached the disk.
  fs::resize_file(segment, fs::file_size(segment) - 7);
  auto contents = ev::Spool::read(segment);
  CHECK(contents.discarded == 1);
  CHECK(stanzaIds(contents.events) ==
        std::vector<std::string>{"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"});

  SECTION("cut inside the header") {
    std::string data = readAll(segment);
    writeAll(segment, data.substr(0, data.rfind("PEV1") + 6));
    auto c = ev::Spool::read(segment);
    CHECK(c.events.size() == 9);
    CHECK(c.discarded == 1);
  }
}

TEST_CASE("spool: a damaged record in the middle is skipped, the rest replayed",
          "[events][spool]") {
  TempDir dir;
  fs::path segment = spoolTen(dir.path());
  std::string data = readAll(segment);
  size_t pos = 0;
  for (int i = 0; i < 5; ++i) pos = data.find("PEV1", pos + 1);  // the sixth record, "s5"

  SECTION("a flipped bit in the payload") { data[pos + 30] ^= 0x01; }
  SECTION("a damaged length") { data[pos + 5] = '\x7f'; }
  SECTION("a damaged magic") { data[pos] = 'X'; }

  writeAll(segment, data);
  auto contents = ev::Spool::read(segment);
  CHECK(contents.discarded == 1);
  CHECK(stanzaIds(contents.events) ==
        std::vector<std::string>{"s0", "s1", "s2", "s3", "s4", "s6", "s7", "s8", "s9"});
}

TEST_CASE("spool: one pipeline per directory", "[events][spool]") {
  TempDir dir;
  ev::Spool first(dir.path());
  CHECK_THROWS_AS(ev::Spool(dir.path()), ev::SpoolError);
}

TEST_CASE("spool: a failed append throws SpoolError and the next one starts afresh",
          "[events][spool]") {
  TempDir dir;
  ev::Spool spool(dir.path());
  // The name the next segment will get is taken: creating it fails (O_EXCL).
  writeAll(dir.path() / "events-0000000001.spool", "");
  CHECK_THROWS_AS(spool.append(events(0, 1)), ev::SpoolError);
  spool.append(events(1, 1));  // events-0000000002.spool
  auto segments = spool.seal();
  REQUIRE(segments.size() == 1);
  CHECK(ev::Spool::read(segments[0]).events.size() == 1);
}
