#pragma once
// What an event must look like before it enters the queue or the spool: valid UTF-8 without
// NUL in every text field (PostgreSQL's text refuses both, and so does the spool's JSON parser),
// and a detail that is a JSON object jsonb accepts. Done once, in emit(), so that every copy of
// the event is identical and a replay cannot fail where the first attempt would have.
#include <string>
#include <string_view>

#include "parley/event.hpp"

namespace parley::events {

// `text` with every NUL and every byte that does not start a valid UTF-8 sequence replaced by
// U+FFFD; `text` itself when it is already clean (the common case, no copy of the logic).
std::string cleanText(std::string_view text);

// "{}" for an empty detail; a JSON object re-serialized (NULs in its strings replaced, since
// jsonb refuses \u0000); anything else (not JSON, or not an object) kept as text in
// {"unparsed_detail": "..."} rather than dropped, since the event must still be written.
std::string normalizedDetail(std::string_view detail_json);

// Applies both to every field of `event`.
void normalize(ComplianceEvent& event);

}  // namespace parley::events
