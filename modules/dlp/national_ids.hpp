#pragma once
// US Social Security numbers and IBANs (ISO 13616) in the normalised text.
#include <string_view>
#include <vector>

#include "match.hpp"

namespace parley::modules::dlp {

// AAA-GG-SSSS with dashes (high confidence), spaces (medium) or none (nine digits alone: low,
// as order numbers look the same). Never issued: area 000, 666 or 900-999, group 00, serial
// 0000, and the numbers published in advertising (078-05-1120, 219-09-9999).
bool ssnValid(std::string_view nine_digits);
std::vector<Match> findSsns(std::string_view text);

// Country code, two check digits and the country's BBAN length, in groups of four or in one
// piece, with the ISO 7064 mod-97 check equal to 1. Letters are lower case in the normalised
// text; the kind names the country ("iban:de").
bool ibanValid(std::string_view compact_lowercase);
std::vector<Match> findIbans(std::string_view text);

}  // namespace parley::modules::dlp
