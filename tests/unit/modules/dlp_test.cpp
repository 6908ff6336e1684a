// modules/dlp detectors and the normalisation they share: the labelled corpora under
// tests/data/dlp (positives, negatives and evasions: full-width and Arabic-Indic digits,
// zero-width characters inside a number, homoglyphs) with 100% precision and recall asserted
// per detector, and the mapping of matches back to the original text.
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "dlp/dlp_module.hpp"
#include "dlp/national_ids.hpp"
#include "dlp/normalized_text.hpp"
#include "dlp/payment_cards.hpp"
#include "parley/module.hpp"
#include "parley/xml/serializer.hpp"
#include "support/recording_host.hpp"
#include "support/stanzas.hpp"

using namespace parley::modules::dlp;
using parley::ConfigError;
using parley::EventAction;
using parley::Verdict;
using parley::testing::stanzaOf;

namespace {

const TextNormalizer& normalizer() {
  static const TextNormalizer instance;
  return instance;
}

// "\u{200B}" → that code point in UTF-8.
std::string unescape(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size();) {
    if (in.compare(i, 3, "\\u{") == 0) {
      const size_t close = in.find('}', i);
      const auto cp =
          static_cast<uint32_t>(std::stoul(in.substr(i + 3, close - i - 3), nullptr, 16));
      if (cp < 0x80) {
        out += static_cast<char>(cp);
      } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
      }
      i = close + 1;
    } else {
      out += in[i++];
    }
  }
  return out;
}

struct Sample {
  bool positive = false;
  std::string text;
  std::vector<std::string> expected;  // the columns after the text
  int line = 0;
};

std::vector<Sample> corpus(const std::string& name) {
  std::ifstream in(std::string(PARLEY_DLP_CORPUS_DIR) + "/" + name);
  REQUIRE(in.good());
  std::vector<Sample> samples;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> columns;
    std::stringstream fields(line);
    for (std::string f; std::getline(fields, f, '\t');) columns.push_back(f);
    REQUIRE(columns.size() >= 2);
    Sample s{columns[0] == "+", unescape(columns[1]), {}, n};
    s.expected.assign(columns.begin() + 2, columns.end());
    samples.push_back(std::move(s));
  }
  REQUIRE(samples.size() >= 10);
  return samples;
}

using DetectFn = std::function<std::vector<Match>(std::string_view)>;

// Every positive yields exactly one match with the expected mask; no negative yields any.
void checkCorpus(const std::string& name, const DetectFn& detect,
                 const std::function<void(const Sample&, const Match&)>& extra = {}) {
  size_t true_positives = 0, false_positives = 0, false_negatives = 0;
  for (const auto& sample : corpus(name)) {
    INFO(name << " line " << sample.line << ": " << sample.text);
    const auto normalized = normalizer().normalize(sample.text);
    const auto matches = detect(normalized.text);
    if (sample.positive) {
      if (matches.size() != 1) {
        ++false_negatives;
        CHECK(matches.size() == 1);
        continue;
      }
      ++true_positives;
      REQUIRE(!sample.expected.empty());
      CHECK(matches[0].masked == sample.expected[0]);
      if (extra) extra(sample, matches[0]);
    } else {
      false_positives += matches.size();
      CHECK(matches.empty());
    }
  }
  INFO(name << ": " << true_positives << " found, " << false_negatives << " missed, "
            << false_positives << " false positives");
  CHECK(false_negatives == 0);  // recall 100%
  CHECK(false_positives == 0);  // precision 100%
  CHECK(true_positives >= 5);
}

}  // namespace

TEST_CASE("dlp normalisation: digits, format characters, homoglyphs, white space", "[dlp]") {
  auto n = [](const std::string& s) { return normalizer().normalize(unescape(s)).text; };
  CHECK(n("Ｃａｒｄ ４１１１") == "card 4111");                           // full width, NFKC
  CHECK(n("\\u{0661}\\u{0662}\\u{0663}") == "123");                       // Arabic-Indic digits
  CHECK(n("con\\u{200B}fi\\u{00AD}den\\u{2060}tial") == "confidential");  // format characters
  CHECK(n("\\u{0441}\\u{043E}nfidential") == "confidential");             // Cyrillic с and о
  CHECK(n("ＣＯＮＦＩＤＥＮＴＩＡＬ") == "confidential");
  CHECK(n("a \t\n  b\\u{00A0}\\u{2003}c") == "a b c");                // runs of white space
  CHECK(n("\\u{FB01}le") == "file");                                  // ligature
  CHECK(n("cafe\\u{0301}") == n("caf\\u{00E9}"));                     // composed either way
  CHECK(n(std::string("bad \xff byte")) == "bad \xef\xbf\xbd byte");  // U+FFFD
}

TEST_CASE("dlp normalisation: a match maps back to the bytes the sender wrote", "[dlp]") {
  const std::string original = unescape("pay ４１１１\\u{200B}1111 1111 1111 now");
  const auto normalized = normalizer().normalize(original);
  const auto cards = findPaymentCards(normalized.text);
  REQUIRE(cards.size() == 1);
  const auto [begin, end] = normalized.original(cards[0].begin, cards[0].end);
  CHECK(original.substr(0, begin) == "pay ");
  CHECK(original.substr(end) == " now");
}

TEST_CASE("dlp payment cards: Luhn and schemes", "[dlp]") {
  CHECK(luhnValid("4111111111111111"));
  CHECK_FALSE(luhnValid("4111111111111112"));
  CHECK(luhnValid("79927398713"));
  CHECK(cardScheme("4111111111111111") == "visa");
  CHECK(cardScheme("378282246310005") == "amex");
  CHECK(cardScheme("2223003122003222") == "mastercard");
  CHECK(cardScheme("3782822463100050").empty());  // amex numbers have 15 digits
  CHECK(cardScheme("9111111111111111").empty());
}

TEST_CASE("dlp payment cards: corpus", "[dlp]") {
  checkCorpus("payment_cards.tsv", findPaymentCards);
}

TEST_CASE("dlp SSN: corpus", "[dlp]") {
  checkCorpus("ssn.tsv", findSsns, [](const Sample& sample, const Match& match) {
    REQUIRE(sample.expected.size() == 2);
    const char* names[] = {"", "low", "medium", "high"};
    CHECK(names[static_cast<int>(match.confidence)] == sample.expected[1]);
  });
}

TEST_CASE("dlp IBAN: corpus", "[dlp]") {
  CHECK(ibanValid("de89370400440532013000"));
  CHECK_FALSE(ibanValid("de89370400440532013001"));
  checkCorpus("iban.tsv", findIbans);
}

// ---- The module -------------------------------------------------------------------------------

namespace {

DlpModule configured(const std::string& yaml) {
  DlpModule module;
  module.configure(YAML::Load(yaml));
  return module;
}

std::string configErrorKey(const std::string& yaml) {
  DlpModule module;
  try {
    module.configure(YAML::Load(yaml));
  } catch (const ConfigError& e) {
    return e.key;
  }
  FAIL("no ConfigError for: " << yaml);
  return "";
}

constexpr const char* kCardMessage =
    "<message from='alice@example.org/pc' to='bob@example.org' type='chat' id='m1'>"
    "<body>card 4111 1111 1111 1111 exp 12/29</body></message>";

}  // namespace

TEST_CASE("dlp module: configuration errors name the key", "[dlp]") {
  CHECK(configErrorKey("detectors: {payment_cards: {action: shout}}") ==
        "detectors.payment_cards.action");
  CHECK(configErrorKey("detectors: {passport: {action: block}}") == "detectors.passport");
  CHECK(configErrorKey("detectors: {ssn: {min_confidence: total}}") ==
        "detectors.ssn.min_confidence");
  CHECK(configErrorKey("rules: []") == "rules");
  auto m = configured("detectors: {iban: redact, ssn: off, payment_cards: {severity: critical}}");
  CHECK(m.settings().of(Detector::Iban).action == Action::Redact);
  CHECK_FALSE(m.settings().of(Detector::Ssn).enabled);
  CHECK(m.settings().of(Detector::PaymentCards).severity == parley::Severity::Critical);
}

TEST_CASE("dlp module: a card number is blocked; the event holds the masked number only", "[dlp]") {
  auto module = configured("");
  auto stanza = stanzaOf(kCardMessage);
  const Verdict v = module.check(stanza, parley::Direction::Local);
  REQUIRE(v.kind == Verdict::Kind::Reject);
  CHECK(v.condition == "policy-violation");
  CHECK(v.text.find("payment card number") != std::string::npos);
  REQUIRE(v.event);
  CHECK(v.event->kind == "dlp.payment_cards");
  CHECK(v.event->action == EventAction::Blocked);
  CHECK(v.event->detail_json.find("**** **** **** 1111") != std::string::npos);
  CHECK(v.event->detail_json.find("4111 1111") == std::string::npos);
  CHECK(v.event->detail_json.find("4111111111111111") == std::string::npos);
}

TEST_CASE("dlp module: redaction masks every body and subject, drops XHTML, tells the sender",
          "[dlp]") {
  auto module = configured("detectors: {iban: redact}");
  auto stanza = stanzaOf(
      "<message from='alice@example.org/pc' to='bob@example.org' type='chat' id='m2'>"
      "<subject>pay DE89 3704 0044 0532 0130 00</subject>"
      "<body>IBAN: DE89 3704 0044 0532 0130 00, thanks</body>"
      "<body xml:lang='de'>Konto DE89370400440532013000 bitte</body>"
      "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
      "xmlns='http://www.w3.org/1999/xhtml'>"
      "<p>IBAN: <b>DE89 3704 0044 0532 0130 00</b></p></body></html></message>");
  parley::xml::Element notice;
  const Verdict v = module.check(stanza, parley::Direction::Local, &notice);
  REQUIRE(v.kind == Verdict::Kind::Modify);
  REQUIRE(v.event);
  CHECK(v.event->action == EventAction::Redacted);
  const auto bodies = stanza.element.childrenNamed("body", "jabber:client");
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0]->text() == "IBAN: de89 **** **** **** **30 00, thanks");
  CHECK(bodies[1]->text() == "Konto de89**************3000 bitte");
  CHECK(bodies[1]->lang() == "de");
  CHECK(stanza.element.childText("subject", "jabber:client") == "pay de89 **** **** **** **30 00");
  CHECK(stanza.element.child("html", "http://jabber.org/protocol/xhtml-im") == nullptr);
  const std::string wire = parley::xml::toString(stanza.element, "jabber:client");
  CHECK(wire.find("0532") == std::string::npos);
  CHECK(notice.attrOr("to") == "alice@example.org/pc");
  CHECK(notice.childText("body", "jabber:client").find("masked") != std::string::npos);
}

TEST_CASE("dlp module: hidden places, flag, confidence, and what always passes", "[dlp]") {
  auto module = configured("detectors: {ssn: {action: flag, min_confidence: high}}");
  SECTION("a number in the XHTML-IM body only") {
    auto s = stanzaOf(
        "<message from='alice@example.org/pc' to='bob@example.org' type='chat'><body>see</body>"
        "<html xmlns='http://jabber.org/protocol/xhtml-im'><body "
        "xmlns='http://www.w3.org/1999/xhtml'><p>4111<span>1111</span>11111111</p></body></html>"
        "</message>");
    CHECK(module.check(s, parley::Direction::Local).kind == Verdict::Kind::Reject);
  }
  SECTION("in a presence status") {
    auto s = stanzaOf(
        "<presence from='alice@example.org/pc'><status>4111-1111-1111-1111</status>"
        "</presence>");
    CHECK(module.check(s, parley::Direction::Local).kind == Verdict::Kind::Reject);
  }
  SECTION("flagged, delivered unchanged") {
    auto s = stanzaOf(
        "<message from='alice@example.org/pc' to='bob@example.org'>"
        "<body>ssn 123-45-6789</body></message>");
    const Verdict v = module.check(s, parley::Direction::Local);
    CHECK(v.kind == Verdict::Kind::Pass);
    REQUIRE(v.event);
    CHECK(v.event->action == EventAction::Flagged);
    CHECK(s.element.childText("body", "jabber:client") == "ssn 123-45-6789");
  }
  SECTION("below the minimum confidence") {
    auto s = stanzaOf(
        "<message from='alice@example.org/pc' to='bob@example.org'>"
        "<body>ssn 234 56 7890</body></message>");
    const Verdict v = module.check(s, parley::Direction::Local);
    CHECK(v.kind == Verdict::Kind::Pass);
    CHECK_FALSE(v.event);
  }
  SECTION("errors pass, whatever they carry") {
    auto s = stanzaOf(
        "<message from='alice@example.org/pc' to='bob@example.org' type='error'>"
        "<body>4111 1111 1111 1111</body></message>");
    CHECK(module.check(s, parley::Direction::Local).kind == Verdict::Kind::Pass);
  }
}

TEST_CASE("dlp module: attaches to stanza.in and tells a redacted sender", "[dlp]") {
  parley::testing::RecordingHost host;
  host.dispatched = {parley::HookPoint::StanzaFromClient};
  DlpModule module;
  module.configure(YAML::Load("detectors: {payment_cards: redact}"));
  module.attach(host);
  auto stanza = stanzaOf(kCardMessage);
  const Verdict v = host.run(parley::HookPoint::StanzaFromClient, stanza);
  CHECK(v.kind == Verdict::Kind::Modify);
  CHECK(stanza.element.childText("body", "jabber:client") == "card **** **** **** 1111 exp 12/29");
  REQUIRE(host.sent.size() == 1);
  CHECK(host.sent[0].attrOr("type") == "headline");
}
