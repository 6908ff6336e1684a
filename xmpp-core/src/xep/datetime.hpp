#pragma once
// XEP-0082 DateTime (CCYY-MM-DDThh:mm:ss[.sss]TZD) to and from microseconds since the Unix
// epoch, for XEP-0203 delay stamps and XEP-0313 'start'/'end' filters.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::xep {

// nullopt unless `text` is exactly a XEP-0082 DateTime: years 0001-9999, a real calendar day,
// TZD 'Z' or ±hh:mm. Fractions beyond microseconds are truncated.
std::optional<int64_t> parseDateTime(std::string_view text);

// UTC with microseconds, e.g. "2026-11-29T10:00:00.123456Z": the archive's own precision, so
// that a delay stamp used as a 'start' or 'end' filter includes the message it came from.
std::string formatDateTime(int64_t unix_us);

}  // namespace parley::xep
