// modules/notice: every new session receives the monitoring notice as a headline message, in
// the configured language and with the policy version, and each notice sent is recorded.

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "notice/ack_rules.hpp"
#include "notice/acknowledged_accounts.hpp"
#include "notice/notice_config.hpp"
#include "notice/notice_message.hpp"
#include "notice/notice_module.hpp"
#include "parley/module.hpp"
#include "parley/xml/serializer.hpp"
#include "support/recording_host.hpp"
#include "support/stanzas.hpp"

using namespace parley;
using namespace parley::modules::notice;

using parley::testing::jidOf;
using parley::testing::parseStanza;
using parley::testing::RecordingHost;
using parley::testing::stanzaOf;

extern "C" const parley::ModuleDescriptor* parley_module_descriptor();

namespace {

NoticeModule configured(const std::string& yaml) {
  NoticeModule module;
  module.configure(YAML::Load(yaml));
  return module;
}

ConfigError configErrorOf(const std::string& yaml) {
  NoticeModule module;
  try {
    module.configure(YAML::Load(yaml));
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError for: " << yaml);
  return ConfigError("", "");
}

}  // namespace

TEST_CASE("The descriptor names the module, its clause and its priority", "[notice]") {
  const ModuleDescriptor* d = parley_module_descriptor();
  REQUIRE(d != nullptr);
  CHECK(d->api_version == kApiVersion);
  CHECK(std::string(d->name) == "notice");
  CHECK(std::string(d->clause) == "§7 Privacy");
  CHECK(d->default_priority == 10);
  std::unique_ptr<Module> instance(d->create());
  CHECK(dynamic_cast<NoticeModule*>(instance.get()) != nullptr);
}

TEST_CASE("A new session receives the notice as a headline, and it is recorded", "[notice]") {
  RecordingHost host;
  NoticeModule module = configured("policy_version: '2024-03'");
  module.attach(host);
  CHECK(host.stanza_hooks.empty());
  CHECK(host.session_hooks.size() == 1);

  host.open("alice@example.org/Conversations.x1y2");

  REQUIRE(host.sent.size() == 1);
  const xml::Element expected = parseStanza(
      "<message type='headline' to='alice@example.org/Conversations.x1y2' xml:lang='en'>"
      "<subject>Company instant messaging</subject>"
      "<body>This instant messaging service is company property. Messages are monitored, "
      "archived and may be disclosed to auditors and courts (IM policy §7).</body>"
      "<notice xmlns='urn:parley:notice:0' version='2024-03'/>"
      "</message>");
  INFO(xml::toString(host.sent[0], "jabber:client"));
  CHECK(host.sent[0] == expected);
  CHECK(host.sent[0].attr("from") == nullptr);  // the host sets the user's domain

  REQUIRE(host.events.size() == 1);
  const ComplianceEvent& e = host.events[0];
  CHECK(e.kind == "notice.sent");
  CHECK(e.action == EventAction::Allowed);
  CHECK(e.severity == Severity::Info);
  CHECK(e.target == "alice@example.org/Conversations.x1y2");
  CHECK(e.detail_json == R"({"policy_version":"2024-03","language":"en","ack_required":false})");

  SECTION("every session gets its own notice") {
    host.open("alice@example.org/gajim.K2DQ8Z");
    REQUIRE(host.sent.size() == 2);
    CHECK(host.sent[1].attrOr("to") == "alice@example.org/gajim.K2DQ8Z");
    REQUIRE(host.events.size() == 2);
    CHECK(host.events[1].target == "alice@example.org/gajim.K2DQ8Z");
  }
}

TEST_CASE("A notice that could not be sent is not recorded as sent", "[notice]") {
  RecordingHost host;
  host.send_fails = true;
  NoticeModule module = configured("{}");
  module.attach(host);
  CHECK_THROWS(host.open("alice@example.org/phone"));
  CHECK(host.events.empty());
}

TEST_CASE("Without policy_version the notice carries no version", "[notice]") {
  Settings settings = parseSettings(YAML::Load("{}"));
  CHECK_FALSE(settings.policy_version);
  xml::Element message = buildNotice(settings, jidOf("bob@example.org/dino"), false);
  const xml::Element* notice = message.child("notice", kNoticeNs);
  REQUIRE(notice != nullptr);
  CHECK(notice->attr("version") == nullptr);
  CHECK(noticeEvent(settings, jidOf("bob@example.org/dino"), false).detail_json ==
        R"({"policy_version":null,"language":"en","ack_required":false})");
}

TEST_CASE("Text and subject come from the configuration, in the chosen language", "[notice]") {
  const std::string yaml = R"(
text:
  en: "Company IM: monitored and archived."
  de: "Firmen-IM: wird überwacht und archiviert."
subject:
  en: "Notice"
  de: "Hinweis"
policy_version: "v7"
)";
  SECTION("English unless language says otherwise") {
    Settings s = configured(yaml).settings();
    CHECK(s.language == "en");
    CHECK(s.text == "Company IM: monitored and archived.");
    CHECK(s.subject == "Notice");
  }
  SECTION("language: de") {
    RecordingHost host;
    NoticeModule module = configured(yaml + "language: de\n");
    module.attach(host);
    host.open("bob@example.org/dino");
    REQUIRE(host.sent.size() == 1);
    const xml::Element& m = host.sent[0];
    CHECK(m.lang() == "de");
    CHECK(m.childText("subject", "jabber:client") == "Hinweis");
    CHECK(m.childText("body", "jabber:client") == "Firmen-IM: wird überwacht und archiviert.");
    REQUIRE(host.events.size() == 1);
    CHECK(host.events[0].detail_json ==
          R"({"policy_version":"v7","language":"de","ack_required":false})");
  }
  SECTION("language tags are matched without regard to case, and sent in lower case") {
    Settings s = configured(
                     "text: {de-CH: 'Grüezi'}\nsubject: {DE-ch: 'Hinweis'}\n"
                     "language: DE-ch\n")
                     .settings();
    CHECK(s.language == "de-ch");
    CHECK(s.text == "Grüezi");
    CHECK(s.subject == "Hinweis");
  }
  SECTION("only the English text replaced: the default subject stays") {
    Settings s = configured("text: {en: 'Monitored.'}").settings();
    CHECK(s.text == "Monitored.");
    CHECK(s.subject == kDefaultSubject);
  }
}

TEST_CASE("The policy version is escaped in the event's JSON", "[notice]") {
  Settings s = configured(R"(policy_version: 'v"2\3')").settings();
  CHECK(noticeEvent(s, jidOf("a@example.org/x"), false).detail_json ==
        R"({"policy_version":"v\"2\\3","language":"en","ack_required":false})");
  xml::Element m = buildNotice(s, jidOf("a@example.org/x"), false);
  CHECK(m.child("notice", kNoticeNs)->attrOr("version") == R"(v"2\3)");
}

TEST_CASE("Bad configuration is refused, naming the key", "[notice][config]") {
  auto [yaml, key, says] = GENERATE(table<std::string, std::string, std::string>({
      {"language: fr", "language", "no text for 'fr'"},
      {"language: 'en us'", "language", "language tag"},
      {"language: [en]", "language", "language tag"},
      {"text: {fr: 'Surveillé.'}\nlanguage: fr", "subject", "no subject for 'fr'"},
      {"text: 'just a string'", "text", "must map language tags"},
      {"text: {en: ''}", "text.en", "must not be empty"},
      {"text: {en: [a, b]}", "text.en", "must be a string"},
      {"text: {'e n': 'x'}", "text.e n", "not a language tag"},
      {"text: {en: 'a', EN: 'b'}", "text.EN", "given twice"},
      {"text: {en: \"bell \\a here\"}", "text.en", "control character"},
      {"subject: {en: \"" + std::string(300, 'x') + "\"}", "subject.en", "at most 256"},
      {"policy_version: ''", "policy_version", "must not be empty"},
      {"policy_version: {v: 1}", "policy_version", "must be a string"},
      {"policy_version: \"v1\\n\"", "policy_version", "one line"},
      {"policy_version: " + std::string(65, '7'), "policy_version", "at most 64"},
      {"polcy_version: '1'", "polcy_version", "unknown key"},
      {"require_ack: sometimes", "require_ack", "true or false"},
      {"require_ack: true", "require_ack", "needs policy_version"},
      {"policy_version: v1\nrequire_ack: true\nack_phrase: {en: 'Agreed'}\n"
       "ack_prompt: {en: 'Reply: I agree'}",
       "ack_prompt.en", "does not quote the phrase users must reply, 'Agreed'"},
      {"policy_version: v1\nrequire_ack: true\nack_phrase: {en: ' . '}", "ack_phrase.en",
       "more than white space"},
      {"policy_version: v1\nrequire_ack: true\nack_phrase: {en: \"I\\nagree\"}", "ack_phrase.en",
       "one line"},
      {"policy_version: v1\nrequire_ack: true\ntext: {de: 'Überwacht.'}\n"
       "subject: {de: 'Hinweis'}\nlanguage: de",
       "ack_phrase", "no phrase for 'de'"},
      {"policy_version: v1\nrequire_ack: true\ntext: {de: 'Überwacht.'}\n"
       "subject: {de: 'Hinweis'}\nlanguage: de\nack_phrase: {de: 'Einverstanden'}",
       "ack_prompt", "no prompt for 'de'"},
      {"policy_version: v1\nrequire_ack: true\ntext: {de: 'Überwacht.'}\n"
       "subject: {de: 'Hinweis'}\nlanguage: de\nack_phrase: {de: 'Einverstanden'}\n"
       "ack_prompt: {de: 'Antworten Sie: Einverstanden'}",
       "ack_thanks", "no text for 'de'"},
      {"[text]", "", "map"},
  }));
  INFO(yaml);
  ConfigError e = configErrorOf(yaml);
  CHECK(e.key == key);
  CHECK(std::string(e.what()).find(says) != std::string::npos);
}

TEST_CASE("Language tags", "[notice][config]") {
  CHECK(isLanguageTag("en"));
  CHECK(isLanguageTag("de-CH"));
  CHECK(isLanguageTag("zh-Hant-TW"));
  CHECK(isLanguageTag("es-419"));
  CHECK_FALSE(isLanguageTag(""));
  CHECK_FALSE(isLanguageTag("en-"));
  CHECK_FALSE(isLanguageTag("-en"));
  CHECK_FALSE(isLanguageTag("e n"));
  CHECK_FALSE(isLanguageTag("419"));
  CHECK_FALSE(isLanguageTag("toolongtag"));
}

// ---- require_ack: the acknowledgement service and the gate ----

namespace {

constexpr const char* kAckYaml = "policy_version: '2026-11'\nrequire_ack: true\n";

std::string bodyOf(const xml::Element& message) {
  return message.childText("body", "jabber:client");
}

// A module with require_ack attached to a host whose first read of the table returns `rows`.
struct Acknowledging {
  RecordingHost host;
  NoticeModule module;

  explicit Acknowledging(std::vector<std::string> acknowledged,
                         const std::string& yaml = kAckYaml) {
    module = configured(yaml);
    host.responder = [acknowledged](const RecordingHost::Query& q) {
      REQUIRE(q.sql.find("SELECT account FROM policy_acknowledgements") == 0);
      REQUIRE(q.params.size() == 1);
      CHECK(q.params[0] == "2026-11");
      DbRows rows;
      rows.columns = {"account"};
      for (const auto& a : acknowledged) rows.rows.push_back({a});
      return std::pair<DbRows, std::string>(std::move(rows), "");
    };
    module.attach(host);
    host.responder = nullptr;  // from here on the test answers
  }
  Verdict send(std::string_view text) {
    Stanza s = stanzaOf(text);
    return host.run(HookPoint::StanzaFromClient, s);
  }
  std::optional<Verdict> toServer(std::string_view text) {
    return host.serverMessage(stanzaOf(text));
  }
};

}  // namespace

TEST_CASE("Replies are compared with the phrase loosely", "[notice][ack]") {
  CHECK(normalisePhrase("I agree") == "i agree");
  CHECK(normalisePhrase("  I   AGREE.  ") == "i agree");
  CHECK(normalisePhrase("i agree!") == "i agree");
  CHECK(normalisePhrase("I\tagree\n") == "i agree");
  CHECK(normalisePhrase("I agree!!") == "i agree!");  // one final mark only
  CHECK(normalisePhrase("Ich stimme zu") == "ich stimme zu");
  CHECK(normalisePhrase("ÄÖÜ") == "ÄÖÜ");  // ASCII letters only are folded
}

TEST_CASE("require_ack settings: defaults in English, a prompt quoting the phrase",
          "[notice][ack][config]") {
  Settings s = configured(kAckYaml).settings();
  CHECK(s.require_ack);
  CHECK(s.ack_phrase == "I agree");
  CHECK(s.ack_prompt ==
        "To confirm that you have read this notice, reply to this message with: I agree");
  CHECK(s.ack_thanks.rfind("Thank you.", 0) == 0);
  CHECK(s.ack_phrases == std::vector<std::string>{"i agree"});

  SECTION("a phrase of their own makes the default prompt quote it") {
    Settings own =
        configured(std::string(kAckYaml) + "ack_phrase: {en: 'Understood'}\n").settings();
    CHECK(own.ack_prompt ==
          "To confirm that you have read this notice, reply to this message with: Understood");
    CHECK(own.ack_phrases == std::vector<std::string>{"understood"});
  }
  SECTION("German: every text in German, and replies in either language count") {
    Settings de = configured(std::string(kAckYaml) +
                             "text: {de: 'Überwacht.'}\nsubject: {de: 'Hinweis'}\n"
                             "language: de\nack_phrase: {de: 'Einverstanden'}\n"
                             "ack_prompt: {de: 'Bitte antworten Sie mit: Einverstanden'}\n"
                             "ack_thanks: {de: 'Danke.'}\n")
                      .settings();
    CHECK(de.ack_phrase == "Einverstanden");
    CHECK(de.ack_thanks == "Danke.");
    CHECK(de.ack_phrases == std::vector<std::string>{"einverstanden", "i agree"});
  }
  SECTION("without require_ack nothing about acknowledgement is required") {
    Settings off = configured("language: de\ntext: {de: 'x'}\nsubject: {de: 'y'}").settings();
    CHECK_FALSE(off.require_ack);
  }
}

TEST_CASE("Before acknowledging, a user may keep the client working but talk to nobody",
          "[notice][ack]") {
  auto [stanza, allowed] = GENERATE(table<std::string, bool>({
      // Talking to people: refused.
      {"<message from='a@example.org/r' to='b@example.org' type='chat'><body>hi</body></message>",
       false},
      {"<message from='a@example.org/r' to='b@example.org/x'><body>hi</body></message>", false},
      {"<message from='a@example.org/r' to='a@example.org'><body>note</body></message>", false},
      {"<message from='a@example.org/r' to='room@conference.example.org' type='groupchat'>"
       "<body>hi</body></message>",
       false},
      {"<message from='a@example.org/r' to='b@partner.example'><body>hi</body></message>", false},
      {"<message from='a@example.org/r'><body>no to: my own account</body></message>", false},
      {"<message from='a@example.org/r' to='b@example.org'><composing "
       "xmlns='http://jabber.org/protocol/chatstates'/></message>",
       false},
      {"<presence from='a@example.org/r' to='b@example.org' type='subscribe'/>", false},
      {"<presence from='a@example.org/r' to='room@conference.example.org/nick'/>", false},
      {"<iq from='a@example.org/r' to='b@example.org/x' type='get' id='1'>"
       "<query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
       false},
      {"<iq from='a@example.org/r' to='conference.example.org' type='get' id='1'>"
       "<query xmlns='http://jabber.org/protocol/disco#items'/></iq>",
       false},
      // The acknowledgement service, the client's own business, and answers: allowed.
      {"<message from='a@example.org/r' to='example.org' type='chat'><body>I agree</body>"
       "</message>",
       true},
      {"<message from='a@example.org/r' to='example.org/policy'><body>?</body></message>", true},
      {"<presence from='a@example.org/r'/>", true},
      {"<presence from='a@example.org/r' type='unavailable'/>", true},
      {"<presence from='a@example.org/r'><show>away</show></presence>", true},
      {"<iq from='a@example.org/r' type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>", true},
      {"<iq from='a@example.org/r' to='a@example.org' type='set' id='1'>"
       "<pubsub xmlns='http://jabber.org/protocol/pubsub'/></iq>",
       true},
      {"<iq from='a@example.org/r' to='example.org' type='get' id='1'>"
       "<ping xmlns='urn:xmpp:ping'/></iq>",
       true},
      {"<iq from='a@example.org/r' to='b@example.org/x' type='result' id='1'/>", true},
      {"<message from='a@example.org/r' to='b@example.org/x' type='error'/>", true},
      {"<presence from='a@example.org/r' to='b@example.org' type='error'/>", true},
  }));
  INFO(stanza);
  CHECK(allowedBeforeAck(stanzaOf(stanza)) == allowed);
}

TEST_CASE("What acknowledges the notice", "[notice][ack]") {
  Settings s = configured(kAckYaml).settings();
  auto reading = [&s](const std::string& inner) {
    return readReply(
        s, stanzaOf("<message from='a@example.org/r' to='example.org'>" + inner + "</message>"));
  };
  using Kind = ReplyReading::Kind;
  CHECK(reading("<body>I agree</body>").kind == Kind::Acknowledges);
  CHECK(reading("<body>I agree</body>").via == "reply");
  CHECK(reading("<body> i AGREE. </body>").kind == Kind::Acknowledges);
  CHECK(reading("<body>I disagree</body>").kind == Kind::Other);
  CHECK(reading("<body>I agree, but</body>").kind == Kind::Other);
  CHECK(reading("").kind == Kind::Other);
  auto element = reading("<acknowledge xmlns='urn:parley:notice:0' version='2026-11'/>");
  CHECK(element.kind == Kind::Acknowledges);
  CHECK(element.via == "element");
  auto old = reading("<acknowledge xmlns='urn:parley:notice:0' version='2024-03'/>");
  CHECK(old.kind == Kind::WrongVersion);
  CHECK(old.version == "2024-03");
  CHECK(reading("<acknowledge xmlns='urn:parley:notice:0'/>").kind == Kind::WrongVersion);
  CHECK(reading("<acknowledge xmlns='urn:other'/><body>hello</body>").kind == Kind::Other);
}

TEST_CASE("require_ack: a user acknowledges once, by replying, and may then send",
          "[notice][ack]") {
  Acknowledging a({"bob@example.org"});
  CHECK(a.host.hooksAt(HookPoint::StanzaFromClient) == 1);
  CHECK(a.host.server_message_hooks.size() == 1);
  REQUIRE(a.host.timers.size() == 1);
  CHECK(a.host.queries.empty());  // the first read was answered during attach

  // Bob acknowledged before: the ordinary headline. Alice has not: asked to reply.
  a.host.open("bob@example.org/dino");
  a.host.open("alice@example.org/gajim");
  REQUIRE(a.host.sent.size() == 2);
  CHECK(a.host.sent[0].attrOr("type") == "headline");
  CHECK(a.host.sent[0].child("notice", kNoticeNs)->attr("ack") == nullptr);
  const xml::Element& asked = a.host.sent[1];
  CHECK(asked.attrOr("type") == "normal");
  CHECK(asked.child("notice", kNoticeNs)->attrOr("ack") == "required");
  CHECK(bodyOf(asked) == std::string(kDefaultText) +
                             "\n\nTo confirm that you have read this notice, reply to this "
                             "message with: I agree");
  CHECK(a.host.events[1].detail_json ==
        R"({"policy_version":"2026-11","language":"en","ack_required":true})");
  a.host.events.clear();

  const std::string to_bob =
      "<message from='alice@example.org/gajim' to='bob@example.org' type='chat' id='m1'>"
      "<body>hello</body></message>";
  Verdict refused = a.send(to_bob);
  CHECK(refused.kind == Verdict::Kind::Reject);
  CHECK(refused.condition == "policy-violation");
  CHECK(refused.text ==
        "you have not yet acknowledged the IM policy notice (version 2026-11). Reply \"I "
        "agree\" to the notice from example.org, then send this again.");
  REQUIRE(refused.event);
  CHECK(refused.event->kind == "notice.unacknowledged");
  CHECK(refused.event->action == EventAction::Blocked);
  CHECK(refused.event->actor == "alice@example.org/gajim");
  CHECK(refused.event->target == "bob@example.org");
  CHECK(refused.event->stanza_id == "m1");
  CHECK(refused.event->detail_json == R"({"policy_version":"2026-11","stanza":"message"})");
  CHECK(a.send("<message from='bob@example.org/dino' to='alice@example.org'><body>hi</body>"
               "</message>")
            .kind == Verdict::Kind::Pass);

  // Alice replies to the notice. Nothing changes until the row is committed.
  auto taken = a.toServer(
      "<message from='alice@example.org/gajim' to='example.org' type='chat' id='ack1'>"
      "<body>I agree.</body></message>");
  REQUIRE(taken);
  CHECK(taken->kind == Verdict::Kind::Drop);
  REQUIRE(a.host.queries.size() == 1);
  const RecordingHost::Query& insert = a.host.queries.front();
  CHECK(insert.sql.find("INSERT INTO policy_acknowledgements") == 0);
  CHECK(insert.params == std::vector<std::optional<std::string>>{
                             "alice@example.org", "2026-11", "alice@example.org/gajim", "reply"});
  CHECK(a.send(to_bob).kind == Verdict::Kind::Reject);
  CHECK(a.host.sent.size() == 2);

  DbRows inserted;
  inserted.affected = 1;
  a.host.answer(inserted);
  REQUIRE(a.host.sent.size() == 3);
  CHECK(a.host.sent[2].attrOr("type") == "chat");
  CHECK(a.host.sent[2].attrOr("to") == "alice@example.org/gajim");
  CHECK(bodyOf(a.host.sent[2]) == kDefaultAckThanks);
  REQUIRE(a.host.events.size() == 1);
  CHECK(a.host.events[0].kind == "notice.acknowledged");
  CHECK(a.host.events[0].action == EventAction::Allowed);
  CHECK(a.host.events[0].actor == "alice@example.org/gajim");
  CHECK(a.host.events[0].stanza_id == "ack1");
  CHECK(a.host.events[0].detail_json == R"({"policy_version":"2026-11","via":"reply"})");

  // For the account: every session of hers may send, and new ones get the headline.
  CHECK(a.send(to_bob).kind == Verdict::Kind::Pass);
  CHECK(a.send("<message from='alice@example.org/phone' to='bob@example.org'><body>hi</body>"
               "</message>")
            .kind == Verdict::Kind::Pass);
  a.host.open("alice@example.org/phone");
  CHECK(a.host.sent.back().attrOr("type") == "headline");

  // Saying it again is thanked without another row; other messages to the server are not
  // this service's once she has acknowledged.
  auto again = a.toServer(
      "<message from='alice@example.org/phone' to='example.org'><body>i agree</body></message>");
  REQUIRE(again);
  CHECK(again->kind == Verdict::Kind::Drop);
  CHECK(a.host.queries.empty());
  CHECK(bodyOf(a.host.sent.back()) == kDefaultAckThanks);
  CHECK_FALSE(
      a.toServer("<message from='alice@example.org/phone' to='example.org'>"
                 "<body>hello server</body></message>"));
}

TEST_CASE("require_ack: wrong replies are answered, and nothing is stored", "[notice][ack]") {
  Acknowledging a({});
  auto other = a.toServer(
      "<message from='carol@example.org/x' to='example.org' id='q'><body>what is this?</body>"
      "</message>");
  REQUIRE(other);
  CHECK(other->kind == Verdict::Kind::Drop);
  REQUIRE(a.host.sent.size() == 1);
  CHECK(bodyOf(a.host.sent[0]) ==
        "To confirm that you have read this notice, reply to this message with: I agree");
  CHECK(a.host.queries.empty());

  // A chat state (Gajim sends one when the notice's chat opens) is taken without a word.
  auto state = a.toServer(
      "<message from='carol@example.org/x' to='example.org' type='chat'>"
      "<active xmlns='http://jabber.org/protocol/chatstates'/></message>");
  REQUIRE(state);
  CHECK(state->kind == Verdict::Kind::Drop);
  CHECK(a.host.sent.size() == 1);

  auto old = a.toServer(
      "<message from='carol@example.org/x' to='example.org'>"
      "<acknowledge xmlns='urn:parley:notice:0' version='2024-03'/></message>");
  REQUIRE(old);
  CHECK(old->kind == Verdict::Kind::Reject);
  CHECK(old->condition == "not-acceptable");
  CHECK(old->text ==
        "The current IM policy notice is version 2026-11, not 2024-03. Read the notice sent at "
        "login, then acknowledge that version.");
  CHECK(a.host.queries.empty());

  // A message to another server's domain is not for this service.
  CHECK_FALSE(a.toServer(
      "<message from='carol@example.org/x' to='partner.example'><body>I agree</body></message>"));
  CHECK(a.host.queries.empty());
}

TEST_CASE("require_ack: an acknowledgement that cannot be stored does not count", "[notice][ack]") {
  Acknowledging a({});
  a.toServer(
      "<message from='dave@example.org/x' to='example.org'>"
      "<acknowledge xmlns='urn:parley:notice:0' version='2026-11'/></message>");
  REQUIRE(a.host.queries.size() == 1);
  CHECK(a.host.queries.front().params[3] == "element");
  a.host.answer({}, "server closed the connection unexpectedly");
  REQUIRE(a.host.sent.size() == 1);
  CHECK(bodyOf(a.host.sent[0]).find("could not be recorded just now") != std::string::npos);
  CHECK(a.host.events.empty());
  CHECK(a.send("<message from='dave@example.org/x' to='bob@example.org'><body>hi</body>"
               "</message>")
            .kind == Verdict::Kind::Reject);
  REQUIRE_FALSE(a.host.logs.empty());
  CHECK(a.host.logs.back().second.find("dave@example.org/x could not be stored") !=
        std::string::npos);
}

TEST_CASE("require_ack: until the table has been read, refusals say so and reads are retried",
          "[notice][ack]") {
  RecordingHost host;
  host.responder = [](const RecordingHost::Query&) {
    return std::pair<DbRows, std::string>(DbRows{}, "could not connect to server");
  };
  NoticeModule module = configured("policy_version: 'unread'\nrequire_ack: true\n");
  module.attach(host);  // does not wait out kInitialLoadWait: the read failed at once
  host.responder = nullptr;
  const std::string to_bob =
      "<message from='erin@example.org/x' to='bob@example.org'><body>hi</body></message>";
  Stanza s = stanzaOf(to_bob);
  Verdict v = host.run(HookPoint::StanzaFromClient, s);
  CHECK(v.kind == Verdict::Kind::Reject);
  CHECK(v.text.find("cannot be checked right now") != std::string::npos);

  host.tick();  // retried
  REQUIRE(host.queries.size() == 1);
  DbRows rows;
  rows.rows.push_back({std::string("erin@example.org")});
  host.answer(rows);
  CHECK(host.run(HookPoint::StanzaFromClient, s).kind == Verdict::Kind::Pass);
  host.tick();  // loaded: no read until the minute is up
  CHECK(host.queries.empty());
}

TEST_CASE("require_ack: a reload keeps who acknowledged; a new version asks everybody again",
          "[notice][ack]") {
  Acknowledging first({"frank@example.org"});
  const std::string from_frank =
      "<message from='frank@example.org/x' to='bob@example.org'><body>hi</body></message>";
  CHECK(first.send(from_frank).kind == Verdict::Kind::Pass);

  // A reload: a new instance while the old one still runs. It shares the set, reads nothing.
  RecordingHost host;
  NoticeModule reloaded = configured(kAckYaml);
  reloaded.attach(host);
  CHECK(host.queries.empty());
  Stanza s = stanzaOf(from_frank);
  CHECK(host.run(HookPoint::StanzaFromClient, s).kind == Verdict::Kind::Pass);

  // A new version is a new set, read from the table.
  RecordingHost next_host;
  NoticeModule next = configured("policy_version: '2027-01'\nrequire_ack: true\n");
  next_host.responder = [](const RecordingHost::Query& q) {
    CHECK(q.params[0] == "2027-01");
    return std::pair<DbRows, std::string>(DbRows{}, "");
  };
  next.attach(next_host);
  Stanza again = stanzaOf(from_frank);
  Verdict v = next_host.run(HookPoint::StanzaFromClient, again);
  CHECK(v.kind == Verdict::Kind::Reject);
  CHECK(v.text.find("(version 2027-01)") != std::string::npos);
}

TEST_CASE("Acknowledged accounts: a read replaces the set but keeps what was added meanwhile",
          "[notice][ack]") {
  AcknowledgedAccounts accounts;
  CHECK_FALSE(accounts.loaded());
  REQUIRE(accounts.beginRefresh());
  CHECK_FALSE(accounts.beginRefresh());  // one read at a time
  accounts.finishRefresh({"a@example.org", "gone@example.org"});
  CHECK(accounts.loaded());
  CHECK(accounts.contains("gone@example.org"));

  REQUIRE(accounts.beginRefresh());
  accounts.add("new@example.org");            // committed while the read ran
  accounts.finishRefresh({"a@example.org"});  // gone@ was deleted from the table
  CHECK(accounts.contains("a@example.org"));
  CHECK(accounts.contains("new@example.org"));
  CHECK_FALSE(accounts.contains("gone@example.org"));

  REQUIRE(accounts.beginRefresh());
  accounts.abandonRefresh();  // a failed read changes nothing
  CHECK(accounts.contains("a@example.org"));
  CHECK(accounts.waitRefreshed(std::chrono::milliseconds(0)));
}
