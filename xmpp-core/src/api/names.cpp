// Names of the API's enumerations, as they appear in the events table and in logs.
#include "parley/event.hpp"
#include "parley/hooks.hpp"

namespace parley {

std::string_view actionName(EventAction action) {
  switch (action) {
    case EventAction::Allowed:
      return "allowed";
    case EventAction::Blocked:
      return "blocked";
    case EventAction::Redacted:
      return "redacted";
    case EventAction::Flagged:
      return "flagged";
    case EventAction::WouldBlock:
      return "would_block";
    case EventAction::Admin:
      return "admin";
    case EventAction::Error:
      return "error";
  }
  return "unknown";
}

std::string_view severityName(Severity severity) {
  switch (severity) {
    case Severity::Info:
      return "info";
    case Severity::Low:
      return "low";
    case Severity::Medium:
      return "medium";
    case Severity::High:
      return "high";
    case Severity::Critical:
      return "critical";
  }
  return "unknown";
}

std::string_view directionName(Direction direction) {
  switch (direction) {
    case Direction::Inbound:
      return "inbound";
    case Direction::Outbound:
      return "outbound";
    case Direction::Local:
      return "local";
    case Direction::None:
      return "none";
  }
  return "none";
}

std::string_view hookPointName(HookPoint point) {
  switch (point) {
    case HookPoint::SessionOpened:
      return "session.opened";
    case HookPoint::SessionClosed:
      return "session.closed";
    case HookPoint::StanzaFromClient:
      return "stanza.in.c2s";
    case HookPoint::StanzaFromServer:
      return "stanza.in.s2s";
    case HookPoint::PreRoute:
      return "stanza.route";
    case HookPoint::BeforeRemoteSend:
      return "stanza.out.s2s";
    case HookPoint::BeforeLocalDelivery:
      return "stanza.deliver";
    case HookPoint::Decided:
      return "stanza.decided";
    case HookPoint::StreamFeatures:
      return "stream.features";
    case HookPoint::DiscoInfo:
      return "disco.info";
    case HookPoint::SaslAuthenticated:
      return "sasl.authenticated";
    case HookPoint::PepPublish:
      return "pep.publish";
    case HookPoint::IqNamespace:
      return "iq.namespace";
    case HookPoint::ServerMessage:
      return "message.server";
    case HookPoint::Timer:
      return "timer";
    case HookPoint::kCount:
      break;
  }
  return "unknown";
}

}  // namespace parley
