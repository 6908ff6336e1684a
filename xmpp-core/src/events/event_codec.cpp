#include "events/event_codec.hpp"

#include <boost/json.hpp>

#include "events/event_time.hpp"

namespace parley::events {
namespace {

namespace json = boost::json;

constexpr int kSpoolFormat = 1;

template <class Enum>
std::optional<Enum> parseName(std::string_view name, std::string_view (*nameOf)(Enum),
                              std::initializer_list<Enum> all) {
  for (Enum e : all) {
    if (nameOf(e) == name) return e;
  }
  return std::nullopt;
}

std::string_view sv(json::string_view s) { return std::string_view(s.data(), s.size()); }

// The string member `key` of `obj`, or nullopt when it is missing or not a string.
std::optional<std::string> stringField(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(json::string_view(key.data(), key.size()));
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(sv(v->get_string()));
}

std::string str(std::string_view s) { return std::string(s); }

}  // namespace

std::optional<EventAction> parseAction(std::string_view name) {
  using A = EventAction;
  return parseName<A>(
      name, actionName,
      {A::Allowed, A::Blocked, A::Redacted, A::Flagged, A::WouldBlock, A::Admin, A::Error});
}

std::optional<Severity> parseSeverity(std::string_view name) {
  using S = Severity;
  return parseName<S>(name, severityName, {S::Info, S::Low, S::Medium, S::High, S::Critical});
}

std::optional<Direction> parseDirection(std::string_view name) {
  using D = Direction;
  return parseName<D>(name, directionName, {D::Inbound, D::Outbound, D::Local, D::None});
}

std::string encodeSpoolRecord(const ComplianceEvent& e) {
  json::object o;
  o["v"] = kSpoolFormat;
  o["id"] = e.id;
  o["at_us"] = toMicros(e.at);
  o["node"] = e.node;
  o["module"] = e.module;
  o["clause"] = e.clause;
  o["kind"] = e.kind;
  o["action"] = str(actionName(e.action));
  o["severity"] = str(severityName(e.severity));
  o["actor"] = e.actor;
  o["target"] = e.target;
  o["stanza_id"] = e.stanza_id;
  o["direction"] = str(directionName(e.direction));
  o["session"] = e.session;
  o["detail"] = e.detail_json;
  return json::serialize(o);
}

std::optional<ComplianceEvent> decodeSpoolRecord(std::string_view payload) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(payload.data(), payload.size()), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  const json::value* version = o.if_contains("v");
  const json::value* at = o.if_contains("at_us");
  if (version == nullptr || !version->is_int64() || version->get_int64() != kSpoolFormat ||
      at == nullptr || !at->is_int64()) {
    return std::nullopt;
  }
  ComplianceEvent e;
  e.at = fromMicros(at->get_int64());
  for (auto [key, field] : {std::pair{"id", &e.id},
                            {"node", &e.node},
                            {"module", &e.module},
                            {"clause", &e.clause},
                            {"kind", &e.kind},
                            {"actor", &e.actor},
                            {"target", &e.target},
                            {"stanza_id", &e.stanza_id},
                            {"session", &e.session},
                            {"detail", &e.detail_json}}) {
    auto value = stringField(o, key);
    if (!value) return std::nullopt;
    *field = std::move(*value);
  }
  auto action = stringField(o, "action");
  auto severity = stringField(o, "severity");
  auto direction = stringField(o, "direction");
  auto a = action ? parseAction(*action) : std::nullopt;
  auto s = severity ? parseSeverity(*severity) : std::nullopt;
  auto d = direction ? parseDirection(*direction) : std::nullopt;
  if (!a || !s || !d) return std::nullopt;
  e.action = *a;
  e.severity = *s;
  e.direction = *d;
  return e;
}

std::string displayJson(const ComplianceEvent& e) {
  json::object o;
  o["id"] = e.id;
  o["at"] = isoTimestamp(e.at, true);
  o["node"] = e.node;
  o["module"] = e.module;
  o["clause"] = e.clause;
  o["kind"] = e.kind;
  o["action"] = str(actionName(e.action));
  o["severity"] = str(severityName(e.severity));
  o["actor"] = e.actor;
  o["target"] = e.target;
  o["stanza_id"] = e.stanza_id;
  o["direction"] = str(directionName(e.direction));
  o["session"] = e.session;
  boost::system::error_code ec;
  json::value detail =
      json::parse(json::string_view(e.detail_json.data(), e.detail_json.size()), ec);
  if (ec) {
    o["detail"] = e.detail_json;  // never happens for rows jsonb accepted; keep the text anyway
  } else {
    o["detail"] = std::move(detail);
  }
  return json::serialize(o);
}

}  // namespace parley::events
