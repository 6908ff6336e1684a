#include "net/stream_basics.hpp"

#include "auth/scram.hpp"
#include "parley/stanza.hpp"
#include "parley/xml/serializer.hpp"

namespace parley::net {

namespace asio = boost::asio;

namespace {

constexpr size_t kPlainReadBytes = 65536;

// A function of its own, not a thread_local inside a coroutine: GCC may keep the address of a
// coroutine's thread_local across a suspension, and the coroutine can resume on another thread.
[[gnu::noinline]] char* threadReadBuffer() {
  thread_local std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kPlainReadBytes);
  return buffer.get();
}

}  // namespace

xml::ParserLimits parserLimits(const config::Config& c, bool authenticated) {
  xml::ParserLimits l;
  l.max_stanza_bytes = authenticated ? c.limits.max_stanza_bytes : c.limits.pre_auth_stanza_bytes;
  l.max_depth = c.limits.max_depth;
  l.max_attributes = c.limits.max_attributes;
  l.max_name_bytes = c.limits.max_name_bytes;
  return l;
}

std::string randomHexId(size_t bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string raw = auth::randomBytes(bytes), out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string streamErrorXml(std::string_view condition, std::string_view text) {
  std::string out = "<stream:error><";
  out += condition;
  out += " xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>";
  if (!text.empty()) {
    out += "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>";
    xml::appendEscapedText(out, text);
    out += "</text>";
  }
  out += "</stream:error>";
  return out;
}

std::optional<ShapeError> stanzaShapeError(const xml::Element& element) {
  const std::string& name = element.name();
  std::string_view type = element.attrOr("type");
  if (name == "iq") {
    bool request = type == "get" || type == "set";
    if (!request && type != "result" && type != "error") {
      return ShapeError{"bad-request", "An iq must have type get, set, result or error."};
    }
    if (element.attr("id") == nullptr) return ShapeError{"bad-request", "An iq must carry an id."};
    size_t payloads = 0;
    for (const auto& child : element.children()) payloads += child.element ? 1 : 0;
    if (request && payloads != 1) {
      return ShapeError{"bad-request", "An iq get or set must carry exactly one payload."};
    }
  } else if (name == "presence") {
    static constexpr std::string_view kTypes[] = {"",           "unavailable", "subscribe",
                                                  "subscribed", "unsubscribe", "unsubscribed",
                                                  "probe",      "error"};
    if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) {
      return ShapeError{"bad-request", "Unknown presence type."};
    }
  }
  return std::nullopt;
}

std::string_view readPlainNow(asio::ip::tcp::socket& socket, boost::system::error_code& ec) {
  char* buffer = threadReadBuffer();
  size_t n = socket.read_some(asio::buffer(buffer, kPlainReadBytes), ec);
  return ec ? std::string_view() : std::string_view(buffer, n);
}

}  // namespace parley::net
