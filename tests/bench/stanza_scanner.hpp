// A minimal incremental scanner that cuts an XMPP stream into its top-level elements. It is
// enough for a load generator talking to a well-behaved server: it tracks tag nesting (quotes
// in attribute values, self-closing tags, comments, CDATA, processing instructions) and hands
// back each complete child of <stream:stream> as raw text. It does not validate anything.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace parley::bench {

class StanzaScanner {
 public:
  enum class Status { kStanza, kNeedMore, kStreamEnd };

  void reset() {
    buf_.clear();
    pos_ = 0;
    depth_ = 0;
    stanzaStart_ = 0;
  }

  void append(const char* data, size_t size) { buf_.append(data, size); }

  // Extracts the next complete top-level element into `out`.
  Status next(std::string& out) {
    for (;;) {
      size_t lt = buf_.find('<', pos_);
      if (lt == std::string::npos) {
        pos_ = buf_.size();
        compact();
        return Status::kNeedMore;
      }
      if (lt + 1 >= buf_.size()) return needMore(lt);
      const char c = buf_[lt + 1];
      size_t end;
      if (c == '?') {
        end = buf_.find("?>", lt + 2);
        if (end == std::string::npos) return needMore(lt);
        pos_ = end + 2;
      } else if (c == '!') {
        std::string_view rest(buf_.data() + lt, buf_.size() - lt);
        const char* terminator = ">";
        if (rest.substr(0, 4) == "<!--") {
          terminator = "-->";
        } else if (rest.substr(0, 9) == "<![CDATA[") {
          terminator = "]]>";
        } else if (rest.size() < 9) {
          return needMore(lt);
        }
        end = buf_.find(terminator, lt + 2);
        if (end == std::string::npos) return needMore(lt);
        pos_ = end + std::string_view(terminator).size();
      } else if (c == '/') {
        end = buf_.find('>', lt + 2);
        if (end == std::string::npos) return needMore(lt);
        pos_ = end + 1;
        --depth_;
        if (depth_ <= 0) {
          reset();
          return Status::kStreamEnd;
        }
        if (depth_ == 1) return emit(out);
      } else {
        end = tagEnd(lt + 1);
        if (end == std::string::npos) return needMore(lt);
        pos_ = end + 1;
        const bool selfClosing = buf_[end - 1] == '/';
        if (depth_ == 0) {
          depth_ = 1;  // the stream header
          buf_.erase(0, pos_);
          pos_ = 0;
        } else if (depth_ == 1) {
          stanzaStart_ = lt;
          if (selfClosing) return emit(out);
          depth_ = 2;
        } else if (!selfClosing) {
          ++depth_;
        }
      }
    }
  }

 private:
  Status needMore(size_t lt) {
    pos_ = lt;
    compact();
    return Status::kNeedMore;
  }

  // Drops consumed bytes when no stanza is open.
  void compact() {
    if (depth_ <= 1 && pos_ > 0) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
  }

  Status emit(std::string& out) {
    out.assign(buf_, stanzaStart_, pos_ - stanzaStart_);
    buf_.erase(0, pos_);
    pos_ = 0;
    stanzaStart_ = 0;
    return Status::kStanza;
  }

  size_t tagEnd(size_t from) const {
    char quote = 0;
    for (size_t i = from; i < buf_.size(); ++i) {
      const char c = buf_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '>') {
        return i;
      }
    }
    return std::string::npos;
  }

  std::string buf_;
  size_t pos_ = 0;
  int depth_ = 0;
  size_t stanzaStart_ = 0;
};

// Local name of the element that `stanza` starts with ("stream:error" → "error").
inline std::string_view elementName(std::string_view stanza) {
  if (stanza.empty() || stanza[0] != '<') return {};
  size_t end = stanza.find_first_of(" \t\r\n/>", 1);
  std::string_view name = stanza.substr(1, end == std::string_view::npos ? end : end - 1);
  if (size_t colon = name.find(':'); colon != std::string_view::npos) {
    name = name.substr(colon + 1);
  }
  return name;
}

// Text content of the first <name> child (no entity decoding; callers only read base64,
// JIDs and digits).
inline std::optional<std::string_view> childText(std::string_view stanza, std::string_view name) {
  size_t pos = 0;
  for (;;) {
    pos = stanza.find(name, pos);
    if (pos == std::string_view::npos) return std::nullopt;
    if (pos > 0 && (stanza[pos - 1] == '<' || stanza[pos - 1] == ':')) {
      size_t after = pos + name.size();
      if (after < stanza.size() &&
          (stanza[after] == '>' || stanza[after] == ' ' || stanza[after] == '/')) {
        size_t gt = stanza.find('>', after);
        if (gt == std::string_view::npos) return std::nullopt;
        if (stanza[gt - 1] == '/') return std::string_view();
        size_t close = stanza.find("</", gt);
        if (close == std::string_view::npos) return std::nullopt;
        return stanza.substr(gt + 1, close - gt - 1);
      }
    }
    pos += name.size();
  }
}

// Content of the whole top-level element (between its start tag and end tag).
inline std::string_view elementText(std::string_view stanza) {
  size_t gt = stanza.find('>');
  if (gt == std::string_view::npos || stanza[gt - 1] == '/') return {};
  size_t close = stanza.rfind("</");
  if (close == std::string_view::npos || close < gt) return {};
  return stanza.substr(gt + 1, close - gt - 1);
}

// Value of attribute `name` on the top-level element.
inline std::optional<std::string_view> attributeValue(std::string_view stanza,
                                                      std::string_view name) {
  size_t gt = stanza.find('>');
  std::string_view tag = stanza.substr(0, gt);
  size_t pos = 0;
  while ((pos = tag.find(name, pos)) != std::string_view::npos) {
    size_t eq = pos + name.size();
    bool boundary = pos > 0 && (tag[pos - 1] == ' ' || tag[pos - 1] == '\t' ||
                                tag[pos - 1] == '\n' || tag[pos - 1] == '\r');
    if (boundary && eq + 1 < tag.size() && tag[eq] == '=' &&
        (tag[eq + 1] == '\'' || tag[eq + 1] == '"')) {
      const char quote = tag[eq + 1];
      size_t end = tag.find(quote, eq + 2);
      if (end == std::string_view::npos) return std::nullopt;
      return tag.substr(eq + 2, end - eq - 2);
    }
    pos = eq;
  }
  return std::nullopt;
}

}  // namespace parley::bench
