#include "notice_config.hpp"

#include <cctype>
#include <cstdint>

#include "parley/module.hpp"

namespace parley::modules::notice {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// What XML 1.0 can carry: well-formed UTF-8 (no overlong forms or surrogates), no C0 controls
// but tab, line feed and carriage return, no U+FFFE/U+FFFF. The serializer relies on it.
bool isXmlText(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') return false;
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[len] || cp > 0x10FFFF) return false;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) return false;
    i += len;
  }
  return true;
}

std::string textValue(const YAML::Node& value, const std::string& key, size_t max_bytes,
                      bool one_line = false) {
  if (!value.IsScalar()) throw ConfigError(key, "must be a string");
  const std::string& s = value.Scalar();
  if (s.empty()) throw ConfigError(key, "must not be empty");
  if (s.size() > max_bytes) {
    throw ConfigError(key, "is " + std::to_string(s.size()) + " bytes; at most " +
                               std::to_string(max_bytes) + " are allowed");
  }
  if (!isXmlText(s)) {
    throw ConfigError(key, "contains a control character or invalid UTF-8, which XML cannot carry");
  }
  if (one_line && s.find_first_of("\t\r\n") != std::string::npos) {
    throw ConfigError(key, "must be one line without tabs");
  }
  return s;
}

// `key: {en: "...", de: "..."}` → language (lower case) → text.
std::map<std::string, std::string> languageMap(const YAML::Node& value, const std::string& key,
                                               size_t max_bytes) {
  if (!value.IsMap()) {
    throw ConfigError(key, "must map language tags to text, e.g. " + key + ": {en: \"...\"}");
  }
  std::map<std::string, std::string> out;
  for (const auto& entry : value) {
    const std::string tag = entry.first.IsScalar() ? entry.first.Scalar() : std::string("?");
    const std::string entry_key = key + "." + tag;
    if (!isLanguageTag(tag)) {
      throw ConfigError(entry_key, "'" + tag + "' is not a language tag such as en or de-CH");
    }
    if (!out.emplace(lower(tag), textValue(entry.second, entry_key, max_bytes)).second) {
      throw ConfigError(entry_key, "language '" + tag + "' is given twice");
    }
  }
  return out;
}

std::string listOf(const std::map<std::string, std::string>& texts) {
  std::string out;
  for (const auto& [tag, text] : texts) out += (out.empty() ? "" : ", ") + tag;
  return out;
}

}  // namespace

bool isLanguageTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 35) return false;
  size_t start = 0;
  bool first = true;
  while (start <= tag.size()) {
    size_t end = tag.find('-', start);
    if (end == std::string_view::npos) end = tag.size();
    std::string_view sub = tag.substr(start, end - start);
    if (sub.empty() || sub.size() > 8) return false;
    for (char c : sub) {
      const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0;
      const bool digit = c >= '0' && c <= '9';
      if (!(alpha || (digit && !first))) return false;
    }
    first = false;
    start = end + 1;
  }
  return true;
}

Settings parseSettings(const YAML::Node& config) {
  Settings settings;
  std::map<std::string, std::string> texts{{std::string(kDefaultLanguage), settings.text}};
  std::map<std::string, std::string> subjects{{std::string(kDefaultLanguage), settings.subject}};
  if (config && !config.IsNull()) {
    if (!config.IsMap()) throw ConfigError("", "the notice settings must be a map of keys");
    for (const auto& entry : config) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string("?");
      const YAML::Node& value = entry.second;
      if (key == "text") {
        for (auto& [tag, text] : languageMap(value, key, kMaxTextBytes)) texts[tag] = text;
      } else if (key == "subject") {
        for (auto& [tag, text] : languageMap(value, key, kMaxSubjectBytes)) subjects[tag] = text;
      } else if (key == "language") {
        const std::string tag = value.IsScalar() ? value.Scalar() : std::string();
        if (!isLanguageTag(tag)) {
          throw ConfigError(key, "must be a language tag such as en or de-CH");
        }
        settings.language = lower(tag);
      } else if (key == "policy_version") {
        settings.policy_version = textValue(value, key, kMaxVersionBytes, true);
      } else if (key == "require_ack") {
        bool required = false;
        if (!value.IsScalar() || !YAML::convert<bool>::decode(value, required)) {
          throw ConfigError(key, "must be true or false");
        }
        if (required) {
          throw ConfigError(key,
                            "not implemented yet: there is no acknowledgement service, so nothing "
                            "would enforce it. Remove the key (or set it to false); the notice "
                            "is sent at every login either way.");
        }
      } else {
        throw ConfigError(
            key,
            "unknown key (notice takes: text, subject, language, policy_version, require_ack)");
      }
    }
  }
  auto text = texts.find(settings.language);
  if (text == texts.end()) {
    throw ConfigError("language", "there is no text for '" + settings.language + "' (text: has " +
                                      listOf(texts) + ")");
  }
  auto subject = subjects.find(settings.language);
  if (subject == subjects.end()) {
    throw ConfigError("subject", "there is no subject for '" + settings.language +
                                     "', which language: selects (subject: has " +
                                     listOf(subjects) + ")");
  }
  settings.text = text->second;
  settings.subject = subject->second;
  return settings;
}

}  // namespace parley::modules::notice
