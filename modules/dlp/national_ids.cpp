#include "national_ids.hpp"

#include <string>

#include "digit_runs.hpp"

namespace parley::modules::dlp {
namespace {

bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isAlnum(char c) { return isLower(c) || isDigit(c); }

int number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// IBAN lengths by country (SWIFT IBAN registry).
struct IbanCountry {
  char code[3];
  unsigned length;
};
constexpr IbanCountry kIbanCountries[] = {
    {"ad", 24}, {"ae", 23}, {"al", 28}, {"at", 20}, {"az", 28}, {"ba", 20}, {"be", 16}, {"bg", 22},
    {"bh", 22}, {"br", 29}, {"by", 28}, {"ch", 21}, {"cr", 22}, {"cy", 28}, {"cz", 24}, {"de", 22},
    {"dk", 18}, {"do", 28}, {"ee", 20}, {"eg", 29}, {"es", 24}, {"fi", 18}, {"fo", 18}, {"fr", 27},
    {"gb", 22}, {"ge", 22}, {"gi", 23}, {"gl", 18}, {"gr", 27}, {"gt", 28}, {"hr", 21}, {"hu", 28},
    {"ie", 22}, {"il", 23}, {"iq", 23}, {"is", 26}, {"it", 27}, {"jo", 30}, {"kw", 30}, {"kz", 20},
    {"lb", 28}, {"lc", 32}, {"li", 21}, {"lt", 20}, {"lu", 20}, {"lv", 21}, {"mc", 27}, {"md", 24},
    {"me", 22}, {"mk", 19}, {"mr", 27}, {"mt", 31}, {"mu", 30}, {"nl", 18}, {"no", 15}, {"pk", 24},
    {"pl", 28}, {"ps", 29}, {"pt", 25}, {"qa", 29}, {"ro", 24}, {"rs", 22}, {"sa", 24}, {"sc", 31},
    {"se", 24}, {"si", 19}, {"sk", 24}, {"sm", 27}, {"st", 25}, {"sv", 28}, {"tl", 23}, {"tn", 24},
    {"tr", 26}, {"ua", 29}, {"va", 22}, {"vg", 24}, {"xk", 20},
};

unsigned ibanLength(std::string_view country) {
  for (const auto& c : kIbanCountries) {
    if (country == c.code) return c.length;
  }
  return 0;
}

}  // namespace

bool ssnValid(std::string_view d) {
  if (d.size() != 9) return false;
  const int area = number(d.substr(0, 3)), group = number(d.substr(3, 2)),
            serial = number(d.substr(5, 4));
  if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0) return false;
  return d != "078051120" && d != "219099999";
}

std::vector<Match> findSsns(std::string_view text) {
  std::vector<Match> found;
  for (const auto& run : digitRuns(text)) {
    const auto& g = run.groups;
    auto width = [&](size_t i) { return g[i].end - g[i].begin; };
    Confidence confidence;
    if (g.size() == 3 && width(0) == 3 && width(1) == 2 && width(2) == 4 &&
        text[g[0].end] == text[g[1].end] && text[g[0].end] != '.') {
      confidence = text[g[0].end] == '-' ? Confidence::High : Confidence::Medium;
    } else if (g.size() == 1 && width(0) == 9) {
      confidence = Confidence::Low;
    } else {
      continue;
    }
    if (!ssnValid(digitsOf(text, run, 0, g.size() - 1))) continue;
    found.push_back(
        {run.begin(), run.end(), confidence, maskDigits(text, run.begin(), run.end(), 4), "ssn"});
  }
  return found;
}

bool ibanValid(std::string_view iban) {
  if (iban.size() < 15 || iban.size() != ibanLength(iban.substr(0, 2))) return false;
  if (!isDigit(iban[2]) || !isDigit(iban[3])) return false;
  // ISO 7064 mod 97-10 over BBAN + country + check digits, letters as 10..35, piece by piece.
  unsigned remainder = 0;
  auto feed = [&remainder](char c) {
    if (isDigit(c)) {
      remainder = (remainder * 10 + static_cast<unsigned>(c - '0')) % 97;
    } else if (isLower(c)) {
      remainder = (remainder * 100 + static_cast<unsigned>(c - 'a' + 10)) % 97;
    } else {
      remainder = 1000;  // not an IBAN character
    }
  };
  for (size_t i = 4; i < iban.size() && remainder < 97; ++i) feed(iban[i]);
  for (size_t i = 0; i < 4 && remainder < 97; ++i) feed(iban[i]);
  return remainder == 1;
}

std::vector<Match> findIbans(std::string_view text) {
  std::vector<Match> found;
  for (size_t i = 0; i + 4 <= text.size(); ++i) {
    if (!isLower(text[i]) || !isLower(text[i + 1]) || !isDigit(text[i + 2]) ||
        !isDigit(text[i + 3]) || (i > 0 && isAlnum(text[i - 1]))) {
      continue;
    }
    const unsigned length = ibanLength(text.substr(i, 2));
    if (length == 0) continue;
    // Collect the IBAN's characters, allowing one space between groups.
    std::string compact;
    size_t end = i;
    while (end < text.size() && compact.size() < length) {
      if (isAlnum(text[end])) {
        compact.push_back(text[end++]);
      } else if (text[end] == ' ' && end + 1 < text.size() && isAlnum(text[end + 1]) &&
                 !compact.empty()) {
        ++end;
      } else {
        break;
      }
    }
    if (compact.size() != length || (end < text.size() && isAlnum(text[end]))) continue;
    if (!ibanValid(compact)) continue;
    std::string masked(text.substr(i, end - i));
    for (size_t k = 4, kept = 0, total = compact.size(); k < masked.size(); ++k) {
      if (!isAlnum(masked[k])) continue;
      ++kept;
      if (kept + 4 + 4 <= total) masked[k] = '*';  // country, check digits and last 4 stay
    }
    found.push_back({i, end, Confidence::High, masked, "iban:" + std::string(text.substr(i, 2))});
    i = end;
  }
  return found;
}

}  // namespace parley::modules::dlp
