// XEP-0313 archiving in the router: which messages are archived, what the owner's preferences
// (XEP-0441) decide, and the XEP-0359 stanza-ids a client may not forge.

#include <catch2/catch.hpp>

#include <string>

#include "router/archive_writes.hpp"
#include "router/archiving.hpp"
#include "support/stanzas.hpp"

using parley::testing::jidOf;
using parley::testing::parseStanza;
namespace archiving = parley::router::archiving;
namespace st = parley::storage;

TEST_CASE("archiving: which messages go into the archives (XEP-0313 §6.1.1)", "[archiving]") {
  auto [stanza, archived] = GENERATE(table<std::string, bool>({
      {"<message type='chat'><body>hi</body></message>", true},
      {"<message><body>a normal message</body></message>", true},
      {"<message type='normal'><body>hi</body></message>", true},
      {"<message type='normal'><subject>only a subject</subject></message>", false},
      {"<message type='headline'><body>news</body></message>", false},
      {"<message type='groupchat'><body>room</body></message>", false},
      {"<message type='error'><body>hi</body></message>", false},
      {"<message type='made-up'><body>hi</body></message>", false},
      // Chat states alone (with the usual bookkeeping) are not kept.
      {"<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
       "</message>",
       false},
      {"<message type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/>"
       "<thread>t1</thread><origin-id xmlns='urn:xmpp:sid:0' id='o1'/>"
       "<no-copy xmlns='urn:xmpp:hints'/></message>",
       false},
      {"<message type='chat'/>", false},
      // Bodyless chat messages that carry something are.
      {"<message type='chat'><received xmlns='urn:xmpp:receipts' id='m1'/></message>", true},
      {"<message type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='m1'/></message>", true},
      {"<message type='chat'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>", true},
      // XEP-0334 hints.
      {"<message type='chat'><body>hi</body><no-store xmlns='urn:xmpp:hints'/></message>", false},
      {"<message type='chat'><body>hi</body><no-permanent-store xmlns='urn:xmpp:hints'/>"
       "</message>",
       false},
      {"<message type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/>"
       "<store xmlns='urn:xmpp:hints'/></message>",
       true},
      {"<message type='normal'><store xmlns='urn:xmpp:hints'/></message>", true},
      {"<message type='headline'><body>x</body><store xmlns='urn:xmpp:hints'/></message>", false},
      {"<message type='chat'><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/>"
       "</message>",
       false},
  }));
  INFO(stanza);
  CHECK(archiving::archivable(parseStanza(stanza)) == archived);
}

TEST_CASE("archiving: the owner's preferences (XEP-0441)", "[archiving]") {
  const std::string owner = "alice@example.org";
  const auto bob_phone = jidOf("bob@example.org/phone");
  const auto bob_desk = jidOf("bob@example.org/desk");
  const auto carol = jidOf("carol@example.org/pc");
  st::ArchivePrefs prefs;

  SECTION("the default alone") {
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, std::nullopt) == true);
    prefs.mode = st::ArchiveDefault::Never;
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, std::nullopt) == false);
  }
  SECTION("roster: a listed contact only, and the answer waits for the roster") {
    prefs.mode = st::ArchiveDefault::Roster;
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, std::nullopt) == std::nullopt);
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, true) == true);
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, false) == false);
    // Notes to self are kept.
    CHECK(archiving::prefsAllow(prefs, owner, jidOf("alice@example.org/phone"), std::nullopt) ==
          true);
  }
  SECTION("the lists beat the default, whatever it is") {
    prefs.always = {"bob@example.org"};
    prefs.never = {"carol@example.org"};
    for (auto mode :
         {st::ArchiveDefault::Always, st::ArchiveDefault::Roster, st::ArchiveDefault::Never}) {
      prefs.mode = mode;
      CHECK(archiving::prefsAllow(prefs, owner, bob_phone, false) == true);
      CHECK(archiving::prefsAllow(prefs, owner, carol, true) == false);
      CHECK(archiving::prefsAllow(prefs, owner, bob_phone, std::nullopt).has_value());
    }
  }
  SECTION("a bare entry matches every resource, a full one only its own") {
    prefs.mode = st::ArchiveDefault::Always;
    prefs.never = {"bob@example.org/phone"};
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, std::nullopt) == false);
    CHECK(archiving::prefsAllow(prefs, owner, bob_desk, std::nullopt) == true);
    CHECK(archiving::prefsAllow(prefs, owner, jidOf("bob@example.org"), std::nullopt) == true);
  }
  SECTION("the more specific entry wins; never wins a tie") {
    prefs.mode = st::ArchiveDefault::Always;
    prefs.never = {"bob@example.org"};
    prefs.always = {"bob@example.org/phone"};
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, std::nullopt) == true);
    CHECK(archiving::prefsAllow(prefs, owner, bob_desk, std::nullopt) == false);
    prefs.always = {"bob@example.org"};
    CHECK(archiving::prefsAllow(prefs, owner, bob_phone, std::nullopt) == false);
  }
}

TEST_CASE("archiving: a client cannot forge the server's stanza-ids (XEP-0359 rule 3)",
          "[archiving]") {
  auto message = parseStanza(
      "<message type='chat'><body>hi</body>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.org' id='forged-1'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='EXAMPLE.ORG' id='forged-2'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='@@' id='forged-3'/>"
      "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.elsewhere.net' id='theirs'/>"
      "<origin-id xmlns='urn:xmpp:sid:0' id='client-1'/></message>");
  archiving::stripOwnStanzaIds(message, [](std::string_view d) { return d == "example.org"; });
  CHECK(message ==
        parseStanza("<message type='chat'><body>hi</body>"
                    "<origin-id xmlns='urn:xmpp:sid:0' id='client-1'/>"
                    "<stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.elsewhere.net' id='theirs'/>"
                    "</message>"));
  CHECK(archiving::originId(message) == "client-1");
  archiving::addStanzaId(message, "bob@example.org", "a-1");
  const auto* ours = message.childrenNamed("stanza-id", archiving::kSidNs).back();
  CHECK(ours->attrOr("by") == "bob@example.org");
  CHECK(ours->attrOr("id") == "a-1");
  CHECK_FALSE(archiving::originId(parseStanza("<message><body>x</body></message>")));
}

TEST_CASE("archiving: timestamps only move forwards", "[archiving]") {
  int64_t previous = archiving::archiveTimestamp();
  for (int i = 0; i < 10000; ++i) {
    const int64_t next = archiving::archiveTimestamp();
    REQUIRE(next > previous);
    previous = next;
  }
}

TEST_CASE("archiving: writes in flight are tracked per archive until released", "[archiving]") {
  parley::router::ArchiveWrites writes;
  CHECK_FALSE(writes.pending("alice@example.org"));
  auto both = writes.begin({"alice@example.org", "bob@example.org"});
  auto again = writes.begin({"bob@example.org"});
  CHECK(writes.pending("alice@example.org"));
  CHECK(writes.pending("bob@example.org"));
  auto copy = both;
  both.reset();
  CHECK(writes.pending("alice@example.org"));  // a copy still holds it
  copy.reset();
  CHECK_FALSE(writes.pending("alice@example.org"));
  CHECK(writes.pending("bob@example.org"));
  again.reset();
  CHECK_FALSE(writes.pending("bob@example.org"));
}
