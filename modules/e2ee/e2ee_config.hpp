#pragma once
// The e2ee module's own configuration keys (the core keeps enabled, monitor_only, priority and
// on_error): validated completely before anything is attached.

#include <yaml-cpp/yaml.h>

namespace parley::modules::e2ee {

enum class Mode {
  Deny,  // refuse encrypted content; the sender gets a policy-violation error
  Flag,  // deliver it, and record an e2ee.unscannable event for review
};

struct Settings {
  Mode mode = Mode::Deny;
};

// Throws parley::ConfigError naming the key: an unknown key, or a mode other than deny/flag.
Settings parseSettings(const YAML::Node& config);

}  // namespace parley::modules::e2ee
