#include <catch2/catch.hpp>

#include <string>
#include <tuple>

#include "api/jid_testing.hpp"
#include "parley/jid.hpp"

using parley::Jid;

namespace {

// Restores the fast path even when a REQUIRE throws out of the section.
struct FastPathOff {
  FastPathOff() { parley::detail::setJidFastPathEnabled(false); }
  ~FastPathOff() { parley::detail::setJidFastPathEnabled(true); }
};

std::optional<Jid> parseSlow(std::string_view text) {
  FastPathOff off;
  return Jid::parse(text);
}

}  // namespace

TEST_CASE("valid JIDs are prepared to their canonical parts", "[jid]") {
  auto [input, node, domain, resource] =
      GENERATE(table<std::string, std::string, std::string, std::string>({
          {"example.com", "", "example.com", ""},
          {"user@example.com", "user", "example.com", ""},
          {"user@example.com/res", "user", "example.com", "res"},
          // Node and domain fold case, the resource keeps it.
          {"UsEr@ExAmPlE.CoM/ReSoUrCe", "user", "example.com", "ReSoUrCe"},
          // The resource starts at the first '/' and may contain '@' and '/'.
          {"user@example.com/a@b/c", "user", "example.com", "a@b/c"},
          {"example.com/user@host", "", "example.com", "user@host"},
          {"example.com/a/b", "", "example.com", "a/b"},
          {"user@example.com/with space", "user", "example.com", "with space"},
          // One trailing dot names the same domain.
          {"user@example.com.", "user", "example.com", ""},
          {"user@example.com./r", "user", "example.com", "r"},
          {"localhost", "", "localhost", ""},
          {"a-b.c_d@x-y.example", "a-b.c_d", "x-y.example", ""},
          {"192.0.2.1", "", "192.0.2.1", ""},
          {"user@[2001:DB8::1]/r", "user", "[2001:db8::1]", "r"},
          {"[::1]", "", "[::1]", ""},
          {"[2001:0db8:0000:0000:0000:0000:0000:0001]", "", "[2001:db8::1]", ""},
          // Nodeprep: case folding, then NFKC: U+01C4 (DŽ) → U+01C6 → "d" U+017E.
          {"\u01C4@example.com", "d\u017E", "example.com", ""},
          // German sharp s folds to "ss" (stringprep B.2).
          {"stra\u00DFe@example.com", "strasse", "example.com", ""},
          {"STRA\u00DFE@EXAMPLE.COM", "strasse", "example.com", ""},
          // Unicode nodes, domains and resources.
          {"\u00E9l\u00E8ve@\u00E9cole.example/\u00C9t\u00E9", "\u00E9l\u00E8ve",
           "\u00E9cole.example", "\u00C9t\u00E9"},
          {"\u00C9L\u00C8VE@\u00C9COLE.example", "\u00E9l\u00E8ve", "\u00E9cole.example", ""},
          // Fullwidth letters in the domain become ASCII through Nameprep's NFKC.
          {"user@\uFF45\uFF58\uFF41\uFF4D\uFF50\uFF4C\uFF45.com", "user", "example.com", ""},
          {"user@\uFF25\uFF38\uFF21\uFF2D\uFF30\uFF2C\uFF25.com", "user", "example.com", ""},
          // Ideographic full stop separates labels like '.', also as the trailing dot.
          {"user@example\u3002com", "user", "example.com", ""},
          {"user@example\uFF0Ecom\u3002", "user", "example.com", ""},
          // Soft hyphen (stringprep B.1) is mapped to nothing in all three profiles.
          {"us\u00ADer@exa\u00ADmple.com/re\u00ADs", "user", "example.com", "res"},
          // Resourceprep keeps case but still applies NFKC.
          {"u@example.com/\uFF32", "u", "example.com", "R"},
          // Emoji (unassigned in Unicode 3.2) are allowed in resources.
          {"u@example.com/phone \U0001F4F1", "u", "example.com", "phone \U0001F4F1"},
      }));
  CAPTURE(input);
  const auto jid = Jid::parse(input);
  REQUIRE(jid.has_value());
  CHECK(jid->node() == node);
  CHECK(jid->domain() == domain);
  CHECK(jid->resource() == resource);
  std::string full = node.empty() ? domain : node + "@" + domain;
  if (!resource.empty()) full += "/" + resource;
  CHECK(jid->full() == full);

  // The canonical form is a fixed point, and the slow path agrees.
  const auto again = Jid::parse(jid->full());
  REQUIRE(again.has_value());
  CHECK(*again == *jid);
  const auto slow = parseSlow(input);
  REQUIRE(slow.has_value());
  CHECK(slow->full() == jid->full());
}

TEST_CASE("malformed JIDs are refused", "[jid]") {
  const std::string input =
      GENERATE(as<std::string>{},
               // Empty parts around separators.
               "", "@example.com", "user@", "example.com/", "user@example.com/", "@", "/", "@/",
               "/res", "@example.com/res", "user@/res",
               // Domain syntax.
               ".", "..", "example..com", ".example.com", "example.com..", "-example.com",
               "example-.com", "ex ample.com", "ex_ample.com", "user@exa*mple.com", "user@b@c",
               "[::1", "[not-ipv6]", "[1.2.3.4]", "[::1].", "user@example.com\u3002\u3002",
               // Nodeprep prohibitions: " & ' : < > and space.
               "us\"er@example.com", "us&er@example.com", "us'er@example.com", "us:er@example.com",
               "us<er@example.com", "us>er@example.com", "us er@example.com",
               // Controls and non-characters.
               "us\ter@example.com", "user@example.com/r\x7F", "user@example.com/r\x01",
               "user@example.com/\u2028", std::string("us\0er@example.com", 17),
               // Invalid UTF-8: lone continuation, overlong, surrogate,
               // truncated sequence, above U+10FFFF.
               "u\x80@example.com", "u\xC0\xAF@example.com", "u\xED\xA0\x80@example.com",
               "u@example.com/\xE2\x82", "u@example.com/\xF4\x90\x80\x80", "u@exa\xFFmple.com",
               // Bidi: RandALCat mixed with LCat.
               "\u0627a@example.com",
               // Parts that prepare to nothing.
               "\u00AD@example.com", "u@example.com/\u00AD", "\u00AD",
               // Nameprep turns U+2024 into '.', which no label may hold.
               "user@a\u2024b.com");
  CAPTURE(input);
  CHECK_FALSE(Jid::parse(input).has_value());
  CHECK_FALSE(parseSlow(input).has_value());
}

TEST_CASE("part length limits", "[jid]") {
  const std::string max(1023, 'a');
  const std::string over(1024, 'a');
  // Domains need labels of at most 63 octets.
  std::string long_domain;
  while (long_domain.size() < 1023) long_domain += std::string(63, 'b') + ".";
  long_domain.resize(1023);
  std::string over_domain = long_domain + "c";

  CHECK(Jid::parse(max + "@example.com").has_value());
  CHECK_FALSE(Jid::parse(over + "@example.com").has_value());
  CHECK(Jid::parse("u@example.com/" + max).has_value());
  CHECK_FALSE(Jid::parse("u@example.com/" + over).has_value());
  CHECK(Jid::parse("u@" + long_domain).has_value());
  CHECK_FALSE(Jid::parse("u@" + over_domain).has_value());
  CHECK(Jid::parse("u@" + long_domain + ".").has_value());  // the trailing dot does not count

  CHECK(Jid::parse(std::string(63, 'x') + ".example").has_value());
  CHECK_FALSE(Jid::parse(std::string(64, 'x') + ".example").has_value());

  // The limit applies to the prepared form: 1022 'a' + "ß" becomes 1024 octets.
  CHECK_FALSE(Jid::parse(std::string(1022, 'a') + "\u00DF@example.com").has_value());
  CHECK_FALSE(parseSlow(std::string(1022, 'a') + "\u00DF@example.com").has_value());
  // And soft hyphens mapped to nothing do not count.
  std::string shrinking(1023, 'a');
  shrinking += "\u00AD\u00AD";
  CHECK(Jid::parse(shrinking + "@example.com").has_value());
  // A multibyte resource over the limit.
  std::string multibyte;
  for (int i = 0; i < 512; ++i) multibyte += "\u00E9";  // 1024 octets
  CHECK_FALSE(Jid::parse("u@example.com/" + multibyte).has_value());
  multibyte.resize(1022);
  CHECK(Jid::parse("u@example.com/" + multibyte).has_value());

  // Unicode label over 63 octets once in ACE form.
  std::string long_label;
  for (int i = 0; i < 60; ++i) long_label += "\u00E9";
  CHECK_FALSE(Jid::parse("u@" + long_label + ".example").has_value());
}

TEST_CASE("the individual profiles", "[jid]") {
  CHECK(parley::nodeprep("User") == "user");
  CHECK(parley::nodeprep("\u01C4") == "d\u017E");
  CHECK(parley::nodeprep("Stra\u00DFe") == "strasse");
  CHECK_FALSE(parley::nodeprep("a@b").has_value());
  CHECK_FALSE(parley::nodeprep("a/b").has_value());
  CHECK_FALSE(parley::nodeprep("").has_value());
  CHECK(parley::resourceprep("Mixed Case") == "Mixed Case");
  CHECK(parley::resourceprep("a@b/c") == "a@b/c");
  CHECK_FALSE(parley::resourceprep("bell\a").has_value());
  CHECK(parley::nameprep("EXAMPLE.com.") == "example.com");
  CHECK(parley::nameprep("\u00C9cole.example") == "\u00E9cole.example");
  CHECK(parley::nameprep("[::FFFF:192.0.2.1]") == "[::ffff:192.0.2.1]");
  CHECK_FALSE(parley::nameprep("under_score.example").has_value());
  CHECK_FALSE(parley::nameprep("").has_value());
}

TEST_CASE("bare, withResource, equality and ordering", "[jid]") {
  const auto full = Jid::parse("User@Example.com/Phone");
  REQUIRE(full.has_value());
  CHECK_FALSE(full->isBare());
  CHECK_FALSE(full->isDomain());
  CHECK_FALSE(full->empty());

  const Jid bare = full->bare();
  CHECK(bare.full() == "user@example.com");
  CHECK(bare.bareString() == "user@example.com");
  CHECK(full->bareString() == "user@example.com");
  CHECK(bare.isBare());
  CHECK(bare == *Jid::parse("USER@EXAMPLE.COM."));
  CHECK(bare != *full);

  const auto laptop = bare.withResource("Laptop");
  REQUIRE(laptop.has_value());
  CHECK(laptop->full() == "user@example.com/Laptop");
  CHECK(laptop->resource() == "Laptop");
  CHECK(full->withResource("\uFF32es")->resource() == "Res");
  CHECK_FALSE(bare.withResource("").has_value());
  CHECK_FALSE(bare.withResource("bad\x01").has_value());
  CHECK_FALSE(Jid().withResource("r").has_value());

  const auto domain = Jid::parse("Example.COM");
  REQUIRE(domain.has_value());
  CHECK(domain->isDomain());
  CHECK(domain->bare() == *domain);
  CHECK(domain->bareString() == "example.com");

  // Resources are case-sensitive, nodes are not.
  CHECK(*Jid::parse("a@b/R") != *Jid::parse("a@b/r"));
  CHECK(*Jid::parse("A@b/r") == *Jid::parse("a@B/r"));
  CHECK(*Jid::parse("a@b") < *Jid::parse("a@b/r"));
  CHECK(*Jid::parse("a@b/r") < *Jid::parse("b@b"));

  const auto made = Jid::make("User", "EXAMPLE.com", "Phone");
  REQUIRE(made.has_value());
  CHECK(*made == *full);
  CHECK(Jid::make("", "example.com")->isDomain());
  CHECK_FALSE(Jid::make("a@b", "example.com").has_value());
  CHECK_FALSE(Jid::make("a", "").has_value());

  const Jid empty;
  CHECK(empty.empty());
  CHECK(empty.full().empty());
}

TEST_CASE("the ASCII fast path agrees with libidn", "[jid]") {
  // Every ASCII character in every position of node, domain and resource.
  for (int c = 0; c < 128; ++c) {
    const std::string ch(1, static_cast<char>(c));
    for (const std::string& input :
         {"a" + ch + "b@example.com", ch + "@example.com", "a@ex" + ch + "ample.com",
          "a@" + ch + "example.com", "a@example.com" + ch, "a@example.com/r" + ch + "s",
          "a@example.com/" + ch, "a@" + ch, "a@x" + ch + ".y"}) {
      CAPTURE(c, input);
      const auto fast = Jid::parse(input);
      const auto slow = parseSlow(input);
      REQUIRE(fast.has_value() == slow.has_value());
      if (fast) CHECK(fast->full() == slow->full());
    }
  }
  // And a table of typical and borderline addresses.
  const std::string input =
      GENERATE(as<std::string>{}, "user@example.com", "USER@EXAMPLE.COM",
               "u.s-e_r+tag@sub.example.org/Res Ource 1", "x@a-1.b2.c3./R", "x@1.2.3.4",
               "x@999.999.999.999", "x@xn--bcher-kva.example", "x@-a.b", "x@a-.b", "x@a--b.c",
               "~!#$%^*()=+{}|[]\\?,;`@example.com", "x@example.com/~!@#$%^&*()<>\"':;", "a.b@c.d/",
               std::string(63, 'z') + ".com", std::string(64, 'z') + ".com",
               std::string(1023, 'n') + "@d", std::string(1024, 'n') + "@d");
  CAPTURE(input);
  const auto fast = Jid::parse(input);
  const auto slow = parseSlow(input);
  REQUIRE(fast.has_value() == slow.has_value());
  if (fast) CHECK(fast->full() == slow->full());
}
