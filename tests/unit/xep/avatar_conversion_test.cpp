// XEP-0398: vCard PHOTO ⇄ XEP-0084 avatar data and metadata.
#include <catch2/catch.hpp>

#include "auth/scram.hpp"
#include "support/stanzas.hpp"
#include "xep/avatar_conversion.hpp"

using namespace parley;
using parley::testing::parseStanza;
namespace avatars = parley::xep::avatars;

namespace {

// The payload of an iq, parsed as a client sends it.
xml::Element payload(std::string_view xml) {
  auto iq = parseStanza("<iq type='set' id='1'>" + std::string(xml) + "</iq>");
  return *iq.firstChildElement();
}

const std::string kImage = std::string("\x89PNG\r\n\x1a\n", 8) + "not really an image";

}  // namespace

TEST_CASE("avatars: SHA-1 in lowercase hex, as XEP-0084 ids and XEP-0153 hashes are",
          "[xep][avatars]") {
  CHECK(avatars::sha1Hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_CASE("avatars: a vCard PHOTO becomes avatar data and metadata", "[xep][avatars]") {
  const std::string b64 = auth::base64Encode(kImage);
  // vCards wrap BINVAL; the line break must not matter.
  auto vcard = payload(
      "<vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE>"
      "<BINVAL>" +
      b64.substr(0, 8) + "\n" + b64.substr(8) + "</BINVAL></PHOTO></vCard>");
  auto avatar = avatars::photoOf(vcard);
  REQUIRE(avatar);
  CHECK(avatar->bytes == kImage);
  CHECK(avatar->type == "image/png");
  CHECK(avatar->id == avatars::sha1Hex(kImage));

  auto data = avatars::dataElement(*avatar);
  CHECK(data.is("data", "urn:xmpp:avatar:data"));
  CHECK(data.text() == b64);
  CHECK(avatars::dataBytesOf(data) == kImage);

  auto metadata = avatars::metadataElement(*avatar);
  const auto* info = metadata.child("info", "urn:xmpp:avatar:metadata");
  REQUIRE(info);
  CHECK(info->attrOr("id") == avatar->id);
  CHECK(info->attrOr("type") == "image/png");
  CHECK(info->attrOr("bytes") == std::to_string(kImage.size()));
}

TEST_CASE("avatars: no PHOTO, or one that is not base64, is no avatar", "[xep][avatars]") {
  CHECK_FALSE(avatars::photoOf(payload("<vCard xmlns='vcard-temp'><FN>Bob</FN></vCard>")));
  CHECK_FALSE(avatars::photoOf(payload(
      "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>!!not base64!!</BINVAL>"
      "</PHOTO></vCard>")));
  CHECK_FALSE(avatars::photoOf(
      payload("<vCard xmlns='vcard-temp'><PHOTO><EXTVAL>https://example.org/a.png</EXTVAL></PHOTO>"
              "</vCard>")));
}

TEST_CASE("avatars: the metadata's PEP-hosted image, or the avatar disabled", "[xep][avatars]") {
  // XEP-0398 §3.1: of several <info/>, the one that does not point to a URL.
  auto info = avatars::metadataInfoOf(
      payload("<metadata xmlns='urn:xmpp:avatar:metadata'>"
              "<info id='aaa' type='image/gif' bytes='10' url='https://example.org/a.gif'/>"
              "<info id='bbb' type='image/png' bytes='20'/></metadata>"));
  REQUIRE(info);
  CHECK(info->id == "bbb");
  CHECK(info->type == "image/png");
  auto disabled = avatars::metadataInfoOf(payload("<metadata xmlns='urn:xmpp:avatar:metadata'/>"));
  REQUIRE(disabled);
  CHECK(disabled->id.empty());
  CHECK_FALSE(avatars::metadataInfoOf(
      payload("<metadata xmlns='urn:xmpp:avatar:metadata'><info id='c' type='image/png' bytes='1' "
              "url='https://example.org/c.png'/></metadata>")));
}

TEST_CASE("avatars: the vCard's PHOTO is replaced, the rest kept", "[xep][avatars]") {
  auto vcard = payload(
      "<vCard xmlns='vcard-temp'><FN>Alice</FN><PHOTO><TYPE>image/gif</TYPE><BINVAL>R0lG"
      "</BINVAL></PHOTO></vCard>");
  avatars::Avatar a{avatars::sha1Hex(kImage), "image/png", kImage};
  auto updated = avatars::withPhoto(vcard, a);
  CHECK(updated.childText("FN", "vcard-temp") == "Alice");
  REQUIRE(updated.childrenNamed("PHOTO", "vcard-temp").size() == 1);
  auto back = avatars::photoOf(updated);
  REQUIRE(back);
  CHECK(back->id == a.id);
  CHECK(back->type == "image/png");
  auto removed = avatars::withPhoto(updated, std::nullopt);
  CHECK(removed.child("PHOTO", "vcard-temp") == nullptr);
  CHECK(removed.childText("FN", "vcard-temp") == "Alice");
}
