#pragma once
// The little JSON a module writes itself: event details (ComplianceEvent::detail_json) are
// JSON objects, and their string values must be escaped.
#include <string>
#include <string_view>

namespace parley {

// `s` as a JSON string literal, quotes included; control characters as \u00XX.
std::string jsonString(std::string_view s);

}  // namespace parley
