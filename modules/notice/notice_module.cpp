#include "notice_module.hpp"

#include "ack_rules.hpp"
#include "notice_message.hpp"
#include "parley/json.hpp"

namespace parley::modules::notice {
namespace {

constexpr const char* kReadAcknowledged =
    "SELECT account FROM policy_acknowledgements WHERE policy_version = $1";
// The first acknowledgement of a version is the one kept; a repeated one changes nothing.
constexpr const char* kRecordAcknowledgement =
    "INSERT INTO policy_acknowledgements (account, policy_version, session, via) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (account, policy_version) DO NOTHING";

ComplianceEvent refusalEvent(const Settings& settings, const Stanza& stanza) {
  ComplianceEvent e;
  e.kind = "notice.unacknowledged";
  e.action = EventAction::Blocked;
  e.severity = Severity::Low;
  e.actor = stanza.from.full();
  e.target = stanza.to.full();
  e.stanza_id = std::string(stanza.id());
  e.direction = stanza.to.empty() || stanza.to.domain() == stanza.from.domain()
                    ? Direction::Local
                    : Direction::Outbound;
  e.detail_json = "{\"policy_version\":" + jsonString(*settings.policy_version) +
                  ",\"stanza\":" + jsonString(stanza.kind()) + "}";
  return e;
}

}  // namespace

void NoticeModule::configure(const YAML::Node& config) { settings_ = parseSettings(config); }

void NoticeModule::attach(Host& host) {
  host.onSession(HookPoint::SessionOpened,
                 [this, &host](const Jid& session) { greet(host, session); });
  if (!settings_.require_ack) return;
  acknowledged_ = AcknowledgedAccounts::forVersion(*settings_.policy_version);
  host.onStanza(HookPoint::StanzaFromClient, [this](Stanza& stanza) { return gate(stanza); });
  host.onServerMessage([this, &host](const Stanza& message) { return serve(host, message); });
  host.every(kRetryEvery, [this, &host]() {
    if (!acknowledged_->loaded() || ++ticks_ % kRefreshEvery == 0) refresh(host);
  });
  if (!acknowledged_->loaded()) {
    refresh(host);
    if (!acknowledged_->waitRefreshed(kInitialLoadWait)) {
      host.log(LogLevel::Warn,
               "the policy acknowledgements could not be read yet; users who have not been "
               "confirmed are refused until a retry succeeds");
    }
  }
}

void NoticeModule::greet(Host& host, const Jid& session) const {
  const bool ask = settings_.require_ack && !acknowledged_->contains(session.bareString());
  host.sendFromServer(buildNotice(settings_, session, ask));
  // Recorded only once it was handed over: a notice that failed to go out is not claimed.
  host.emit(noticeEvent(settings_, session, ask));
}

Verdict NoticeModule::gate(const Stanza& stanza) const {
  if (stanza.origin != Origin::Client) return Verdict::pass();
  if (acknowledged_->contains(stanza.from.bareString()) || allowedBeforeAck(stanza)) {
    return Verdict::pass();
  }
  if (!acknowledged_->loaded()) {
    return Verdict::reject(
               "whether you acknowledged the IM policy notice cannot be checked right now, so "
               "nothing can be sent yet. Please try again in a minute.")
        .withEvent(refusalEvent(settings_, stanza));
  }
  return Verdict::reject("you have not yet acknowledged the IM policy notice (version " +
                         *settings_.policy_version + "). Reply \"" + settings_.ack_phrase +
                         "\" to the notice from " + stanza.from.domain() +
                         ", then send this again.")
      .withEvent(refusalEvent(settings_, stanza));
}

Verdict NoticeModule::serve(Host& host, const Stanza& message) {
  if (message.origin != Origin::Client || !isToOwnServer(message)) return Verdict::pass();
  const ReplyReading reading = readReply(settings_, message);
  const bool acknowledged = acknowledged_->contains(message.from.bareString());
  switch (reading.kind) {
    case ReplyReading::Kind::Other:
      if (acknowledged) return Verdict::pass();  // not for this service
      // Only words are answered: clients also send chat states and receipts to the chat the
      // notice opened (Gajim does on opening it), and those need no reply.
      if (message.element.child("body", ns::kClient)) {
        host.sendFromServer(buildAnswer(message.from, settings_.ack_prompt));
      }
      return Verdict::drop();
    case ReplyReading::Kind::WrongVersion:
      return Verdict::reject(
          "The current IM policy notice is version " + *settings_.policy_version +
              (reading.version.empty() ? ", and this acknowledgement names no version"
                                       : ", not " + reading.version) +
              ". Read the notice sent at login, then acknowledge that version.",
          "not-acceptable");
    case ReplyReading::Kind::Acknowledges:
      if (acknowledged) {
        host.sendFromServer(buildAnswer(message.from, settings_.ack_thanks));
      } else {
        record(host, message, reading.via);
      }
      return Verdict::drop();
  }
  return Verdict::pass();
}

// An acknowledgement counts once it is committed: only then is the user let through and
// thanked. If it cannot be stored the user is told to send it again.
void NoticeModule::record(Host& host, const Stanza& message, const std::string& via) {
  const Jid by = message.from;
  const std::string stanza_id(message.id());
  host.query(kRecordAcknowledgement, {by.bareString(), *settings_.policy_version, by.full(), via},
             [this, &host, by, stanza_id, via](DbRows rows, std::string error) {
               if (!error.empty()) {
                 host.log(LogLevel::Warn,
                          "the acknowledgement of " + by.full() + " could not be stored: " + error);
                 host.sendFromServer(
                     buildAnswer(by,
                                 "Your acknowledgement could not be recorded just now, so instant "
                                 "messaging stays limited. Please send it again in a minute."));
                 return;
               }
               acknowledged_->add(by.bareString());
               if (rows.affected > 0) {
                 host.emit(acknowledgedEvent(settings_, by, stanza_id, via));
               }
               host.sendFromServer(buildAnswer(by, settings_.ack_thanks));
             });
}

void NoticeModule::refresh(Host& host) {
  if (!acknowledged_->beginRefresh()) return;  // one read at a time
  auto acknowledged = acknowledged_;
  host.query(kReadAcknowledged, {*settings_.policy_version},
             [acknowledged, &host](DbRows rows, std::string error) {
               if (!error.empty()) {
                 acknowledged->abandonRefresh();
                 host.log(LogLevel::Warn,
                          "the policy acknowledgements could not be read: " + error);
                 return;
               }
               std::vector<std::string> accounts;
               accounts.reserve(rows.rows.size());
               for (auto& row : rows.rows) {
                 if (!row.empty() && row[0]) accounts.push_back(std::move(*row[0]));
               }
               acknowledged->finishRefresh(std::move(accounts));
             });
}

}  // namespace parley::modules::notice

PARLEY_MODULE(parley::modules::notice::kName, parley::modules::notice::kClause,
              parley::modules::notice::kDefaultPriority, parley::modules::notice::NoticeModule)
