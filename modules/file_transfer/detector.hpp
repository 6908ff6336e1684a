#pragma once
// Recognises the ways XMPP clients move files, from the stanza alone: pure functions on the
// element tree, so they are tested without a server and reused by whatever hook calls them.
//
// Only offers and requests are recognised, never answers: an iq result or an error stanza
// carries no file the sender chose to send, and refusing one would start an error loop.

#include <optional>
#include <string>
#include <string_view>

#include "parley/xml/element.hpp"

namespace parley::modules::file_transfer {

enum class Mechanism {
  SiOffer,     // XEP-0096 stream initiation with the file-transfer profile
  Socks5,      // XEP-0065 SOCKS5 bytestreams: stream host offer, proxy discovery, activation
  Ibb,         // XEP-0047 in-band bytestreams: open, data, close (in iq and in message)
  JingleFt,    // XEP-0234 Jingle file transfer, and its XEP-0353 proposal in a message
  HttpUpload,  // XEP-0363 upload slot request
  OobIq,       // XEP-0066 iq:oob: "fetch this file from my URL"
  OobUrl,      // XEP-0066 x:oob in a message: a link the client shows as an attached file
  Sfs,         // XEP-0447 stateless file sharing in a message (links, like x:oob)
  Sims,        // XEP-0385 stateless inline media sharing in a message (links, like x:oob)
  Bob,         // XEP-0231 bits of binary: file bytes inside the stanza
};

struct Finding {
  Mechanism mechanism;
  // A fixed word for the protocol step when it matters to a reader of the event
  // ("proxy-discovery", "open", "session-initiate"); empty otherwise. Never stanza text.
  std::string_view step;
  // Host of the URL the payload points at, lowercased; empty when there is none or it does not
  // look like a host name. Only the host: a URL's path usually names the file.
  std::string url_host;
};

struct DetectOptions {
  // Whether messages that share a file as a link (x:oob, SFS, SIMS) count: config `oob_urls`.
  bool message_links = true;
};

// The first file-transfer payload of a message or iq, in document order; nullopt for anything
// else, for every error stanza and for iq results.
std::optional<Finding> detect(const xml::Element& stanza, const DetectOptions& options = {});

// "jingle-ft", "http-upload", ...: the suffix of the event kind and the "mechanism" detail.
std::string_view mechanismName(Mechanism mechanism);
// "XEP-0234", ...
std::string_view mechanismXep(Mechanism mechanism);
// Whether a message link mechanism (x:oob, SFS, SIMS), which `oob_urls: allow` lets through.
bool isMessageLink(Mechanism mechanism);

// Disco features that make a client offer "send file".
bool isFileTransferFeature(std::string_view var);
// The subset that only announces message links (kept when `oob_urls: allow`).
bool isMessageLinkFeature(std::string_view var);

// "https://user@Upload.Example.org:5281/a/b.pdf" → "upload.example.org"; "" when `url` has no
// scheme://host or the host holds anything but letters, digits, '.', '-', '_' (or an IP literal).
std::string urlHost(std::string_view url);

}  // namespace parley::modules::file_transfer
