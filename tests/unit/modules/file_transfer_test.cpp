// modules/file_transfer (§4 File sharing): every way a client moves a file, written as the
// clients send it (Gajim, Dino, Conversations; the XEPs' examples otherwise), goes through the
// module's hooks as the core would run them, and each refusal carries its compliance event.
#include <dlfcn.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "file_transfer/detector.hpp"
#include "file_transfer/file_transfer_module.hpp"
#include "parley/module.hpp"
#include "support/recording_host.hpp"
#include "support/stanzas.hpp"

using parley::ComplianceEvent;
using parley::Direction;
using parley::EventAction;
using parley::HookPoint;
using parley::Jid;
using parley::Origin;
using parley::Severity;
using parley::Stanza;
using parley::Verdict;
using namespace parley::modules::file_transfer;

using parley::testing::parseStanza;
using parley::testing::RecordingHost;
using parley::testing::stanzaOf;

namespace {

// The module configured from YAML and attached to a recording host.
struct Loaded {
  RecordingHost host;
  FileTransferModule module;

  explicit Loaded(const std::string& yaml, std::map<std::string, std::set<std::string>> groups = {},
                  bool refuse_s2s = true) {
    host.groups = std::move(groups);
    if (!refuse_s2s) host.dispatched.insert(HookPoint::StanzaFromServer);
    module.configure(YAML::Load(yaml));
    module.attach(host);
  }
};

Verdict fromClient(Loaded& loaded, std::string_view xml) {
  Stanza s = stanzaOf(xml);
  return loaded.host.run(HookPoint::StanzaFromClient, s);
}

// ---- The stanzas, as clients send them ----------------------------------------------------

constexpr const char* kSiOffer =  // Gajim (nbxmpp) offering a file over SI
    "<iq type='set' id='si-1' from='alice@example.com/gajim' to='bob@example.com/psi'>"
    "<si xmlns='http://jabber.org/protocol/si' id='s5b_3f2a' mime-type='application/pdf'"
    " profile='http://jabber.org/protocol/si/profile/file-transfer'>"
    "<file xmlns='http://jabber.org/protocol/si/profile/file-transfer' name='secret-plan.pdf'"
    " size='48213'><desc>Q3 plan</desc><range/></file>"
    "<feature xmlns='http://jabber.org/protocol/feature-neg'>"
    "<x xmlns='jabber:x:data' type='form'><field var='stream-method' type='list-single'>"
    "<option><value>http://jabber.org/protocol/bytestreams</value></option>"
    "<option><value>http://jabber.org/protocol/ibb</value></option></field></x></feature>"
    "</si></iq>";

constexpr const char* kJingleFt5 =  // Dino: session-initiate, SOCKS5 transport
    "<iq type='set' id='jft-1' from='alice@example.com/dino' to='bob@example.com/phone'>"
    "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'"
    " initiator='alice@example.com/dino' sid='a73sjjvkla37jfea'>"
    "<content creator='initiator' name='a-file-offer' senders='initiator'>"
    "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'>"
    "<file><name>secret-plan.pdf</name><size>48213</size></file></description>"
    "<transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid='vj3hs98y' mode='tcp'>"
    "<candidate cid='hft54dqy' host='192.0.2.10' jid='alice@example.com/dino' port='33441'"
    " priority='8257636' type='direct'/></transport></content></jingle></iq>";

constexpr const char* kXOobMessage =  // Conversations after an HTTP upload
    "<message type='chat' id='msg-oob' from='alice@example.com/conversations'"
    " to='bob@example.com'>"
    "<body>https://upload.example.com/Zm9vYmFy/secret-plan.pdf</body>"
    "<x xmlns='jabber:x:oob'><url>https://upload.example.com/Zm9vYmFy/secret-plan.pdf</url></x>"
    "<request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>"
    "<origin-id xmlns='urn:xmpp:sid:0' id='msg-oob'/></message>";

constexpr const char* kSfsMessage =  // Dino 0.5: stateless file sharing
    "<message type='chat' id='msg-sfs' from='alice@example.com/dino' to='bob@example.com'>"
    "<body>https://upload.example.com/Zm9vYmFy/secret-plan.pdf</body>"
    "<file-sharing xmlns='urn:xmpp:sfs:0' disposition='attachment'>"
    "<file xmlns='urn:xmpp:file:metadata:0'><media-type>application/pdf</media-type>"
    "<name>secret-plan.pdf</name><size>48213</size>"
    "<hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU="
    "</hash></file><sources><url-data xmlns='http://jabber.org/protocol/url-data'"
    " target='https://upload.example.com/Zm9vYmFy/secret-plan.pdf'/></sources>"
    "</file-sharing></message>";

constexpr const char* kSimsMessage =  // XEP-0385 §2 shape
    "<message type='chat' id='msg-sims' from='alice@example.com/kaidan' to='bob@example.com'>"
    "<body>https://files.example.net/secret-plan.pdf</body>"
    "<reference xmlns='urn:xmpp:reference:0' type='data' begin='0' end='41'>"
    "<media-sharing xmlns='urn:xmpp:sims:1'>"
    "<file xmlns='urn:xmpp:jingle:apps:file-transfer:5'><media-type>application/pdf</media-type>"
    "<name>secret-plan.pdf</name><size>48213</size></file>"
    "<sources><reference xmlns='urn:xmpp:reference:0' type='data'"
    " uri='https://files.example.net/secret-plan.pdf'/></sources>"
    "</media-sharing></reference></message>";

constexpr const char* kBobMessage =  // XEP-0231 §2: an inline image in XHTML-IM
    "<message type='chat' id='msg-bob' from='alice@example.com/psi' to='bob@example.com'>"
    "<body>Our logo</body>"
    "<html xmlns='http://jabber.org/protocol/xhtml-im'>"
    "<body xmlns='http://www.w3.org/1999/xhtml'><p>Our logo</p>"
    "<img alt='logo' src='cid:sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org'/>"
    "</body></html>"
    "<data xmlns='urn:xmpp:bob' cid='sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org'"
    " max-age='86400' type='image/png'>iVBORw0KGgoAAAANSUhEUgAAAAoAAAAKCAYAAACNMs+9</data>"
    "</message>";

constexpr const char* kOobIq =  // XEP-0066 §3: "fetch it from me"
    "<iq type='set' id='oob-1' from='alice@example.com/psi' to='bob@example.com/gajim'>"
    "<query xmlns='jabber:iq:oob' sid='oob_1'>"
    "<url>http://files.example.net/share/secret-plan.pdf</url><desc>Q3 plan</desc>"
    "</query></iq>";

struct Case {
  std::string name;
  std::string xml;
  std::string kind;
  std::string detail;
  std::string reason;
  Severity severity = Severity::Medium;
};

const std::string kFileTransfers = "file transfers are disabled on this service.";
const std::string kLinks = "sending files as links is disabled on this service.";

const std::vector<Case>& blockedCases() {
  static const std::vector<Case> cases = {
      {"XEP-0096 SI offer (Gajim)", kSiOffer, "file_transfer.si",
       R"({"mechanism":"si","xep":"XEP-0096"})", kFileTransfers},
      {"XEP-0096 SI offer without the profile attribute",
       "<iq type='set' id='si-2' from='alice@example.com/gajim' to='bob@example.com/psi'>"
       "<si xmlns='http://jabber.org/protocol/si' id='s5b_3f2b'>"
       "<file xmlns='http://jabber.org/protocol/si/profile/file-transfer' name='secret-plan.pdf'"
       " size='48213'/></si></iq>",
       "file_transfer.si", R"({"mechanism":"si","xep":"XEP-0096"})", kFileTransfers},
      {"XEP-0065 stream host offer (Gajim after SI)",
       "<iq type='set' id='s5b-1' from='alice@example.com/gajim' to='bob@example.com/psi'>"
       "<query xmlns='http://jabber.org/protocol/bytestreams' sid='s5b_3f2a' mode='tcp'>"
       "<streamhost jid='alice@example.com/gajim' host='192.0.2.10' port='28011'/>"
       "<streamhost jid='proxy.example.com' host='198.51.100.5' port='7777'/>"
       "</query></iq>",
       "file_transfer.socks5",
       R"({"mechanism":"socks5","xep":"XEP-0065","step":"streamhost-offer"})", kFileTransfers},
      {"XEP-0065 proxy discovery (Dino at login)",
       "<iq type='get' id='px-1' from='alice@example.com/dino' to='proxy.example.com'>"
       "<query xmlns='http://jabber.org/protocol/bytestreams'/></iq>",
       "file_transfer.socks5",
       R"({"mechanism":"socks5","xep":"XEP-0065","step":"proxy-discovery"})", kFileTransfers,
       Severity::Low},
      {"XEP-0065 proxy activation",
       "<iq type='set' id='act-1' from='alice@example.com/gajim' to='proxy.example.com'>"
       "<query xmlns='http://jabber.org/protocol/bytestreams' sid='s5b_3f2a'>"
       "<activate>bob@example.com/psi</activate></query></iq>",
       "file_transfer.socks5", R"({"mechanism":"socks5","xep":"XEP-0065","step":"activation"})",
       kFileTransfers},
      {"XEP-0047 open",
       "<iq type='set' id='ibb-1' from='alice@example.com/dino' to='bob@example.com/phone'>"
       "<open xmlns='http://jabber.org/protocol/ibb' block-size='4096' sid='ibb_7c1e'"
       " stanza='iq'/></iq>",
       "file_transfer.ibb", R"({"mechanism":"ibb","xep":"XEP-0047","step":"open"})",
       kFileTransfers},
      {"XEP-0047 data in an iq",
       "<iq type='set' id='ibb-2' from='alice@example.com/dino' to='bob@example.com/phone'>"
       "<data xmlns='http://jabber.org/protocol/ibb' seq='0' sid='ibb_7c1e'>JVBERi0xLjQK</data>"
       "</iq>",
       "file_transfer.ibb", R"({"mechanism":"ibb","xep":"XEP-0047","step":"data"})",
       kFileTransfers},
      {"XEP-0047 data in a message",
       "<message id='ibb-3' from='alice@example.com/psi' to='bob@example.com/gajim'>"
       "<data xmlns='http://jabber.org/protocol/ibb' seq='1' sid='ibb_7c1e'>JVBERi0xLjQK</data>"
       "<amp xmlns='http://jabber.org/protocol/amp'>"
       "<rule condition='deliver' value='stored' action='error'/></amp></message>",
       "file_transfer.ibb", R"({"mechanism":"ibb","xep":"XEP-0047","step":"data"})",
       kFileTransfers},
      {"XEP-0047 close",
       "<iq type='set' id='ibb-4' from='alice@example.com/dino' to='bob@example.com/phone'>"
       "<close xmlns='http://jabber.org/protocol/ibb' sid='ibb_7c1e'/></iq>",
       "file_transfer.ibb", R"({"mechanism":"ibb","xep":"XEP-0047","step":"close"})",
       kFileTransfers},
      {"XEP-0234 :5 session-initiate (Dino)", kJingleFt5, "file_transfer.jingle-ft",
       R"({"mechanism":"jingle-ft","xep":"XEP-0234","step":"session-initiate"})", kFileTransfers},
      {"XEP-0234 :4 session-initiate over IBB (Conversations)",
       "<iq type='set' id='jft-2' from='alice@example.com/conversations'"
       " to='bob@example.com/dino'>"
       "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'"
       " initiator='alice@example.com/conversations' sid='qD8fZ1bXkQ'>"
       "<content creator='initiator' name='secret-plan.pdf' senders='initiator'>"
       "<description xmlns='urn:xmpp:jingle:apps:file-transfer:4'><file>"
       "<name>secret-plan.pdf</name><size>48213</size><mediaType>application/pdf</mediaType>"
       "</file></description>"
       "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='8192' sid='ibb_c0ff'/>"
       "</content></jingle></iq>",
       "file_transfer.jingle-ft",
       R"({"mechanism":"jingle-ft","xep":"XEP-0234","step":"session-initiate"})", kFileTransfers},
      {"XEP-0234 :3 session-initiate with <offer> (Swift)",
       "<iq type='set' id='jft-3' from='alice@example.com/swift' to='bob@example.com/psi'>"
       "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'"
       " initiator='alice@example.com/swift' sid='851ba2'>"
       "<content creator='initiator' name='a-file-offer'>"
       "<description xmlns='urn:xmpp:jingle:apps:file-transfer:3'><offer>"
       "<file><name>secret-plan.pdf</name><size>48213</size></file></offer></description>"
       "<transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid='vj3hs98y'/>"
       "</content></jingle></iq>",
       "file_transfer.jingle-ft",
       R"({"mechanism":"jingle-ft","xep":"XEP-0234","step":"session-initiate"})", kFileTransfers},
      {"XEP-0234 content-add",
       "<iq type='set' id='jft-4' from='alice@example.com/dino' to='bob@example.com/phone'>"
       "<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='a73sjjvkla37jfea'>"
       "<content creator='initiator' name='another-file' senders='initiator'>"
       "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'>"
       "<file><name>secret-plan.pdf</name><size>48213</size></file></description>"
       "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/>"
       "</content></jingle></iq>",
       "file_transfer.jingle-ft",
       R"({"mechanism":"jingle-ft","xep":"XEP-0234","step":"content-add"})", kFileTransfers},
      {"XEP-0234 session-accept (a local user accepting a file)",
       "<iq type='set' id='jft-5' from='bob@example.com/phone' to='carol@partner.example/dino'>"
       "<jingle xmlns='urn:xmpp:jingle:1' action='session-accept'"
       " responder='bob@example.com/phone' sid='a73sjjvkla37jfea'>"
       "<content creator='initiator' name='a-file-offer' senders='initiator'>"
       "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'>"
       "<file><name>secret-plan.pdf</name><size>48213</size></file></description>"
       "<transport xmlns='urn:xmpp:jingle:transports:s5b:1' sid='vj3hs98y'/>"
       "</content></jingle></iq>",
       "file_transfer.jingle-ft",
       R"({"mechanism":"jingle-ft","xep":"XEP-0234","step":"session-accept"})", kFileTransfers},
      {"XEP-0234 in a call that also sends a file",
       "<iq type='set' id='jft-6' from='alice@example.com/dino' to='bob@example.com/phone'>"
       "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='mixed1'>"
       "<content creator='initiator' name='audio' senders='both'>"
       "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/>"
       "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1'/></content>"
       "<content creator='initiator' name='a-file-offer' senders='initiator'>"
       "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'>"
       "<file><name>secret-plan.pdf</name></file></description>"
       "<transport xmlns='urn:xmpp:jingle:transports:ibb:1' sid='x'/></content>"
       "</jingle></iq>",
       "file_transfer.jingle-ft",
       R"({"mechanism":"jingle-ft","xep":"XEP-0234","step":"session-initiate"})", kFileTransfers},
      {"XEP-0353 file proposal (Conversations)",
       "<message type='chat' id='jm-propose-1' from='alice@example.com/conversations'"
       " to='bob@example.com'>"
       "<propose xmlns='urn:xmpp:jingle-message:0' id='o4Wn2aVtTtuWYr2sJnbd8Q'>"
       "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></propose>"
       "<store xmlns='urn:xmpp:hints'/></message>",
       "file_transfer.jingle-ft", R"({"mechanism":"jingle-ft","xep":"XEP-0234","step":"propose"})",
       kFileTransfers},
      {"XEP-0363 slot request (Gajim, Conversations, Dino)",
       "<iq type='get' id='up-1' from='alice@example.com/gajim' to='upload.example.com'>"
       "<request xmlns='urn:xmpp:http:upload:0' filename='secret-plan.pdf' size='48213'"
       " content-type='application/pdf'/></iq>",
       "file_transfer.http-upload", R"({"mechanism":"http-upload","xep":"XEP-0363"})",
       "uploading files is disabled on this service."},
      {"XEP-0363 0.2 slot request (Dino's fallback)",
       "<iq type='get' id='up-2' from='alice@example.com/dino' to='upload.example.com'>"
       "<request xmlns='urn:xmpp:http:upload'><filename>secret-plan.pdf</filename>"
       "<size>48213</size><content-type>application/pdf</content-type></request></iq>",
       "file_transfer.http-upload", R"({"mechanism":"http-upload","xep":"XEP-0363"})",
       "uploading files is disabled on this service."},
      {"Conversations' pre-XEP upload namespace",
       "<iq type='get' id='up-3' from='alice@example.com/conversations' to='upload.example.com'>"
       "<request xmlns='eu:siacs:conversations:http:upload'><filename>secret-plan.pdf</filename>"
       "<size>48213</size></request></iq>",
       "file_transfer.http-upload", R"({"mechanism":"http-upload","xep":"XEP-0363"})",
       "uploading files is disabled on this service."},
      {"XEP-0066 iq:oob", kOobIq, "file_transfer.oob",
       R"({"mechanism":"oob","xep":"XEP-0066","url_host":"files.example.net"})", kFileTransfers},
      {"XEP-0066 x:oob link (Conversations)", kXOobMessage, "file_transfer.oob-url",
       R"({"mechanism":"oob-url","xep":"XEP-0066","url_host":"upload.example.com"})", kLinks},
      {"XEP-0447 stateless file sharing (Dino)", kSfsMessage, "file_transfer.sfs",
       R"({"mechanism":"sfs","xep":"XEP-0447","url_host":"upload.example.com"})", kLinks},
      {"XEP-0385 SIMS", kSimsMessage, "file_transfer.sims",
       R"({"mechanism":"sims","xep":"XEP-0385","url_host":"files.example.net"})", kLinks},
      {"XEP-0231 data in a message", kBobMessage, "file_transfer.bob",
       R"({"mechanism":"bob","xep":"XEP-0231"})",
       "files and images embedded in messages are disabled on this service."},
      {"XEP-0231 data requested by iq",
       "<iq type='get' id='bob-2' from='alice@example.com/psi' to='bob@example.com/gajim'>"
       "<data xmlns='urn:xmpp:bob' "
       "cid='sha1+8f35fef110ffc5df08d579a50083ff9308fb6242@bob.xmpp.org'/>"
       "</iq>",
       "file_transfer.bob", R"({"mechanism":"bob","xep":"XEP-0231"})",
       "files and images embedded in messages are disabled on this service."},
  };
  return cases;
}

}  // namespace

TEST_CASE("every file-transfer mechanism is refused with its event", "[file_transfer]") {
  const Case c = GENERATE(from_range(blockedCases()));
  INFO(c.name);
  Loaded loaded("");
  Stanza stanza = stanzaOf(c.xml);
  Verdict v = loaded.host.run(HookPoint::StanzaFromClient, stanza);

  REQUIRE(v.kind == Verdict::Kind::Reject);
  CHECK(v.condition == "policy-violation");
  CHECK(v.text == c.reason);
  REQUIRE(v.event);
  const ComplianceEvent& e = *v.event;
  CHECK(e.kind == c.kind);
  CHECK(e.action == EventAction::Blocked);
  CHECK(e.severity == c.severity);
  CHECK_FALSE(e.actor.empty());
  CHECK(e.actor == stanza.from.full());
  CHECK(e.target == stanza.to.full());
  CHECK(e.stanza_id == stanza.id());
  CHECK(e.direction == Direction::None);
  CHECK(e.detail_json == c.detail);
  // Masked: never the file's name, never a URL's path.
  CHECK(e.detail_json.find("secret-plan") == std::string::npos);
  CHECK(e.detail_json.find("Zm9v") == std::string::npos);
  // The core writes the event from the verdict; the module does not emit it twice.
  CHECK(loaded.host.events.empty());
}

TEST_CASE("Jingle calls pass", "[file_transfer]") {
  const std::string xml = GENERATE(
      as<std::string>{},
      // Dino: an audio call
      "<iq type='set' id='rtp-1' from='alice@example.com/dino' to='bob@example.com/phone'>"
      "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate'"
      " initiator='alice@example.com/dino' sid='a73sjjvkla37jfeb'>"
      "<content creator='initiator' name='audio' senders='both'>"
      "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'>"
      "<payload-type id='111' name='opus' clockrate='48000' channels='2'/>"
      "<payload-type id='0' name='PCMU' clockrate='8000'/><rtcp-mux/></description>"
      "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' pwd='asd88fgpdd777uzjYhagZg'"
      " ufrag='8hhy'><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256'"
      " setup='actpass'>02:1A:CC:54:27:AB:EB:9C:53:3F:3E:4B:65:2E:7D:46</fingerprint>"
      "</transport></content>"
      "<group xmlns='urn:xmpp:jingle:apps:grouping:0' semantics='BUNDLE'>"
      "<content name='audio'/></group></jingle></iq>",
      // Conversations: adding video to the call
      "<iq type='set' id='rtp-2' from='bob@example.com/phone' to='alice@example.com/dino'>"
      "<jingle xmlns='urn:xmpp:jingle:1' action='content-add' sid='a73sjjvkla37jfeb'>"
      "<content creator='responder' name='video' senders='both'>"
      "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='video'>"
      "<payload-type id='96' name='VP8' clockrate='90000'/></description>"
      "<transport xmlns='urn:xmpp:jingle:transports:ice-udp:1' ufrag='x' pwd='y'/>"
      "</content></jingle></iq>",
      // Conversations: ringing through XEP-0353 first
      "<message type='chat' id='jm-propose-2' from='alice@example.com/conversations'"
      " to='bob@example.com'><propose xmlns='urn:xmpp:jingle-message:0' id='nLwX5F2cTfKx'>"
      "<description xmlns='urn:xmpp:jingle:apps:rtp:1' media='audio'/></propose>"
      "<store xmlns='urn:xmpp:hints'/></message>",
      // hanging up
      "<iq type='set' id='rtp-3' from='alice@example.com/dino' to='bob@example.com/phone'>"
      "<jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='a73sjjvkla37jfeb'>"
      "<reason><success/></reason></jingle></iq>");
  INFO(xml);
  Loaded loaded("");
  Verdict v = fromClient(loaded, xml);
  CHECK(v.kind == Verdict::Kind::Pass);
  CHECK_FALSE(v.event);
}

TEST_CASE("error stanzas and iq results pass, whatever they carry", "[file_transfer]") {
  // Each would be refused as a get, a set or a normal message.
  const std::string xml = GENERATE(
      as<std::string>{},
      // the target accepting a SOCKS5 stream host
      "<iq type='result' id='s5b-1' from='bob@example.com/psi' to='alice@example.com/gajim'>"
      "<query xmlns='http://jabber.org/protocol/bytestreams' sid='s5b_3f2a'>"
      "<streamhost-used jid='proxy.example.com'/></query></iq>",
      // a proxy answering discovery
      "<iq type='result' id='px-1' from='proxy.example.com' to='alice@example.com/dino'>"
      "<query xmlns='http://jabber.org/protocol/bytestreams'><streamhost jid='proxy.example.com'"
      " host='198.51.100.5' port='7777'/></query></iq>",
      // a BoB answer
      "<iq type='result' id='bob-2' from='bob@example.com/gajim' to='alice@example.com/psi'>"
      "<data xmlns='urn:xmpp:bob' cid='sha1+8f35@bob.xmpp.org' type='image/png'>iVBOR</data></iq>",
      // a refusal that echoes the Jingle offer
      "<iq type='error' id='jft-1' from='bob@example.com/phone' to='alice@example.com/dino'>"
      "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='a73sjjvkla37jfea'>"
      "<content creator='initiator' name='a-file-offer'>"
      "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></content></jingle>"
      "<error type='cancel'><service-unavailable"
      " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
      // a bounced link message
      "<message type='error' id='msg-oob' from='bob@example.com' to='alice@example.com/phone'>"
      "<x xmlns='jabber:x:oob'><url>https://upload.example.com/a/b.pdf</url></x>"
      "<error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
      "</error></message>",
      // a bounced IBB chunk
      "<message type='error' id='ibb-3' from='bob@example.com' to='alice@example.com/psi'>"
      "<data xmlns='http://jabber.org/protocol/ibb' seq='1' sid='ibb_7c1e'>AAAA</data>"
      "<error type='cancel'><recipient-unavailable"
      " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>");
  INFO(xml);
  Loaded loaded("");
  Verdict v = fromClient(loaded, xml);
  CHECK(v.kind == Verdict::Kind::Pass);
  CHECK_FALSE(v.event);
}

TEST_CASE("stanzas that move no file pass", "[file_transfer]") {
  const std::string xml = GENERATE(
      as<std::string>{},
      "<message type='chat' id='m1' from='alice@example.com/dino' to='bob@example.com'>"
      "<body>The plan is on the shared drive</body><active"
      " xmlns='http://jabber.org/protocol/chatstates'/></message>",
      "<iq type='get' id='d1' from='alice@example.com/dino' to='example.com'>"
      "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
      "<iq type='get' id='v1' from='alice@example.com/dino' to='bob@example.com/phone'>"
      "<query xmlns='jabber:iq:version'/></iq>",
      // SI with another profile is not a file
      "<iq type='set' id='si-3' from='alice@example.com/psi' to='bob@example.com/psi'>"
      "<si xmlns='http://jabber.org/protocol/si' id='x' profile='urn:example:chess'/></iq>",
      "<presence id='p1' from='alice@example.com/dino'><c xmlns='http://jabber.org/protocol/caps'"
      " hash='sha-1' node='https://dino.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>");
  INFO(xml);
  Loaded loaded("");
  Verdict v = fromClient(loaded, xml);
  CHECK(v.kind == Verdict::Kind::Pass);
  CHECK_FALSE(v.event);
}

TEST_CASE("members of an exception group may transfer files", "[file_transfer]") {
  const std::map<std::string, std::set<std::string>> groups = {
      {"legal", {"carol@example.com"}}, {"engineering", {"alice@example.com"}}};

  SECTION("pass silently by default") {
    Loaded loaded("exceptions: [legal, engineering]", groups);
    Verdict v = fromClient(loaded, kJingleFt5);
    CHECK(v.kind == Verdict::Kind::Pass);
    CHECK_FALSE(v.event);
    // Groups hold bare JIDs: the module asks with the sender's bare JID.
    CHECK(loaded.host.membership_queries ==
          std::vector<std::string>{"alice@example.com", "alice@example.com"});
  }
  SECTION("record_allowed writes an Allowed event") {
    Loaded loaded("exceptions: [engineering]\nrecord_allowed: true", groups);
    Stanza stanza = stanzaOf(kXOobMessage);
    Verdict v = loaded.host.run(HookPoint::StanzaFromClient, stanza);
    CHECK(v.kind == Verdict::Kind::Pass);
    REQUIRE(v.event);
    CHECK(v.event->kind == "file_transfer.oob-url");
    CHECK(v.event->action == EventAction::Allowed);
    CHECK(v.event->severity == Severity::Info);
    CHECK(v.event->actor == "alice@example.com/conversations");
    CHECK(v.event->target == "bob@example.com");
    CHECK(v.event->stanza_id == "msg-oob");
    CHECK(
        v.event->detail_json ==
        R"({"mechanism":"oob-url","xep":"XEP-0066","url_host":"upload.example.com","exception":"engineering"})");
  }
  SECTION("everyone else is still refused") {
    Loaded loaded("exceptions: [legal]\nrecord_allowed: true", groups);
    Verdict v = fromClient(loaded, kJingleFt5);
    CHECK(v.kind == Verdict::Kind::Reject);
    REQUIRE(v.event);
    CHECK(v.event->action == EventAction::Blocked);
  }
}

TEST_CASE("from another server, the local recipient's exception counts", "[file_transfer]") {
  Loaded loaded("exceptions: [engineering]", {{"engineering", {"alice@example.com"}}},
                /*refuse_s2s=*/false);
  REQUIRE(loaded.host.hooksAt(HookPoint::StanzaFromServer) == 1);
  const std::string offer_to = "<iq type='set' id='in-1' from='carol@partner.example/dino' to='";
  const std::string rest =
      "'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='s1'>"
      "<content creator='initiator' name='a-file-offer'>"
      "<description xmlns='urn:xmpp:jingle:apps:file-transfer:5'/></content></jingle></iq>";

  Stanza to_member = stanzaOf(offer_to + "alice@example.com/phone" + rest, Origin::Server);
  CHECK(loaded.host.run(HookPoint::StanzaFromServer, to_member).kind == Verdict::Kind::Pass);

  Stanza to_other = stanzaOf(offer_to + "bob@example.com/phone" + rest, Origin::Server);
  Verdict v = loaded.host.run(HookPoint::StanzaFromServer, to_other);
  CHECK(v.kind == Verdict::Kind::Reject);
  REQUIRE(v.event);
  CHECK(v.event->direction == Direction::Inbound);
  CHECK(v.event->actor == "carol@partner.example/dino");
}

TEST_CASE("mode allow lets everything through and hides nothing", "[file_transfer]") {
  Loaded loaded("mode: allow");
  CHECK(loaded.host.stanza_hooks.empty());
  CHECK(loaded.host.disco_hooks.empty());
  for (const Case& c : blockedCases()) {
    INFO(c.name);
    CHECK(fromClient(loaded, c.xml).kind == Verdict::Kind::Pass);
  }
  const std::vector<std::string> features = {"urn:xmpp:http:upload:0", "jabber:x:oob"};
  CHECK(loaded.host.disco(features) == features);
}

TEST_CASE("oob_urls: allow lets file links through, nothing else", "[file_transfer]") {
  Loaded loaded("oob_urls: allow");
  for (const char* link : {kXOobMessage, kSfsMessage, kSimsMessage}) {
    INFO(link);
    Verdict v = fromClient(loaded, link);
    CHECK(v.kind == Verdict::Kind::Pass);
    CHECK_FALSE(v.event);
  }
  CHECK(fromClient(loaded, kOobIq).kind == Verdict::Kind::Reject);
  CHECK(fromClient(loaded, kBobMessage).kind == Verdict::Kind::Reject);
  CHECK(fromClient(loaded, kJingleFt5).kind == Verdict::Kind::Reject);

  // A link that also embeds the bytes is refused for the bytes.
  Verdict both = fromClient(loaded,
                            "<message type='chat' id='m2' from='alice@example.com/psi'"
                            " to='bob@example.com'><x xmlns='jabber:x:oob'><url>https://a.example/f"
                            "</url></x><data xmlns='urn:xmpp:bob' cid='c@bob.xmpp.org'>AA</data>"
                            "</message>");
  CHECK(both.kind == Verdict::Kind::Reject);
  REQUIRE(both.event);
  CHECK(both.event->kind == "file_transfer.bob");

  CHECK(loaded.host.disco({"jabber:x:oob", "urn:xmpp:sfs:0", "urn:xmpp:sims:1", "jabber:iq:oob",
                           "urn:xmpp:http:upload:0"}) ==
        std::vector<std::string>{"jabber:x:oob", "urn:xmpp:sfs:0", "urn:xmpp:sims:1"});
}

TEST_CASE("disco.info hides the features behind \"send file\"", "[file_transfer]") {
  Loaded loaded("");
  REQUIRE(loaded.host.disco_hooks.size() == 1);
  const std::vector<std::string> kept = {
      "http://jabber.org/protocol/disco#info",
      "urn:xmpp:jingle:1",
      "urn:xmpp:jingle:apps:rtp:1",
      "urn:xmpp:jingle:apps:rtp:audio",
      "urn:xmpp:jingle:transports:ice-udp:1",
      "vcard-temp",
      "urn:xmpp:http:upload:0:extra",  // only exact namespaces count
  };
  std::vector<std::string> features = kept;
  for (const char* hidden :
       {"http://jabber.org/protocol/si", "http://jabber.org/protocol/si/profile/file-transfer",
        "http://jabber.org/protocol/bytestreams", "http://jabber.org/protocol/ibb",
        "urn:xmpp:jingle:apps:file-transfer:3", "urn:xmpp:jingle:apps:file-transfer:4",
        "urn:xmpp:jingle:apps:file-transfer:5", "urn:xmpp:http:upload:0", "urn:xmpp:http:upload",
        "eu:siacs:conversations:http:upload", "jabber:iq:oob", "jabber:x:oob", "urn:xmpp:bob",
        "urn:xmpp:sfs:0", "urn:xmpp:sims:1"}) {
    features.insert(features.begin() + static_cast<long>(features.size() / 2), hidden);
  }
  CHECK(loaded.host.disco(features) == kept);
}

TEST_CASE("stanza.in.s2s is registered when the core offers it", "[file_transfer]") {
  SECTION("today's core refuses it: the module still attaches, and says so in the log") {
    Loaded loaded("");
    CHECK(loaded.host.hooksAt(HookPoint::StanzaFromClient) == 1);
    CHECK(loaded.host.hooksAt(HookPoint::StanzaFromServer) == 0);
    REQUIRE(loaded.host.logs.size() == 1);
    CHECK(loaded.host.logs[0].first == parley::LogLevel::Debug);
    CHECK(loaded.host.logs[0].second.find("stanza.in.s2s") != std::string::npos);
  }
  SECTION("a core with s2s gets both hooks") {
    Loaded loaded("", {}, /*refuse_s2s=*/false);
    CHECK(loaded.host.hooksAt(HookPoint::StanzaFromClient) == 1);
    CHECK(loaded.host.hooksAt(HookPoint::StanzaFromServer) == 1);
  }
}

TEST_CASE("configuration errors name the key", "[file_transfer][config]") {
  auto [yaml, key] = GENERATE(table<std::string, std::string>({
      {"mode: block", "mode"},
      {"mode: [deny]", "mode"},
      {"oob_urls: maybe", "oob_urls"},
      {"record_allowed: perhaps", "record_allowed"},
      {"record_allowed: [true]", "record_allowed"},
      {"exceptions: engineering", "exceptions"},
      {"exceptions: [legal, '']", "exceptions[1]"},
      {"exceptions: [legal, [nested]]", "exceptions[1]"},
      {"mode: deny\nexception: [legal]", "exception"},
      {"- mode: deny", ""},
  }));
  INFO(yaml);
  FileTransferModule module;
  try {
    module.configure(YAML::Load(yaml));
    FAIL("accepted");
  } catch (const parley::ConfigError& e) {
    CHECK(e.key == key);
    CHECK(std::string(e.what()).size() > 0);
  }
}

TEST_CASE("valid configurations are accepted", "[file_transfer][config]") {
  const std::string yaml = GENERATE(as<std::string>{}, "", "{}", "~",
                                    "mode: deny\nexceptions: [legal, it]\nrecord_allowed: yes\n"
                                    "oob_urls: block",
                                    "mode: allow", "exceptions: ~", "exceptions: []");
  INFO(yaml);
  FileTransferModule module;
  CHECK_NOTHROW(module.configure(YAML::Load(yaml)));
}

TEST_CASE("only a URL's host goes into an event", "[file_transfer][detector]") {
  auto [url, host] = GENERATE(table<std::string, std::string>({
      {"https://upload.example.com/Zm9v/secret-plan.pdf", "upload.example.com"},
      {"https://alice:hunter2@Files.Example.NET:8443/x?y#z", "files.example.net"},
      {"aesgcm://upload.example.com/a/b.jpg#6f1dc7a0bb", "upload.example.com"},
      {"http://[2001:db8::1]:5280/f", "[2001:db8::1]"},
      {"\n  https://a.example/x  \n", "a.example"},
      {"https://a.example", "a.example"},
      {"upload.example.com/secret-plan.pdf", ""},
      {"https:///secret-plan.pdf", ""},
      {"://host/x", ""},
      {"https://ex\xc3\xa4mple.com/x", ""},
      {"https://evil\".com/x", ""},
      {"", ""},
  }));
  INFO(url);
  CHECK(urlHost(url) == host);
}

TEST_CASE("the built file_transfer.so carries its descriptor", "[file_transfer][so]") {
  void* handle = dlopen(PARLEY_FILE_TRANSFER_SO, RTLD_NOW | RTLD_LOCAL);
  INFO((handle ? "" : dlerror()));
  REQUIRE(handle);
  auto entry = reinterpret_cast<const parley::ModuleDescriptor* (*)()>(
      dlsym(handle, PARLEY_DESCRIPTOR_SYMBOL));
  REQUIRE(entry);
  const parley::ModuleDescriptor* d = entry();
  CHECK(d->api_version == parley::kApiVersion);
  CHECK(std::string(d->build_signature) == PARLEY_BUILD_SIGNATURE);
  CHECK(std::string(d->name) == "file_transfer");
  CHECK(std::string(d->clause) == "§4 File sharing");
  CHECK(d->default_priority == 100);

  // The .so's own code decides, not the copy compiled into this test.
  RecordingHost host;
  {
    std::unique_ptr<parley::Module> module(d->create());
    module->configure(YAML::Load(""));
    module->attach(host);
  }
  Stanza stanza = stanzaOf(kJingleFt5);
  Verdict v = host.run(HookPoint::StanzaFromClient, stanza);
  CHECK(v.kind == Verdict::Kind::Reject);
  REQUIRE(v.event);
  CHECK(v.event->kind == "file_transfer.jingle-ft");
  CHECK(host.session_hooks.empty());  // stanzas are its business, sessions are not
  host.stanza_hooks.clear();
  host.disco_hooks.clear();
  // Not dlclose()d: the sanitizers would report the unloaded module's frames as unknown.
}
