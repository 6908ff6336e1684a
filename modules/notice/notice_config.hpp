#pragma once
// The notice module's configuration keys, validated completely before anything is attached.

#include <yaml-cpp/yaml.h>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
inline constexpr size_t kMaxPhraseBytes = 64;

// Acknowledgement (require_ack). The defaults are English; other languages need their own.
inline constexpr std::string_view kDefaultAckPhrase = "I agree";
inline constexpr std::string_view kDefaultAckPromptLead =
    "To confirm that you have read this notice, reply to this message with: ";
inline constexpr std::string_view kDefaultAckThanks =
    "Thank you. Your acknowledgement of the IM policy is recorded; you can now use instant "
    "messaging.";

struct Settings {
  // The language sent. A session hook does not know the client's xml:lang, so one language is
  // chosen for everybody: `language:`, or English.
  std::string language{kDefaultLanguage};
  std::string subject{kDefaultSubject};
  std::string text{kDefaultText};
  // Identifies the wording, so that clients and bots can acknowledge a version.
  std::optional<std::string> policy_version;

  // require_ack: a user who has not acknowledged policy_version may send only to the
  // acknowledgement service (the server's domain), by replying one of `ack_phrases`.
  bool require_ack = false;
  std::string ack_phrase;                // the selected language's, quoted in refusals
  std::vector<std::string> ack_phrases;  // every configured language's, as compared
  std::string ack_prompt;                // added to the notice; sent again on a wrong reply
  std::string ack_thanks;                // the answer once the acknowledgement is recorded
};

// Throws parley::ConfigError naming the key ("text.de", "language", "require_ack", ...).
// require_ack needs policy_version; the selected language needs a phrase, a prompt (which must
// quote the phrase) and thanks, which only English has by default.
// Language tags are compared and sent in lower case.
Settings parseSettings(const YAML::Node& config);

// Whether `tag` looks like a BCP 47 language tag ("en", "de-CH", "zh-Hant-TW").
bool isLanguageTag(std::string_view tag);

// How replies are compared with the phrase: surrounding white space and one final '.' or '!'
// dropped, inner white space runs made one space, ASCII letters in lower case.
std::string normalisePhrase(std::string_view text);

}  // namespace parley::modules::notice
