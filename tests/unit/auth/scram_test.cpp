#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <variant>

#include "auth/scram.hpp"

using namespace parley::auth;

namespace {

// The client side of the exchange, just enough to drive ScramServer: builds client-final from
// the password, the client-first-bare, the server-first and the channel-binding input.
std::string clientFinal(ScramHash hash, const std::string& password,
                        const std::string& client_first_bare, const std::string& server_first,
                        const std::string& cbind_input) {
  // server-first: r=<nonce>,s=<salt>,i=<iterations>
  const size_t s_at = server_first.find(",s=");
  const size_t i_at = server_first.find(",i=");
  const std::string nonce = server_first.substr(2, s_at - 2);
  const std::string salt = *base64Decode(server_first.substr(s_at + 3, i_at - s_at - 3));
  const auto iterations = static_cast<uint32_t>(std::stoul(server_first.substr(i_at + 3)));

  const std::string without_proof = "c=" + base64Encode(cbind_input) + ",r=" + nonce;
  const std::string auth_message = client_first_bare + "," + server_first + "," + without_proof;
  const std::string salted = saltedPassword(hash, password, salt, iterations);
  const std::string client_key = hmac(hash, salted, "Client Key");
  const std::string signature = hmac(hash, digest(hash, client_key), auth_message);
  std::string proof = client_key;
  for (size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(proof[i] ^ signature[i]);
  return without_proof + ",p=" + base64Encode(proof);
}

const ScramClientFirst& requireFirst(const std::variant<ScramClientFirst, SaslFailure>& result) {
  if (const auto* failure = std::get_if<SaslFailure>(&result)) {
    FAIL("client-first refused: " << failure->condition << " " << failure->text);
  }
  return std::get<ScramClientFirst>(result);
}

std::string failureOf(const std::variant<ScramClientFirst, SaslFailure>& result) {
  const auto* failure = std::get_if<SaslFailure>(&result);
  return failure != nullptr ? failure->condition : std::string("accepted");
}

std::string failureOf(const std::variant<std::string, SaslFailure>& result) {
  const auto* failure = std::get_if<SaslFailure>(&result);
  return failure != nullptr ? failure->condition : std::string("accepted");
}

// Runs a whole exchange for user "user"/"pencil" with the given client-first, optionally letting
// the test tamper with client-final. Returns the server's verdict.
std::variant<std::string, SaslFailure> exchange(
    ScramServer& server, ScramHash hash, const std::string& client_first,
    const std::string& cbind_input, std::string_view cb_data,
    const std::function<std::string(std::string)>& tamper = {}) {
  const ScramClientFirst first = requireFirst(server.parseClientFirst(client_first));
  const ScramCredentials creds = deriveCredentials(hash, "pencil", "salt-bytes", 4096);
  const std::string server_first = server.serverFirst(first, creds);
  std::string final_message = clientFinal(hash, "pencil", first.bare, server_first, cbind_input);
  if (tamper) final_message = tamper(final_message);
  return server.clientFinal(final_message, cb_data);
}

}  // namespace

TEST_CASE("RFC 5802 SCRAM-SHA-1 example", "[scram]") {
  ScramServer server(ScramHash::Sha1, false, false);
  const auto first = requireFirst(server.parseClientFirst("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"));
  CHECK(first.cb_flag == 'n');
  CHECK(first.username == "user");
  CHECK(first.authzid.empty());
  CHECK(first.client_nonce == "fyko+d2lbbFgONRv9qkxdawL");
  CHECK(first.gs2_header == "n,,");
  CHECK(first.bare == "n=user,r=fyko+d2lbbFgONRv9qkxdawL");

  const ScramCredentials creds =
      deriveCredentials(ScramHash::Sha1, "pencil", *base64Decode("QSXCR+Q6sek8bf92"), 4096);
  const std::string server_first = server.serverFirst(first, creds, "3rfcNHYJY1ZVvWVs7j");
  CHECK(server_first == "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");

  const std::string final_message =
      clientFinal(ScramHash::Sha1, "pencil", first.bare, server_first, first.gs2_header);
  CHECK(final_message ==
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  const auto result = server.clientFinal(final_message, {});
  REQUIRE(std::holds_alternative<std::string>(result));
  CHECK(std::get<std::string>(result) == "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}

TEST_CASE("RFC 7677 SCRAM-SHA-256 example", "[scram]") {
  ScramServer server(ScramHash::Sha256, false, false);
  const auto first = requireFirst(server.parseClientFirst("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"));
  const ScramCredentials creds = deriveCredentials(ScramHash::Sha256, "pencil",
                                                   *base64Decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
  const std::string server_first =
      server.serverFirst(first, creds, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  CHECK(server_first ==
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");

  // The message is the RFC's, verbatim, not our helper's output.
  const auto result = server.clientFinal(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
      {});
  REQUIRE(std::holds_alternative<std::string>(result));
  CHECK(std::get<std::string>(result) == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  CHECK(clientFinal(ScramHash::Sha256, "pencil", first.bare, server_first, "n,,") ==
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
}

TEST_CASE("a fresh server nonce is random and 24 characters", "[scram]") {
  ScramServer a(ScramHash::Sha256, false, false);
  ScramServer b(ScramHash::Sha256, false, false);
  const auto first = requireFirst(a.parseClientFirst("n,,n=user,r=abc"));
  const ScramCredentials creds = deriveCredentials(ScramHash::Sha256, "pencil", "salt", 4096);
  const std::string s1 = a.serverFirst(first, creds);
  const std::string s2 = b.serverFirst(first, creds);
  CHECK(s1 != s2);
  CHECK(s1.find(",s=") == 2 + 3 + 24);
  CHECK(s1.starts_with("r=abc"));
}

TEST_CASE("failed proofs, nonces and encodings", "[scram]") {
  const ScramHash hash = GENERATE(ScramHash::Sha1, ScramHash::Sha256);
  ScramServer server(hash, false, false);
  const std::string client_first = "n,,n=user,r=clientnonce";

  SECTION("the right password passes") {
    const auto result = exchange(server, hash, client_first, "n,,", {});
    CHECK(failureOf(result) == "accepted");
    // The exchange is over: replaying client-final is refused.
    CHECK(failureOf(server.clientFinal("c=biws,r=x,p=AAAA", {})) == "malformed-request");
  }
  SECTION("a wrong password is not authorized") {
    const ScramClientFirst first = requireFirst(server.parseClientFirst(client_first));
    const std::string server_first =
        server.serverFirst(first, deriveCredentials(hash, "pencil", "salt-bytes", 4096));
    const std::string final_message = clientFinal(hash, "pencil2", first.bare, server_first, "n,,");
    CHECK(failureOf(server.clientFinal(final_message, {})) == "not-authorized");
  }
  SECTION("a flipped proof bit is not authorized") {
    const auto result = exchange(server, hash, client_first, "n,,", {}, [](std::string m) {
      const size_t p = m.find(",p=") + 3;
      std::string proof = *base64Decode(m.substr(p));
      proof[0] = static_cast<char>(proof[0] ^ 1);
      return m.substr(0, p) + base64Encode(proof);
    });
    CHECK(failureOf(result) == "not-authorized");
  }
  SECTION("a truncated proof is not authorized") {
    const auto result = exchange(server, hash, client_first, "n,,", {}, [](std::string m) {
      const size_t p = m.find(",p=") + 3;
      return m.substr(0, p) + base64Encode(base64Decode(m.substr(p))->substr(1));
    });
    CHECK(failureOf(result) == "not-authorized");
  }
  SECTION("a tampered nonce is not authorized") {
    const auto result = exchange(server, hash, client_first, "n,,", {}, [](std::string m) {
      m[m.find(",r=") + 3] = 'X';
      return m;
    });
    CHECK(failureOf(result) == "not-authorized");
  }
  SECTION("only the client's part of the nonce is not enough") {
    const auto result = exchange(server, hash, client_first, "n,,", {}, [](std::string m) {
      const size_t r = m.find(",r=") + 3;
      const size_t p = m.find(",p=");
      return m.substr(0, r) + "clientnonce" + m.substr(p);
    });
    CHECK(failureOf(result) == "not-authorized");
  }
  SECTION("bad base64 in the proof is malformed") {
    const auto result = exchange(server, hash, client_first, "n,,", {}, [](std::string m) {
      return m.substr(0, m.find(",p=") + 3) + "not*base64";
    });
    CHECK(failureOf(result) == "malformed-request");
  }
  SECTION("bad base64 in the binding is malformed") {
    const auto result = exchange(server, hash, client_first, "n,,", {}, [](std::string m) {
      return "c=biw," + m.substr(m.find(",r=") + 1);
    });
    CHECK(failureOf(result) == "malformed-request");
  }
  SECTION("a missing proof is malformed") {
    const auto result = exchange(server, hash, client_first, "n,,", {},
                                 [](std::string m) { return m.substr(0, m.find(",p=")); });
    CHECK(failureOf(result) == "malformed-request");
  }
  SECTION("a binding input that does not repeat the GS2 header is not authorized") {
    const auto result = exchange(server, hash, client_first, "y,,", {});
    CHECK(failureOf(result) == "not-authorized");
  }
}

TEST_CASE("channel binding", "[scram]") {
  const std::string cb_data = "\x01\x02\x03 exporter bytes";

  SECTION("tls-exporter with the connection's data passes") {
    ScramServer server(ScramHash::Sha256, true, true);
    const auto result = exchange(server, ScramHash::Sha256, "p=tls-exporter,,n=user,r=n1",
                                 std::string("p=tls-exporter,,") + cb_data, cb_data);
    CHECK(failureOf(result) == "accepted");
  }
  SECTION("different binding data fails") {
    ScramServer server(ScramHash::Sha256, true, true);
    const auto result = exchange(server, ScramHash::Sha256, "p=tls-exporter,,n=user,r=n1",
                                 std::string("p=tls-exporter,,") + "other connection", cb_data);
    CHECK(failureOf(result) == "not-authorized");
  }
  SECTION("no binding data on the server side fails") {
    ScramServer server(ScramHash::Sha256, true, true);
    const auto result =
        exchange(server, ScramHash::Sha256, "p=tls-exporter,,n=user,r=n1", "p=tls-exporter,,", {});
    CHECK(failureOf(result) == "not-authorized");
  }
  SECTION("tls-server-end-point with an authzid covers the whole header") {
    ScramServer server(ScramHash::Sha1, true, true);
    const std::string header = "p=tls-server-end-point,a=admin@example.com,";
    const auto result =
        exchange(server, ScramHash::Sha1, header + "n=user,r=n1", header + cb_data, cb_data);
    CHECK(failureOf(result) == "accepted");
  }
  SECTION("'y' while the server offers -PLUS is a downgrade") {
    ScramServer server(ScramHash::Sha256, false, true);
    CHECK(failureOf(server.parseClientFirst("y,,n=user,r=n1")) == "not-authorized");
  }
  SECTION("'y' when the server offers no -PLUS passes") {
    ScramServer server(ScramHash::Sha256, false, false);
    CHECK(failureOf(exchange(server, ScramHash::Sha256, "y,,n=user,r=n1", "y,,", {})) ==
          "accepted");
  }
  SECTION("the flag must match the mechanism") {
    ScramServer plain(ScramHash::Sha256, false, true);
    CHECK(failureOf(plain.parseClientFirst("p=tls-exporter,,n=user,r=n1")) == "malformed-request");
    ScramServer plus(ScramHash::Sha256, true, true);
    CHECK(failureOf(plus.parseClientFirst("n,,n=user,r=n1")) == "malformed-request");
    CHECK(failureOf(plus.parseClientFirst("y,,n=user,r=n1")) == "malformed-request");
  }
  SECTION("unknown or malformed binding names") {
    ScramServer plus(ScramHash::Sha256, true, true);
    CHECK(failureOf(plus.parseClientFirst("p=tls-made-up,,n=user,r=n1")) == "malformed-request");
    CHECK(failureOf(plus.parseClientFirst("p=,,n=user,r=n1")) == "malformed-request");
    CHECK(failureOf(plus.parseClientFirst("p=tls exporter,,n=user,r=n1")) == "malformed-request");
    CHECK(failureOf(plus.parseClientFirst("p=tls-unique,,n=user,r=n1")) == "accepted");
  }
}

TEST_CASE("client-first parsing", "[scram]") {
  ScramServer server(ScramHash::Sha256, false, false);

  SECTION("authzid and username unescaping") {
    const auto first =
        requireFirst(server.parseClientFirst("n,a=ad=2Cmin=3D,n=us=3Der=2Cx,r=abc,x=ext"));
    CHECK(first.authzid == "ad,min=");
    CHECK(first.username == "us=er,x");
    CHECK(first.gs2_header == "n,a=ad=2Cmin=3D,");
    CHECK(first.bare == "n=us=3Der=2Cx,r=abc,x=ext");
    CHECK(first.client_nonce == "abc");
  }
  SECTION("usernames are SASLprep'ed") {
    CHECK(requireFirst(server.parseClientFirst("n,,n=I\u00ADX,r=abc")).username == "IX");
    CHECK(requireFirst(server.parseClientFirst("n,,n=\u2168,r=abc")).username == "IX");
    CHECK(failureOf(server.parseClientFirst("n,,n=a\u0007,r=abc")) == "malformed-request");
    CHECK(failureOf(server.parseClientFirst("n,,n=\u00AD,r=abc")) == "malformed-request");
  }
  SECTION("malformed messages") {
    const std::string message = GENERATE(
        as<std::string>{}, "", "n", "n,", "n,,", "x,,n=u,r=a", "n,a=,n=u,r=a", "n,a=b=2,n=u,r=a",
        "n,a=b=41,n=u,r=a", "n,b=x,n=u,r=a", "n,,m=ext,n=u,r=a", "n,,n=u", "n,,n=u,", "n,,n=,r=a",
        "n,,n=u=,r=a", "n,,n=u=2c,r=a", "n,,r=a,n=u", "n,,n=u,r=", "n,,n=u,r=a,", "n,,n=u,r=a,=x",
        "n,,n=u,r=a\x7F", "n,,n=\xC0\xAF,r=a", "n,,n=u,r=a b", "n,,n=u,r=a,1=x", "y,,n=u,x=a,r=b");
    CAPTURE(message);
    CHECK(failureOf(server.parseClientFirst(message)) == "malformed-request");
  }
  SECTION("mandatory extensions are refused") {
    const auto result = server.parseClientFirst("n,,m=ext,n=user,r=abc");
    REQUIRE(std::holds_alternative<SaslFailure>(result));
    CHECK(std::get<SaslFailure>(result).text == "extensions-not-supported");
  }
}

TEST_CASE("SASLprep, RFC 4013 §3 examples", "[scram]") {
  CHECK(saslprep("I\u00ADX") == "IX");
  CHECK(saslprep("user") == "user");
  CHECK(saslprep("USER") == "USER");
  CHECK(saslprep("\u00AA") == "a");
  CHECK(saslprep("\u2168") == "IX");
  CHECK_FALSE(saslprep("\u0007").has_value());
  CHECK_FALSE(saslprep("\u0627\u0031").has_value());
  // Non-ASCII spaces map to ASCII space.
  CHECK(saslprep("a\u00A0b") == "a b");
  CHECK(saslprep("") == "");
  CHECK_FALSE(saslprep("\xFF").has_value());
  CHECK_FALSE(saslprep(std::string("a\0b", 3)).has_value());
}

TEST_CASE("base64", "[scram]") {
  auto [raw, text] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\0\xFF\xFE", 3), "AP/+"},
  }));
  CHECK(base64Encode(raw) == text);
  CHECK(base64Decode(text) == raw);

  const std::string bad =
      GENERATE(as<std::string>{}, "Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v ", " Zm9v", "Zm 9v",
               "Zm9v\n", "Zm=v", "Zh==", "Zm9=", "Zm-v", "Zm_v", "=Zm9", "Zm9vY===");
  CAPTURE(bad);
  CHECK_FALSE(base64Decode(bad).has_value());
}

TEST_CASE("constant-time comparison and random bytes", "[scram]") {
  CHECK(constantTimeEquals("abc", "abc"));
  CHECK_FALSE(constantTimeEquals("abc", "abd"));
  CHECK_FALSE(constantTimeEquals("abc", "ab"));
  CHECK(constantTimeEquals("", ""));
  CHECK(randomBytes(18).size() == 18);
  CHECK(randomBytes(18) != randomBytes(18));
  CHECK(randomBytes(0).empty());
}
