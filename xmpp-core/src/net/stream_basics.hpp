#pragma once
// What every inbound XML stream shares, whoever is at the other end (a client, an external
// component): the parser bounds, stream ids, stream errors, the rules a stanza's shape must
// follow, and the plaintext read that keeps idle connections free of buffers.

#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "parley/xml/element.hpp"
#include "xml/stream_parser.hpp"

namespace parley::net {

// The parser bounds the configuration sets: the small pre-authentication stanza size until the
// peer has authenticated, max_stanza_bytes after.
xml::ParserLimits parserLimits(const config::Config& config, bool authenticated);

// `bytes` random bytes in hex: stream ids, generated resources, ping ids.
std::string randomHexId(size_t bytes = 12);

// <stream:error><CONDITION/><text>TEXT</text></stream:error> (without the closing stream tag).
std::string streamErrorXml(std::string_view condition, std::string_view text);

// Why a stanza's shape is wrong (RFC 6120 §8: iq type, id and payload; presence type), as the
// stanza error condition and text to bounce it with; nullopt when it is fine.
struct ShapeError {
  std::string_view condition;
  std::string_view text;
};
std::optional<ShapeError> stanzaShapeError(const xml::Element& stanza);

// One read attempt on a non-blocking plaintext socket into a per-thread buffer, so an idle
// connection holds no read buffer at all. The bytes are valid until the caller next suspends
// (parse them first). On would_block, wait for readability and try again; always try before
// waiting, since Asio's epoll reactor is edge-triggered and bytes that arrived while the
// session was busy raise no new readiness event. A plain function, not a coroutine: no frame
// is allocated per read.
std::string_view readPlainNow(boost::asio::ip::tcp::socket& socket, boost::system::error_code& ec);

}  // namespace parley::net
