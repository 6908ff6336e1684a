#pragma once
// Listens on PostgreSQL channel parley_account_changed (schemas/002) on a connection and a
// thread of its own, and reports each changed account. If the connection is lost it reports
// that (changes made meanwhile cannot be heard), reconnects every second and reports when it
// hears again. Stopping takes at most a second.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace parley::storage {

class AccountChangeListener {
 public:
  // on_change(account): one account changed ("*": any may have). on_listening(true, ""): from
  // now on every change is reported; on_listening(false, why): changes may be missed.
  AccountChangeListener(std::string conninfo, std::function<void(const std::string&)> on_change,
                        std::function<void(bool, const std::string&)> on_listening);
  ~AccountChangeListener();
  AccountChangeListener(const AccountChangeListener&) = delete;
  AccountChangeListener& operator=(const AccountChangeListener&) = delete;

  static constexpr const char* kChannel = "parley_account_changed";

 private:
  void run();

  std::string conninfo_;
  std::function<void(const std::string&)> on_change_;
  std::function<void(bool, const std::string&)> on_listening_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace parley::storage
