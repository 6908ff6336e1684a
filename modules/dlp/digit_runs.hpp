#pragma once
// Numbers as people write them in chat: digits in groups separated by single spaces, dashes or
// dots ("4111 1111-1111.1111"). The card, SSN and IBAN detectors look for their shapes inside
// these runs of the normalised text.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parley::modules::dlp {

struct DigitGroup {
  size_t begin = 0, end = 0;  // in the text
};

struct DigitRun {
  std::vector<DigitGroup> groups;  // at least one; consecutive groups are one separator apart
  size_t begin() const { return groups.front().begin; }
  size_t end() const { return groups.back().end; }
};

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isDigitSeparator(char c) { return c == ' ' || c == '-' || c == '.'; }

// Every maximal run of digit groups in `text`.
std::vector<DigitRun> digitRuns(std::string_view text);

// The digits of groups [first, last] of `run`, without separators.
std::string digitsOf(std::string_view text, const DigitRun& run, size_t first, size_t last);

// The text of [begin, end) with every digit but the last `keep` replaced by '*'.
std::string maskDigits(std::string_view text, size_t begin, size_t end, size_t keep);

}  // namespace parley::modules::dlp
