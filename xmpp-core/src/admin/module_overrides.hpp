#pragma once
// Modules an admin switched on or off while the server ran (parleyctl module enable|disable,
// the XEP-0050 commands). They are kept in a small JSON file so a restart does not silently
// undo an admin's decision, and are laid over the `modules:` section of the configuration
// until an admin changes them back.
#include <map>
#include <string>

#include "config/config.hpp"

namespace parley::admin {

struct ModuleOverride {
  bool enabled = false;
  std::string by;  // who set it ("alice@example.com via ad-hoc command")
  std::string at;  // when, UTC ISO 8601
};

using ModuleOverrides = std::map<std::string, ModuleOverride>;

// Reads the file; a missing file means no overrides. Throws std::runtime_error naming the file
// when it exists but cannot be read or parsed (start-up stops rather than guess).
ModuleOverrides loadOverrides(const std::string& path);

// Writes the file atomically and durably (temporary file, fsync, rename, fsync of the
// directory), so a crash leaves either the old or the new overrides. Throws on failure.
void saveOverrides(const std::string& path, const ModuleOverrides& overrides);

// The configuration with the overrides applied: an override's enabled flag replaces the
// configured one; a module enabled by override but not listed runs with its defaults.
config::Config withOverrides(const config::Config& base, const ModuleOverrides& overrides);

// Module names are file names (<dir>/<name>.so): letters, digits, '_' and '-' only.
bool isValidModuleName(const std::string& name);

}  // namespace parley::admin
