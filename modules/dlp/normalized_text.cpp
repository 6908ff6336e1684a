#include "normalized_text.hpp"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <stdexcept>

namespace parley::modules::dlp {
namespace {

void check(UErrorCode status, const char* what) {
  if (U_FAILURE(status)) {
    throw std::runtime_error(std::string("DLP text normalisation: ") + what + ": " +
                             u_errorName(status));
  }
}

void appendUtf8(std::string& out, UChar32 c) {
  char buf[U8_MAX_LENGTH];
  int32_t n = 0;
  U8_APPEND_UNSAFE(buf, n, c);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

struct TextNormalizer::Icu {
  const UNormalizer2* nfkc_cf = nullptr;  // owned by ICU
  USpoofChecker* spoof = nullptr;

  ~Icu() {
    if (spoof) uspoof_close(spoof);
  }

  // The UTS #39 skeleton of one letter, case-folded, as UTF-8.
  std::string skeleton(UChar32 c) const {
    UChar in[2];
    int32_t in_len = 0;
    U16_APPEND_UNSAFE(in, in_len, c);
    UChar out[32];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t out_len = uspoof_getSkeleton(spoof, 0, in, in_len, out, 32, &status);
    std::string utf8;
    if (U_FAILURE(status)) {  // a skeleton longer than 32 units: keep the letter itself
      appendUtf8(utf8, c);
      return utf8;
    }
    for (int32_t i = 0; i < out_len;) {
      UChar32 s;
      U16_NEXT(out, i, out_len, s);
      appendUtf8(utf8, u_foldCase(s, U_FOLD_CASE_DEFAULT));
    }
    return utf8;
  }
};

TextNormalizer::TextNormalizer() : icu_(std::make_unique<Icu>()) {
  UErrorCode status = U_ZERO_ERROR;
  icu_->nfkc_cf = unorm2_getNFKCCasefoldInstance(&status);
  check(status, "NFKC_Casefold data");
  icu_->spoof = uspoof_open(&status);
  check(status, "confusables data");
  uspoof_setChecks(icu_->spoof, USPOOF_CONFUSABLE, &status);
  check(status, "confusables data");
}

TextNormalizer::~TextNormalizer() = default;

NormalizedText TextNormalizer::normalize(std::string_view utf8) const {
  NormalizedText out;
  out.text.reserve(utf8.size());
  out.origin_begin.reserve(utf8.size());
  out.origin_end.reserve(utf8.size());
  const auto* src = reinterpret_cast<const uint8_t*>(utf8.data());
  const auto length = static_cast<int32_t>(utf8.size());

  auto emit = [&out](std::string_view bytes, uint32_t begin, uint32_t end) {
    out.text.append(bytes);
    out.origin_begin.insert(out.origin_begin.end(), bytes.size(), begin);
    out.origin_end.insert(out.origin_end.end(), bytes.size(), end);
  };
  // A run of white space becomes one ' ' standing for the whole run.
  auto emitSpace = [&out, &emit](uint32_t begin, uint32_t end) {
    if (!out.text.empty() && out.text.back() == ' ') {
      out.origin_end.back() = end;
      return;
    }
    emit(" ", begin, end);
  };

  // Characters that compose with each other (a letter and its combining marks) are normalised
  // together, as one segment; everything they produce maps to all of their original bytes.
  std::vector<UChar> segment;
  uint32_t segment_begin = 0, segment_end = 0;
  std::vector<UChar> normalized(64);
  auto flush = [&]() {
    if (segment.empty()) return;
    UErrorCode status = U_ZERO_ERROR;
    int32_t n =
        unorm2_normalize(icu_->nfkc_cf, segment.data(), static_cast<int32_t>(segment.size()),
                         normalized.data(), static_cast<int32_t>(normalized.size()), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      normalized.resize(static_cast<size_t>(n));
      status = U_ZERO_ERROR;
      n = unorm2_normalize(icu_->nfkc_cf, segment.data(), static_cast<int32_t>(segment.size()),
                           normalized.data(), n, &status);
    }
    segment.clear();
    if (U_FAILURE(status)) return;  // unreachable for valid UTF-16; the segment is dropped
    for (int32_t i = 0; i < n;) {
      UChar32 c;
      U16_NEXT(normalized.data(), i, n, c);
      std::string bytes;
      if (u_charType(c) == U_DECIMAL_DIGIT_NUMBER) {
        bytes.push_back(static_cast<char>('0' + u_charDigitValue(c)));
      } else if (u_isUWhiteSpace(c)) {
        emitSpace(segment_begin, segment_end);
        continue;
      } else if (c >= 0x80 && u_isalpha(c)) {
        bytes = icu_->skeleton(c);
      } else {
        appendUtf8(bytes, c);
      }
      emit(bytes, segment_begin, segment_end);
    }
  };

  for (int32_t i = 0; i < length;) {
    const auto begin = static_cast<uint32_t>(i);
    UChar32 c;
    U8_NEXT(src, i, length, c);
    if (c < 0) c = 0xFFFD;
    const auto end = static_cast<uint32_t>(i);
    // ASCII outside a segment needs no ICU call: the common case, kept cheap.
    if (c < 0x80 && segment.empty() && (i >= length || src[i] < 0x80)) {
      if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
      if (c == ' ' || (c >= '\t' && c <= '\r')) {
        emitSpace(begin, end);
      } else {
        const char ch = static_cast<char>(c);
        emit(std::string_view(&ch, 1), begin, end);
      }
      continue;
    }
    if (u_charType(c) == U_DECIMAL_DIGIT_NUMBER) {  // Arabic-Indic, Devanagari, full-width...
      flush();
      const char digit = static_cast<char>('0' + u_charDigitValue(c));
      emit(std::string_view(&digit, 1), begin, end);
      continue;
    }
    if (u_isUWhiteSpace(c)) {
      flush();
      emitSpace(begin, end);
      continue;
    }
    if (!segment.empty() && unorm2_hasBoundaryBefore(icu_->nfkc_cf, c)) flush();
    if (segment.empty()) segment_begin = begin;
    segment_end = end;
    UChar units[2];
    int32_t n = 0;
    U16_APPEND_UNSAFE(units, n, c);
    segment.insert(segment.end(), units, units + n);
  }
  flush();
  return out;
}

}  // namespace parley::modules::dlp
