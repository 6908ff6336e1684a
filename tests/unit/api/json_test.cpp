#include <catch2/catch.hpp>

#include "parley/json.hpp"

TEST_CASE("jsonString quotes and escapes what an event detail may carry", "[api][json]") {
  CHECK(parley::jsonString("") == "\"\"");
  CHECK(parley::jsonString("omemo") == "\"omemo\"");
  CHECK(parley::jsonString("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(parley::jsonString(std::string_view("\n\x01", 2)) == "\"\\u000a\\u0001\"");
  CHECK(parley::jsonString("§4 é") == "\"§4 é\"");  // UTF-8 passes through
}
