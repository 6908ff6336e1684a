#pragma once
// IM policy §7 Privacy: employees are told, every time a session opens, that the IM service is
// company property and that messages are monitored, archived and may be disclosed. Each notice
// sent is recorded.
//
// With require_ack, a user must also acknowledge the current policy version, once per
// account, by replying to the notice (a message to the server's domain). Until then the user
// may send only to that acknowledgement service; everything else is refused with a text that
// says how to acknowledge. Acknowledgements are kept in PostgreSQL (policy_acknowledgements)
// and recorded as events.

#include <memory>

#include "acknowledged_accounts.hpp"
#include "notice_config.hpp"
#include "parley/host.hpp"
#include "parley/module.hpp"

namespace parley::modules::notice {

inline constexpr const char* kName = "notice";
inline constexpr const char* kClause = "§7 Privacy";
inline constexpr int kDefaultPriority = 10;

// How long attach() waits for the first read of the acknowledgements (when no other instance
// has them), so that nobody who acknowledged is refused while it runs; then it goes on, and
// refusals say the record cannot be read yet until a retry succeeds.
inline constexpr std::chrono::milliseconds kInitialLoadWait{3000};
// The table is read again every kRefreshEvery (acknowledgements recorded elsewhere, accounts
// deleted) and, while it has never been read, retried every kRetryEvery.
inline constexpr std::chrono::milliseconds kRetryEvery{5000};
inline constexpr int kRefreshEvery = 12;  // × kRetryEvery: a minute

class NoticeModule final : public Module {
 public:
  void configure(const YAML::Node& config) override;
  // Registers session.opened; with require_ack also stanza.in.c2s (the gate), message.server
  // (the acknowledgement service) and a timer, and reads who acknowledged.
  void attach(Host& host) override;

  const Settings& settings() const { return settings_; }

 private:
  void greet(Host& host, const Jid& session) const;
  Verdict gate(const Stanza& stanza) const;
  Verdict serve(Host& host, const Stanza& message);
  void record(Host& host, const Stanza& message, const std::string& via);
  void refresh(Host& host);

  Settings settings_;
  std::shared_ptr<AcknowledgedAccounts> acknowledged_;  // require_ack only
  int ticks_ = 0;                                       // the jobs thread only
};

}  // namespace parley::modules::notice
