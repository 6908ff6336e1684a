#include "xml/stream_parser.hpp"

#include <expat.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace parley::xml {
namespace {

// Expat joins a namespace URI and a local name with this byte. XML 1.0 forbids U+0001 in
// documents (even as &#1;), and Expat refuses namespace URIs containing the separator, so a
// split at its first occurrence is unambiguous.
constexpr char kNsSeparator = '\x01';

// Unfinished tokens shorter than this are cheap enough to rescan on every read.
constexpr uint64_t kHoldThreshold = 1024;

struct QName {
  std::string_view ns;
  std::string_view local;
};

QName splitName(const XML_Char* expat_name) {
  std::string_view full(expat_name);
  size_t sep = full.find(kNsSeparator);
  if (sep == std::string_view::npos) return {{}, full};
  return {full.substr(0, sep), full.substr(sep + 1)};
}

bool equalsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

// Expat errors that can only come from entity declarations or references beyond the five
// predefined ones: all of them are restricted XML (RFC 6120 §11.1), not merely malformed XML.
bool isEntityError(XML_Error code) {
  switch (code) {
    case XML_ERROR_UNDEFINED_ENTITY:
    case XML_ERROR_RECURSIVE_ENTITY_REF:
    case XML_ERROR_BINARY_ENTITY_REF:
    case XML_ERROR_ATTRIBUTE_EXTERNAL_ENTITY_REF:
    case XML_ERROR_EXTERNAL_ENTITY_HANDLING:
    case XML_ERROR_PARAM_ENTITY_REF:
    case XML_ERROR_ENTITY_DECLARED_IN_PE:
    case XML_ERROR_NOT_STANDALONE:
    case XML_ERROR_AMPLIFICATION_LIMIT_BREACH:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct StreamParser::Impl {
  explicit Impl(StreamParser& owner) : owner_(owner) { create(); }
  ~Impl() {
    if (parser_ != nullptr) XML_ParserFree(parser_);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void create() {
    parser_ = XML_ParserCreateNS("UTF-8", kNsSeparator);
    if (parser_ == nullptr) throw std::bad_alloc();
    XML_SetUserData(parser_, this);
    // Debian's Expat 2.5 carries the 2.6 reparse deferral, which holds back a completed token
    // until the buffer has doubled: on an interactive stream that would stall a stanza until the
    // peer sends more, possibly forever. feed() does its own, latency-free holding instead.
    if (!XML_SetReparseDeferralEnabled(parser_, XML_FALSE) ||
        !XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER)) {
      throw std::logic_error("Expat refused the parser configuration");
    }
    XML_SetElementHandler(parser_, &Impl::onStart, &Impl::onEnd);
    XML_SetCharacterDataHandler(parser_, &Impl::onText);
    XML_SetCdataSectionHandler(parser_, &Impl::onCdataMark, &Impl::onCdataMark);
    XML_SetStartNamespaceDeclHandler(parser_, &Impl::onNamespaceDecl);
    XML_SetXmlDeclHandler(parser_, &Impl::onXmlDecl);
    XML_SetStartDoctypeDeclHandler(parser_, &Impl::onDoctype);
    XML_SetEntityDeclHandler(parser_, &Impl::onEntityDecl);
    XML_SetCommentHandler(parser_, &Impl::onComment);
    XML_SetProcessingInstructionHandler(parser_, &Impl::onProcessingInstruction);
  }

  void reset() {
    if (parser_ != nullptr) XML_ParserFree(parser_);
    parser_ = nullptr;
    create();
    depth_ = 0;
    fed_ = 0;
    stanza_start_ = 0;
    boundary_ = 0;
    opened_ = false;
    closed_ = false;
    namespace_decls_ = 0;
    content_ns_.clear();
    progress_ = 0;
    close_end_ = 0;
    held_.clear();
    stack_.clear();
    stanza_ = Element();
    header_raw_.clear();
    replaying_ = false;
  }

  // Between stanzas an Expat parser holds about 10 KiB (name pools, hash tables, buffers) that
  // only matter while a stanza is being read. An idle session gives them back; the next bytes
  // get a fresh parser primed with the stream header as the peer sent it, so namespace
  // declarations and the root's qualified name (for </stream:stream>) are exactly as before.
  bool hibernate() {
    if (parser_ == nullptr) return true;
    if (!opened_ || closed_ || depth_ != 1 || !held_.empty() || pendingBytes() != 0 ||
        owner_.failed_ || header_raw_.empty())
      return false;
    XML_ParserFree(parser_);
    parser_ = nullptr;
    return true;
  }

  bool wake() {
    create();
    depth_ = 0;
    fed_ = 0;
    stanza_start_ = 0;
    boundary_ = 0;
    progress_ = 0;
    opened_ = false;
    namespace_decls_ = 0;
    std::vector<StreamEvent> none;
    replaying_ = true;
    bool ok = parse(header_raw_, none);
    replaying_ = false;
    return ok && opened_ && depth_ == 1;
  }

  // Bytes that belong to the top-level element (or stream header) being received but have not
  // completed it yet. Between stanzas Expat has reported everything up to the next '<' as
  // character data, so what remains past `boundary_` is the unfinished start of the next one.
  uint64_t pendingBytes() const {
    if (closed_) return 0;
    if (!opened_) return fed_;
    if (depth_ >= 2) return fed_ - stanza_start_;
    return fed_ - boundary_;
  }

  std::string tooBig() const {
    return std::string(opened_ ? "stanza" : "stream header") + " exceeds " +
           std::to_string(owner_.limits_.max_stanza_bytes) + " bytes";
  }

  // Records the first error and makes Expat return from XML_Parse as soon as possible.
  void fail(std::string condition, std::string text) {
    if (owner_.failed_) return;
    owner_.failed_ = true;
    owner_.error_ = ParseError{std::move(condition), std::move(text)};
    XML_StopParser(parser_, XML_FALSE);
  }

  uint64_t eventEnd() const {
    return static_cast<uint64_t>(XML_GetCurrentByteIndex(parser_)) +
           static_cast<uint64_t>(XML_GetCurrentByteCount(parser_));
  }

  bool feed(std::string_view bytes, std::vector<StreamEvent>& out) {
    if (parser_ == nullptr && !wake()) {
      if (!owner_.failed_) fail("internal-server-error", "could not resume the stream parser");
      return false;
    }
    // Expat guesses UTF-16 from a NUL or a byte-order mark in the first two bytes even when told
    // the input is UTF-8, but only when it sees both at once: decide on them ourselves, before
    // Expat sees anything, so the verdict cannot depend on the first read's length.
    if (fed_ == 0) {
      if (held_.size() + bytes.size() < 2) {
        held_.append(bytes);
        return true;
      }
      const auto byteAt = [&](size_t i) {
        return static_cast<uint8_t>(i < held_.size() ? held_[i] : bytes[i - held_.size()]);
      };
      const uint8_t b0 = byteAt(0), b1 = byteAt(1);
      if (b0 == 0 || b1 == 0 || (b0 == 0xFE && b1 == 0xFF) || (b0 == 0xFF && b1 == 0xFE)) {
        fail("unsupported-encoding", "the stream is not UTF-8");
        return false;
      }
    }
    // Expat rescans an unfinished token from its start on every call, so a peer trickling a long
    // start tag a byte at a time would cost time quadratic in its length. Every event ends with
    // '>', so bytes without one cannot complete anything: keep them until one arrives or the
    // size limit needs checking. Errors in held bytes surface later but identically.
    const uint64_t unreported = fed_ - progress_ + held_.size();
    if (!closed_ && unreported >= kHoldThreshold && bytes.find('>') == std::string_view::npos &&
        pendingBytes() + held_.size() + bytes.size() <= owner_.limits_.max_stanza_bytes) {
      held_.append(bytes);
      return true;
    }
    if (held_.empty()) return parse(bytes, out);
    held_.append(bytes);
    std::string held = std::move(held_);
    held_.clear();
    return parse(held, out);
  }

  bool parse(std::string_view bytes, std::vector<StreamEvent>& out) {
    out_ = &out;
    // Expat only calls back once a whole start tag is scanned, so a peer could otherwise make it
    // buffer an endless tag. Handing it at most one byte past the remaining budget means the
    // limit trips at the same byte however the input was split.
    while (!bytes.empty()) {
      if (closed_) {
        checkAfterClose(bytes);
        break;
      }
      const uint64_t limit = owner_.limits_.max_stanza_bytes;
      const uint64_t pending = pendingBytes();
      // XML_Parse takes an int length.
      size_t chunk = std::min<size_t>(bytes.size(), size_t{1} << 30);
      if (!closed_ && pending <= limit && limit - pending + 1 < chunk) {
        chunk = static_cast<size_t>(limit - pending + 1);
      }
      if (!opened_ && !replaying_) header_raw_.append(bytes.data(), chunk);
      fed_ += chunk;
      XML_Status status = XML_Parse(parser_, bytes.data(), static_cast<int>(chunk), XML_FALSE);
      if (status != XML_STATUS_OK && closed_ && !owner_.failed_) {
        // onEnd stopped Expat at the end of the stream; the rest of this chunk is ours to check.
        bytes.remove_prefix(static_cast<size_t>(close_end_ - (fed_ - chunk)));
        continue;
      }
      bytes.remove_prefix(chunk);
      if (status != XML_STATUS_OK) {
        if (!owner_.failed_) failFromExpat();
        break;
      }
      if (pendingBytes() > limit) {
        fail("policy-violation", tooBig());
        break;
      }
    }
    out_ = nullptr;
    return !owner_.failed_;
  }

  // Only whitespace may follow </stream:stream>. Expat's own epilog errors depend on how much of
  // a junk token it has seen, so this verdict is made here, byte by byte.
  void checkAfterClose(std::string_view bytes) {
    for (char c : bytes) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        fail("not-well-formed", "data after the end of the stream");
        return;
      }
    }
  }

  void failFromExpat() {
    XML_Error code = XML_GetErrorCode(parser_);
    std::string text = XML_ErrorString(code);
    text += " at line " + std::to_string(XML_GetCurrentLineNumber(parser_)) + ", column " +
            std::to_string(XML_GetCurrentColumnNumber(parser_));
    if (isEntityError(code)) {
      fail("restricted-xml", std::move(text));
    } else if (code == XML_ERROR_UNKNOWN_ENCODING || code == XML_ERROR_INCORRECT_ENCODING) {
      fail("unsupported-encoding", std::move(text));
    } else if (code == XML_ERROR_NO_MEMORY) {
      fail("resource-constraint", std::move(text));
    } else {
      fail("not-well-formed", std::move(text));
    }
  }

  bool checkName(std::string_view local, const char* what) {
    if (local.size() <= owner_.limits_.max_name_bytes) return true;
    fail("policy-violation", std::string(what) + " name exceeds " +
                                 std::to_string(owner_.limits_.max_name_bytes) + " bytes");
    return false;
  }

  static void onStart(void* data, const XML_Char* name, const XML_Char** atts) {
    auto& self = *static_cast<Impl*>(data);
    if (self.owner_.failed_) return;
    self.progress_ = self.eventEnd();
    const ParserLimits& limits = self.owner_.limits_;

    // Expat passes namespace declarations to onNamespaceDecl, not here; they count all the same.
    unsigned attr_count = self.namespace_decls_;
    self.namespace_decls_ = 0;
    for (const XML_Char** a = atts; *a != nullptr; a += 2) ++attr_count;
    if (attr_count > limits.max_attributes) {
      self.fail("policy-violation",
                "element has more than " + std::to_string(limits.max_attributes) + " attributes");
      return;
    }
    if (self.depth_ >= 1 && self.depth_ > limits.max_depth) {
      self.fail("policy-violation",
                "stanza nesting exceeds " + std::to_string(limits.max_depth) + " levels");
      return;
    }

    QName qname = splitName(name);
    if (!self.checkName(qname.local, "element")) return;
    const bool mapped = self.depth_ >= 1 && !self.owner_.mapped_from_.empty() &&
                        qname.ns == self.owner_.mapped_from_;
    Element el{mapped ? self.owner_.mapped_to_ : std::string(qname.ns), std::string(qname.local)};
    for (const XML_Char** a = atts; *a != nullptr; a += 2) {
      QName attr = splitName(a[0]);
      if (!self.checkName(attr.local, "attribute")) return;
      el.setAttr(attr.local, a[1], attr.ns);
    }

    if (self.depth_ == 0) {
      if (self.eventEnd() > limits.max_stanza_bytes) {
        self.fail("policy-violation", self.tooBig());
        return;
      }
      self.opened_ = true;
      self.boundary_ = self.eventEnd();
      if (self.replaying_) {
        ++self.depth_;
        return;  // the header was reported when it first arrived
      }
      self.header_raw_.resize(static_cast<size_t>(self.boundary_));
      self.out_->push_back(StreamEvent{StreamEvent::Kind::Open, std::move(el)});
    } else if (self.depth_ == 1) {
      self.stanza_start_ = static_cast<uint64_t>(XML_GetCurrentByteIndex(self.parser_));
      self.stanza_ = std::move(el);
      self.stack_.push_back(&self.stanza_);
    } else {
      self.stack_.push_back(&self.stack_.back()->addChild(std::move(el)));
    }
    ++self.depth_;
  }

  static void onEnd(void* data, const XML_Char* /*name*/) {
    auto& self = *static_cast<Impl*>(data);
    if (self.owner_.failed_) return;
    self.progress_ = self.eventEnd();
    --self.depth_;
    if (self.depth_ == 0) {
      self.closed_ = true;
      self.close_end_ = self.progress_;
      self.out_->push_back(StreamEvent{StreamEvent::Kind::Close, Element()});
      XML_StopParser(self.parser_, XML_FALSE);  // see checkAfterClose
      return;
    }
    self.stack_.pop_back();
    if (self.depth_ == 1) {
      const uint64_t end = self.eventEnd();
      if (end - self.stanza_start_ > self.owner_.limits_.max_stanza_bytes) {
        self.fail("policy-violation", self.tooBig());
        return;
      }
      self.boundary_ = end;
      self.out_->push_back(StreamEvent{StreamEvent::Kind::Stanza, std::move(self.stanza_)});
      self.stanza_ = Element();
    }
  }

  static void onText(void* data, const XML_Char* s, int len) {
    auto& self = *static_cast<Impl*>(data);
    if (self.owner_.failed_) return;
    self.progress_ = self.eventEnd();
    if (self.depth_ >= 2) {
      self.stack_.back()->addText(std::string_view(s, static_cast<size_t>(len)));
    } else if (self.depth_ == 1) {
      // Whitespace between stanzas (keepalives) is dropped, and must not count against the
      // next stanza's size.
      self.boundary_ = self.eventEnd();
    }
  }

  static void onCdataMark(void* data) {
    auto& self = *static_cast<Impl*>(data);
    self.progress_ = self.eventEnd();
    if (self.depth_ == 1) self.boundary_ = self.progress_;
  }

  static void onNamespaceDecl(void* data, const XML_Char* prefix, const XML_Char* uri) {
    auto& self = *static_cast<Impl*>(data);
    if (self.owner_.failed_) return;
    ++self.namespace_decls_;
    const size_t max = self.owner_.limits_.max_namespace_bytes;
    if (uri != nullptr && std::strlen(uri) > max) {
      self.fail("policy-violation", "namespace URI exceeds " + std::to_string(max) + " bytes");
      return;
    }
    if (self.depth_ == 0 && prefix == nullptr) self.content_ns_ = uri != nullptr ? uri : "";
  }

  static void onXmlDecl(void* data, const XML_Char* /*version*/, const XML_Char* encoding,
                        int /*standalone*/) {
    auto& self = *static_cast<Impl*>(data);
    self.progress_ = self.eventEnd();
    // RFC 6120 §11.6: UTF-8 only. The parser was created for UTF-8, so Expat ignores the
    // declaration; refusing it here keeps a peer from believing it was honoured.
    if (encoding != nullptr && !equalsIgnoreAsciiCase(encoding, "UTF-8")) {
      self.fail("unsupported-encoding", std::string("encoding '") + encoding + "' is not UTF-8");
    }
  }

  static void onDoctype(void* data, const XML_Char* /*name*/, const XML_Char* /*sysid*/,
                        const XML_Char* /*pubid*/, int /*has_internal_subset*/) {
    static_cast<Impl*>(data)->fail("restricted-xml", "DOCTYPE is not allowed");
  }

  static void onEntityDecl(void* data, const XML_Char* /*name*/, int /*is_param*/,
                           const XML_Char* /*value*/, int /*len*/, const XML_Char* /*base*/,
                           const XML_Char* /*sysid*/, const XML_Char* /*pubid*/,
                           const XML_Char* /*notation*/) {
    static_cast<Impl*>(data)->fail("restricted-xml", "entity declarations are not allowed");
  }

  static void onComment(void* data, const XML_Char* /*text*/) {
    static_cast<Impl*>(data)->fail("restricted-xml", "comments are not allowed");
  }

  static void onProcessingInstruction(void* data, const XML_Char* /*target*/,
                                      const XML_Char* /*pi*/) {
    static_cast<Impl*>(data)->fail("restricted-xml", "processing instructions are not allowed");
  }

  StreamParser& owner_;
  XML_Parser parser_ = nullptr;
  std::vector<StreamEvent>* out_ = nullptr;
  unsigned depth_ = 0;         // Expat nesting: 1 inside the stream header, 2 inside a stanza
  uint64_t fed_ = 0;           // bytes handed to Expat since the stream began
  uint64_t stanza_start_ = 0;  // stream offset of the current stanza's start tag
  uint64_t boundary_ = 0;      // end of the last top-level thing Expat reported
  uint64_t close_end_ = 0;     // stream offset just past </stream:stream>
  uint64_t progress_ = 0;      // end of the last event Expat reported at any depth
  std::string held_;           // bytes not yet given to Expat, see feed()
  bool opened_ = false;
  bool closed_ = false;
  unsigned namespace_decls_ = 0;  // declared on the start tag being reported
  std::string content_ns_;
  std::string header_raw_;  // the stream header as received, replayed by wake()
  bool replaying_ = false;
  std::vector<Element*> stack_;  // open elements of the current stanza, outermost first
  Element stanza_;
};

StreamParser::StreamParser(ParserLimits limits)
    : impl_(std::make_unique<Impl>(*this)), limits_(limits) {}

StreamParser::~StreamParser() = default;

bool StreamParser::feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (failed_) return false;
  return impl_->feed(bytes, out);
}

void StreamParser::restart() {
  impl_->reset();
  failed_ = false;
  error_ = ParseError{};
}

void StreamParser::setLimits(const ParserLimits& limits) { limits_ = limits; }

void StreamParser::mapNamespace(std::string from, std::string to) {
  mapped_from_ = std::move(from);
  mapped_to_ = std::move(to);
}

bool StreamParser::hibernate() { return !failed_ && impl_->hibernate(); }

const std::string& StreamParser::contentNamespace() const { return impl_->content_ns_; }

}  // namespace parley::xml
