// XEP-0198 counters: acknowledgements free exactly what they count, wrap at 2^32, never free
// more than was sent (<handled-count-too-high/>), and continue across a resumption.
#include <catch2/catch.hpp>

#include "net/stream_management.hpp"

using parley::net::StreamManagement;

namespace {

void send(StreamManagement& sm, const std::string& what) { sm.sent({nullptr, what}); }

std::vector<std::string> unacked(StreamManagement& sm) {
  std::vector<std::string> out;
  for (auto& u : sm.takeUnacked()) out.push_back(u.bytes);
  return out;
}

}  // namespace

TEST_CASE("sm: acknowledgements are cumulative", "[net][sm]") {
  StreamManagement sm;
  sm.enable("id");
  for (const char* s : {"a", "b", "c", "d"}) send(sm, s);
  CHECK(sm.sentCount() == 4);
  CHECK(sm.acknowledge(1));
  CHECK(sm.unackedCount() == 3);
  CHECK(sm.acknowledge(1));  // the same h again: nothing more
  CHECK(sm.unackedCount() == 3);
  CHECK(sm.acknowledge(0));  // behind: ignored, not an error
  CHECK(sm.unackedCount() == 3);
  CHECK(sm.acknowledge(3));
  CHECK(unacked(sm) == std::vector<std::string>{"d"});
}

TEST_CASE("sm: an h beyond what was sent is refused and changes nothing", "[net][sm]") {
  StreamManagement sm;
  sm.enable("");
  send(sm, "a");
  send(sm, "b");
  CHECK_FALSE(sm.acknowledge(3));
  CHECK_FALSE(sm.acknowledge(1000));
  CHECK(sm.unackedCount() == 2);
  CHECK(sm.acknowledge(2));
  CHECK(sm.unackedCount() == 0);
  CHECK_FALSE(sm.acknowledge(3));
}

TEST_CASE("sm: counters wrap at 2^32", "[net][sm]") {
  StreamManagement sm;
  // As if resumed with the client having counted 2^32 - 2 stanzas.
  sm.restore("id", 0xFFFFFFFFu, 0xFFFFFFFEu);
  for (const char* s : {"x", "y", "z"}) send(sm, s);
  CHECK(sm.sentCount() == 1);  // 0xFFFFFFFE + 3, modulo 2^32
  CHECK(sm.acknowledge(0xFFFFFFFFu));
  CHECK(sm.unackedCount() == 2);
  CHECK(sm.acknowledge(0));
  CHECK(sm.unackedCount() == 1);
  CHECK_FALSE(sm.acknowledge(2));
  CHECK(sm.acknowledge(1));
  CHECK(sm.unackedCount() == 0);
  sm.handled();
  CHECK(sm.handledCount() == 0);  // 0xFFFFFFFF + 1
}

TEST_CASE("sm: a resumption continues from the client's count", "[net][sm]") {
  StreamManagement old;
  old.enable("sess");
  for (const char* s : {"1", "2", "3"}) send(old, s);
  old.handled();
  old.handled();
  REQUIRE(old.acknowledge(1));  // the h of <resume/>
  auto carried = old.takeUnacked();
  REQUIRE(carried.size() == 2);

  StreamManagement next;
  next.restore(old.id(), old.handledCount(), 1);
  CHECK(next.resumable());
  CHECK(next.handledCount() == 2);
  for (auto& u : carried) next.sent(std::move(u));  // sent again
  CHECK(next.sentCount() == 3);                     // the client will count them from 1
  CHECK(next.acknowledge(3));
  CHECK(next.unackedCount() == 0);
}
