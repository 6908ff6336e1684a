#pragma once
// The notice module's configuration keys, validated completely before anything is attached.

#include <yaml-cpp/yaml.h>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace parley::modules::notice {

inline constexpr std::string_view kDefaultLanguage = "en";
inline constexpr std::string_view kDefaultSubject = "Company instant messaging";
inline constexpr std::string_view kDefaultText =
    "This instant messaging service is company property. Messages are monitored, archived and "
    "may be disclosed to auditors and courts (IM policy §7).";

// Longest subject and text accepted, in bytes: a notice is read at every login.
inline constexpr size_t kMaxSubjectBytes = 256;
inline constexpr size_t kMaxTextBytes = 4096;
inline constexpr size_t kMaxVersionBytes = 64;

struct Settings {
  // The language sent. A session hook does not know the client's xml:lang, so one language is
  // chosen for everybody: `language:`, or English.
  std::string language{kDefaultLanguage};
  std::string subject{kDefaultSubject};
  std::string text{kDefaultText};
  // Identifies the wording, so that clients and bots can acknowledge a version later.
  std::optional<std::string> policy_version;
};

// Throws parley::ConfigError naming the key ("text.de", "language", "require_ack", ...).
// Language tags are compared and sent in lower case.
Settings parseSettings(const YAML::Node& config);

// Whether `tag` looks like a BCP 47 language tag ("en", "de-CH", "zh-Hant-TW").
bool isLanguageTag(std::string_view tag);

}  // namespace parley::modules::notice
