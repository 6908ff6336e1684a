// XEP-0352: what may wait for an inactive client, and how held presence collapses.
#include <catch2/catch.hpp>

#include "net/client_state.hpp"
#include "support/stanzas.hpp"

using namespace parley;
using parley::testing::parseStanza;

namespace {

bool waits(std::string_view xml) { return net::mayWait(parseStanza(xml)); }

std::shared_ptr<const xml::Element> shared(std::string_view xml) {
  return std::make_shared<const xml::Element>(parseStanza(xml));
}

}  // namespace

TEST_CASE("csi: presence updates, chat states and PEP events wait", "[net][csi]") {
  CHECK(waits("<presence from='a@x/r'><show>away</show></presence>"));
  CHECK(waits("<presence from='a@x/r' type='unavailable'/>"));
  CHECK(
      waits("<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
            "<thread>t1</thread></message>"));
  CHECK(
      waits("<message type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'>"
            "<items node='urn:xmpp:avatar:metadata'/></event></message>"));
}

TEST_CASE("csi: what matters goes out at once", "[net][csi]") {
  CHECK_FALSE(waits("<presence type='subscribe'/>"));
  CHECK_FALSE(waits("<presence type='unsubscribed'/>"));
  CHECK_FALSE(waits("<presence type='error'/>"));
  CHECK_FALSE(waits("<message><body>hi</body></message>"));
  CHECK_FALSE(
      waits("<message type='chat'><body>hi</body>"
            "<active xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  CHECK_FALSE(
      waits("<message type='error'><composing "
            "xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  CHECK_FALSE(waits("<message/>"));  // nothing to wait for
  CHECK_FALSE(waits("<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"));
}

TEST_CASE("csi: only the newest presence of each sender is held", "[net][csi]") {
  net::HeldStanzas held(3);
  held.hold("p1", shared("<presence from='a@x/r'><show>away</show></presence>"));
  held.hold("s1", shared("<message from='a@x/r'><composing "
                         "xmlns='http://jabber.org/protocol/chatstates'/></message>"));
  held.hold("p2", shared("<presence from='b@x/r'/>"));
  held.hold("p3", shared("<presence from='a@x/r'><show>dnd</show></presence>"));
  CHECK(held.size() == 3);
  CHECK(held.full());
  std::vector<std::string> order;
  for (auto& h : held.take()) order.push_back(h.bytes);
  CHECK(order == std::vector<std::string>{"s1", "p2", "p3"});
  CHECK(held.empty());
}
