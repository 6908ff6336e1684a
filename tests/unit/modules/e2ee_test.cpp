// modules/e2ee: end-to-end encrypted content is refused (or flagged), plaintext and protocol
// traffic pass. Stanzas are written as Conversations, Gajim, Dino, QXmpp-based clients and OTR
// clients put them on the wire, and parsed by the server's own stream parser.

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "e2ee/detect.hpp"
#include "e2ee/e2ee_module.hpp"
#include "parley/module.hpp"
#include "support/recording_host.hpp"
#include "support/stanzas.hpp"

using namespace parley;
using namespace parley::modules::e2ee;
using parley::testing::parseStanza;
using parley::testing::stanzaOf;

extern "C" const parley::ModuleDescriptor* parley_module_descriptor();

namespace {

// Like the core today: stanza.in.c2s and pep.publish (no s2s yet), unless a test says otherwise.
struct RecordingHost final : parley::testing::RecordingHost {
  RecordingHost() { dispatched = {HookPoint::StanzaFromClient, HookPoint::PepPublish}; }
};

E2eeModule configured(const std::string& yaml) {
  E2eeModule module;
  module.configure(YAML::Load(yaml));
  return module;
}

ConfigError configErrorOf(const std::string& yaml) {
  E2eeModule module;
  try {
    module.configure(YAML::Load(yaml));
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError for: " << yaml);
  return ConfigError("", "");
}

// ---- Stanzas as clients send them ------------------------------------------------------------

// Conversations 2.x, legacy OMEMO (eu.siacs.conversations.axolotl) with its fallback body.
constexpr std::string_view kConversationsOmemo = R"(
<message from='alice@example.org/Conversations.x1y2' to='bob@example.org' type='chat'
         id='d1f4c6b2-7e0a-4f1e-9b3c-2a5e8d7f6c01'>
  <encrypted xmlns='eu.siacs.conversations.axolotl'>
    <header sid='1456102838'>
      <key rid='1020304050'>MwohBcJzhALU5ZiBSn8RqMR6SJNe2TB3i9IGypFm/yhmZztlEAAYACIw</key>
      <key prekey='true' rid='987654321'>MwohBSdWx8b5Ke3vOq0TQ1Ii2f5a6mN9YwYc6GZ0Ck1qDmE8</key>
      <iv>8/pXK3Y8y8gKu0Zc</iv>
    </header>
    <payload>q0w9RH0dCIPvbX6sH1rE3kM=</payload>
  </encrypted>
  <request xmlns='urn:xmpp:receipts'/>
  <markable xmlns='urn:xmpp:chat-markers:0'/>
  <origin-id xmlns='urn:xmpp:sid:0' id='d1f4c6b2-7e0a-4f1e-9b3c-2a5e8d7f6c01'/>
  <encryption xmlns='urn:xmpp:eme:0' name='OMEMO' namespace='eu.siacs.conversations.axolotl'/>
  <body>I sent you an OMEMO encrypted message but your client doesn't seem to support that. Find more information on https://conversations.im/omemo</body>
  <store xmlns='urn:xmpp:hints'/>
</message>)";

// Gajim 1.x (OMEMO plugin built in): chat state and receipts beside the encrypted element.
constexpr std::string_view kGajimOmemo = R"(
<message from='alice@example.org/gajim.K2DQ8Z' to='bob@example.org' type='chat'
         id='4a8b8dac-acbc-4166-a2fb-286c7561bfa9'>
  <request xmlns='urn:xmpp:receipts'/>
  <active xmlns='http://jabber.org/protocol/chatstates'/>
  <markable xmlns='urn:xmpp:chat-markers:0'/>
  <origin-id xmlns='urn:xmpp:sid:0' id='4a8b8dac-acbc-4166-a2fb-286c7561bfa9'/>
  <encrypted xmlns='eu.siacs.conversations.axolotl'>
    <header sid='1797815022'>
      <key rid='697255201'>MwohBcJzhALU5ZiBSn8RqMR6SJNe2TB3i9IGypFm/yhmZztlEAAYACIwScgG</key>
      <iv>8/pXK3Y8y8gKuQ0a</iv>
    </header>
    <payload>Wm9sbGVyIGNpcGhlcnRleHQ=</payload>
  </encrypted>
  <encryption xmlns='urn:xmpp:eme:0' namespace='eu.siacs.conversations.axolotl'/>
  <body>You received a message encrypted with OMEMO but your client doesn't support OMEMO.</body>
  <store xmlns='urn:xmpp:hints'/>
</message>)";

// Dino: fallback body first.
constexpr std::string_view kDinoOmemo = R"(
<message from='alice@example.org/dino.6f1c' to='bob@example.org' type='chat' id='9b1e0c5a'>
  <body>[This message is OMEMO encrypted]</body>
  <encrypted xmlns='eu.siacs.conversations.axolotl'>
    <header sid='305419896'><key rid='2271560481'>MwohBQ==</key><iv>AAECAwQFBgcICQoL</iv></header>
    <payload>3q2+7w==</payload>
  </encrypted>
  <encryption xmlns='urn:xmpp:eme:0' namespace='eu.siacs.conversations.axolotl' name='OMEMO'/>
  <markable xmlns='urn:xmpp:chat-markers:0'/>
</message>)";

// OMEMO 2 (XEP-0384 0.8, 'urn:xmpp:omemo:2'), as QXmpp-based clients (Kaidan) send it.
constexpr std::string_view kOmemo2 = R"(
<message from='alice@example.org/kaidan.Ab3' to='bob@example.org' type='chat' id='om2-1'>
  <encrypted xmlns='urn:xmpp:omemo:2'>
    <header sid='27183'>
      <keys jid='bob@example.org'><key rid='31415' kex='true'>BASE64A=</key></keys>
      <keys jid='alice@example.org'><key rid='1337'>BASE64B=</key></keys>
    </header>
    <payload>BASE64PAYLOAD=</payload>
  </encrypted>
  <encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:omemo:2' name='OMEMO'/>
  <body>This message is encrypted with OMEMO 2 which your client does not support.</body>
  <store xmlns='urn:xmpp:hints'/>
</message>)";

// An OMEMO key transport element (no payload): sessions are built and ratchets advanced with it.
constexpr std::string_view kOmemoKeyTransport = R"(
<message from='alice@example.org/Conversations.x1y2' to='bob@example.org' id='kt-1'>
  <encrypted xmlns='eu.siacs.conversations.axolotl'>
    <header sid='1456102838'><key prekey='true' rid='1020304050'>MwohBQ==</key><iv>AAAAAAAAAAAAAAAA</iv></header>
  </encrypted>
  <store xmlns='urn:xmpp:hints'/>
</message>)";

// OMEMO in a group chat.
constexpr std::string_view kOmemoGroupchat = R"(
<message from='alice@example.org/Conversations.x1y2' to='board@conference.example.org'
         type='groupchat' id='gc-1'>
  <encrypted xmlns='eu.siacs.conversations.axolotl'>
    <header sid='1456102838'><key rid='1'>MwohBQ==</key><key rid='2'>MwohBQ==</key><iv>AAAAAAAAAAAAAAAA</iv></header>
    <payload>3q2+7w==</payload>
  </encrypted>
  <body>I sent you an OMEMO encrypted message but your client doesn't seem to support that.</body>
</message>)";

// An encrypted message wrapped in a forward (XEP-0297).
constexpr std::string_view kForwardedOmemo = R"(
<message from='alice@example.org/Conversations.x1y2' to='carol@example.org' type='chat' id='fw-1'>
  <body>forwarding this</body>
  <forwarded xmlns='urn:xmpp:forward:0'>
    <message xmlns='jabber:client' from='bob@example.org/dino' to='alice@example.org' type='chat'>
      <encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>MwohBQ==</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>3q2+7w==</payload></encrypted>
    </message>
  </forwarded>
</message>)";

// Encrypted Jingle file transfer (XEP-0391/0396): the file key travels OMEMO-encrypted in an iq.
constexpr std::string_view kJingleEncryptedTransfer = R"(
<iq from='alice@example.org/gajim.K2DQ8Z' to='bob@example.org/dino.6f1c' type='set' id='jet-1'>
  <jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='851ba2'>
    <content creator='initiator' name='a-file-offer'>
      <description xmlns='urn:xmpp:jingle:apps:file-transfer:5'>
        <file><name>plans.pdf</name><size>6144</size></file>
      </description>
      <transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/>
      <security xmlns='urn:xmpp:jingle:jet:0' name='a-file-offer'
                cipher='urn:xmpp:ciphers:aes-128-gcm-nopadding:0'
                type='eu.siacs.conversations.axolotl'>
        <encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>MwohBQ==</key><iv>AAAAAAAAAAAAAAAA</iv></header></encrypted>
      </security>
    </content>
  </jingle>
</iq>)";

// OpenPGP for XMPP Instant Messaging (XEP-0374), as the Gajim OpenPGP plugin sends it.
constexpr std::string_view kOxMessage = R"(
<message from='alice@example.org/gajim.K2DQ8Z' to='bob@example.org' type='chat' id='ox-1'>
  <openpgp xmlns='urn:xmpp:openpgp:0'>hQIMA0rXtQ1Yu8uzARAAnE7zcWOF4KyDkMUxPlQlNm3WqFoYhsRq9DvlT+yc</openpgp>
  <encryption xmlns='urn:xmpp:eme:0' namespace='urn:xmpp:openpgp:0'/>
  <body>[This message is *encrypted* with OpenPGP (See :XEP:`373`]</body>
  <store xmlns='urn:xmpp:hints'/>
</message>)";

// The XEP-0373 content elements placed directly in a message.
constexpr std::string_view kOxSigncrypt = R"(
<message from='alice@example.org/smack' to='bob@example.org' type='chat' id='ox-2'>
  <signcrypt xmlns='urn:xmpp:openpgp:0'>
    <to jid='bob@example.org'/><time stamp='2024-02-01T10:00:00Z'/><rpad>f0rm1l4b</rpad>
    <payload><body xmlns='jabber:client'>hi</body></payload>
  </signcrypt>
</message>)";
constexpr std::string_view kOxCrypt = R"(
<message from='alice@example.org/smack' to='bob@example.org' type='chat' id='ox-3'>
  <crypt xmlns='urn:xmpp:openpgp:0'><to jid='bob@example.org'/><time stamp='2024-02-01T10:00:00Z'/><payload/></crypt>
</message>)";

// XEP-0027 (legacy PGP), as Gajim's PGP plugin and Psi send it.
constexpr std::string_view kPgpLegacy = R"(
<message from='alice@example.org/gajim.K2DQ8Z' to='bob@example.org' type='chat' id='pgp-1'>
  <body>[This message is *encrypted* (See :XEP:`27`]</body>
  <x xmlns='jabber:x:encrypted'>hQEMA4+n8nmzVYm/AQf/fDVjrbeS4zHtmD4D5YsJYa+xsb0rQSWuEGQ7j5xD</x>
  <encryption xmlns='urn:xmpp:eme:0' namespace='jabber:x:encrypted'/>
</message>)";

// OTR, carried in the body (libotr via the Gajim/Psi/Pidgin plugins).
constexpr std::string_view kOtrQuery = R"(
<message from='alice@example.org/psi' to='bob@example.org/gajim' type='chat' id='otr-1'>
  <body>?OTRv23?
&lt;b&gt;alice@example.org/psi&lt;/b&gt; has requested an Off-the-Record private conversation. However, you do not have a plugin to support that.
See https://otr.cypherpunks.ca/ for more information.</body>
</message>)";
constexpr std::string_view kOtrV1Query = R"(
<message from='alice@example.org/psi' to='bob@example.org/gajim' type='chat' id='otr-2'>
  <body>?OTR?</body>
</message>)";
constexpr std::string_view kOtrData = R"(
<message from='alice@example.org/psi' to='bob@example.org/gajim' type='chat' id='otr-3'>
  <body>?OTR:AAMDzY2CtPSKJ2oAAAAAAQAAAAIAAADAVf3Ei72ZgFeKqWvLMnuVPVCwxktsOZ1QdjeLp6jn62mCVtlY9nS6sRkecpjuLYHRxyTdRu2iEVtSsjZqK55ovZ35SfkOPHeFYa9BIuxWi9djHMVKQ8KOVGAVLibjZ6P8.</body>
  <active xmlns='http://jabber.org/protocol/chatstates'/>
</message>)";
constexpr std::string_view kOtrFragment = R"(
<message from='alice@example.org/psi' to='bob@example.org/gajim' type='chat' id='otr-4'>
  <body>?OTR|5a73a599|27e31597,00001,00003,?OTR:AAMDJ+MVmSfjFZcAAAAAAQAAAAIAAADAVf3Ei72ZgFeKqWvLMnuVPVCwxkts,</body>
</message>)";
// A plaintext message with OTR's whitespace tag (and the v2 and v3 version tags) appended.
const std::string kOtrWhitespace =
    "<message from='alice@example.org/psi' to='bob@example.org/gajim' type='chat' id='otr-5'>"
    "<body>Hello Bob"
    "\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20"  // base tag
    "\x20\x20\x09\x09\x20\x20\x09\x20"                                  // version 2
    "\x20\x20\x09\x09\x20\x20\x09\x09"                                  // version 3
    "</body></message>";

// A XEP-0380 declaration of a scheme this module does not know.
constexpr std::string_view kEmeUnknown = R"(
<message from='alice@example.org/future' to='bob@example.org' type='chat' id='mls-1'>
  <encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:mls:0' name='MLS'/>
  <body>bWxzIGNpcGhlcnRleHQ=</body>
</message>)";

// ---- Traffic that passes ----------------------------------------------------------------------

constexpr std::string_view kPlaintext = R"(
<message from='alice@example.org/Conversations.x1y2' to='bob@example.org' type='chat'
         id='0f2b7d4e-plain'>
  <body>See you at 3? Bring the OTR figures (the ?OTR thing is a protocol, not a report).</body>
  <request xmlns='urn:xmpp:receipts'/>
  <markable xmlns='urn:xmpp:chat-markers:0'/>
  <origin-id xmlns='urn:xmpp:sid:0' id='0f2b7d4e-plain'/>
</message>)";
constexpr std::string_view kChatState = R"(
<message from='alice@example.org/Conversations.x1y2' to='bob@example.org' type='chat' id='cs-1'>
  <composing xmlns='http://jabber.org/protocol/chatstates'/>
  <no-store xmlns='urn:xmpp:hints'/>
</message>)";
constexpr std::string_view kDisplayedMarker = R"(
<message from='bob@example.org/dino.6f1c' to='alice@example.org' type='chat' id='mk-1'>
  <displayed xmlns='urn:xmpp:chat-markers:0' id='d1f4c6b2-7e0a-4f1e-9b3c-2a5e8d7f6c01'/>
  <store xmlns='urn:xmpp:hints'/>
</message>)";
constexpr std::string_view kReceipt = R"(
<message from='bob@example.org/dino.6f1c' to='alice@example.org/Conversations.x1y2' id='rc-1'>
  <received xmlns='urn:xmpp:receipts' id='d1f4c6b2-7e0a-4f1e-9b3c-2a5e8d7f6c01'/>
</message>)";
constexpr std::string_view kOtrErrorText = R"(
<message from='bob@example.org/gajim' to='alice@example.org/psi' type='chat' id='oe-1'>
  <body>?OTR Error: You sent encrypted data to bob, who wasn't expecting it.</body>
</message>)";
// XEP-0027 signed presence: the status is in clear, the signature only vouches for it.
constexpr std::string_view kSignedPresence = R"(
<presence from='alice@example.org/gajim.K2DQ8Z'>
  <show>away</show>
  <status>In a meeting</status>
  <x xmlns='jabber:x:signed'>iQA/AwUBOjU5dnol3d88qZ77EQI2JACfRngLJ045brNnaCX78ykKNUZaTIoAoPHI2uJxPMGR73EBIvEpcv0LRSy+=45f8</x>
</presence>)";
constexpr std::string_view kSignedMessage = R"(
<message from='alice@example.org/psi' to='bob@example.org' type='chat' id='sig-1'>
  <body>The figures are final.</body>
  <x xmlns='jabber:x:signed'>iQA/AwUBOjU5dnol3d88qZ77EQI2JACfRngLJ045brNnaCX78ykKNUZaTIoAoPHI2uJx</x>
</message>)";
// A client bouncing an OMEMO message it could not decrypt: errors are never refused.
constexpr std::string_view kOmemoErrorBounce = R"(
<message from='bob@example.org/dino.6f1c' to='alice@example.org/Conversations.x1y2' type='error'
         id='d1f4c6b2'>
  <encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>MwohBQ==</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>3q2+7w==</payload></encrypted>
  <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
</message>)";
// An iq result that happens to carry an OMEMO element (a reply to an allowed request).
constexpr std::string_view kIqResult = R"(
<iq from='bob@example.org/dino.6f1c' to='alice@example.org/gajim.K2DQ8Z' type='result' id='jet-1'>
  <jingle xmlns='urn:xmpp:jingle:1' sid='851ba2'><encrypted xmlns='eu.siacs.conversations.axolotl'/></jingle>
</iq>)";
// An element named 'encrypted' in some other namespace is not OMEMO.
constexpr std::string_view kOtherEncrypted = R"(
<message from='alice@example.org/bot' to='bob@example.org' type='chat' id='oth-1'>
  <body>status report</body>
  <encrypted xmlns='urn:example:transport-flag'/>
</message>)";

// Conversations publishing its OMEMO device list to PEP.
constexpr std::string_view kDevicelistPublish = R"(
<iq from='alice@example.org/Conversations.x1y2' type='set' id='oN4XKmmGLk3O'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <publish node='eu.siacs.conversations.axolotl.devicelist'>
      <item id='current'>
        <list xmlns='eu.siacs.conversations.axolotl'><device id='1456102838'/></list>
      </item>
    </publish>
    <publish-options>
      <x xmlns='jabber:x:data' type='submit'>
        <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
        <field var='pubsub#access_model'><value>open</value></field>
      </x>
    </publish-options>
  </pubsub>
</iq>)";
constexpr std::string_view kBundlePublish = R"(
<iq from='alice@example.org/Conversations.x1y2' type='set' id='bndl-1'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <publish node='eu.siacs.conversations.axolotl.bundles:1456102838'>
      <item id='current'>
        <bundle xmlns='eu.siacs.conversations.axolotl'>
          <signedPreKeyPublic signedPreKeyId='1'>BQ==</signedPreKeyPublic>
          <signedPreKeySignature>c2ln</signedPreKeySignature>
          <identityKey>BQ==</identityKey>
          <prekeys><preKeyPublic preKeyId='1'>BQ==</preKeyPublic></prekeys>
        </bundle>
      </item>
    </publish>
  </pubsub>
</iq>)";
constexpr std::string_view kOmemo2DevicesPublish = R"(
<iq from='alice@example.org/kaidan.Ab3' type='set' id='om2-dev'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <publish node='urn:xmpp:omemo:2:devices'>
      <item id='current'><devices xmlns='urn:xmpp:omemo:2'><device id='12345' label='Kaidan'/></devices></item>
    </publish>
  </pubsub>
</iq>)";
constexpr std::string_view kOmemo2BundlesPublish = R"(
<iq from='alice@example.org/kaidan.Ab3' type='set' id='om2-bndl'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <publish node='urn:xmpp:omemo:2:bundles'>
      <item id='12345'>
        <bundle xmlns='urn:xmpp:omemo:2'><spk id='0'>BQ==</spk><spks>c2ln</spks><ik>BQ==</ik><prekeys><pk id='0'>BQ==</pk></prekeys></bundle>
      </item>
    </publish>
  </pubsub>
</iq>)";
constexpr std::string_view kOxKeyPublish = R"(
<iq from='alice@example.org/gajim.K2DQ8Z' type='set' id='ox-pub'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <publish node='urn:xmpp:openpgp:0:public-keys'>
      <item><public-keys-list xmlns='urn:xmpp:openpgp:0'><pubkey-metadata v4-fingerprint='1357B01865B2503C18453D208CAC2A9678548E35' date='2018-03-01T15:26:12Z'/></public-keys-list></item>
    </publish>
  </pubsub>
</iq>)";
constexpr std::string_view kAvatarPublish = R"(
<iq from='alice@example.org/Conversations.x1y2' type='set' id='av-1'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <publish node='urn:xmpp:avatar:metadata'>
      <item id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'>
        <metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='12345' id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' height='64' width='64' type='image/png'/></metadata>
      </item>
    </publish>
  </pubsub>
</iq>)";
constexpr std::string_view kDevicelistRetract = R"(
<iq from='alice@example.org/Conversations.x1y2' type='set' id='rt-1'>
  <pubsub xmlns='http://jabber.org/protocol/pubsub'>
    <retract node='eu.siacs.conversations.axolotl.bundles:1456102838'><item id='current'/></retract>
  </pubsub>
</iq>)";

}  // namespace

TEST_CASE("The descriptor names the module, its clause and its priority", "[e2ee]") {
  const ModuleDescriptor* d = parley_module_descriptor();
  REQUIRE(d != nullptr);
  CHECK(d->api_version == kApiVersion);
  CHECK(std::string(d->name) == "e2ee");
  CHECK(std::string(d->clause) == "§3 Confidentiality");
  CHECK(d->default_priority == 50);
  std::unique_ptr<Module> instance(d->create());
  CHECK(dynamic_cast<E2eeModule*>(instance.get()) != nullptr);
}

TEST_CASE("Every encryption scheme is recognised as clients send it", "[e2ee][detect]") {
  auto [client, text, scheme,
        evidence] = GENERATE_COPY(table<std::string, std::string, Scheme, std::string>({
      {"Conversations OMEMO", std::string(kConversationsOmemo), Scheme::Omemo,
       "<encrypted xmlns='eu.siacs.conversations.axolotl'>"},
      {"Gajim OMEMO", std::string(kGajimOmemo), Scheme::Omemo,
       "<encrypted xmlns='eu.siacs.conversations.axolotl'>"},
      {"Dino OMEMO", std::string(kDinoOmemo), Scheme::Omemo,
       "<encrypted xmlns='eu.siacs.conversations.axolotl'>"},
      {"OMEMO 2", std::string(kOmemo2), Scheme::Omemo, "<encrypted xmlns='urn:xmpp:omemo:2'>"},
      {"OMEMO key transport", std::string(kOmemoKeyTransport), Scheme::Omemo,
       "<encrypted xmlns='eu.siacs.conversations.axolotl'>"},
      {"OMEMO in a group chat", std::string(kOmemoGroupchat), Scheme::Omemo,
       "<encrypted xmlns='eu.siacs.conversations.axolotl'>"},
      {"forwarded OMEMO", std::string(kForwardedOmemo), Scheme::Omemo,
       "<encrypted xmlns='eu.siacs.conversations.axolotl'>"},
      {"encrypted Jingle file transfer", std::string(kJingleEncryptedTransfer), Scheme::Omemo,
       "<encrypted xmlns='eu.siacs.conversations.axolotl'>"},
      {"OX openpgp", std::string(kOxMessage), Scheme::OpenPgp,
       "<openpgp xmlns='urn:xmpp:openpgp:0'>"},
      {"OX signcrypt", std::string(kOxSigncrypt), Scheme::OpenPgp,
       "<signcrypt xmlns='urn:xmpp:openpgp:0'>"},
      {"OX crypt", std::string(kOxCrypt), Scheme::OpenPgp, "<crypt xmlns='urn:xmpp:openpgp:0'>"},
      {"XEP-0027 encrypted", std::string(kPgpLegacy), Scheme::PgpLegacy,
       "<x xmlns='jabber:x:encrypted'>"},
      {"OTR query", std::string(kOtrQuery), Scheme::Otr, "OTR query (?OTRv)"},
      {"OTR v1 query", std::string(kOtrV1Query), Scheme::Otr, "OTR query (?OTR?)"},
      {"OTR data", std::string(kOtrData), Scheme::Otr, "OTR data message (?OTR:)"},
      {"OTR fragment", std::string(kOtrFragment), Scheme::Otr, "OTR fragment (?OTR|)"},
      {"OTR whitespace tag", kOtrWhitespace, Scheme::Otr, "OTR whitespace tag"},
      {"EME, unknown scheme", std::string(kEmeUnknown), Scheme::Other,
       "<encryption xmlns='urn:xmpp:eme:0' namespace='urn:example:mls:0'>"},
  }));
  INFO(client);
  auto found = findEncryption(parseStanza(text));
  REQUIRE(found);
  CHECK(found->scheme == scheme);
  CHECK(found->evidence == evidence);
}

TEST_CASE("A declared namespace from the wire is kept short and escaped", "[e2ee]") {
  E2eeModule module = configured("{}");
  SECTION("quotes and control characters are escaped in the event's JSON") {
    Stanza stanza = stanzaOf(R"(
<message from='alice@example.org/x' to='bob@example.org' type='chat' id='q-1'>
  <encryption xmlns='urn:xmpp:eme:0' namespace='urn:x&#10;"y\z'/>
</message>)");
    Verdict v = module.checkStanza(stanza, Direction::Local);
    REQUIRE(v.event);
    CHECK(v.event->detail_json ==
          R"({"scheme":"other","evidence":"<encryption xmlns='urn:xmpp:eme:0' )"
          R"(namespace='urn:x\u000a\"y\\z'>"})");
  }
  SECTION("a long namespace is cut at 128 bytes, never inside a UTF-8 character") {
    std::string declared = "a";
    for (int i = 0; i < 100; ++i) declared += "\xC3\xA4";  // 'ä', two bytes each
    auto found =
        findEncryption(parseStanza("<message from='alice@example.org/x' to='bob@example.org'>"
                                   "<encryption xmlns='urn:xmpp:eme:0' namespace='" +
                                   declared + "'/></message>"));
    REQUIRE(found);
    CHECK(found->scheme == Scheme::Other);
    CHECK(found->evidence ==
          "<encryption xmlns='urn:xmpp:eme:0' namespace='" + declared.substr(0, 127) + "...'>");
  }
}

TEST_CASE("Plaintext, signatures and protocol traffic are not encryption", "[e2ee][detect]") {
  auto [what, text] = GENERATE(table<std::string, std::string_view>({
      {"plaintext chat mentioning OTR", kPlaintext},
      {"chat state", kChatState},
      {"displayed marker", kDisplayedMarker},
      {"delivery receipt", kReceipt},
      {"OTR error text", kOtrErrorText},
      {"XEP-0027 signed presence", kSignedPresence},
      {"XEP-0027 signed message", kSignedMessage},
      {"'encrypted' in another namespace", kOtherEncrypted},
      {"PEP publish of an OMEMO device list (refused at pep.publish only)", kDevicelistPublish},
      {"PEP publish of an OMEMO bundle", kBundlePublish},
  }));
  INFO(what);
  auto found = findEncryption(parseStanza(text));
  CHECK_FALSE(found);
}

TEST_CASE("OTR markers are specific", "[e2ee][detect]") {
  CHECK(otrMarker("?OTR:AAMD") == "OTR data message (?OTR:)");
  CHECK(otrMarker("hi ?OTRv3? please") == "OTR query (?OTRv)");
  CHECK(otrMarker("?OTR,1,3,piece,") == "OTR fragment (?OTR,)");
  CHECK(
      otrMarker(std::string("x\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20")) ==
      "OTR whitespace tag");
  CHECK_FALSE(otrMarker("?OTR Error: no session"));
  CHECK_FALSE(otrMarker("what does ?OTR mean"));
  CHECK_FALSE(otrMarker("?OTR"));
  CHECK_FALSE(otrMarker("OTR: off the record"));
  // The tag cut short is ordinary whitespace.
  CHECK_FALSE(otrMarker(std::string("x\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09")));
}

TEST_CASE("Error stanzas and iq results always pass", "[e2ee][detect]") {
  CHECK(alwaysPasses(parseStanza(kOmemoErrorBounce)));
  CHECK(alwaysPasses(parseStanza(kIqResult)));
  CHECK_FALSE(alwaysPasses(parseStanza(kJingleEncryptedTransfer)));  // iq set
  CHECK_FALSE(alwaysPasses(parseStanza(kConversationsOmemo)));
}

TEST_CASE("OMEMO and OX key publishing is recognised by node", "[e2ee][detect]") {
  auto [what, text, scheme, node] =
      GENERATE(table<std::string, std::string_view, Scheme, std::string>({
          {"legacy device list", kDevicelistPublish, Scheme::Omemo,
           "eu.siacs.conversations.axolotl.devicelist"},
          {"legacy bundle", kBundlePublish, Scheme::Omemo,
           "eu.siacs.conversations.axolotl.bundles:1456102838"},
          {"OMEMO 2 devices", kOmemo2DevicesPublish, Scheme::Omemo, "urn:xmpp:omemo:2:devices"},
          {"OMEMO 2 bundles", kOmemo2BundlesPublish, Scheme::Omemo, "urn:xmpp:omemo:2:bundles"},
          {"OX public keys", kOxKeyPublish, Scheme::OpenPgp, "urn:xmpp:openpgp:0:public-keys"},
      }));
  INFO(what);
  auto found = findKeyPublish(parseStanza(text));
  REQUIRE(found);
  CHECK(found->scheme == scheme);
  CHECK(found->node == node);

  SECTION("other nodes and retractions are not key publishing") {
    CHECK_FALSE(findKeyPublish(parseStanza(kAvatarPublish)));
    CHECK_FALSE(findKeyPublish(parseStanza(kDevicelistRetract)));
    CHECK_FALSE(isOmemoKeyNode("urn:xmpp:omemo:2"));
    CHECK_FALSE(isOmemoKeyNode("urn:xmpp:omemo:x:devices"));
    CHECK_FALSE(isOmemoKeyNode("urn:xmpp:omemo:2:devicelist"));
    CHECK_FALSE(isOpenPgpKeyNode("urn:xmpp:openpgp:0"));
    CHECK(isOmemoKeyNode("urn:xmpp:omemo:1:bundles"));
  }
}

TEST_CASE("Encrypted messages are refused with a reason and an event", "[e2ee]") {
  RecordingHost host;
  E2eeModule module = configured("{}");
  module.attach(host);

  Stanza stanza = stanzaOf(kConversationsOmemo);
  const xml::Element before = stanza.element;
  Verdict v = host.run(HookPoint::StanzaFromClient, stanza);

  REQUIRE(v.kind == Verdict::Kind::Reject);
  CHECK(v.condition == "policy-violation");
  CHECK(v.retry_after_change);  // sent again in plaintext, it goes through
  CHECK(v.text ==
        "end-to-end encryption (OMEMO) cannot be used here: messages must stay readable for the "
        "company archive. Turn encryption off for this chat (the lock icon) and send again.");
  CHECK(stanza.element == before);  // refused, not rewritten
  REQUIRE(v.event);
  const ComplianceEvent& e = *v.event;
  CHECK(e.kind == "e2ee.omemo");
  CHECK(e.action == EventAction::Blocked);
  CHECK(e.severity == Severity::Medium);
  CHECK(e.actor == "alice@example.org/Conversations.x1y2");
  CHECK(e.target == "bob@example.org");
  CHECK(e.stanza_id == "d1f4c6b2-7e0a-4f1e-9b3c-2a5e8d7f6c01");
  CHECK(e.direction == Direction::Local);
  CHECK(e.detail_json ==
        R"({"scheme":"omemo","evidence":"<encrypted xmlns='eu.siacs.conversations.axolotl'>"})");
  // Never the ciphertext, the keys or the fallback text.
  CHECK(e.detail_json.find("q0w9RH0d") == std::string::npos);
  CHECK(e.detail_json.find("MwohB") == std::string::npos);
  CHECK(e.detail_json.find("conversations.im/omemo") == std::string::npos);
  CHECK(host.events.empty());  // the core writes the verdict's event
}

TEST_CASE("Each scheme has its own event kind and reason", "[e2ee]") {
  auto [text, kind, reason_mentions] = GENERATE(table<std::string, std::string, std::string>({
      {std::string(kOmemo2), "e2ee.omemo", "(OMEMO)"},
      {std::string(kOxMessage), "e2ee.openpgp", "(OpenPGP)"},
      {std::string(kPgpLegacy), "e2ee.pgp_legacy", "(PGP)"},
      {std::string(kOtrData), "e2ee.otr", "Off-the-Record (OTR)"},
      {kOtrWhitespace, "e2ee.otr", "Turn OTR off"},
      {std::string(kEmeUnknown), "e2ee.other", "end-to-end encryption cannot be used"},
      {std::string(kJingleEncryptedTransfer), "e2ee.omemo", "(OMEMO)"},
  }));
  E2eeModule module = configured("mode: deny");
  Stanza stanza = stanzaOf(text);
  Verdict v = module.checkStanza(stanza, Direction::Local);
  REQUIRE(v.kind == Verdict::Kind::Reject);
  CHECK(v.text.find(reason_mentions) != std::string::npos);
  CHECK(v.text.find("Blocked by") == std::string::npos);  // the core adds the clause prefix
  REQUIRE(v.event);
  CHECK(v.event->kind == kind);
  CHECK(v.event->stanza_id == std::string(stanza.id()));
}

TEST_CASE("Plaintext, errors and results pass without an event", "[e2ee]") {
  auto text =
      GENERATE(kPlaintext, kChatState, kDisplayedMarker, kReceipt, kOtrErrorText, kSignedPresence,
               kSignedMessage, kOmemoErrorBounce, kIqResult, kDevicelistPublish);
  RecordingHost host;
  E2eeModule module = configured("mode: deny");
  module.attach(host);
  Stanza stanza = stanzaOf(text);
  Verdict v = host.run(HookPoint::StanzaFromClient, stanza);
  INFO(text);
  CHECK(v.kind == Verdict::Kind::Pass);
  CHECK_FALSE(v.event);
  CHECK(host.events.empty());
}

TEST_CASE("mode: flag delivers and records the stanza as unscannable", "[e2ee]") {
  E2eeModule module = configured("mode: flag");
  REQUIRE(module.settings().mode == Mode::Flag);

  Stanza stanza = stanzaOf(kOxMessage);
  Verdict v = module.checkStanza(stanza, Direction::Local);
  CHECK(v.kind == Verdict::Kind::Pass);
  REQUIRE(v.event);
  CHECK(v.event->kind == "e2ee.unscannable");
  CHECK(v.event->action == EventAction::Flagged);
  CHECK(v.event->severity == Severity::Medium);
  CHECK(v.event->actor == "alice@example.org/gajim.K2DQ8Z");
  CHECK(v.event->detail_json ==
        R"({"scheme":"openpgp","evidence":"<openpgp xmlns='urn:xmpp:openpgp:0'>"})");

  SECTION("plaintext is not flagged") {
    Stanza plain = stanzaOf(kPlaintext);
    Verdict p = module.checkStanza(plain, Direction::Local);
    CHECK(p.kind == Verdict::Kind::Pass);
    CHECK_FALSE(p.event);
  }
  SECTION("key publishing passes without an event") {
    Stanza publish = stanzaOf(kDevicelistPublish);
    Verdict p = module.checkPublish(publish);
    CHECK(p.kind == Verdict::Kind::Pass);
    CHECK_FALSE(p.event);
  }
}

TEST_CASE("Registration: stanza.in and pep.publish always, s2s once the core has it", "[e2ee]") {
  SECTION("a core without s2s: registered for c2s and PEP, s2s logged at Info") {
    RecordingHost host;
    E2eeModule module = configured("{}");
    module.attach(host);
    CHECK(host.hooksAt(HookPoint::StanzaFromClient) == 1);
    CHECK(host.hooksAt(HookPoint::StanzaFromServer) == 0);
    CHECK(host.hooksAt(HookPoint::PepPublish) == 1);
    REQUIRE(host.logs.size() == 1);
    CHECK(host.logs[0].first == LogLevel::Info);
    CHECK(host.logs[0].second.find("once this server federates") != std::string::npos);
  }

  SECTION("a core without pep.publish cannot run the module: key refusal is part of its job") {
    RecordingHost host;
    host.dispatched.erase(HookPoint::PepPublish);
    E2eeModule module = configured("{}");
    CHECK_THROWS_AS(module.attach(host), std::logic_error);
  }

  SECTION("a core without stanza.in cannot run the module at all") {
    RecordingHost host;
    host.dispatched.clear();
    E2eeModule module = configured("{}");
    CHECK_THROWS_AS(module.attach(host), std::logic_error);
  }

  SECTION("a core with s2s and PEP: nothing to log") {
    RecordingHost host;
    host.dispatched = {HookPoint::StanzaFromClient, HookPoint::StanzaFromServer,
                       HookPoint::PepPublish};
    E2eeModule module = configured("{}");
    module.attach(host);
    CHECK(host.stanza_hooks.size() == 3);
    CHECK(host.logs.empty());
  }
}

TEST_CASE("Encrypted messages from other servers are refused as inbound", "[e2ee]") {
  RecordingHost host;
  host.dispatched = {HookPoint::StanzaFromClient, HookPoint::StanzaFromServer,
                     HookPoint::PepPublish};
  E2eeModule module = configured("{}");
  module.attach(host);
  Stanza inbound = stanzaOf(R"(
<message from='mallory@partner.example/x' to='bob@example.org' type='chat' id='in-1'>
  <encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'><key rid='2'>MwohBQ==</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>3q2+7w==</payload></encrypted>
</message>)",
                            Origin::Server);
  Verdict v = host.run(HookPoint::StanzaFromServer, inbound);
  REQUIRE(v.kind == Verdict::Kind::Reject);
  REQUIRE(v.event);
  CHECK(v.event->kind == "e2ee.omemo");
  CHECK(v.event->direction == Direction::Inbound);
  CHECK(v.event->actor == "mallory@partner.example/x");
}

TEST_CASE("Publishing OMEMO or OX keys to PEP is refused so clients stay in plaintext",
          "[e2ee][pep]") {
  RecordingHost host;
  host.dispatched = {HookPoint::StanzaFromClient, HookPoint::PepPublish};
  E2eeModule module = configured("{}");
  module.attach(host);

  auto [text, kind, node] = GENERATE(table<std::string_view, std::string, std::string>({
      {kDevicelistPublish, "e2ee.omemo_publish", "eu.siacs.conversations.axolotl.devicelist"},
      {kBundlePublish, "e2ee.omemo_publish", "eu.siacs.conversations.axolotl.bundles:1456102838"},
      {kOmemo2DevicesPublish, "e2ee.omemo_publish", "urn:xmpp:omemo:2:devices"},
      {kOmemo2BundlesPublish, "e2ee.omemo_publish", "urn:xmpp:omemo:2:bundles"},
      {kOxKeyPublish, "e2ee.openpgp_publish", "urn:xmpp:openpgp:0:public-keys"},
  }));
  INFO(node);
  Stanza publish = stanzaOf(text);
  Verdict v = host.run(HookPoint::PepPublish, publish);
  REQUIRE(v.kind == Verdict::Kind::Reject);
  CHECK(v.condition == "policy-violation");
  CHECK_FALSE(v.retry_after_change);  // publishing again will not help
  CHECK(v.text.find("encryption keys is not allowed") != std::string::npos);
  REQUIRE(v.event);
  CHECK(v.event->kind == kind);
  CHECK(v.event->action == EventAction::Blocked);
  CHECK(v.event->severity == Severity::Medium);
  CHECK(v.event->actor == publish.from.full());
  CHECK(v.event->target == publish.from.bareString());  // published to the own account
  CHECK(v.event->stanza_id == std::string(publish.id()));
  CHECK(v.event->detail_json.find("\"node\":\"" + node + "\"") != std::string::npos);

  SECTION("other PEP nodes are published") {
    Stanza avatar = stanzaOf(kAvatarPublish);
    Verdict a = host.run(HookPoint::PepPublish, avatar);
    CHECK(a.kind == Verdict::Kind::Pass);
    CHECK_FALSE(a.event);
  }
}

TEST_CASE("Direction: within one domain is local, elsewhere from a client is unknown", "[e2ee]") {
  RecordingHost host;
  E2eeModule module = configured("{}");
  module.attach(host);
  Stanza remote = stanzaOf(R"(
<message from='alice@example.org/gajim' to='partner@other.example' type='chat' id='r-1'>
  <x xmlns='jabber:x:encrypted'>hQEMA4+n8nmzVYm/</x>
</message>)");
  Verdict rv = host.run(HookPoint::StanzaFromClient, remote);
  REQUIRE(rv.event);
  CHECK(rv.event->kind == "e2ee.pgp_legacy");
  CHECK(rv.event->direction == Direction::None);
  CHECK(rv.event->target == "partner@other.example");

  Stanza same = stanzaOf(kConversationsOmemo);
  Verdict sv = host.run(HookPoint::StanzaFromClient, same);
  REQUIRE(sv.event);
  CHECK(sv.event->direction == Direction::Local);
}

TEST_CASE("Configuration: mode is deny or flag, and nothing else is accepted", "[e2ee][config]") {
  CHECK(configured("{}").settings().mode == Mode::Deny);
  CHECK(configured("").settings().mode == Mode::Deny);
  CHECK(configured("mode: deny").settings().mode == Mode::Deny);
  CHECK(configured("mode: flag").settings().mode == Mode::Flag);

  auto [yaml, key, says] = GENERATE(table<std::string, std::string, std::string>({
      {"mode: allow", "mode", "not 'allow'"},
      {"mode: [deny]", "mode", "'deny'"},
      {"mode: Deny", "mode", "not 'Deny'"},
      {"mdoe: flag", "mdoe", "unknown key"},
      {"[mode, flag]", "", "map"},
  }));
  INFO(yaml);
  ConfigError e = configErrorOf(yaml);
  CHECK(e.key == key);
  CHECK(std::string(e.what()).find(says) != std::string::npos);
}
