// PEP node options: what publish-options and configure forms ask for, and the precondition rule
// (XEP-0060 §7.1.5): only the options named must match the node.
#include <catch2/catch.hpp>

#include "support/stanzas.hpp"
#include "xep/pep_config.hpp"

using namespace parley;
using parley::testing::parseStanza;
using storage::PepAccess;
using storage::PepNodeConfig;
using storage::PepNodeOptions;

namespace {

xml::Element form(std::string_view fields) {
  auto m = parseStanza(
      "<message><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'>"
      "<value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
      std::string(fields) + "</x></message>");
  return *m.firstChildElement();
}

std::string field(std::string_view var, std::string_view value) {
  return "<field var='" + std::string(var) + "'><value>" + std::string(value) + "</value></field>";
}

}  // namespace

TEST_CASE("pep options: the fields clients send (XEP-0223, XEP-0402)", "[xep][pep]") {
  auto parsed = xep::pep::parseOptionsForm(
      form(field("pubsub#persist_items", "true") + field("pubsub#access_model", "whitelist") +
           field("pubsub#max_items", "max") + field("pubsub#send_last_published_item", "never") +
           field("pubsub#unknown", "x")));
  auto* options = std::get_if<PepNodeOptions>(&parsed);
  REQUIRE(options);
  PepNodeConfig config = options->applyTo(PepNodeConfig{});
  CHECK(config.access == PepAccess::Whitelist);
  CHECK_FALSE(config.max_items);  // 'max'
  CHECK(config.persist_items);
  CHECK(config.send_last == storage::PepSendLast::Never);
  CHECK(config.notify_retract);  // not named: the default stays
}

TEST_CASE("pep options: values that cannot be honoured are errors", "[xep][pep]") {
  for (const auto& bad : {field("pubsub#access_model", "roster"), field("pubsub#max_items", "0"),
                          field("pubsub#max_items", "12abc"), field("pubsub#persist_items", "yes"),
                          field("pubsub#send_last_published_item", "always")}) {
    INFO(bad);
    CHECK(std::holds_alternative<std::string>(xep::pep::parseOptionsForm(form(bad))));
  }
}

TEST_CASE("pep options: preconditions compare only what is named", "[xep][pep]") {
  PepNodeConfig node;
  node.access = PepAccess::Open;
  node.max_items = 5;
  PepNodeOptions named_access;
  named_access.access = PepAccess::Open;
  CHECK(named_access.matches(node));
  named_access.access = PepAccess::Whitelist;
  CHECK_FALSE(named_access.matches(node));
  PepNodeOptions named_max;
  named_max.max_items = std::optional<int>();  // 'max'
  CHECK_FALSE(named_max.matches(node));
  named_max.max_items = std::optional<int>(5);
  CHECK(named_max.matches(node));
  CHECK(PepNodeOptions{}.matches(node));  // nothing named: nothing to fail
}

TEST_CASE("pep options: the configuration form shows the node and reads back", "[xep][pep]") {
  PepNodeConfig node;
  node.access = PepAccess::Whitelist;
  node.max_items = std::nullopt;
  node.notify_retract = false;
  xml::Element shown = xep::pep::configForm(node);
  shown.setAttr("type", "submit");
  auto parsed = xep::pep::parseOptionsForm(shown);
  auto* options = std::get_if<PepNodeOptions>(&parsed);
  REQUIRE(options);
  CHECK(options->applyTo(PepNodeConfig{}) == node);
}
