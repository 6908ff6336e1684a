#pragma once
// The module's own configuration keys (the core keeps enabled, monitor_only, priority,
// on_error and budget_us): validated in full before the module attaches, so a typo refuses
// the configuration instead of silently weakening the policy.

#include <yaml-cpp/yaml.h>
#include <string>
#include <vector>

namespace parley::modules::file_transfer {

struct Settings {
  bool deny = true;                     // mode: deny (default) | allow
  std::vector<std::string> exceptions;  // groups whose members may transfer files
  bool record_allowed = false;          // write an Allowed event for an exception's transfer
  bool block_message_links = true;      // oob_urls: block (default) | allow
};

// Throws parley::ConfigError naming the key ("mode", "exceptions[2]", ...). A null node (the
// module listed with no keys of its own) gives the defaults.
Settings parseSettings(const YAML::Node& config);

}  // namespace parley::modules::file_transfer
