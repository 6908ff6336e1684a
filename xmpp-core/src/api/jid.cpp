#include "parley/jid.hpp"

#include <arpa/inet.h>
#include <idna.h>
#include <stringprep.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "api/jid_testing.hpp"
#include "util/utf8.hpp"

namespace parley {
namespace {

// RFC 7622 §3.1: every part is limited to 1023 octets once prepared.
constexpr size_t kMaxPart = 1023;
// Bounds the work handed to libidn. Preparation can shrink input (characters mapped to nothing),
// so the raw limit is looser than kMaxPart, but nothing legitimate comes close to it.
constexpr size_t kMaxRawPart = 4 * kMaxPart;
// RFC 1035 label limit, which IDNA ToASCII enforces on the ACE form.
constexpr size_t kMaxLabel = 63;

// Relaxed is enough: the switch is only flipped by single-threaded tests.
std::atomic<bool> g_fast_path{true};

bool fastPathEnabled() { return g_fast_path.load(std::memory_order_relaxed); }

bool isAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool isLdh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// Runs a stringprep profile on valid, NUL-free UTF-8. Unassigned code points are allowed (query
// semantics), so addresses using characters newer than Unicode 3.2 (emoji in resources) still
// work, as with other stringprep-based servers. nullopt when the profile refuses the input or the
// result exceeds kMaxPart.
std::optional<std::string> runProfile(std::string_view in, const Stringprep_profile* profile) {
  // stringprep() works in place: the buffer must hold the input and the output plus a NUL. Output
  // longer than kMaxPart is refused anyway, so TOO_SMALL_BUFFER simply means "too long".
  const size_t cap = std::max(in.size(), kMaxPart) + 1;
  std::string buf(cap, '\0');
  std::memcpy(buf.data(), in.data(), in.size());
  if (stringprep(buf.data(), cap, static_cast<Stringprep_profile_flags>(0), profile) !=
      STRINGPREP_OK) {
    return std::nullopt;
  }
  buf.resize(std::strlen(buf.c_str()));
  if (buf.size() > kMaxPart) return std::nullopt;
  return buf;
}

// --- node ---------------------------------------------------------------------------------

// Nodeprep on pure ASCII reduces to: refuse controls, space and " & ' / : < > @ (RFC 3920 App. A
// plus C.1.1/C.2.1), fold A-Z. Anything else goes to libidn.
bool nodeFastPath(std::string_view in, std::string& out) {
  if (in.empty() || in.size() > kMaxPart) return false;
  out.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c < 0x21 || c > 0x7E) return false;
    switch (c) {
      case '"':
      case '&':
      case '\'':
      case '/':
      case ':':
      case '<':
      case '>':
      case '@':
        return false;
      default:
        out[i] = asciiLower(c);
    }
  }
  return true;
}

std::optional<std::string> prepNode(std::string_view in) {
  std::string out;
  if (fastPathEnabled() && nodeFastPath(in, out)) return out;
  if (in.size() > kMaxRawPart || !util::isValidUtf8(in)) return std::nullopt;
  auto prepped = runProfile(in, stringprep_xmpp_nodeprep);
  if (!prepped || prepped->empty()) return std::nullopt;
  return prepped;
}

// --- resource -----------------------------------------------------------------------------

// Resourceprep on printable ASCII (space included, it is only prohibited by Nodeprep) is the
// identity: no case folding, and only controls are prohibited.
bool resourceFastPath(std::string_view in) {
  if (in.empty() || in.size() > kMaxPart) return false;
  return std::all_of(in.begin(), in.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

std::optional<std::string> prepResource(std::string_view in) {
  if (fastPathEnabled() && resourceFastPath(in)) return std::string(in);
  if (in.size() > kMaxRawPart || !util::isValidUtf8(in)) return std::nullopt;
  auto prepped = runProfile(in, stringprep_xmpp_resourceprep);
  if (!prepped || prepped->empty()) return std::nullopt;
  return prepped;
}

// --- domain -------------------------------------------------------------------------------

// "[IPv6]" in the canonical RFC 5952 text form, so that equal addresses compare equal.
std::optional<std::string> prepIpv6Literal(std::string_view in) {
  if (in.size() < 3 || in.front() != '[' || in.back() != ']') return std::nullopt;
  const std::string inner(in.substr(1, in.size() - 2));
  in6_addr addr{};
  if (inet_pton(AF_INET6, inner.c_str(), &addr) != 1) return std::nullopt;
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &addr, text, sizeof text) == nullptr) return std::nullopt;
  return "[" + std::string(text) + "]";
}

// An all-ASCII label under IDNA ToASCII with UseSTD3ASCIIRules: no nameprep, only LDH characters,
// no leading or trailing hyphen, 1..63 octets. Appends the lowercased label to `out`.
bool appendAsciiLabel(std::string_view label, std::string& out) {
  if (label.empty() || label.size() > kMaxLabel) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!isLdh(c)) return false;
    out.push_back(asciiLower(c));
  }
  return true;
}

// Plain host names: labels of LDH characters. IPv4 literals fall under this too. Exactly what the
// slow path does for ASCII labels, minus the UTF-8 validation and the label splitting on
// non-ASCII dots.
bool domainFastPath(std::string_view in, std::string& out) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty() || in.size() > kMaxPart) return false;
  out.clear();
  out.reserve(in.size());
  size_t start = 0;
  while (true) {
    const size_t dot = in.find('.', start);
    const std::string_view label =
        in.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!appendAsciiLabel(label, out)) return false;
    if (dot == std::string_view::npos) return true;
    out.push_back('.');
    start = dot + 1;
  }
}

// A non-ASCII label: Nameprep, then ToASCII with STD3 rules to check what DNS would get (LDH
// only, length of the ACE form). The stored form stays the Unicode one (RFC 7622 §3.2).
std::optional<std::string> prepUnicodeLabel(std::string_view label) {
  auto prepped = runProfile(label, stringprep_nameprep);
  if (!prepped || prepped->empty()) return std::nullopt;
  // Nameprep can turn a character into a dot (U+2024 ONE DOT LEADER); idna_to_ascii_8z would then
  // split it into two labels, while ToASCII on the one label fails STD3. Refuse it here.
  if (prepped->find('.') != std::string::npos) return std::nullopt;
  char* ace = nullptr;
  const int rc = idna_to_ascii_8z(prepped->c_str(), &ace, IDNA_USE_STD3_ASCII_RULES);
  std::unique_ptr<char, decltype(&std::free)> owned(ace, &std::free);
  if (rc != IDNA_SUCCESS || ace == nullptr) return std::nullopt;
  const size_t ace_len = std::strlen(ace);
  if (ace_len == 0 || ace_len > kMaxLabel) return std::nullopt;
  return prepped;
}

// IDNA label separators (RFC 3490 §3.1): full stop, ideographic full stop, fullwidth full stop,
// halfwidth ideographic full stop. Returns the byte length of a separator at `pos`, else 0.
size_t dotLength(std::string_view s, size_t pos) {
  if (s[pos] == '.') return 1;
  const std::string_view rest = s.substr(pos);
  if (rest.starts_with("\xE3\x80\x82") || rest.starts_with("\xEF\xBC\x8E") ||
      rest.starts_with("\xEF\xBD\xA1")) {
    return 3;
  }
  return 0;
}

std::optional<std::string> prepDomainSlow(std::string_view in) {
  if (in.size() > kMaxRawPart || !util::isValidUtf8(in)) return std::nullopt;
  // Split into labels on any IDNA dot first, so the trailing-dot rule applies to all of them.
  std::vector<std::string_view> labels;
  size_t start = 0;
  for (size_t i = 0; i < in.size();) {
    if (const size_t n = dotLength(in, i); n != 0) {
      labels.push_back(in.substr(start, i - start));
      i += n;
      start = i;
    } else {
      ++i;
    }
  }
  labels.push_back(in.substr(start));
  // One trailing dot names the same (fully qualified) domain.
  if (labels.size() > 1 && labels.back().empty()) labels.pop_back();

  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i != 0) out.push_back('.');
    if (isAscii(labels[i])) {
      if (!appendAsciiLabel(labels[i], out)) return std::nullopt;
    } else {
      auto label = prepUnicodeLabel(labels[i]);
      if (!label) return std::nullopt;
      out += *label;
    }
  }
  if (out.empty() || out.size() > kMaxPart) return std::nullopt;
  return out;
}

std::optional<std::string> prepDomain(std::string_view in) {
  if (!in.empty() && in.front() == '[') return prepIpv6Literal(in);
  std::string out;
  if (fastPathEnabled() && domainFastPath(in, out)) return out;
  return prepDomainSlow(in);
}

}  // namespace

namespace detail {
void setJidFastPathEnabled(bool enabled) { g_fast_path.store(enabled, std::memory_order_relaxed); }
}  // namespace detail

std::optional<std::string> nodeprep(std::string_view node) { return prepNode(node); }
std::optional<std::string> nameprep(std::string_view domain) { return prepDomain(domain); }
std::optional<std::string> resourceprep(std::string_view resource) {
  return prepResource(resource);
}

std::optional<Jid> Jid::parse(std::string_view text) {
  // RFC 7622 §3.1: the first '/' starts the resource (which may itself hold '@' and '/'); the
  // node is what precedes the first '@' before that.
  const size_t slash = text.find('/');
  const std::string_view head = text.substr(0, slash);
  std::string_view resource;
  if (slash != std::string_view::npos) {
    resource = text.substr(slash + 1);
    if (resource.empty()) return std::nullopt;
  }
  const size_t at = head.find('@');
  std::string_view node;
  std::string_view domain = head;
  if (at != std::string_view::npos) {
    node = head.substr(0, at);
    domain = head.substr(at + 1);
    if (node.empty()) return std::nullopt;
  }
  return make(node, domain, resource);
}

std::optional<Jid> Jid::make(std::string_view node, std::string_view domain,
                             std::string_view resource) {
  Jid jid;
  if (!node.empty()) {
    auto prepped = prepNode(node);
    if (!prepped) return std::nullopt;
    jid.node_ = std::move(*prepped);
  }
  auto prepped_domain = prepDomain(domain);
  if (!prepped_domain) return std::nullopt;
  jid.domain_ = std::move(*prepped_domain);
  if (!resource.empty()) {
    auto prepped = prepResource(resource);
    if (!prepped) return std::nullopt;
    jid.resource_ = std::move(*prepped);
  }
  jid.full_ = jid.bareString();
  if (!jid.resource_.empty()) {
    jid.full_.reserve(jid.full_.size() + 1 + jid.resource_.size());
    jid.full_.push_back('/');
    jid.full_ += jid.resource_;
  }
  return jid;
}

Jid Jid::bare() const {
  Jid jid;
  jid.node_ = node_;
  jid.domain_ = domain_;
  jid.full_ = bareString();
  return jid;
}

std::optional<Jid> Jid::withResource(std::string_view resource) const {
  if (empty()) return std::nullopt;
  auto prepped = prepResource(resource);
  if (!prepped) return std::nullopt;
  Jid jid = bare();
  jid.resource_ = std::move(*prepped);
  jid.full_.reserve(jid.full_.size() + 1 + jid.resource_.size());
  jid.full_.push_back('/');
  jid.full_ += jid.resource_;
  return jid;
}

std::string Jid::bareString() const {
  if (node_.empty()) return domain_;
  std::string out;
  out.reserve(node_.size() + 1 + domain_.size());
  out += node_;
  out.push_back('@');
  out += domain_;
  return out;
}

}  // namespace parley
