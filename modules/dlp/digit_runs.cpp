#include "digit_runs.hpp"

namespace parley::modules::dlp {

std::vector<DigitRun> digitRuns(std::string_view text) {
  std::vector<DigitRun> runs;
  size_t i = 0;
  while (i < text.size()) {
    if (!isDigit(text[i])) {
      ++i;
      continue;
    }
    DigitRun run;
    for (;;) {
      DigitGroup group{i, i};
      while (i < text.size() && isDigit(text[i])) ++i;
      group.end = i;
      run.groups.push_back(group);
      // One separator followed by a digit continues the run; anything else ends it.
      if (i + 1 < text.size() && isDigitSeparator(text[i]) && isDigit(text[i + 1])) {
        ++i;
        continue;
      }
      break;
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

std::string digitsOf(std::string_view text, const DigitRun& run, size_t first, size_t last) {
  std::string digits;
  for (size_t g = first; g <= last; ++g) {
    digits.append(text.substr(run.groups[g].begin, run.groups[g].end - run.groups[g].begin));
  }
  return digits;
}

std::string maskDigits(std::string_view text, size_t begin, size_t end, size_t keep) {
  size_t digits = 0;
  for (size_t i = begin; i < end; ++i) digits += isDigit(text[i]) ? 1 : 0;
  std::string out(text.substr(begin, end - begin));
  size_t seen = 0;
  for (char& c : out) {
    if (!isDigit(c)) continue;
    if (++seen + keep <= digits) c = '*';
  }
  return out;
}

}  // namespace parley::modules::dlp
