#pragma once
// CRC-32 (IEEE 802.3, the polynomial zlib and gzip use) for spool records. A checksum, not a
// signature: it detects torn writes and bit rot, not tampering.
#include <cstdint>
#include <string_view>

namespace parley::events {

// `crc` continues a previous call: crc32(b, crc32(a)) == crc32(a + b).
uint32_t crc32(std::string_view data, uint32_t crc = 0);

}  // namespace parley::events
