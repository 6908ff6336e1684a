// The server's own XEP-0115 ver: hashed from its disco#info once per module-set generation, and
// recomputed when a module reload changes the generation.
#include <catch2/catch.hpp>

#include "support/stanzas.hpp"
#include "xep/caps.hpp"
#include "xep/server_caps.hpp"

using namespace parley;
using parley::testing::parseStanza;

namespace {

// The XEP-0115 §5.2 example query, whose ver the XEP gives.
xml::Element exampleQuery(bool with_muc) {
  std::string inner =
      "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
      "<feature var='http://jabber.org/protocol/caps'/>"
      "<feature var='http://jabber.org/protocol/disco#info'/>"
      "<feature var='http://jabber.org/protocol/disco#items'/>";
  if (with_muc) inner += "<feature var='http://jabber.org/protocol/muc'/>";
  auto iq =
      parseStanza("<iq type='result' id='1'><query xmlns='http://jabber.org/protocol/disco#info'>" +
                  inner + "</query></iq>");
  return *iq.firstChildElement();
}

}  // namespace

TEST_CASE("server caps: hashed once per generation, again after a module change", "[xep][caps]") {
  xep::ServerCapsCache cache;
  int built = 0;
  bool muc = true;
  auto build = [&] {
    ++built;
    return exampleQuery(muc);
  };
  CHECK(cache.ver("example.org", 1, build) == "QgayPKawpkPSDYmwT/WM94uAlu0=");
  CHECK(cache.ver("example.org", 1, build) == "QgayPKawpkPSDYmwT/WM94uAlu0=");
  CHECK(built == 1);
  // A reload (new generation) removed a feature: the ver follows.
  muc = false;
  const std::string without_muc = cache.ver("example.org", 2, build);
  CHECK(built == 2);
  CHECK(without_muc != "QgayPKawpkPSDYmwT/WM94uAlu0=");
  CHECK(without_muc == xep::caps::sha1Ver(exampleQuery(false)));
  // Each domain has its own entry.
  cache.ver("other.example.org", 2, build);
  CHECK(built == 3);
}
