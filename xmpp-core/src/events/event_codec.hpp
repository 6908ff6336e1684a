#pragma once
// ComplianceEvent as JSON: the payload of a spool record, and the --json output of parleyctl.
#include <optional>
#include <string>
#include <string_view>

#include "parley/event.hpp"

namespace parley::events {

// The inverse of actionName() and friends (parley/event.hpp); nullopt for an unknown name.
std::optional<EventAction> parseAction(std::string_view name);
std::optional<Severity> parseSeverity(std::string_view name);
std::optional<Direction> parseDirection(std::string_view name);

// Every field, `at` as integer microseconds (exact, so a replay writes the same primary key),
// enumerations by name, detail_json as the text it is. Versioned ("v": 1) so a later format can
// still read spools an older parleyd left behind.
std::string encodeSpoolRecord(const ComplianceEvent& event);
// nullopt when `payload` is not something encodeSpoolRecord wrote.
std::optional<ComplianceEvent> decodeSpoolRecord(std::string_view payload);

// One line of JSON for people and scripts (jq): `at` in ISO 8601 UTC, detail as an object.
std::string displayJson(const ComplianceEvent& event);

}  // namespace parley::events
