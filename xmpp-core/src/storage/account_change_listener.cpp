#include "storage/account_change_listener.hpp"

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <utility>

namespace parley::storage {

namespace {

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, std::function<void(const std::string&)>& fn)
      : pqxx::notification_receiver(c, AccountChangeListener::kChannel), fn_(fn) {}
  void operator()(const std::string& payload, int) override { fn_(payload); }

 private:
  std::function<void(const std::string&)>& fn_;
};

}  // namespace

AccountChangeListener::AccountChangeListener(
    std::string conninfo, std::function<void(const std::string&)> on_change,
    std::function<void(bool, const std::string&)> on_listening)
    : conninfo_(std::move(conninfo)),
      on_change_(std::move(on_change)),
      on_listening_(std::move(on_listening)) {
  thread_ = std::thread([this] { run(); });
}

AccountChangeListener::~AccountChangeListener() {
  stopping_ = true;
  thread_.join();
}

void AccountChangeListener::run() {
  bool listening = false;
  std::string last_error;
  while (!stopping_) {
    try {
      pqxx::connection c(conninfo_);
      Receiver receiver(c, on_change_);  // LISTEN runs here
      c.get_notifs();
      listening = true;
      last_error.clear();
      on_listening_(true, "");
      while (!stopping_) c.await_notification(1, 0);
    } catch (const std::exception& e) {
      if (listening || last_error != e.what()) on_listening_(false, e.what());
      listening = false;
      last_error = e.what();
      for (int i = 0; i < 10 && !stopping_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
  if (listening) on_listening_(false, "stopping");
}

}  // namespace parley::storage
