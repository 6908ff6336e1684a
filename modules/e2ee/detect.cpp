#include "detect.hpp"

#include <vector>

#include "parley/stanza.hpp"

namespace parley::modules::e2ee {
namespace {

constexpr std::string_view kAxolotl = "eu.siacs.conversations.axolotl";
constexpr std::string_view kOmemoPrefix = "urn:xmpp:omemo:";  // followed by the version
constexpr std::string_view kOpenPgp = "urn:xmpp:openpgp:0";
constexpr std::string_view kPgpEncrypted = "jabber:x:encrypted";
constexpr std::string_view kEme = "urn:xmpp:eme:0";
constexpr std::string_view kOtrEme = "urn:xmpp:otr:0";
constexpr std::string_view kPubsub = "http://jabber.org/protocol/pubsub";

// OTR's whitespace tag: appended to plaintext by a client that wants to start OTR (OTR
// protocol v3, "Tagged plaintext messages"); version tags of 8 more bytes may follow.
constexpr std::string_view kOtrWhitespaceTag =
    "\x20\x09\x20\x20\x09\x09\x09\x09\x20\x09\x20\x09\x20\x09\x20\x20";

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// 'urn:xmpp:omemo:2' and its predecessors ':0' and ':1', which some clients still send.
bool isOmemoNs(std::string_view ns) {
  if (ns == kAxolotl) return true;
  return ns.starts_with(kOmemoPrefix) && allDigits(ns.substr(kOmemoPrefix.size()));
}

std::optional<Scheme> schemeOfNamespace(std::string_view ns) {
  if (isOmemoNs(ns)) return Scheme::Omemo;
  if (ns == kOpenPgp) return Scheme::OpenPgp;
  if (ns == kPgpEncrypted) return Scheme::PgpLegacy;
  if (ns == kOtrEme) return Scheme::Otr;
  return std::nullopt;
}

std::string describe(const xml::Element& el) {
  return "<" + el.name() + " xmlns='" + el.ns() + "'>";
}

// An element that holds ciphertext itself.
std::optional<Finding> encryptedPayload(const xml::Element& el) {
  if (el.name() == "encrypted" && isOmemoNs(el.ns())) {
    return Finding{Scheme::Omemo, describe(el)};
  }
  if (el.ns() == kOpenPgp &&
      (el.name() == "openpgp" || el.name() == "signcrypt" || el.name() == "crypt")) {
    return Finding{Scheme::OpenPgp, describe(el)};
  }
  if (el.is("x", kPgpEncrypted)) return Finding{Scheme::PgpLegacy, describe(el)};
  return std::nullopt;
}

// XEP-0380: <encryption xmlns='urn:xmpp:eme:0' namespace='...'/> says the message is encrypted.
std::optional<Finding> declaredEncryption(const xml::Element& el) {
  if (!el.is("encryption", kEme)) return std::nullopt;
  std::string_view declared = el.attrOr("namespace");
  // The namespace comes from the sender: keep the evidence short.
  constexpr size_t kMaxShown = 128;
  std::string shown(declared.substr(0, kMaxShown));
  while (!shown.empty() && shown.size() < declared.size() &&
         (static_cast<unsigned char>(declared[shown.size()]) & 0xC0) == 0x80) {
    shown.pop_back();  // do not cut a UTF-8 sequence in half
  }
  if (shown.size() < declared.size()) shown += "...";
  std::string evidence = "<encryption xmlns='" + std::string(kEme) + "' namespace='" + shown + "'>";
  return Finding{schemeOfNamespace(declared).value_or(Scheme::Other), std::move(evidence)};
}

// Visits every element of the tree, the root first, until `visit` returns false. Iterative, so
// that no stanza can make it recurse deeply.
template <typename Visit>
void walk(const xml::Element& root, Visit visit) {
  std::vector<const xml::Element*> pending{&root};
  while (!pending.empty()) {
    const xml::Element* el = pending.back();
    pending.pop_back();
    if (!visit(*el)) return;
    const auto& children = el->children();
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      if (!it->isText()) pending.push_back(it->element.get());
    }
  }
}

}  // namespace

std::string_view schemeName(Scheme scheme) {
  switch (scheme) {
    case Scheme::Omemo:
      return "omemo";
    case Scheme::OpenPgp:
      return "openpgp";
    case Scheme::PgpLegacy:
      return "pgp_legacy";
    case Scheme::Otr:
      return "otr";
    case Scheme::Other:
      return "other";
  }
  return "other";
}

bool alwaysPasses(const xml::Element& stanza) {
  std::string_view type = stanza.attrOr("type");
  if (type == "error") return true;
  return stanza.name() == "iq" && type == "result";
}

std::optional<std::string> otrMarker(std::string_view body) {
  for (size_t at = body.find("?OTR"); at != std::string_view::npos;
       at = body.find("?OTR", at + 1)) {
    std::string_view rest = body.substr(at + 4);
    if (rest.empty()) break;
    switch (rest.front()) {
      case ':':
        return "OTR data message (?OTR:)";
      case '?':
      case 'v':
        return "OTR query (?OTR" + std::string(1, rest.front()) + ")";
      case '|':
      case ',':
        return "OTR fragment (?OTR" + std::string(1, rest.front()) + ")";
      default:
        break;  // "?OTR Error:" and ordinary text
    }
  }
  if (body.find(kOtrWhitespaceTag) != std::string_view::npos) return "OTR whitespace tag";
  return std::nullopt;
}

std::optional<Finding> findEncryption(const xml::Element& stanza) {
  std::optional<Finding> payload;
  std::optional<Finding> otr;
  std::optional<Finding> declared;
  walk(stanza, [&](const xml::Element& el) {
    payload = encryptedPayload(el);
    if (payload) return false;  // the strongest evidence there is
    if (!otr && el.is("body", ns::kClient)) {
      if (auto marker = otrMarker(el.text())) otr = Finding{Scheme::Otr, std::move(*marker)};
    }
    if (!declared) declared = declaredEncryption(el);
    return true;
  });
  if (payload) return payload;
  if (otr) return otr;
  return declared;
}

bool isOmemoKeyNode(std::string_view node) {
  if (node == "eu.siacs.conversations.axolotl.devicelist") return true;
  if (node.starts_with("eu.siacs.conversations.axolotl.bundles:")) return true;
  if (!node.starts_with(kOmemoPrefix)) return false;
  std::string_view rest = node.substr(kOmemoPrefix.size());  // "2:devices"
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || !allDigits(rest.substr(0, colon))) return false;
  std::string_view leaf = rest.substr(colon + 1);
  return leaf == "devices" || leaf == "bundles";
}

bool isOpenPgpKeyNode(std::string_view node) {
  // urn:xmpp:openpgp:0:public-keys, :public-keys:<fingerprint>, :secret-key
  return node.size() > kOpenPgp.size() + 1 && node.starts_with(kOpenPgp) &&
         node[kOpenPgp.size()] == ':';
}

std::optional<KeyPublish> findKeyPublish(const xml::Element& iq) {
  if (iq.name() != "iq" || iq.attrOr("type") != "set") return std::nullopt;
  const xml::Element* pubsub = iq.child("pubsub", kPubsub);
  if (!pubsub) return std::nullopt;
  for (const xml::Element* publish : pubsub->childrenNamed("publish", kPubsub)) {
    std::string_view node = publish->attrOr("node");
    if (isOmemoKeyNode(node)) return KeyPublish{Scheme::Omemo, std::string(node)};
    if (isOpenPgpKeyNode(node)) return KeyPublish{Scheme::OpenPgp, std::string(node)};
  }
  return std::nullopt;
}

}  // namespace parley::modules::e2ee
