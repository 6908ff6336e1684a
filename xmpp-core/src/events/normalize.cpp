#include "events/normalize.hpp"

#include <boost/json.hpp>

#include "util/utf8.hpp"

namespace parley::events {
namespace {

namespace json = boost::json;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

size_t sequenceLength(unsigned char lead) {
  if (lead >= 0x01 && lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // NUL, a continuation byte, or never valid
}

bool hasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string withoutNul(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\0') {
      out += kReplacement;
    } else {
      out += c;
    }
  }
  return out;
}

// Boost.JSON's parser has validated the UTF-8 already; only \u0000 escapes remain to remove.
void replaceNuls(json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      if (hasNul(v.get_string())) v = withoutNul(v.get_string());
      break;
    case json::kind::array:
      for (auto& item : v.get_array()) replaceNuls(item);
      break;
    case json::kind::object: {
      auto& obj = v.get_object();
      bool bad_key = false;
      for (auto& kv : obj) {
        replaceNuls(kv.value());
        bad_key = bad_key || hasNul(kv.key());
      }
      if (bad_key) {  // keys cannot be changed in place
        json::object rebuilt;
        for (auto& kv : obj) rebuilt[withoutNul(kv.key())] = std::move(kv.value());
        v = std::move(rebuilt);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

std::string cleanText(std::string_view text) {
  if (util::isValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  while (i < text.size()) {
    size_t len = sequenceLength(static_cast<unsigned char>(text[i]));
    if (len != 0 && i + len <= text.size() && util::isValidUtf8(text.substr(i, len))) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out;
}

std::string normalizedDetail(std::string_view detail_json) {
  if (detail_json.empty()) return "{}";
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(detail_json.data(), detail_json.size()), ec);
  if (!ec && v.is_object()) {
    replaceNuls(v);
    return json::serialize(v);
  }
  json::object wrapped;
  wrapped["unparsed_detail"] = cleanText(detail_json);  // NULs included
  return json::serialize(wrapped);
}

void normalize(ComplianceEvent& event) {
  for (std::string* field : {&event.kind, &event.actor, &event.target, &event.stanza_id,
                             &event.session, &event.module, &event.clause, &event.node}) {
    if (!util::isValidUtf8(*field)) *field = cleanText(*field);
  }
  event.detail_json = normalizedDetail(event.detail_json);
}

}  // namespace parley::events
