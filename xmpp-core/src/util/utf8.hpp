#pragma once
// UTF-8 validation shared by JID preparation and SASLprep, which both hand text to libidn.

#include <string_view>

namespace parley::util {

// Strict RFC 3629 UTF-8: no overlong forms, surrogates or code points above U+10FFFF. NUL is
// refused too: libidn works on C strings, so an embedded NUL would silently truncate the text.
bool isValidUtf8(std::string_view s);

}  // namespace parley::util
