#pragma once
// A compliance event: one decision a module took (or one admin action), as the compliance
// officer will read it. Modules fill in what they know; the core adds the module name, the
// node, the time and the id, and writes it (PostgreSQL, or the local spool while PostgreSQL
// is unreachable). Never put message content in an event unmasked: a card number goes in as
// its last four digits, a body not at all.
#include <chrono>
#include <string>
#include <string_view>

namespace parley {

enum class EventAction {
  Allowed,     // looked at and let through (recorded only where the policy asks for it)
  Blocked,     // refused or dropped
  Redacted,    // delivered with content removed or masked
  Flagged,     // delivered, marked for review
  WouldBlock,  // monitor_only: would have been blocked
  Admin,       // an administrator changed something
  Error,       // the module failed; its on_error verdict applied
};
std::string_view actionName(EventAction action);

enum class Severity { Info, Low, Medium, High, Critical };
std::string_view severityName(Severity severity);

enum class Direction { Inbound, Outbound, Local, None };  // as seen from the organisation
std::string_view directionName(Direction direction);

struct ComplianceEvent {
  // Set by the module.
  std::string kind;  // what happened, dotted: "file_transfer.jingle", "e2ee.omemo"
  EventAction action = EventAction::Blocked;
  Severity severity = Severity::Medium;
  std::string actor;      // the JID that acted (sender, admin)
  std::string target;     // the JID acted upon (recipient, changed account)
  std::string stanza_id;  // the stanza's id attribute, if any
  Direction direction = Direction::None;
  std::string session;      // e.g. "c2s 192.0.2.7", when known
  std::string detail_json;  // a JSON object (masked content only); empty means {}

  // Set by the core.
  std::string module;
  std::string clause;  // the policy clause the module enforces, e.g. "§4 File sharing"
  std::string id;      // UUID, the idempotency key through spool and replay
  std::string node;    // which parleyd
  std::chrono::system_clock::time_point at{};
};

// Where events go; the core implements it (a bounded queue in front of PostgreSQL and a
// durable spool). emit() never blocks on the database.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(ComplianceEvent event) = 0;
};

}  // namespace parley
