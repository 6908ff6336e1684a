// modules/notice: every new session receives the monitoring notice as a headline message, in
// the configured language and with the policy version, and each notice sent is recorded.

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "notice/notice_config.hpp"
#include "notice/notice_message.hpp"
#include "notice/notice_module.hpp"
#include "parley/module.hpp"
#include "parley/xml/serializer.hpp"
#include "support/recording_host.hpp"
#include "xml/stream_parser.hpp"

using namespace parley;
using namespace parley::modules::notice;

using parley::testing::RecordingHost;

extern "C" const parley::ModuleDescriptor* parley_module_descriptor();

namespace {

xml::Element parse(std::string_view stanza) {
  std::string doc =
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
      "to='example.org' version='1.0'>";
  doc += stanza;
  xml::StreamParser parser;
  std::vector<xml::StreamEvent> events;
  const bool ok = parser.feed(doc, events);
  INFO(stanza << "\n" << parser.error().condition << ": " << parser.error().text);
  REQUIRE(ok);
  REQUIRE(events.size() == 2);
  return std::move(events[1].element);
}

Jid jid(std::string_view text) {
  auto parsed = Jid::parse(text);
  REQUIRE(parsed);
  return *parsed;
}

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
  const xml::Element expected = parse(
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
  CHECK(e.detail_json == R"({"policy_version":"2024-03","language":"en"})");

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
  xml::Element message = buildNotice(settings, jid("bob@example.org/dino"));
  const xml::Element* notice = message.child("notice", kNoticeNs);
  REQUIRE(notice != nullptr);
  CHECK(notice->attr("version") == nullptr);
  CHECK(noticeEvent(settings, jid("bob@example.org/dino")).detail_json ==
        R"({"policy_version":null,"language":"en"})");
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
    CHECK(host.events[0].detail_json == R"({"policy_version":"v7","language":"de"})");
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
  CHECK(noticeEvent(s, jid("a@example.org/x")).detail_json ==
        R"({"policy_version":"v\"2\\3","language":"en"})");
  xml::Element m = buildNotice(s, jid("a@example.org/x"));
  CHECK(m.child("notice", kNoticeNs)->attrOr("version") == R"(v"2\3)");
}

TEST_CASE("require_ack is refused until acknowledgements exist", "[notice][config]") {
  ConfigError e = configErrorOf("require_ack: true");
  CHECK(e.key == "require_ack");
  CHECK(std::string(e.what()).find("not implemented yet") != std::string::npos);
  CHECK_NOTHROW(configured("require_ack: false"));
  CHECK(configErrorOf("require_ack: sometimes").key == "require_ack");
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
