#include "notice_config.hpp"

#include <algorithm>
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

// require_ack: everything the acknowledgement service says and accepts, in the selected
// language, checked together so that a prompt never asks for a phrase that is not accepted.
void completeAcknowledgement(Settings& settings, const std::map<std::string, std::string>& phrases,
                             std::map<std::string, std::string> prompts,
                             const std::map<std::string, std::string>& thanks) {
  if (!settings.policy_version) {
    throw ConfigError("require_ack",
                      "needs policy_version: users acknowledge one version of the notice, and a "
                      "new version asks everybody again");
  }
  const std::string& language = settings.language;
  auto phrase = phrases.find(language);
  if (phrase == phrases.end()) {
    throw ConfigError("ack_phrase", "there is no phrase for '" + language +
                                        "', which language: selects (ack_phrase: has " +
                                        listOf(phrases) + ")");
  }
  if (!prompts.count(std::string(kDefaultLanguage))) {
    prompts[std::string(kDefaultLanguage)] =
        std::string(kDefaultAckPromptLead) + phrases.at(std::string(kDefaultLanguage));
  }
  auto prompt = prompts.find(language);
  if (prompt == prompts.end()) {
    throw ConfigError("ack_prompt", "there is no prompt for '" + language +
                                        "', which language: selects (ack_prompt: has " +
                                        listOf(prompts) + ")");
  }
  if (prompt->second.find(phrase->second) == std::string::npos) {
    throw ConfigError("ack_prompt." + language, "does not quote the phrase users must reply, '" +
                                                    phrase->second + "' (ack_phrase." + language +
                                                    ")");
  }
  auto thank = thanks.find(language);
  if (thank == thanks.end()) {
    throw ConfigError("ack_thanks", "there is no text for '" + language +
                                        "', which language: selects (ack_thanks: has " +
                                        listOf(thanks) + ")");
  }
  settings.ack_phrase = phrase->second;
  settings.ack_prompt = prompt->second;
  settings.ack_thanks = thank->second;
  // A reply in any configured language counts: people answer in the language they think in.
  for (const auto& [tag, text] : phrases) {
    std::string normal = normalisePhrase(text);
    if (std::find(settings.ack_phrases.begin(), settings.ack_phrases.end(), normal) ==
        settings.ack_phrases.end()) {
      settings.ack_phrases.push_back(std::move(normal));
    }
  }
}

}  // namespace

std::string normalisePhrase(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  if (!text.empty() && (text.back() == '.' || text.back() == '!')) text.remove_suffix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (space(c)) {
      if (out.empty() || out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

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
  std::map<std::string, std::string> phrases{
      {std::string(kDefaultLanguage), std::string(kDefaultAckPhrase)}};
  std::map<std::string, std::string> prompts;  // by default built from the English phrase
  std::map<std::string, std::string> thanks{
      {std::string(kDefaultLanguage), std::string(kDefaultAckThanks)}};
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
        if (!value.IsScalar() || !YAML::convert<bool>::decode(value, settings.require_ack)) {
          throw ConfigError(key, "must be true or false");
        }
      } else if (key == "ack_phrase") {
        for (auto& [tag, phrase] : languageMap(value, key, kMaxPhraseBytes)) {
          if (phrase.find_first_of("\t\r\n") != std::string::npos) {
            throw ConfigError(key + "." + tag, "must be one line: it is what users type");
          }
          if (normalisePhrase(phrase).empty()) {
            throw ConfigError(key + "." + tag, "must contain more than white space and . or !");
          }
          phrases[tag] = phrase;
        }
      } else if (key == "ack_prompt") {
        for (auto& [tag, text] : languageMap(value, key, kMaxTextBytes)) prompts[tag] = text;
      } else if (key == "ack_thanks") {
        for (auto& [tag, text] : languageMap(value, key, kMaxTextBytes)) thanks[tag] = text;
      } else {
        throw ConfigError(key,
                          "unknown key (notice takes: text, subject, language, policy_version, "
                          "require_ack, ack_phrase, ack_prompt, ack_thanks)");
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
  if (settings.require_ack) completeAcknowledgement(settings, phrases, prompts, thanks);
  return settings;
}

}  // namespace parley::modules::notice
