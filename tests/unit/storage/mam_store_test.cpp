// Message archive storage (XEP-0313) against a real PostgreSQL: one message into two archives,
// RSM paging forwards and backwards with its edges (first page, last page, past the end,
// unknown ids, count only), the form filters, the bounded count, preferences, and the cascade
// when the account goes.
#include <catch2/catch.hpp>

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "storage/mam_store.hpp"
#include "storage/stores.hpp"
#include "storage_test_support.hpp"

namespace st = parley::storage;

namespace {

const std::string kAlice = "alice@example.org";
const std::string kBob = "bob@example.org";
const std::string kCarol = "carol@example.org";
constexpr int64_t kBase = 1'800'000'000'000'000;  // 2027-01-15, in microseconds
constexpr int64_t kSecond = 1'000'000;

// A UUID whose text says which message it is (ids are opaque to the store).
std::string idOf(const std::string& owner, int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012d", owner == kAlice ? 0xa : 0xb, n);
  return buf;
}

// Message n between alice and `with`, one second apart, in alice's archive only.
void archive(pqxx::connection& c, int n, const std::string& with, std::string resource = "pc") {
  st::ArchiveRecord r;
  r.at_us = kBase + n * kSecond;
  r.stanza =
      "<message xmlns='jabber:client' type='chat'><body>" + std::to_string(n) + "</body></message>";
  r.entries.push_back({kAlice, idOf(kAlice, n), with, std::move(resource), n % 2 == 0});
  st::archiveMessage(c, r);
}

std::vector<int> numbers(const st::ArchivePage& page) {
  std::vector<int> out;
  for (const auto& m : page.messages) out.push_back(static_cast<int>((m.at_us - kBase) / kSecond));
  return out;
}

std::vector<int> range(int from, int to) {  // [from, to)
  std::vector<int> out;
  for (int i = from; i < to; ++i) out.push_back(i);
  return out;
}

st::ArchiveQuery query(int max = 10) {
  st::ArchiveQuery q;
  q.owner = kAlice;
  q.max = max;
  return q;
}

}  // namespace

TEST_CASE("mam: one message goes into both archives under their own ids", "[storage][mam]") {
  TempDatabase db;
  auto c = db.connect();
  for (const auto& a : {kAlice, kBob}) REQUIRE(st::createAccount(*c, a, bothCreds('a')));
  st::ArchiveRecord r;
  r.at_us = kBase;
  r.stanza = "<message xmlns='jabber:client'><body>both</body></message>";
  r.origin_id = "origin-1";
  r.entries.push_back({kAlice, idOf(kAlice, 1), kBob, "", true});
  r.entries.push_back({kBob, idOf(kBob, 1), kAlice, "desk", false});
  st::archiveMessage(*c, r);

  for (const auto& [owner, id] : {std::pair{kAlice, idOf(kAlice, 1)}, {kBob, idOf(kBob, 1)}}) {
    auto q = query();
    q.owner = owner;
    auto page = st::queryArchive(*c, q);
    REQUIRE(page.messages.size() == 1);
    CHECK(page.messages[0].id == id);
    CHECK(page.messages[0].at_us == kBase);
    CHECK(page.messages[0].stanza == r.stanza);
  }
  pqxx::nontransaction tx(*c);
  auto rows = tx.exec(
      "SELECT owner, with_jid, with_resource, direction, origin_id FROM mam_messages ORDER BY "
      "owner");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0][1].as<std::string>() == kBob);
  CHECK(rows[0][3].as<std::string>() == "out");
  CHECK(rows[1][1].as<std::string>() == kAlice);
  CHECK(rows[1][2].as<std::string>() == "desk");
  CHECK(rows[1][3].as<std::string>() == "in");
  CHECK(rows[1][4].as<std::string>() == "origin-1");
}

TEST_CASE("mam: a batch keeps every byte of awkward text, and a missing origin-id is NULL",
          "[storage][mam]") {
  TempDatabase db;
  auto c = db.connect();
  for (const auto& a : {kAlice, kBob}) REQUIRE(st::createAccount(*c, a, bothCreds('a')));
  // What COPY's text format treats specially (tab, newline, carriage return, backslash, the
  // \N that means NULL), and non-ASCII text.
  const std::string awkward = "a\tb\nc\rd\\e \\N \\\\N f\x01g \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  std::vector<st::ArchiveRecord> batch(3);
  for (int n = 0; n < 3; ++n) {
    batch[n].at_us = kBase + n * kSecond;
    batch[n].stanza =
        "<message xmlns='jabber:client'><body>" + awkward + std::to_string(n) + "</body></message>";
    if (n == 1) batch[n].origin_id = awkward;
    batch[n].entries.push_back({kAlice, idOf(kAlice, n), kBob, awkward, true});
  }
  st::archiveMessages(*c, {&batch[0], &batch[1], &batch[2]});
  auto page = st::queryArchive(*c, query());
  REQUIRE(page.messages.size() == 3);
  for (int n = 0; n < 3; ++n) CHECK(page.messages[n].stanza == batch[n].stanza);
  pqxx::nontransaction tx(*c);
  auto rows = tx.exec("SELECT with_resource, origin_id FROM mam_messages ORDER BY at");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0][0].as<std::string>() == awkward);
  CHECK(rows[0][1].is_null());
  CHECK(rows[1][1].as<std::string>() == awkward);
  CHECK(rows[2][1].is_null());
}

TEST_CASE("mam: RSM paging and its edges", "[storage][mam]") {
  TempDatabase db;
  auto c = db.connect();
  for (const auto& a : {kAlice, kBob, kCarol}) REQUIRE(st::createAccount(*c, a, bothCreds('a')));
  constexpr int kTotal = 25;
  for (int n = 0; n < kTotal; ++n) archive(*c, n, n % 3 == 0 ? kCarol : kBob);
  st::ArchiveRecord bobs;  // a message in another archive: its id is unknown in alice's
  bobs.at_us = kBase;
  bobs.stanza = "<message xmlns='jabber:client'/>";
  bobs.entries.push_back({kBob, idOf(kBob, 1), kCarol, "", true});
  st::archiveMessage(*c, bobs);

  SECTION("the first page: the oldest, index 0, not complete") {
    auto page = st::queryArchive(*c, query());
    CHECK(numbers(page) == range(0, 10));
    CHECK_FALSE(page.complete);
    CHECK(page.count == kTotal);
    CHECK(page.first_index == 0);
  }
  SECTION("forwards with <after/>: every message once, in order; the last page is complete") {
    std::vector<int> seen;
    auto q = query();
    for (int pages = 1;; ++pages) {
      auto page = st::queryArchive(*c, q);
      CHECK(page.first_index == static_cast<int64_t>(seen.size()));
      for (int n : numbers(page)) seen.push_back(n);
      if (page.complete) {
        CHECK(pages == 3);
        break;
      }
      REQUIRE(pages < 10);
      q.page_after = page.messages.back().id;
    }
    CHECK(seen == range(0, kTotal));
  }
  SECTION("an empty <before/> is the newest page, still in chronological order") {
    auto q = query();
    q.last_page = true;
    auto page = st::queryArchive(*c, q);
    CHECK(numbers(page) == range(15, 25));
    CHECK_FALSE(page.complete);
    CHECK(page.first_index == 15);
    CHECK(page.count == kTotal);
  }
  SECTION("backwards with <before/>: every message once; the oldest page is complete") {
    std::vector<int> seen;
    auto q = query();
    q.last_page = true;
    for (int pages = 1;; ++pages) {
      auto page = st::queryArchive(*c, q);
      auto got = numbers(page);
      seen.insert(seen.begin(), got.begin(), got.end());
      CHECK(page.first_index == kTotal - static_cast<int64_t>(seen.size()));
      if (page.complete) {
        CHECK(pages == 3);
        CHECK(got == range(0, 5));
        break;
      }
      REQUIRE(pages < 10);
      q.page_before = page.messages.front().id;
    }
    CHECK(seen == range(0, kTotal));
  }
  SECTION("after the last id: an empty, complete page that still counts") {
    auto q = query();
    q.page_after = idOf(kAlice, kTotal - 1);
    auto page = st::queryArchive(*c, q);
    CHECK(page.messages.empty());
    CHECK(page.complete);
    CHECK(page.count == kTotal);
    CHECK_FALSE(page.first_index);
  }
  SECTION("before the first id: empty and complete") {
    auto q = query();
    q.page_before = idOf(kAlice, 0);
    auto page = st::queryArchive(*c, q);
    CHECK(page.messages.empty());
    CHECK(page.complete);
  }
  SECTION("an id the archive does not have is unknown, however it is named") {
    for (auto field : {&st::ArchiveQuery::page_after, &st::ArchiveQuery::page_before,
                       &st::ArchiveQuery::after_id, &st::ArchiveQuery::before_id}) {
      for (const std::string& id :
           {std::string("3f2c9a0e-6b1d-4c1e-9f3a-0d8b7e6a5c41"), std::string("not-a-uuid"),
            std::string("'; DROP TABLE mam_messages; --"), idOf(kBob, 1)}) {
        auto q = query();
        q.*field = id;
        INFO(id);
        CHECK(st::queryArchive(*c, q).unknown_id);
      }
    }
    auto q = query();
    q.ids = {idOf(kAlice, 3), "3f2c9a0e-6b1d-4c1e-9f3a-0d8b7e6a5c41"};
    CHECK(st::queryArchive(*c, q).unknown_id);
  }
  SECTION("ids are not case-sensitive") {
    auto q = query();
    std::string upper = idOf(kAlice, 4);
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    q.page_after = upper;
    CHECK(numbers(st::queryArchive(*c, q)) == range(5, 15));
  }
  SECTION("max 0 returns the count alone") {
    auto page = st::queryArchive(*c, query(0));
    CHECK(page.messages.empty());
    CHECK(page.count == kTotal);
    CHECK_FALSE(page.complete);
    auto q = query(0);
    q.with = "nobody@example.org";
    page = st::queryArchive(*c, q);
    CHECK(page.count == 0);
    CHECK(page.complete);
  }
  SECTION("a page as large as the rest is complete; a count is known without counting") {
    auto page = st::queryArchive(*c, query(kTotal));
    CHECK(numbers(page) == range(0, kTotal));
    CHECK(page.complete);
    CHECK(page.count == kTotal);
  }
  SECTION("'with' a bare JID: that party, any resource; with a resource: only that one") {
    auto q = query(50);
    q.with = kCarol;
    CHECK(numbers(st::queryArchive(*c, q)) == std::vector<int>{0, 3, 6, 9, 12, 15, 18, 21, 24});
    archive(*c, 100, kCarol, "phone");
    q.with_resource = "phone";
    CHECK(numbers(st::queryArchive(*c, q)) == std::vector<int>{100});
  }
  SECTION("'start' and 'end' are inclusive") {
    auto q = query(50);
    q.start_us = kBase + 5 * kSecond;
    q.end_us = kBase + 8 * kSecond;
    auto page = st::queryArchive(*c, q);
    CHECK(numbers(page) == range(5, 9));
    CHECK(page.count == 4);
    q.start_us = kBase + 5 * kSecond + 1;
    CHECK(numbers(st::queryArchive(*c, q)) == range(6, 9));
  }
  SECTION("after-id and before-id bound the result set; RSM pages within it") {
    auto q = query(3);
    q.after_id = idOf(kAlice, 4);
    q.before_id = idOf(kAlice, 12);
    auto page = st::queryArchive(*c, q);
    CHECK(numbers(page) == range(5, 8));
    CHECK(page.count == 7);
    q.page_after = page.messages.back().id;
    page = st::queryArchive(*c, q);
    CHECK(numbers(page) == range(8, 11));
    CHECK(page.first_index == 3);
    q.page_after = page.messages.back().id;
    page = st::queryArchive(*c, q);
    CHECK(numbers(page) == std::vector<int>{11});
    CHECK(page.complete);
  }
  SECTION("ids fetches exactly those messages") {
    auto q = query();
    q.ids = {idOf(kAlice, 7), idOf(kAlice, 2)};
    CHECK(numbers(st::queryArchive(*c, q)) == std::vector<int>{2, 7});
  }
  SECTION("past the count limit there is no count and no index in the middle") {
    auto q = query(5);
    q.page_after = idOf(kAlice, 9);
    auto page = st::queryArchive(*c, q, 20);
    CHECK(numbers(page) == range(10, 15));
    CHECK_FALSE(page.count);
    CHECK_FALSE(page.first_index);
    page = st::queryArchive(*c, q, 25);
    CHECK(page.count == kTotal);
    CHECK(page.first_index == 10);
    // A count-only query is counted in full whatever the limit.
    CHECK(st::queryArchive(*c, query(0), 20).count == kTotal);
  }
  SECTION("metadata: the oldest and the newest") {
    auto bounds = st::archiveBounds(*c, kAlice);
    REQUIRE(bounds);
    CHECK(bounds->first.id == idOf(kAlice, 0));
    CHECK(bounds->last.id == idOf(kAlice, kTotal - 1));
    CHECK(bounds->last.at_us == kBase + (kTotal - 1) * kSecond);
    CHECK_FALSE(st::archiveBounds(*c, kCarol));
  }
}

TEST_CASE("mam: the archive's order is time, then id", "[storage][mam]") {
  TempDatabase db;
  auto c = db.connect();
  REQUIRE(st::createAccount(*c, kAlice, bothCreds('a')));
  // Inserted out of order, two of them at the same microsecond.
  for (int n : {3, 1, 2}) archive(*c, n, kBob);
  st::ArchiveRecord r;
  r.at_us = kBase + 2 * kSecond;
  r.stanza = "<message xmlns='jabber:client'/>";
  r.entries.push_back({kAlice, idOf(kAlice, 0), kBob, "", true});  // sorts before idOf(…, 2)
  st::archiveMessage(*c, r);
  auto page = st::queryArchive(*c, query());
  REQUIRE(page.messages.size() == 4);
  CHECK(page.messages[0].id == idOf(kAlice, 1));
  CHECK(page.messages[1].id == idOf(kAlice, 0));
  CHECK(page.messages[2].id == idOf(kAlice, 2));
  CHECK(page.messages[3].id == idOf(kAlice, 3));
  // Paging across the tie neither skips nor repeats.
  auto q = query(1);
  q.page_after = idOf(kAlice, 0);
  CHECK(st::queryArchive(*c, q).messages.at(0).id == idOf(kAlice, 2));
  q = query(1);
  q.page_before = idOf(kAlice, 2);
  CHECK(st::queryArchive(*c, q).messages.at(0).id == idOf(kAlice, 0));
}

TEST_CASE("mam: preferences round trip; the account takes everything with it", "[storage][mam]") {
  TempDatabase db;
  auto c = db.connect();
  for (const auto& a : {kAlice, kBob}) REQUIRE(st::createAccount(*c, a, bothCreds('a')));

  auto prefs = st::loadArchivePrefs(*c, {kAlice, kBob});
  CHECK(prefs.at(kAlice) == st::ArchivePrefs{});  // no row: always, empty lists
  st::ArchivePrefs mine{st::ArchiveDefault::Roster,
                        {"carol@example.org", "NULL", "a,b"},
                        {"dave@example.org/phone", "{x}"}};
  st::saveArchivePrefs(*c, kAlice, mine);
  prefs = st::loadArchivePrefs(*c, {kAlice, kBob});
  CHECK(prefs.at(kAlice) == mine);
  CHECK(prefs.at(kBob) == st::ArchivePrefs{});
  mine.mode = st::ArchiveDefault::Never;
  mine.always.clear();
  st::saveArchivePrefs(*c, kAlice, mine);
  CHECK(st::loadArchivePrefs(*c, {kAlice}).at(kAlice) == mine);

  archive(*c, 1, kBob);
  REQUIRE(st::deleteAccount(*c, kAlice));
  pqxx::nontransaction tx(*c);
  CHECK(tx.exec1("SELECT count(*) FROM mam_messages")[0].as<int>() == 0);
  CHECK(tx.exec1("SELECT count(*) FROM mam_prefs")[0].as<int>() == 0);
}

TEST_CASE("mam: timestamps reach PostgreSQL exactly", "[storage][mam]") {
  CHECK(st::sqlTimestamp(0) == "1970-01-01 00:00:00.000000+00");
  CHECK(st::sqlTimestamp(kBase + 123456) == "2027-01-15 08:00:00.123456+00");
  CHECK(st::sqlTimestamp(-1) == "1969-12-31 23:59:59.999999+00");
}
