#pragma once
// Room passwords (muc#roomconfig_roomsecret) are kept only as salted PBKDF2-HMAC-SHA-256 hashes,
// in memory and in PostgreSQL, so a database dump or a look at the owner form gives no room's
// password away. Stored as "pbkdf2-sha256$<iterations>$<salt, base64>$<key, base64>".
//
// Both functions are slow by design: call them off the io threads (through DbPool::run, as the
// SASL PLAIN check does).

#include <string>
#include <string_view>

namespace parley::xep::muc {

std::string hashRoomPassword(std::string_view password);
// Constant-time comparison; false for a stored value this code did not write.
bool roomPasswordMatches(std::string_view stored, std::string_view password);

}  // namespace parley::xep::muc
