#pragma once
// XEP-0398 / XEP-0153: one avatar, in both places clients look for it. The vCard (vcard-temp)
// carries it as PHOTO (TYPE, BINVAL); XEP-0084 as two PEP nodes, urn:xmpp:avatar:data (the
// base64 bytes) and urn:xmpp:avatar:metadata (<info id bytes type/>), its id the SHA-1 of the
// bytes in hex, which is also the hash XEP-0153 puts in presence. Pure functions.
#include <optional>
#include <string>

#include "parley/xml/element.hpp"

namespace parley::xep::avatars {

inline constexpr std::string_view kDataNs = "urn:xmpp:avatar:data";
inline constexpr std::string_view kMetadataNs = "urn:xmpp:avatar:metadata";
inline constexpr std::string_view kVcardNs = "vcard-temp";
inline constexpr std::string_view kVcardUpdateNs = "vcard-temp:x:update";

struct Avatar {
  std::string id;     // SHA-1 of `bytes`, lowercase hex
  std::string type;   // MIME type, e.g. image/png
  std::string bytes;  // the image itself
};

std::string sha1Hex(std::string_view bytes);

// The vCard's PHOTO, or nullopt when it has none (or its BINVAL is not base64; line breaks and
// spaces in BINVAL are allowed, as vCards wrap it). A PHOTO without TYPE is taken as image/png.
std::optional<Avatar> photoOf(const xml::Element& vcard);

// `vcard` with its PHOTO replaced by `avatar` (removed when nullopt); the rest is kept.
xml::Element withPhoto(xml::Element vcard, const std::optional<Avatar>& avatar);

// XEP-0084 payloads for `avatar`.
xml::Element dataElement(const Avatar& avatar);
xml::Element metadataElement(const Avatar& avatar);

// What a published <metadata/> says: the id and type of its first <info/> kept in PEP (no
// 'url'), or an empty id when the user disabled the avatar (<metadata/> with no <info/>);
// nullopt when it names only images elsewhere (nothing the vCard can carry).
struct MetadataInfo {
  std::string id, type;
};
std::optional<MetadataInfo> metadataInfoOf(const xml::Element& metadata);

// The bytes of a published <data/>, or nullopt when it is not base64.
std::optional<std::string> dataBytesOf(const xml::Element& data);

}  // namespace parley::xep::avatars
