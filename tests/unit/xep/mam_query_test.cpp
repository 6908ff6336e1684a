// XEP-0313 on the wire: a <query/> (form filters, RSM) read into an archive query, the answers
// written (results, <fin/> for each kind of page, the form, metadata), XEP-0441 <prefs/>, and
// XEP-0082 times.

#include <catch2/catch.hpp>

#include <string>

#include "parley/xml/serializer.hpp"
#include "support/stanzas.hpp"
#include "xep/datetime.hpp"
#include "xep/mam_query.hpp"

using parley::testing::jidOf;
using parley::testing::parseStanza;
namespace mam = parley::xep::mam;
namespace st = parley::storage;

namespace {

const std::string kOwner = "alice@example.org";

std::string form(const std::string& fields) {
  return "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
         "<value>urn:xmpp:mam:2</value></field>" +
         fields + "</x>";
}

std::string field(const std::string& var, const std::string& value) {
  return "<field var='" + var + "'><value>" + value + "</value></field>";
}

std::string rsm(const std::string& inside) {
  return "<set xmlns='http://jabber.org/protocol/rsm'>" + inside + "</set>";
}

std::variant<mam::Query, mam::Refusal> parse(const std::string& inside,
                                             const std::string& attrs = "") {
  // The payload as a service gets it: the child of an iq.
  auto iq = parseStanza("<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2'" + attrs + ">" +
                        inside + "</query></iq>");
  return mam::parseQuery(*iq.firstChildElement(), kOwner);
}

mam::Query accepted(const std::string& inside, const std::string& attrs = "") {
  auto parsed = parse(inside, attrs);
  if (auto* r = std::get_if<mam::Refusal>(&parsed)) FAIL(r->condition << ": " << r->text);
  return std::get<mam::Query>(parsed);
}

std::string refused(const std::string& inside, const std::string& attrs = "") {
  auto parsed = parse(inside, attrs);
  REQUIRE(std::holds_alternative<mam::Refusal>(parsed));
  return std::get<mam::Refusal>(parsed).condition;
}

st::ArchivedMessage archived(const std::string& id, int64_t at_us = 0) {
  return {id, at_us, "<message xmlns='jabber:client'/>"};
}

std::string xml(const parley::xml::Element& e) { return parley::xml::toString(e, "jabber:client"); }

}  // namespace

TEST_CASE("mam query: no filters, no RSM: the first 50 of the owner's archive", "[mam]") {
  auto q = accepted("", " queryid='f27'");
  CHECK(q.queryid == "f27");
  CHECK(q.archive.owner == kOwner);
  CHECK(q.archive.max == mam::kDefaultMax);
  CHECK_FALSE(q.archive.backwards());
  CHECK_FALSE(q.archive.with);
  CHECK_FALSE(q.flip);
}

TEST_CASE("mam query: form filters", "[mam]") {
  SECTION("with a bare JID, and with a resource") {
    auto q = accepted(form(field("with", "Bob@Example.org")));
    CHECK(q.archive.with == "bob@example.org");
    CHECK_FALSE(q.archive.with_resource);
    q = accepted(form(field("with", "bob@example.org/phone")));
    CHECK(q.archive.with == "bob@example.org");
    CHECK(q.archive.with_resource == "phone");
  }
  SECTION("start and end, in any time zone") {
    auto q = accepted(
        form(field("start", "2010-06-07T00:00:00Z") + field("end", "2010-07-07T15:23:54.5+02:00")));
    CHECK(q.archive.start_us == 1275868800LL * 1000000);
    CHECK(q.archive.end_us == 1278509034LL * 1000000 + 500000);
  }
  SECTION("before-id, after-id and ids (#extended)") {
    auto q = accepted(form(field("after-id", "a") + field("before-id", "b") +
                           "<field var='ids'><value>x</value><value>y</value></field>"));
    CHECK(q.archive.after_id == "a");
    CHECK(q.archive.before_id == "b");
    CHECK(q.archive.ids == std::vector<std::string>{"x", "y"});
  }
  SECTION("refusals") {
    CHECK(refused(form(field("with", "@@bad"))) == "bad-request");
    CHECK(refused(form(field("start", "yesterday"))) == "bad-request");
    CHECK(refused(form(field("start", "2010-02-30T00:00:00Z"))) == "bad-request");
    CHECK(refused(form(field("include-groupchat", "true"))) == "feature-not-implemented");
    CHECK(refused(form(field("{urn:example}full-text", "x"))) == "feature-not-implemented");
    CHECK(refused("<x xmlns='jabber:x:data' type='submit'>" + field("FORM_TYPE", "urn:xmpp:mam:1") +
                  "</x>") == "bad-request");
    CHECK(refused(form("<field var='with'><value>a@b</value><value>c@d</value></field>")) ==
          "bad-request");
    CHECK(refused("", " node='fdp/submitted'") == "feature-not-implemented");
  }
}

TEST_CASE("mam query: RSM", "[mam]") {
  SECTION("max is capped; 0 asks for the count") {
    CHECK(accepted(rsm("<max>10</max>")).archive.max == 10);
    CHECK(accepted(rsm("<max>100000</max>")).archive.max == mam::kMaxMax);
    CHECK(accepted(rsm("<max>0</max>")).archive.max == 0);
    CHECK(accepted(rsm("")).archive.max == mam::kDefaultMax);
    CHECK(refused(rsm("<max>-1</max>")) == "bad-request");
    CHECK(refused(rsm("<max>ten</max>")) == "bad-request");
  }
  SECTION("after pages forwards, before backwards, an empty before is the last page") {
    auto q = accepted(rsm("<after>id-9</after>"));
    CHECK(q.archive.page_after == "id-9");
    CHECK_FALSE(q.archive.backwards());
    q = accepted(rsm("<before>id-3</before>"));
    CHECK(q.archive.page_before == "id-3");
    CHECK(q.archive.backwards());
    q = accepted(rsm("<max>10</max><before/>"));
    CHECK(q.archive.last_page);
    CHECK_FALSE(q.archive.page_before);
    CHECK(q.archive.backwards());
  }
  SECTION("flip-page") { CHECK(accepted("<flip-page/>").flip); }
  SECTION("pages by index are not offered") {
    CHECK(refused(rsm("<index>3</index>")) == "feature-not-implemented");
  }
}

TEST_CASE("mam fin: each kind of page", "[mam]") {
  st::ArchivePage page;
  SECTION("a first page that is not the whole result") {
    page.messages = {archived("m1"), archived("m2")};
    page.count = 5;
    page.first_index = 0;
    CHECK(xml(mam::fin(page)) ==
          "<fin xmlns='urn:xmpp:mam:2' complete='false'>"
          "<set xmlns='http://jabber.org/protocol/rsm'><first index='0'>m1</first>"
          "<last>m2</last><count>5</count></set></fin>");
  }
  SECTION("the last page is complete") {
    page.messages = {archived("m5")};
    page.complete = true;
    page.count = 5;
    page.first_index = 4;
    CHECK(xml(mam::fin(page)) ==
          "<fin xmlns='urn:xmpp:mam:2' complete='true'>"
          "<set xmlns='http://jabber.org/protocol/rsm'><first index='4'>m5</first>"
          "<last>m5</last><count>5</count></set></fin>");
  }
  SECTION("an empty page (after the last id, or max 0): the count alone") {
    page.complete = true;
    page.count = 5;
    CHECK(xml(mam::fin(page)) ==
          "<fin xmlns='urn:xmpp:mam:2' complete='true'>"
          "<set xmlns='http://jabber.org/protocol/rsm'><count>5</count></set></fin>");
  }
  SECTION("a result set too big to count: first and last without index or count") {
    page.messages = {archived("m1"), archived("m2")};
    CHECK(xml(mam::fin(page)) ==
          "<fin xmlns='urn:xmpp:mam:2' complete='false'>"
          "<set xmlns='http://jabber.org/protocol/rsm'><first>m1</first><last>m2</last></set>"
          "</fin>");
  }
}

TEST_CASE("mam result: the archived message forwarded with its time", "[mam]") {
  auto stored = parseStanza(
      "<message from='bob@example.org/pc' to='alice@example.org' type='chat'><body>hi</body>"
      "</message>");
  auto out = mam::resultMessage(jidOf("alice@example.org/desk"), kOwner, "f27",
                                archived("28482", 1278803305123456), &stored);
  CHECK(out == parseStanza("<message to='alice@example.org/desk' from='alice@example.org'>"
                           "<result xmlns='urn:xmpp:mam:2' queryid='f27' id='28482'>"
                           "<forwarded xmlns='urn:xmpp:forward:0'>"
                           "<delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25.123456Z'/>"
                           "<message xmlns='jabber:client' from='bob@example.org/pc' "
                           "to='alice@example.org' type='chat'><body>hi</body></message>"
                           "</forwarded></result></message>"));
  // Without a queryid there is none to echo.
  out = mam::resultMessage(jidOf("alice@example.org/desk"), kOwner, "", archived("1"), nullptr);
  CHECK(out.child("result", mam::kNs)->attr("queryid") == nullptr);
}

TEST_CASE("mam form: the fields a query may use, none required", "[mam]") {
  auto form = mam::queryForm();
  std::vector<std::string> vars;
  for (const auto* f : form.childrenNamed("field", "jabber:x:data")) {
    vars.emplace_back(f->attrOr("var"));
    CHECK(f->child("required", "jabber:x:data") == nullptr);
  }
  CHECK(vars == std::vector<std::string>{"FORM_TYPE", "with", "start", "end", "before-id",
                                         "after-id", "ids"});
  const auto* ids = form.childrenNamed("field", "jabber:x:data").back();
  CHECK(ids->attrOr("type") == "list-multi");
  CHECK(ids->child("validate", "http://jabber.org/protocol/xdata-validate") != nullptr);
}

TEST_CASE("mam metadata: first and last, or nothing", "[mam]") {
  CHECK(xml(mam::metadata(std::nullopt)) == "<metadata xmlns='urn:xmpp:mam:2'/>");
  st::ArchiveBounds b{archived("a", 0), archived("z", 1000)};
  CHECK(xml(mam::metadata(b)) ==
        "<metadata xmlns='urn:xmpp:mam:2'><start id='a' timestamp='1970-01-01T00:00:00.000000Z'/>"
        "<end id='z' timestamp='1970-01-01T00:00:00.001000Z'/></metadata>");
}

TEST_CASE("mam prefs: read, normalised, written back", "[mam]") {
  auto prefs = [](const std::string& inside, const std::string& mode = "roster") {
    return parseStanza("<iq type='set' id='p'><prefs xmlns='urn:xmpp:mam:2' default='" + mode +
                       "'>" + inside + "</prefs></iq>");
  };
  auto iq = prefs(
      "<always><jid>Romeo@Montague.lit</jid><jid>both@example.org</jid>"
      "<jid>romeo@montague.lit</jid></always>"
      "<never><jid>montague@montague.lit/x</jid><jid>both@example.org</jid></never>");
  auto parsed = mam::parsePrefs(*iq.firstChildElement());
  REQUIRE(std::holds_alternative<st::ArchivePrefs>(parsed));
  const auto& p = std::get<st::ArchivePrefs>(parsed);
  CHECK(p.mode == st::ArchiveDefault::Roster);
  CHECK(p.always == std::vector<std::string>{"romeo@montague.lit"});
  CHECK(p.never == std::vector<std::string>{"montague@montague.lit/x", "both@example.org"});
  CHECK(xml(mam::prefsElement(p)) ==
        "<prefs xmlns='urn:xmpp:mam:2' default='roster'><always><jid>romeo@montague.lit</jid>"
        "</always><never><jid>montague@montague.lit/x</jid><jid>both@example.org</jid></never>"
        "</prefs>");
  CHECK(xml(mam::prefsElement(st::ArchivePrefs{})) ==
        "<prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never/></prefs>");

  auto bad = mam::parsePrefs(*prefs("", "sometimes").firstChildElement());
  CHECK(std::get<mam::Refusal>(bad).condition == "bad-request");
  bad = mam::parsePrefs(*prefs("<never><jid>@@</jid></never>").firstChildElement());
  CHECK(std::get<mam::Refusal>(bad).condition == "jid-malformed");
}

TEST_CASE("XEP-0082 date and time", "[mam][datetime]") {
  using parley::xep::formatDateTime;
  using parley::xep::parseDateTime;
  CHECK(parseDateTime("1970-01-01T00:00:00Z") == 0);
  CHECK(parseDateTime("1969-12-31T23:59:59.5Z") == -500000);
  CHECK(parseDateTime("2000-02-29T12:00:00-05:30") == (951825600LL + 5 * 3600 + 1800) * 1000000);
  CHECK(parseDateTime("2010-07-10T23:08:25.1234567Z") == 1278803305123456);
  for (const char* bad :
       {"", "2010-07-10", "2010-07-10T23:08Z", "2010-07-10 23:08:25Z", "2010-07-10T23:08:25",
        "2010-13-10T23:08:25Z", "2001-02-29T00:00:00Z", "2010-07-10T24:00:00Z",
        "2010-07-10T23:08:25.Z", "2010-07-10T23:08:25Zjunk", "0000-01-01T00:00:00Z", "now"}) {
    INFO(bad);
    CHECK_FALSE(parseDateTime(bad));
  }
  CHECK(formatDateTime(1278803305123456) == "2010-07-10T23:08:25.123456Z");
  CHECK(formatDateTime(-1) == "1969-12-31T23:59:59.999999Z");
  CHECK(parseDateTime(formatDateTime(1278803305123456)) == 1278803305123456);
}
