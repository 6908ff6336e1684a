#pragma once
// IM policy §7 Privacy: employees are told, every time a session opens, that the IM service is
// company property and that messages are monitored, archived and may be disclosed. The notice
// is a headline message to the new session (its full JID), and each one sent is recorded.
// Acknowledgement (require_ack) does not exist yet and is refused in the configuration.

#include "notice_config.hpp"
#include "parley/host.hpp"
#include "parley/module.hpp"

namespace parley::modules::notice {

inline constexpr const char* kName = "notice";
inline constexpr const char* kClause = "§7 Privacy";
inline constexpr int kDefaultPriority = 10;

class NoticeModule final : public Module {
 public:
  void configure(const YAML::Node& config) override;
  // Registers session.opened.
  void attach(Host& host) override;

  const Settings& settings() const { return settings_; }

 private:
  void greet(Host& host, const Jid& session) const;

  Settings settings_;
};

}  // namespace parley::modules::notice
