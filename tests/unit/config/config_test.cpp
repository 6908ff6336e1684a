#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config.hpp"

namespace fs = std::filesystem;
using parley::config::Config;
using parley::config::ConfigError;
using parley::config::loadConfig;
using parley::config::parseConfig;

namespace {

void writeFile(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// A scratch directory with a certificate and key the config can point at (their content is not
// checked here, only that they are readable files).
struct Scratch {
  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "parley-config-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    writeFile(dir / "tls" / "server.crt", "-----BEGIN CERTIFICATE-----\n");
    writeFile(dir / "tls" / "server.key", "-----BEGIN PRIVATE KEY-----\n");
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file() const { return (dir / "parley.yaml").string(); }

  fs::path dir;
};

// The smallest valid configuration; `extra` is appended as more top-level YAML.
std::string minimal(const std::string& extra = "") {
  return "hosts: [example.org]\n"
         "tls:\n"
         "  certificate: tls/server.crt\n"
         "  key: tls/server.key\n"
         "database:\n"
         "  conninfo: dbname=parley\n" +
         extra;
}

// Runs parseConfig expecting a ConfigError, and returns it for inspection.
ConfigError errorOf(const std::string& yaml, const std::string& name) {
  try {
    parseConfig(yaml, name);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("expected a ConfigError for:\n" << yaml);
  throw;  // unreachable: FAIL throws
}

std::string prefix(const Scratch& s, int line, const std::string& key) {
  return s.file() + ":" + std::to_string(line) + ": " + key + ": ";
}

}  // namespace

TEST_CASE("a complete configuration is read into the struct", "[config]") {
  Scratch s;
  const std::string yaml =
      "hosts:\n"
      "  - Example.ORG\n"
      "  - chat.example.net\n"
      "listen:\n"
      "  c2s: {address: 0.0.0.0, port: 15222, enabled: true}\n"
      "  c2s_direct_tls:\n"
      "    address: '::'\n"
      "    port: 0\n"
      "    enabled: false\n"
      "  ports_file: run/ports\n"
      "tls:\n"
      "  certificate: tls/server.crt\n"
      "  key: " +
      (s.dir / "tls" / "server.key").string() +
      "\n"
      "  require_starttls: false\n"
      "database:\n"
      "  conninfo: \"host=/tmp port=5432 dbname=parley\"\n"
      "  pool_size: 4\n"
      "  queue_limit: 500\n"
      "limits:\n"
      "  pre_auth_stanza_bytes: 4096\n"
      "  max_stanza_bytes: 16777216\n"
      "  max_depth: 20\n"
      "  max_attributes: 30\n"
      "  max_name_bytes: 128\n"
      "  negotiation_timeout: 90\n"
      "  idle_ping_after: 0\n"
      "  idle_ping_timeout: 15\n"
      "  sm_resume_timeout: 0\n"
      "  sm_max_unacked: 64\n"
      "  send_queue_bytes: 33554432\n"
      "  offline_max_messages: 0\n"
      "auth:\n"
      "  scram_iterations: 10000\n"
      "  ip_failures_before_backoff: 3\n"
      "  account_failures_before_backoff: 7\n"
      "  backoff_initial: 5\n"
      "  backoff_max: 600\n"
      "server:\n"
      "  hide_version: true\n"
      "  admins: [Admin@Example.org]\n"
      "log:\n"
      "  level: debug\n"
      "  target: journald\n"
      "io_threads: 8\n";
  Config c = parseConfig(yaml, s.file());
  CHECK(c.path == s.file());
  REQUIRE(c.hosts.size() == 2);
  CHECK(c.hosts[0] == "example.org");  // nameprep'ed
  CHECK(c.hosts[1] == "chat.example.net");
  CHECK(c.listen.c2s.address == "0.0.0.0");
  CHECK(c.listen.c2s.port == 15222);
  CHECK(c.listen.c2s.enabled);
  CHECK(c.listen.c2s_direct_tls.address == "::");
  CHECK(c.listen.c2s_direct_tls.port == 0);
  CHECK_FALSE(c.listen.c2s_direct_tls.enabled);
  CHECK(c.listen.ports_file == (s.dir / "run" / "ports").string());
  CHECK(c.tls.certificate == (s.dir / "tls" / "server.crt").string());
  CHECK(c.tls.key == (s.dir / "tls" / "server.key").string());
  CHECK_FALSE(c.tls.require_starttls);
  CHECK(c.database.conninfo == "host=/tmp port=5432 dbname=parley");
  CHECK(c.database.pool_size == 4);
  CHECK(c.database.queue_limit == 500);
  CHECK(c.limits.pre_auth_stanza_bytes == 4096);
  CHECK(c.limits.max_stanza_bytes == 16777216);
  CHECK(c.limits.max_depth == 20);
  CHECK(c.limits.max_attributes == 30);
  CHECK(c.limits.max_name_bytes == 128);
  CHECK(c.limits.negotiation_timeout == std::chrono::seconds(90));
  CHECK(c.limits.idle_ping_after == std::chrono::seconds(0));
  CHECK(c.limits.idle_ping_timeout == std::chrono::seconds(15));
  CHECK(c.limits.sm_resume_timeout == std::chrono::seconds(0));
  CHECK(c.limits.sm_max_unacked == 64);
  CHECK(c.limits.send_queue_bytes == 33554432);
  CHECK(c.limits.offline_max_messages == 0);
  CHECK(c.auth.scram_iterations == 10000);
  CHECK(c.auth.ip_failures_before_backoff == 3);
  CHECK(c.auth.account_failures_before_backoff == 7);
  CHECK(c.auth.backoff_initial == std::chrono::seconds(5));
  CHECK(c.auth.backoff_max == std::chrono::seconds(600));
  CHECK(c.server.hide_version);
  REQUIRE(c.server.admins.size() == 1);
  CHECK(c.server.admins[0] == "admin@example.org");
  CHECK(c.log.level == "debug");
  CHECK(c.log.target == "journald");
  CHECK(c.io_threads == 8);
}

TEST_CASE("omitted keys keep their defaults", "[config]") {
  Scratch s;
  Config c = parseConfig(minimal("limits:\nauth: {}\n"), s.file());
  Config d;
  CHECK(c.hosts == std::vector<std::string>{"example.org"});
  CHECK(c.listen.c2s.port == 5222);
  CHECK(c.listen.c2s.address == "127.0.0.1");
  CHECK(c.listen.c2s_direct_tls.port == 5223);
  CHECK(c.listen.component.port == 5347);
  CHECK(c.listen.component.address == "127.0.0.1");
  CHECK(c.listen.component.enabled);
  CHECK(c.components.empty());
  CHECK(c.listen.ports_file.empty());
  CHECK(c.tls.require_starttls);
  CHECK(c.database.pool_size == d.database.pool_size);
  CHECK(c.limits.max_stanza_bytes == d.limits.max_stanza_bytes);
  CHECK(c.limits.negotiation_timeout == d.limits.negotiation_timeout);
  CHECK(c.auth.scram_iterations == 4096);
  CHECK(c.log.level == "info");
  CHECK(c.log.target == "stderr");
  CHECK(c.io_threads == 0);
}

TEST_CASE("loadConfig resolves relative paths against the config file's directory", "[config]") {
  Scratch s;
  writeFile(s.dir / "etc" / "certs" / "a.crt", "x");
  writeFile(s.dir / "etc" / "certs" / "a.key", "x");
  writeFile(s.dir / "etc" / "parley.yaml",
            "hosts: [example.org]\n"
            "listen: {ports_file: ../run/ports}\n"
            "tls: {certificate: certs/a.crt, key: ./certs/a.key}\n"
            "database: {conninfo: dbname=parley}\n");
  // Load from another working directory: the paths must not depend on it.
  auto old = fs::current_path();
  fs::current_path(fs::temp_directory_path());
  Config c;
  try {
    c = loadConfig((s.dir / "etc" / "parley.yaml").string());
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
  CHECK(c.tls.certificate == (s.dir / "etc" / "certs" / "a.crt").string());
  CHECK(c.tls.key == (s.dir / "etc" / "certs" / "a.key").string());
  CHECK(c.listen.ports_file == (s.dir / "run" / "ports").string());
  CHECK(fs::path(c.tls.certificate).is_absolute());
}

TEST_CASE("unknown keys are errors naming file, line and key", "[config][errors]") {
  Scratch s;
  SECTION("top level") {
    auto e = errorOf(minimal("limitz:\n  max_depth: 3\n"), s.file());
    CHECK(e.file() == s.file());
    CHECK(e.line() == 7);
    CHECK(e.key() == "limitz");
    CHECK_THAT(e.what(), Catch::StartsWith(prefix(s, 7, "limitz") + "unknown key 'limitz'"));
  }
  SECTION("nested") {
    auto e = errorOf(minimal("limits:\n  max_depth: 8\n  max_stanzas: 5\n"), s.file());
    CHECK(e.line() == 9);
    CHECK(e.key() == "limits.max_stanzas");
    CHECK_THAT(e.what(),
               Catch::StartsWith(prefix(s, 9, "limits.max_stanzas") + "unknown key 'max_stanzas'"));
    CHECK_THAT(e.what(), Catch::Contains("max_stanza_bytes"));  // lists what was meant
  }
  SECTION("inside a listener") {
    auto e = errorOf(minimal("listen:\n  c2s:\n    prot: 5222\n"), s.file());
    CHECK(e.line() == 9);
    CHECK(e.key() == "listen.c2s.prot");
  }
  SECTION("a key given twice") {
    auto e = errorOf(minimal("io_threads: 2\nio_threads: 3\n"), s.file());
    CHECK(e.line() == 8);
    CHECK(e.key() == "io_threads");
    CHECK_THAT(e.what(), Catch::Contains("duplicate"));
  }
}

TEST_CASE("wrong types are errors naming file, line and key", "[config][errors]") {
  Scratch s;
  SECTION("string for a port") {
    auto e = errorOf(minimal("listen:\n  c2s:\n    port: fivetwotwotwo\n"), s.file());
    CHECK(e.line() == 9);
    CHECK(e.key() == "listen.c2s.port");
    CHECK_THAT(e.what(), Catch::StartsWith(prefix(s, 9, "listen.c2s.port") +
                                           "expected an integer between 0 and 65535"));
  }
  SECTION("quoted number") {
    auto e = errorOf(minimal("io_threads: \"4\"\n"), s.file());
    CHECK(e.line() == 7);
    CHECK(e.key() == "io_threads");
  }
  SECTION("boolean") {
    auto e = errorOf(minimal("server:\n  hide_version: sometimes\n"), s.file());
    CHECK(e.line() == 8);
    CHECK(e.key() == "server.hide_version");
    CHECK_THAT(e.what(), Catch::Contains("expected true or false"));
  }
  SECTION("a list where a mapping belongs") {
    auto e = errorOf(minimal("limits: [1, 2]\n"), s.file());
    CHECK(e.line() == 7);
    CHECK(e.key() == "limits");
  }
  SECTION("hosts not a list") {
    auto e = errorOf("hosts: example.org\ntls: {}\n", s.file());
    CHECK(e.line() == 1);
    CHECK(e.key() == "hosts");
  }
  SECTION("duration with a unit") {
    auto e = errorOf(minimal("limits:\n  negotiation_timeout: 60s\n"), s.file());
    CHECK(e.line() == 8);
    CHECK(e.key() == "limits.negotiation_timeout");
    CHECK_THAT(e.what(), Catch::Contains("whole seconds"));
  }
  SECTION("fractional number") {
    auto e = errorOf(minimal("limits:\n  max_depth: 1.5\n"), s.file());
    CHECK(e.line() == 8);
    CHECK(e.key() == "limits.max_depth");
    CHECK_THAT(e.what(), Catch::Contains("got '1.5'"));
  }
}

TEST_CASE("values out of bounds are errors naming file, line and key", "[config][errors]") {
  Scratch s;
  struct Case {
    std::string yaml;
    int line;
    std::string key;
    std::string message;
  };
  const Case cases[] = {
      {"listen:\n  c2s_direct_tls:\n    port: 65536\n", 9, "listen.c2s_direct_tls.port",
       "expected an integer between 0 and 65535, got 65536"},
      {"listen:\n  c2s: {port: -1}\n", 8, "listen.c2s.port", "got -1"},
      {"limits:\n  max_stanza_bytes: 4095\n", 8, "limits.max_stanza_bytes",
       "between 4096 and 16777216"},
      {"limits:\n  pre_auth_stanza_bytes: 16777217\n", 8, "limits.pre_auth_stanza_bytes",
       "between 4096 and 16777216"},
      {"limits:\n  pre_auth_stanza_bytes: 100000\n  max_stanza_bytes: 50000\n", 8,
       "limits.pre_auth_stanza_bytes", "must not exceed max_stanza_bytes"},
      {"auth:\n  scram_iterations: 1000\n", 8, "auth.scram_iterations", "between 4096 and 1000000"},
      {"auth:\n  scram_iterations: 1000001\n", 8, "auth.scram_iterations",
       "between 4096 and 1000000"},
      {"auth:\n  backoff_initial: 100\n  backoff_max: 10\n", 9, "auth.backoff_max",
       "must be at least backoff_initial"},
      {"log:\n  level: verbose\n", 8, "log.level", "expected one of debug | info | warn | error"},
      {"log:\n  target: syslog\n", 8, "log.target", "expected one of stderr | journald"},
      {"io_threads: 99999999999999999999999\n", 7, "io_threads", "between 0 and 1024"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    auto e = errorOf(minimal(c.yaml), s.file());
    CHECK(e.line() == c.line);
    CHECK(e.key() == c.key);
    CHECK_THAT(e.what(), Catch::StartsWith(prefix(s, c.line, c.key)));
    CHECK_THAT(e.what(), Catch::Contains(c.message));
  }
  SECTION("pool_size 0 and 65") {
    const std::string base =
        "hosts: [example.org]\ntls: {certificate: tls/server.crt, key: tls/server.key}\n";
    for (const char* v : {"0", "65"}) {
      auto e = errorOf(base + "database:\n  conninfo: x\n  pool_size: " + v + "\n", s.file());
      CHECK(e.line() == 5);
      CHECK(e.key() == "database.pool_size");
      CHECK_THAT(e.what(), Catch::Contains("between 1 and 64"));
    }
  }
}

TEST_CASE("missing or invalid required settings are errors naming the key", "[config][errors]") {
  Scratch s;
  SECTION("hosts missing") {
    auto e = errorOf(
        "tls: {certificate: tls/server.crt, key: tls/server.key}\n"
        "database: {conninfo: x}\n",
        s.file());
    CHECK(e.key() == "hosts");
    CHECK(e.line() == 1);
    CHECK_THAT(e.what(), Catch::StartsWith(prefix(s, 1, "hosts")));
  }
  SECTION("hosts empty") {
    auto e = errorOf("hosts: []\n", s.file());
    CHECK(e.key() == "hosts");
    CHECK_THAT(e.what(), Catch::Contains("at least one host"));
  }
  SECTION("host not a domain name") {
    auto e = errorOf("hosts:\n  - example.org\n  - \"bad host\"\n", s.file());
    CHECK(e.line() == 3);
    CHECK(e.key() == "hosts[1]");
    CHECK_THAT(e.what(), Catch::Contains("not a valid domain name"));
  }
  SECTION("the same host twice after normalisation") {
    auto e = errorOf("hosts: [example.org, EXAMPLE.org]\n", s.file());
    CHECK(e.key() == "hosts[1]");
  }
  SECTION("tls.key missing") {
    auto e = errorOf("hosts: [example.org]\ntls:\n  certificate: tls/server.crt\n", s.file());
    CHECK(e.key() == "tls.key");
    CHECK(e.line() == 2);
  }
  SECTION("tls.certificate not readable") {
    auto e = errorOf(
        "hosts: [example.org]\ntls:\n  certificate: tls/missing.crt\n"
        "  key: tls/server.key\n",
        s.file());
    CHECK(e.key() == "tls.certificate");
    CHECK(e.line() == 3);
    CHECK_THAT(e.what(), Catch::Contains((s.dir / "tls" / "missing.crt").string()));
  }
  SECTION("tls.key is a directory") {
    auto e = errorOf("hosts: [example.org]\ntls:\n  certificate: tls/server.crt\n  key: tls\n",
                     s.file());
    CHECK(e.key() == "tls.key");
    CHECK(e.line() == 4);
  }
  SECTION("database.conninfo missing") {
    auto e = errorOf(
        "hosts: [example.org]\ntls: {certificate: tls/server.crt, key: "
        "tls/server.key}\ndatabase:\n  pool_size: 2\n",
        s.file());
    CHECK(e.key() == "database.conninfo");
    CHECK(e.line() == 3);
  }
  SECTION("database.conninfo empty") {
    auto e = errorOf(
        "hosts: [example.org]\ntls: {certificate: tls/server.crt, key: "
        "tls/server.key}\ndatabase:\n  conninfo:\n",
        s.file());
    CHECK(e.key() == "database.conninfo");
    CHECK(e.line() == 4);
  }
  SECTION("admin not a bare JID") {
    auto e = errorOf(minimal("server:\n  admins:\n    - admin@example.org/laptop\n"), s.file());
    CHECK(e.key() == "server.admins[0]");
    CHECK(e.line() == 9);
  }
  SECTION("empty file") {
    auto e = errorOf("# nothing but a comment\n", s.file());
    CHECK(e.line() == 0);
    CHECK_THAT(e.what(), Catch::StartsWith(s.file() + ": "));
  }
}

TEST_CASE("YAML syntax errors name the file and the line", "[config][errors]") {
  Scratch s;
  SECTION("unclosed flow sequence") {
    auto e = errorOf("hosts: [example.org\ntls:\n  key: x\n", s.file());
    CHECK(e.file() == s.file());
    CHECK(e.line() >= 1);
    CHECK_THAT(e.what(),
               Catch::StartsWith(s.file() + ":" + std::to_string(e.line()) + ": invalid YAML: "));
  }
  SECTION("bad indentation on line 4") {
    auto e =
        errorOf("hosts: [example.org]\nlimits:\n  max_depth: 8\n max_attributes: 9\n", s.file());
    CHECK(e.line() == 4);
    CHECK_THAT(e.what(), Catch::StartsWith(s.file() + ":4: invalid YAML: "));
  }
  SECTION("tab indentation on line 2") {
    auto e = errorOf("hosts: [example.org]\n\tlimits: {}\n", s.file());
    CHECK(e.line() == 2);
  }
}

TEST_CASE("loadConfig reports an unreadable file", "[config][errors]") {
  Scratch s;
  try {
    loadConfig((s.dir / "nope.yaml").string());
    FAIL("no error for a missing file");
  } catch (const ConfigError& e) {
    CHECK(e.line() == 0);
    CHECK(e.file() == (s.dir / "nope.yaml").string());
    CHECK_THAT(e.what(), Catch::Contains("cannot read"));
  }
}

TEST_CASE("examples/parley.yaml is valid and sets every key", "[config][example]") {
  Scratch s;
  fs::path example =
      fs::path(__FILE__).parent_path() / ".." / ".." / ".." / "examples" / "parley.yaml";
  std::ifstream in(example);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  // Point the TLS paths at files that exist here; everything else is parsed as shipped.
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"/etc/parley/tls/example.org.crt", "tls/server.crt"},
        {"/etc/parley/tls/example.org.key", "tls/server.key"}}) {
    auto at = yaml.find(from);
    REQUIRE(at != std::string::npos);
    yaml.replace(at, from.size(), to);
  }
  Config c = parseConfig(yaml, s.file());
  CHECK(c.hosts == std::vector<std::string>{"example.org"});
  // Every documented key must be present (uncommented) so the example stays complete.
  for (const char* key : {"hosts:",
                          "listen:",
                          "c2s:",
                          "c2s_direct_tls:",
                          "component:",
                          "components:",
                          "address:",
                          "port:",
                          "enabled:",
                          "ports_file:",
                          "tls:",
                          "certificate:",
                          "key:",
                          "require_starttls:",
                          "database:",
                          "conninfo:",
                          "pool_size:",
                          "queue_limit:",
                          "limits:",
                          "pre_auth_stanza_bytes:",
                          "max_stanza_bytes:",
                          "max_depth:",
                          "max_attributes:",
                          "max_name_bytes:",
                          "negotiation_timeout:",
                          "idle_ping_after:",
                          "idle_ping_timeout:",
                          "sm_resume_timeout:",
                          "sm_max_unacked:",
                          "send_queue_bytes:",
                          "offline_max_messages:",
                          "auth:",
                          "scram_iterations:",
                          "ip_failures_before_backoff:",
                          "account_failures_before_backoff:",
                          "backoff_initial:",
                          "backoff_max:",
                          "server:",
                          "hide_version:",
                          "admins:",
                          "log:",
                          "level:",
                          "target:",
                          "io_threads:"}) {
    CHECK_THAT(yaml, Catch::Contains(key));
  }
}

TEST_CASE("modules, groups and events sections", "[config][modules]") {
  Scratch s;
  Config c = parseConfig(minimal("modules:\n"
                                 "  dir: mods\n"
                                 "  file_transfer:\n"
                                 "    enabled: true\n"
                                 "    monitor_only: true\n"
                                 "    priority: 7\n"
                                 "    on_error: pass\n"
                                 "    budget_us: 900\n"
                                 "    mode: deny\n"
                                 "  notice:\n"
                                 "    enabled: false\n"
                                 "groups:\n"
                                 "  legal: [counsel@example.org]\n"
                                 "events:\n"
                                 "  node: edge-1\n"),
                         s.file());
  CHECK(c.modules.dir == (s.dir / "mods").string());
  REQUIRE(c.modules.list.size() == 2);
  const auto& ft = c.modules.list[0];
  CHECK(ft.name == "file_transfer");
  CHECK(ft.monitor_only);
  CHECK(ft.priority == 7);
  CHECK(ft.on_error == "pass");
  CHECK(ft.budget == std::chrono::microseconds(900));
  CHECK(ft.options["mode"].as<std::string>() == "deny");  // the module's own key, passed on
  CHECK_FALSE(ft.options["enabled"].IsDefined());         // the core's keys are not
  CHECK_FALSE(c.modules.list[1].enabled);
  CHECK(c.groups.at("legal") == std::vector<std::string>{"counsel@example.org"});
  CHECK(c.events.node == "edge-1");
  CHECK(c.events.spool_dir == (s.dir / "spool").string());

  auto e = errorOf(minimal("modules:\n  dlp:\n    on_error: explode\n"), s.file());
  CHECK(e.key() == "modules.dlp.on_error");
  CHECK(e.line() == 9);
  e = errorOf(minimal("groups:\n  sales: [not a jid]\n"), s.file());
  CHECK(e.key() == "groups.sales[0]");
  e = errorOf(minimal("modules:\n  File-Transfer: {}\n"), s.file());
  CHECK(e.key() == "modules.File-Transfer");
}

TEST_CASE("XEP-0114 components and their listener", "[config][components]") {
  Scratch s;
  SECTION("a listener and two components are read, domains normalised") {
    Config c = parseConfig(minimal("listen:\n"
                                   "  component:\n"
                                   "    address: 0.0.0.0\n"
                                   "    port: 0\n"
                                   "    enabled: false\n"
                                   "components:\n"
                                   "  - domain: Echo.Example.org\n"
                                   "    secret: s3cret\n"
                                   "  - {domain: irc.example.org, secret: \"x y\"}\n"),
                           s.file());
    CHECK(c.listen.component.address == "0.0.0.0");
    CHECK(c.listen.component.port == 0);
    CHECK_FALSE(c.listen.component.enabled);
    REQUIRE(c.components.size() == 2);
    CHECK(c.components[0].domain == "echo.example.org");
    CHECK(c.components[0].secret == "s3cret");
    CHECK(c.components[1].domain == "irc.example.org");
    CHECK(c.components[1].secret == "x y");
  }
  SECTION("a local host cannot be a component") {
    auto e = errorOf(minimal("components:\n  - domain: example.org\n    secret: s\n"), s.file());
    CHECK(e.line() == 8);
    CHECK(e.key() == "components[0].domain");
    CHECK_THAT(e.what(), Catch::StartsWith(prefix(s, 8, "components[0].domain")));
    CHECK_THAT(e.what(), Catch::Contains("local host"));
  }
  SECTION("a single-label name is not a component domain") {
    auto e = errorOf(minimal("components:\n  - domain: echo\n    secret: s\n"), s.file());
    CHECK(e.key() == "components[0].domain");
    CHECK_THAT(e.what(), Catch::Contains("two labels"));
  }
  SECTION("a JID with a node is not a component domain") {
    auto e = errorOf(minimal("components:\n  - domain: bot@echo.example.org\n    secret: s\n"),
                     s.file());
    CHECK(e.key() == "components[0].domain");
  }
  SECTION("an empty secret is refused") {
    auto e =
        errorOf(minimal("components:\n  - domain: echo.example.org\n    secret: \"\"\n"), s.file());
    CHECK(e.line() == 9);
    CHECK(e.key() == "components[0].secret");
    CHECK_THAT(e.what(), Catch::Contains("must not be empty"));
  }
  SECTION("a missing secret names the entry") {
    auto e = errorOf(minimal("components:\n  - domain: echo.example.org\n"), s.file());
    CHECK(e.line() == 8);
    CHECK(e.key() == "components[0].secret");
    CHECK_THAT(e.what(), Catch::Contains("missing"));
  }
  SECTION("the same domain twice") {
    auto e = errorOf(minimal("components:\n"
                             "  - {domain: echo.example.org, secret: a}\n"
                             "  - {domain: ECHO.example.org, secret: b}\n"),
                     s.file());
    CHECK(e.line() == 9);
    CHECK(e.key() == "components[1].domain");
    CHECK_THAT(e.what(), Catch::Contains("twice"));
  }
  SECTION("an unknown key in an entry") {
    auto e = errorOf(
        minimal("components:\n  - domain: echo.example.org\n    secret: s\n    pasword: x\n"),
        s.file());
    CHECK(e.line() == 10);
    CHECK(e.key() == "components[0].pasword");
  }
  SECTION("not a list") {
    auto e = errorOf(minimal("components: echo.example.org\n"), s.file());
    CHECK(e.line() == 7);
    CHECK(e.key() == "components");
  }
}
