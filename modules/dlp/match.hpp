#pragma once
// What a DLP detector reports: where in the normalised text (NormalizedText::text) it found
// something, how sure it is, and a masked rendering that is safe to show in an event or to
// deliver in place of the original. The raw value is never kept.
#include <cstddef>
#include <string>

namespace parley::modules::dlp {

enum class Confidence { Low = 1, Medium = 2, High = 3 };

struct Match {
  size_t begin = 0, end = 0;  // [begin, end) in the normalised text
  Confidence confidence = Confidence::High;
  std::string masked;  // e.g. "**** **** **** 1111"
  std::string kind;    // e.g. "visa", "ssn", "iban:de"
};

}  // namespace parley::modules::dlp
