#include "e2ee_config.hpp"

#include <string>

#include "parley/module.hpp"

namespace parley::modules::e2ee {

Settings parseSettings(const YAML::Node& config) {
  Settings settings;
  if (!config || config.IsNull()) return settings;
  if (!config.IsMap()) throw ConfigError("", "the e2ee settings must be a map of keys");
  for (const auto& entry : config) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string("?");
    const YAML::Node& value = entry.second;
    if (key == "mode") {
      const std::string mode = value.IsScalar() ? value.Scalar() : std::string();
      if (mode == "deny") {
        settings.mode = Mode::Deny;
      } else if (mode == "flag") {
        settings.mode = Mode::Flag;
      } else {
        throw ConfigError("mode",
                          "must be 'deny' (refuse encrypted messages) or 'flag' (deliver "
                          "them and record an event)" +
                              (value.IsScalar() ? ", not '" + mode + "'" : std::string()));
      }
    } else {
      throw ConfigError(key, "unknown key (e2ee takes: mode)");
    }
  }
  return settings;
}

}  // namespace parley::modules::e2ee
