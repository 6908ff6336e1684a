#pragma once
// Payment card numbers (PCI DSS PAN): 13 to 19 digits, written in one piece or in groups
// separated by spaces, dashes or dots, that pass the Luhn check and begin with an issuer
// prefix whose scheme issues that length. Order numbers, ISBNs and phone numbers fail one of the
// three. A number in a longer run of groups (an IBAN, an order reference) is found too.
#include <string_view>
#include <vector>

#include "match.hpp"

namespace parley::modules::dlp {

bool luhnValid(std::string_view digits);

// The card scheme ("visa", "mastercard", "amex", ...) issuing numbers of this prefix and
// length; empty when none does.
std::string_view cardScheme(std::string_view digits);

// Matches in the normalised text; masked keeps the last four digits ("**** **** **** 1111").
std::vector<Match> findPaymentCards(std::string_view text);

}  // namespace parley::modules::dlp
