#include "notice_module.hpp"

#include "notice_message.hpp"

namespace parley::modules::notice {

void NoticeModule::configure(const YAML::Node& config) { settings_ = parseSettings(config); }

void NoticeModule::attach(Host& host) {
  host.onSession(HookPoint::SessionOpened,
                 [this, &host](const Jid& session) { greet(host, session); });
}

void NoticeModule::greet(Host& host, const Jid& session) const {
  host.sendFromServer(buildNotice(settings_, session));
  // Recorded only once it was handed over: a notice that failed to go out is not claimed.
  host.emit(noticeEvent(settings_, session));
}

}  // namespace parley::modules::notice

PARLEY_MODULE(parley::modules::notice::kName, parley::modules::notice::kClause,
              parley::modules::notice::kDefaultPriority, parley::modules::notice::NoticeModule)
