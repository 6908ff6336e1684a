#include "detector.hpp"

#include <algorithm>
#include <array>

namespace parley::modules::file_transfer {

namespace {

using xml::Element;

constexpr std::string_view kSi = "http://jabber.org/protocol/si";
constexpr std::string_view kSiFileProfile = "http://jabber.org/protocol/si/profile/file-transfer";
constexpr std::string_view kBytestreams = "http://jabber.org/protocol/bytestreams";
constexpr std::string_view kIbb = "http://jabber.org/protocol/ibb";
constexpr std::string_view kJingle = "urn:xmpp:jingle:1";
// Every version (:3 Swift and older Conversations, :4, :5 Dino, Gajim and Conversations),
// and whatever comes next: a new version is still a file transfer.
constexpr std::string_view kJingleFtPrefix = "urn:xmpp:jingle:apps:file-transfer:";
constexpr std::string_view kJingleMessagePrefix = "urn:xmpp:jingle-message:";
// XEP-0363 today, its 0.2 namespace (Dino still speaks it), and the one Conversations used
// before the XEP existed.
constexpr std::array<std::string_view, 3> kUpload = {
    "urn:xmpp:http:upload:0", "urn:xmpp:http:upload", "eu:siacs:conversations:http:upload"};
constexpr std::string_view kIqOob = "jabber:iq:oob";
constexpr std::string_view kXOob = "jabber:x:oob";
constexpr std::string_view kBob = "urn:xmpp:bob";
constexpr std::string_view kSfs = "urn:xmpp:sfs:0";
constexpr std::string_view kUrlData = "http://jabber.org/protocol/url-data";
constexpr std::string_view kReference = "urn:xmpp:reference:0";
constexpr std::string_view kSims = "urn:xmpp:sims:1";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool isUploadNs(std::string_view ns) {
  return std::find(kUpload.begin(), kUpload.end(), ns) != kUpload.end();
}

template <class Fn>
std::optional<Finding> firstOfChildren(const Element& parent, Fn&& classify) {
  for (const auto& node : parent.children()) {
    if (node.isText()) continue;
    if (auto finding = classify(*node.element)) return finding;
  }
  return std::nullopt;
}

bool hasFileTransferDescription(const Element& parent) {
  for (const auto& node : parent.children()) {
    if (!node.isText() && node.element->name() == "description" &&
        startsWith(node.element->ns(), kJingleFtPrefix)) {
      return true;
    }
  }
  return false;
}

// The Jingle actions that carry a content description; anything else says "other" rather
// than echo what the client wrote.
std::string_view jingleStep(std::string_view action) {
  for (std::string_view known : {"session-initiate", "session-accept", "content-add",
                                 "content-accept", "content-modify", "description-info"}) {
    if (action == known) return known;
  }
  return "other";
}

std::optional<Finding> jingle(const Element& j) {
  // A session may mix contents (a call that also sends a file); one file content is enough.
  for (const Element* content : j.childrenNamed("content", kJingle)) {
    if (hasFileTransferDescription(*content)) {
      return Finding{Mechanism::JingleFt, jingleStep(j.attrOr("action")), {}};
    }
  }
  return std::nullopt;
}

std::optional<Finding> socks5(const Element& query, std::string_view iq_type) {
  std::string_view step = "other";
  if (query.child("activate", kBytestreams)) {
    step = "activation";
  } else if (query.child("streamhost", kBytestreams)) {
    step = "streamhost-offer";
  } else if (iq_type == "get") {
    step = "proxy-discovery";  // asking a proxy for its address, before any transfer
  }
  return Finding{Mechanism::Socks5, step, {}};
}

std::optional<Finding> ibb(const Element& el) {
  for (std::string_view step : {"open", "data", "close"}) {
    if (el.name() == step) return Finding{Mechanism::Ibb, step, {}};
  }
  return std::nullopt;
}

std::optional<Finding> iqPayload(const Element& el, std::string_view iq_type) {
  const std::string& ns = el.ns();
  if (el.is("si", kSi)) {
    // The profile attribute is what the receiver acts on; the <file/> child is checked too so
    // that an offer without the attribute is not waved through.
    if (el.attrOr("profile") == kSiFileProfile || el.child("file", kSiFileProfile)) {
      return Finding{Mechanism::SiOffer, {}, {}};
    }
    return std::nullopt;
  }
  if (el.is("query", kBytestreams)) return socks5(el, iq_type);
  if (ns == kIbb) return ibb(el);
  if (el.is("jingle", kJingle)) return jingle(el);
  if (el.name() == "request" && isUploadNs(ns)) return Finding{Mechanism::HttpUpload, {}, {}};
  if (el.is("query", kIqOob)) {
    return Finding{Mechanism::OobIq, {}, urlHost(el.childText("url", kIqOob))};
  }
  if (el.is("data", kBob)) return Finding{Mechanism::Bob, {}, {}};
  return std::nullopt;
}

std::string sfsHost(const Element* sources) {
  if (!sources) return {};
  const Element* url = sources->child("url-data", kUrlData);
  return url ? urlHost(url->attrOr("target")) : std::string();
}

std::optional<Finding> messageLink(const Element& el) {
  if (el.is("x", kXOob)) return Finding{Mechanism::OobUrl, {}, urlHost(el.childText("url", kXOob))};
  // <sources/> alone attaches a source to an earlier share (XEP-0447 with XEP-0367).
  if (el.is("sources", kSfs)) return Finding{Mechanism::Sfs, {}, sfsHost(&el)};
  if (el.is("file-sharing", kSfs)) {
    return Finding{Mechanism::Sfs, {}, sfsHost(el.child("sources", kSfs))};
  }
  if (el.is("reference", kReference)) {
    if (const Element* media = el.child("media-sharing", kSims)) {
      std::string host;
      if (const Element* sources = media->child("sources", kSims)) {
        if (const Element* ref = sources->child("reference", kReference)) {
          host = urlHost(ref->attrOr("uri"));
        }
      }
      return Finding{Mechanism::Sims, {}, std::move(host)};
    }
  }
  return std::nullopt;
}

std::optional<Finding> messagePayload(const Element& el, const DetectOptions& options) {
  if (el.is("data", kIbb)) return Finding{Mechanism::Ibb, "data", {}};
  if (el.is("data", kBob)) return Finding{Mechanism::Bob, {}, {}};
  if (el.name() == "propose" && startsWith(el.ns(), kJingleMessagePrefix) &&
      hasFileTransferDescription(el)) {
    return Finding{Mechanism::JingleFt, "propose", {}};
  }
  if (options.message_links) return messageLink(el);
  return std::nullopt;
}

}  // namespace

std::optional<Finding> detect(const Element& stanza, const DetectOptions& options) {
  const std::string_view type = stanza.attrOr("type");
  if (type == "error") return std::nullopt;
  if (stanza.name() == "iq") {
    // Only get and set ask for something; results answer. A missing or odd type is checked
    // like a request: fail closed, the core refuses malformed iqs anyway.
    if (type == "result") return std::nullopt;
    return firstOfChildren(stanza, [&](const Element& el) { return iqPayload(el, type); });
  }
  if (stanza.name() == "message") {
    return firstOfChildren(stanza, [&](const Element& el) { return messagePayload(el, options); });
  }
  return std::nullopt;
}

std::string_view mechanismName(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::SiOffer:
      return "si";
    case Mechanism::Socks5:
      return "socks5";
    case Mechanism::Ibb:
      return "ibb";
    case Mechanism::JingleFt:
      return "jingle-ft";
    case Mechanism::HttpUpload:
      return "http-upload";
    case Mechanism::OobIq:
      return "oob";
    case Mechanism::OobUrl:
      return "oob-url";
    case Mechanism::Sfs:
      return "sfs";
    case Mechanism::Sims:
      return "sims";
    case Mechanism::Bob:
      return "bob";
  }
  return "unknown";
}

std::string_view mechanismXep(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::SiOffer:
      return "XEP-0096";
    case Mechanism::Socks5:
      return "XEP-0065";
    case Mechanism::Ibb:
      return "XEP-0047";
    case Mechanism::JingleFt:
      return "XEP-0234";
    case Mechanism::HttpUpload:
      return "XEP-0363";
    case Mechanism::OobIq:
    case Mechanism::OobUrl:
      return "XEP-0066";
    case Mechanism::Sfs:
      return "XEP-0447";
    case Mechanism::Sims:
      return "XEP-0385";
    case Mechanism::Bob:
      return "XEP-0231";
  }
  return "unknown";
}

bool isMessageLink(Mechanism mechanism) {
  return mechanism == Mechanism::OobUrl || mechanism == Mechanism::Sfs ||
         mechanism == Mechanism::Sims;
}

bool isMessageLinkFeature(std::string_view var) {
  return var == kXOob || var == kSfs || var == kSims;
}

bool isFileTransferFeature(std::string_view var) {
  for (std::string_view f : {kSi, kSiFileProfile, kBytestreams, kIbb, kIqOob, kBob}) {
    if (var == f) return true;
  }
  return isUploadNs(var) || startsWith(var, kJingleFtPrefix) || isMessageLinkFeature(var);
}

std::string urlHost(std::string_view url) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t first = url.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  url = url.substr(first, url.find_last_not_of(kSpace) - first + 1);

  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return {};
  std::string_view authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // user:password@ never goes into an event
  }
  const bool literal = !authority.empty() && authority.front() == '[';
  if (literal) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return {};
    authority = authority.substr(0, close + 1);
  } else {
    authority = authority.substr(0, authority.find(':'));
  }
  if (authority.empty()) return {};

  // A restricted alphabet keeps the value safe to put into JSON and readable in a report;
  // anything else (an IDN in Unicode, stray bytes) is dropped rather than escaped.
  std::string host;
  for (char c : authority) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (c >= 'A' && c <= 'Z') {
      host += static_cast<char>(c - 'A' + 'a');
    } else if (plain || (literal && (c == ':' || c == '[' || c == ']'))) {
      host += c;
    } else {
      return {};
    }
  }
  return host;
}

}  // namespace parley::modules::file_transfer
