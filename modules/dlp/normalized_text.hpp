#pragma once
// One normalised view of a message text that every DLP detector matches on, so that the usual
// evasions need no rule of their own (IM policy §3, issue 5): Unicode NFKC with case folding
// (which also removes default-ignorable characters: zero-width space and joiners, soft hyphen,
// word joiner, BOM, bidi controls), every decimal digit of any script as its ASCII digit,
// non-ASCII letters folded to their UTS #39 confusable skeleton (Cyrillic 'а' matches Latin
// 'a'), and every run of white space as one ' '. ASCII letters are only lower-cased: their own
// skeletons ('m' as "rn") would break IBANs and account numbers, and ASCII alone is no
// homoglyph evasion. One pass, linear in the input.
//
// Each output byte remembers which bytes of the original produced it, so a match is reported,
// masked or redacted in terms of what the sender wrote.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley::modules::dlp {

struct NormalizedText {
  std::string text;  // UTF-8
  // For text[i]: the original bytes [origin_begin[i], origin_end[i]) it came from.
  std::vector<uint32_t> origin_begin, origin_end;

  // The original bytes behind text[from, to) (to > from).
  std::pair<size_t, size_t> original(size_t from, size_t to) const {
    return {origin_begin[from], origin_end[to - 1]};
  }
};

class TextNormalizer {
 public:
  // Loads ICU's NFKC_Casefold data and a confusable-skeleton checker; throws std::runtime_error
  // naming the ICU error when they are unavailable. Thread-safe once constructed.
  TextNormalizer();
  ~TextNormalizer();
  TextNormalizer(const TextNormalizer&) = delete;
  TextNormalizer& operator=(const TextNormalizer&) = delete;

  // Invalid UTF-8 counts as U+FFFD.
  NormalizedText normalize(std::string_view utf8) const;

 private:
  struct Icu;
  std::unique_ptr<Icu> icu_;
};

}  // namespace parley::modules::dlp
