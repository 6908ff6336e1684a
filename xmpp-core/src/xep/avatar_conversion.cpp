#include "xep/avatar_conversion.hpp"

#include <openssl/sha.h>

#include "auth/scram.hpp"

namespace parley::xep::avatars {

namespace {

std::optional<std::string> decodeWrapped(std::string_view text) {
  std::string compact;
  compact.reserve(text.size());
  for (char ch : text)
    if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') compact.push_back(ch);
  if (compact.empty()) return std::nullopt;
  return auth::base64Decode(compact);
}

}  // namespace

std::string sha1Hex(std::string_view bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0F]);
  }
  return out;
}

std::optional<Avatar> photoOf(const xml::Element& vcard) {
  const xml::Element* photo = vcard.child("PHOTO", kVcardNs);
  if (!photo) return std::nullopt;
  const xml::Element* binval = photo->child("BINVAL", kVcardNs);
  if (!binval) return std::nullopt;
  auto bytes = decodeWrapped(binval->text());
  if (!bytes) return std::nullopt;
  Avatar a;
  a.type = photo->childText("TYPE", kVcardNs);
  if (a.type.empty()) a.type = "image/png";
  a.id = sha1Hex(*bytes);
  a.bytes = std::move(*bytes);
  return a;
}

xml::Element withPhoto(xml::Element vcard, const std::optional<Avatar>& avatar) {
  vcard.removeChildren("PHOTO", kVcardNs);
  if (avatar) {
    auto& photo = vcard.addChild(std::string(kVcardNs), "PHOTO");
    photo.addChild(std::string(kVcardNs), "TYPE").addText(avatar->type);
    photo.addChild(std::string(kVcardNs), "BINVAL").addText(auth::base64Encode(avatar->bytes));
  }
  return vcard;
}

xml::Element dataElement(const Avatar& avatar) {
  xml::Element data(std::string(kDataNs), "data");
  data.addText(auth::base64Encode(avatar.bytes));
  return data;
}

xml::Element metadataElement(const Avatar& avatar) {
  xml::Element metadata(std::string(kMetadataNs), "metadata");
  auto& info = metadata.addChild(std::string(kMetadataNs), "info");
  info.setAttr("bytes", std::to_string(avatar.bytes.size()));
  info.setAttr("id", avatar.id);
  info.setAttr("type", avatar.type);
  return metadata;
}

std::optional<MetadataInfo> metadataInfoOf(const xml::Element& metadata) {
  auto infos = metadata.childrenNamed("info", kMetadataNs);
  if (infos.empty()) return MetadataInfo{};  // avatar disabled (XEP-0084 §4.2)
  for (const auto* info : infos) {
    if (info->attr("url") || info->attrOr("id").empty()) continue;
    return MetadataInfo{std::string(info->attrOr("id")), std::string(info->attrOr("type"))};
  }
  return std::nullopt;
}

std::optional<std::string> dataBytesOf(const xml::Element& data) {
  return decodeWrapped(data.text());
}

}  // namespace parley::xep::avatars
