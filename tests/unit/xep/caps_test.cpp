// XEP-0115 verification strings and hashes, against the XEP's own examples (§5.2, §5.3), and
// the cases §5.4 says must not be trusted.
#include <catch2/catch.hpp>

#include "support/stanzas.hpp"
#include "xep/caps.hpp"

using namespace parley;
using parley::testing::parseStanza;

namespace {

xml::Element queryOf(std::string_view inner) {
  auto iq = parseStanza(
      "<iq type='result' id='1'><query "
      "xmlns='http://jabber.org/protocol/disco#info'>" +
      std::string(inner) + "</query></iq>");
  return *iq.firstChildElement();
}

constexpr std::string_view kSimple =
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/>";

}  // namespace

TEST_CASE("caps: the XEP's simple example", "[xep][caps]") {
  auto query = queryOf(kSimple);
  CHECK(xep::caps::verificationString(query) ==
        "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<"
        "http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<"
        "http://jabber.org/protocol/muc<");
  CHECK(xep::caps::sha1Ver(query) == "QgayPKawpkPSDYmwT/WM94uAlu0=");
  CHECK(xep::caps::featuresOf(query).count("http://jabber.org/protocol/muc") == 1);
}

TEST_CASE("caps: the XEP's complex example (languages, extended form)", "[xep][caps]") {
  // Elements out of order on purpose: the algorithm sorts.
  auto query = queryOf(
      "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
      "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' type='pc'/>"
      "<feature var='http://jabber.org/protocol/disco#items'/>"
      "<feature var='http://jabber.org/protocol/caps'/>"
      "<feature var='http://jabber.org/protocol/muc'/>"
      "<feature var='http://jabber.org/protocol/disco#info'/>"
      "<x xmlns='jabber:x:data' type='result'>"
      "<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>"
      "<field var='ip_version'><value>ipv6</value><value>ipv4</value></field>"
      "<field var='os'><value>Mac</value></field>"
      "<field var='os_version'><value>10.5.1</value></field>"
      "<field var='software'><value>Psi</value></field>"
      "<field var='software_version'><value>0.11</value></field>"
      "</x>");
  CHECK(xep::caps::sha1Ver(query) == "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

TEST_CASE("caps: answers the XEP says not to trust", "[xep][caps]") {
  SECTION("a duplicate feature") {
    auto query = queryOf(std::string(kSimple) + "<feature var='http://jabber.org/protocol/muc'/>");
    CHECK_FALSE(xep::caps::sha1Ver(query));
  }
  SECTION("a duplicate identity") {
    auto query = queryOf(std::string(kSimple) +
                         "<identity category='client' name='Exodus 0.9.1' type='pc'/>");
    CHECK_FALSE(xep::caps::sha1Ver(query));
  }
  SECTION("a FORM_TYPE that is not hidden") {
    auto query = queryOf(std::string(kSimple) +
                         "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'>"
                         "<value>urn:x</value></field></x>");
    CHECK_FALSE(xep::caps::sha1Ver(query));
  }
  SECTION("two forms of one FORM_TYPE") {
    std::string form =
        "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"
        "<value>urn:x</value></field></x>";
    CHECK_FALSE(xep::caps::sha1Ver(queryOf(std::string(kSimple) + form + form)));
  }
}

TEST_CASE("caps: the announcement in presence", "[xep][caps]") {
  auto presence = parseStanza(
      "<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
      "node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>");
  auto a = xep::caps::announcementOf(presence);
  REQUIRE(a);
  CHECK(a->node == "https://gajim.org");
  CHECK(a->ver == "QgayPKawpkPSDYmwT/WM94uAlu0=");
  // Legacy caps (no hash) cannot be verified.
  CHECK_FALSE(xep::caps::announcementOf(parseStanza(
      "<presence><c xmlns='http://jabber.org/protocol/caps' node='x' ver='1.0'/></presence>")));
  CHECK_FALSE(xep::caps::announcementOf(parseStanza("<presence/>")));
}

TEST_CASE("caps: the cache keeps what it was given, bounded", "[xep][caps]") {
  xep::caps::Cache cache(2);
  auto f = std::make_shared<const std::set<std::string>>(std::set<std::string>{"a+notify"});
  cache.insert("v1", f);
  CHECK(cache.find("v1") == f);
  CHECK_FALSE(cache.find("v2"));
  cache.insert("v2", f);
  cache.insert("v3", f);  // over capacity: starts over
  CHECK_FALSE(cache.find("v1"));
  CHECK(cache.find("v3") == f);
}
