#include "payment_cards.hpp"

#include <cstdlib>
#include <string>

#include "digit_runs.hpp"

namespace parley::modules::dlp {
namespace {

struct Scheme {
  std::string_view name;
  unsigned low, high;  // prefix range, both ends inclusive, compared on the first `width` digits
  unsigned width;
  unsigned min_length, max_length;
};

// Issuer identification ranges (ISO/IEC 7812) of the schemes a company's staff would paste.
constexpr Scheme kSchemes[] = {
    {"visa", 4, 4, 1, 13, 19},
    {"mastercard", 51, 55, 2, 16, 16},
    {"mastercard", 2221, 2720, 4, 16, 16},
    {"amex", 34, 34, 2, 15, 15},
    {"amex", 37, 37, 2, 15, 15},
    {"discover", 6011, 6011, 4, 16, 19},
    {"discover", 644, 649, 3, 16, 19},
    {"discover", 65, 65, 2, 16, 19},
    {"jcb", 3528, 3589, 4, 16, 19},
    {"diners", 300, 305, 3, 14, 19},
    {"diners", 3095, 3095, 4, 14, 19},
    {"diners", 36, 36, 2, 14, 19},
    {"diners", 38, 39, 2, 16, 19},
    {"unionpay", 62, 62, 2, 16, 19},
    {"maestro", 5018, 5018, 4, 13, 19},
    {"maestro", 5020, 5020, 4, 13, 19},
    {"maestro", 5038, 5038, 4, 13, 19},
    {"maestro", 5893, 5893, 4, 13, 19},
    {"maestro", 6304, 6304, 4, 13, 19},
    {"maestro", 6759, 6759, 4, 13, 19},
    {"maestro", 6761, 6763, 4, 13, 19},
    {"mir", 2200, 2204, 4, 16, 19},
};

unsigned prefix(std::string_view digits, unsigned width) {
  unsigned value = 0;
  for (unsigned i = 0; i < width; ++i) value = value * 10 + static_cast<unsigned>(digits[i] - '0');
  return value;
}

}  // namespace

bool luhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  unsigned sum = 0;
  bool twice = false;
  for (size_t i = digits.size(); i-- > 0;) {
    unsigned d = static_cast<unsigned>(digits[i] - '0');
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

std::string_view cardScheme(std::string_view digits) {
  for (const auto& s : kSchemes) {
    if (digits.size() < s.min_length || digits.size() > s.max_length) continue;
    const unsigned p = prefix(digits, s.width);
    if (p >= s.low && p <= s.high) return s.name;
  }
  return {};
}

std::vector<Match> findPaymentCards(std::string_view text) {
  std::vector<Match> found;
  for (const auto& run : digitRuns(text)) {
    const size_t groups = run.groups.size();
    for (size_t first = 0; first < groups; ++first) {
      bool matched = false;
      size_t length = 0;
      for (size_t last = first; last < groups && !matched; ++last) {
        length += run.groups[last].end - run.groups[last].begin;
        if (length > 19) break;
        if (length < 13) continue;
        const std::string digits = digitsOf(text, run, first, last);
        const std::string_view scheme = cardScheme(digits);
        if (scheme.empty() || !luhnValid(digits)) continue;
        const size_t begin = run.groups[first].begin, end = run.groups[last].end;
        found.push_back(
            {begin, end, Confidence::High, maskDigits(text, begin, end, 4), std::string(scheme)});
        first = last;  // the next candidate starts after this number
        matched = true;
      }
    }
  }
  return found;
}

}  // namespace parley::modules::dlp
