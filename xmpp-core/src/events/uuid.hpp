#pragma once
// Event ids: random (version 4) UUIDs, generated where the event enters the pipeline so that
// every later copy (spool, replay, retry) carries the same idempotency key.
#include <string>
#include <string_view>

namespace parley::events {

// Lower-case 8-4-4-4-12 form, e.g. "3f2c9a0e-6b1d-4c1e-9f3a-0d8b7e6a5c41".
std::string randomUuid();

// True for the 8-4-4-4-12 hexadecimal form PostgreSQL's uuid type accepts on output.
bool isUuid(std::string_view text);

}  // namespace parley::events
