#include "xep/pep_config.hpp"

#include <charconv>

#include "xep/data_form.hpp"

namespace parley::xep::pep {

namespace {

std::optional<bool> parseBool(const std::string& v) {
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return std::nullopt;
}

}  // namespace

ParsedOptions parseOptionsForm(const xml::Element& form) {
  storage::PepNodeOptions out;
  for (const auto& [var, values] : submittedValues(form)) {
    if (var == "FORM_TYPE") continue;
    const std::string value = values.empty() ? std::string() : values.front();
    if (var == "pubsub#access_model") {
      auto access = storage::parsePepAccess(value);
      if (!access) {
        return "Access model '" + value + "' is not offered here; use presence, open or whitelist.";
      }
      out.access = *access;
    } else if (var == "pubsub#max_items") {
      if (value == "max") {
        out.max_items = std::optional<int>();
        continue;
      }
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1) {
        return "pubsub#max_items must be a positive number or 'max', not '" + value + "'.";
      }
      out.max_items = std::optional<int>(n);
    } else if (var == "pubsub#persist_items" || var == "pubsub#notify_retract") {
      auto b = parseBool(value);
      if (!b) return var + " must be a boolean, not '" + value + "'.";
      (var == "pubsub#persist_items" ? out.persist_items : out.notify_retract) = *b;
    } else if (var == "pubsub#send_last_published_item") {
      auto send_last = storage::parsePepSendLast(value);
      if (!send_last) {
        return "pubsub#send_last_published_item must be never, on_sub or on_sub_and_presence.";
      }
      out.send_last = *send_last;
    }
  }
  return out;
}

xml::Element configForm(const storage::PepNodeConfig& config) {
  std::vector<FormField> fields;
  fields.emplace_back("FORM_TYPE", "hidden", "",
                      std::vector<std::string>{std::string(kNodeConfigForm)});
  fields.emplace_back("pubsub#access_model", "list-single", "Who may see the items",
                      std::vector<std::string>{std::string(storage::pepAccessName(config.access))},
                      std::vector<FormOption>{{"presence", "Contacts who see my presence"},
                                              {"open", "Anyone"},
                                              {"whitelist", "Only me"}});
  fields.emplace_back(
      "pubsub#max_items", "text-single", "How many items are kept",
      std::vector<std::string>{config.max_items ? std::to_string(*config.max_items) : "max"});
  fields.emplace_back("pubsub#persist_items", "boolean", "Keep items",
                      std::vector<std::string>{config.persist_items ? "1" : "0"});
  fields.emplace_back("pubsub#notify_retract", "boolean", "Tell contacts when an item is removed",
                      std::vector<std::string>{config.notify_retract ? "1" : "0"});
  fields.emplace_back(
      "pubsub#send_last_published_item", "list-single", "When to send the last item",
      std::vector<std::string>{std::string(storage::pepSendLastName(config.send_last))},
      std::vector<FormOption>{
          {"never", "Never"},
          {"on_sub", "When someone subscribes"},
          {"on_sub_and_presence", "On subscription and when they come online"}});
  return makeForm("form", "", "", fields);
}

}  // namespace parley::xep::pep
