#include "settings.hpp"

#include <initializer_list>

#include "parley/module.hpp"

namespace parley::modules::file_transfer {

namespace {

std::string oneOf(const std::string& key, const YAML::Node& value,
                  std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (std::string_view a : allowed) list += (list.empty() ? "'" : ", '") + std::string(a) + "'";
  if (value.IsScalar()) {
    for (std::string_view a : allowed) {
      if (value.Scalar() == a) return value.Scalar();
    }
    throw ConfigError(key, "expected one of " + list + ", got '" + value.Scalar() + "'");
  }
  throw ConfigError(key, "expected one of " + list);
}

bool boolean(const std::string& key, const YAML::Node& value) {
  bool result = false;
  if (!value.IsScalar() || !YAML::convert<bool>::decode(value, result)) {
    throw ConfigError(key, "expected true or false");
  }
  return result;
}

std::vector<std::string> groups(const std::string& key, const YAML::Node& value) {
  if (value.IsNull()) return {};
  if (!value.IsSequence()) throw ConfigError(key, "expected a list of group names");
  std::vector<std::string> out;
  for (size_t i = 0; i < value.size(); ++i) {
    const YAML::Node item = value[i];
    if (!item.IsScalar() || item.Scalar().empty()) {
      throw ConfigError(key + "[" + std::to_string(i) + "]", "expected a group name");
    }
    out.push_back(item.Scalar());
  }
  return out;
}

}  // namespace

Settings parseSettings(const YAML::Node& config) {
  Settings s;
  if (!config.IsDefined() || config.IsNull()) return s;
  if (!config.IsMap()) throw ConfigError("", "expected the module's settings (a mapping)");
  for (const auto& kv : config) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    const YAML::Node& value = kv.second;
    if (key == "mode") {
      s.deny = oneOf(key, value, {"deny", "allow"}) == "deny";
    } else if (key == "exceptions") {
      s.exceptions = groups(key, value);
    } else if (key == "record_allowed") {
      s.record_allowed = boolean(key, value);
    } else if (key == "oob_urls") {
      s.block_message_links = oneOf(key, value, {"block", "allow"}) == "block";
    } else {
      throw ConfigError(key, "unknown key '" + key +
                                 "' (file_transfer knows mode, exceptions, record_allowed, "
                                 "oob_urls)");
    }
  }
  return s;
}

}  // namespace parley::modules::file_transfer
