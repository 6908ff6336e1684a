// Admin actions on the running module set: the overrides file, ModuleControl (enable, disable,
// reload, refusals and what each records) and the admin socket's request handling. Real
// modules (the probe fixtures) are loaded; the configuration is a real file on disk.
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "admin/admin_protocol.hpp"
#include "admin/module_control.hpp"
#include "admin/module_overrides.hpp"
#include "support/recording_sink.hpp"

namespace fs = std::filesystem;
using namespace parley;

namespace {

using parley::testing::RecordingSink;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/parley-admin-test-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

void write(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }

// A complete configuration: probe runs, probe_b is listed but off.
std::string configText(const std::string& probe_tag = "p1") {
  return "hosts: [example.org]\n"
         "tls: {certificate: c.pem, key: k.pem}\n"
         "database: {conninfo: \"dbname=none\"}\n"
         "modules:\n"
         "  dir: " PARLEY_TEST_MODULE_DIR
         "\n"
         "  probe:\n"
         "    tag: " +
         probe_tag +
         "\n"
         "  probe_b:\n"
         "    enabled: false\n";
}

std::shared_ptr<const config::Config> writeConfig(const fs::path& dir) {
  write(dir / "c.pem", "");  // only their existence is checked when loading
  write(dir / "k.pem", "");
  write(dir / "parley.yaml", configText());
  return std::make_shared<const config::Config>(config::loadConfig((dir / "parley.yaml").string()));
}

struct Fixture {
  Fixture() { control.start(); }
  std::vector<std::string> running() const {
    std::vector<std::string> names;
    for (const auto& info : host.active()) names.push_back(info.name);
    return names;
  }
  TempDir dir;
  RecordingSink sink;
  modules::ModuleHost host{sink, [](xml::Element) {}, PARLEY_TEST_MODULE_DIR};
  std::shared_ptr<const config::Config> config = writeConfig(dir.path);
  admin::ModuleControl control{host, sink, config};
};

const admin::Actor kAdmin{"ada@example.org/gajim", "ad-hoc command"};

}  // namespace

TEST_CASE("overrides round-trip through the file and lay over the configuration") {
  TempDir dir;
  const std::string file = (dir.path / "overrides.json").string();
  CHECK(admin::loadOverrides(file).empty());  // no file: no overrides

  admin::ModuleOverrides o;
  o["probe"] = {false, "ops via parleyctl", "2026-11-29T00:00:00Z"};
  o["probe_b"] = {true, "ada via ad-hoc command", "2026-11-29T00:01:00Z"};
  admin::saveOverrides(file, o);
  auto back = admin::loadOverrides(file);
  REQUIRE(back.size() == 2);
  CHECK_FALSE(back["probe"].enabled);
  CHECK(back["probe"].by == "ops via parleyctl");
  CHECK(back["probe_b"].enabled);
  CHECK_FALSE(fs::exists(file + ".tmp"));

  config::Config base;
  config::ModuleSettings listed;
  listed.name = "probe";
  base.modules.list.push_back(listed);
  config::ModuleSettings off;
  off.name = "probe_b";
  off.enabled = false;
  base.modules.list.push_back(off);
  o["unlisted_on"] = {true, "x", "y"};
  o["unlisted_off"] = {false, "x", "y"};
  auto merged = admin::withOverrides(base, o);
  REQUIRE(merged.modules.list.size() == 3);
  CHECK_FALSE(merged.modules.list[0].enabled);  // probe: switched off
  CHECK(merged.modules.list[1].enabled);        // probe_b: switched on
  CHECK(merged.modules.list[2].name == "unlisted_on");
  CHECK(merged.modules.list[2].enabled);
}

TEST_CASE("a damaged overrides file is an error naming the file") {
  TempDir dir;
  const std::string file = (dir.path / "overrides.json").string();
  write(file, "{\"modules\": {\"probe\": {\"enabled\": \"yes\"}}}");
  CHECK_THROWS_WITH(admin::loadOverrides(file),
                    Catch::Contains(file) && Catch::Contains("boolean \"enabled\""));
  write(file, "{not json");
  CHECK_THROWS_WITH(admin::loadOverrides(file), Catch::Contains("not a JSON object"));
  write(file, "{\"modules\": {\"../evil\": {\"enabled\": true}}}");
  CHECK_THROWS_WITH(admin::loadOverrides(file), Catch::Contains("module name"));
}

TEST_CASE("module names are file names and nothing else") {
  CHECK(admin::isValidModuleName("file_transfer"));
  CHECK(admin::isValidModuleName("e2ee"));
  CHECK_FALSE(admin::isValidModuleName(""));
  CHECK_FALSE(admin::isValidModuleName("../x"));
  CHECK_FALSE(admin::isValidModuleName("a/b"));
  CHECK_FALSE(admin::isValidModuleName("a.so"));
}

TEST_CASE("enable and disable change the running set, persist, and are recorded") {
  Fixture f;
  CHECK(f.running() == std::vector<std::string>{"probe"});
  f.sink.taken();

  CHECK(f.control.setEnabled("probe_b", true, kAdmin) == "probe_b: enabled");
  CHECK(f.running() == std::vector<std::string>{"probe", "probe_b"});
  auto events = f.sink.taken();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == "admin.module.enabled");
  CHECK(events[0].action == EventAction::Admin);
  CHECK(events[0].actor == kAdmin.who);
  CHECK(events[0].target == "probe_b");
  auto detail = boost::json::parse(events[0].detail_json).as_object();
  CHECK(detail["old"] == "disabled");
  CHECK(detail["new"] == "enabled");
  CHECK(detail["via"] == "ad-hoc command");

  auto saved = admin::loadOverrides(f.config->admin.overrides_file);
  REQUIRE(saved.count("probe_b"));
  CHECK(saved["probe_b"].enabled);
  CHECK(saved["probe_b"].by == "ada@example.org/gajim via ad-hoc command");

  // Doing it again changes and records nothing.
  CHECK(f.control.setEnabled("probe_b", true, kAdmin) == "probe_b is already enabled");
  CHECK(f.sink.taken().empty());

  // A fresh control (a restart) applies the saved override over the file.
  RecordingSink sink2;
  modules::ModuleHost host2{sink2, [](xml::Element) {}, PARLEY_TEST_MODULE_DIR};
  admin::ModuleControl restarted{host2, sink2, f.config};
  restarted.start();
  CHECK(host2.active().size() == 2);

  CHECK(f.control.setEnabled("probe", false, kAdmin) == "probe: disabled");
  CHECK(f.running() == std::vector<std::string>{"probe_b"});
  auto status = f.control.show("probe");
  CHECK_FALSE(status.running);
  CHECK(status.configured == "enabled");
  REQUIRE(status.override_state);
  CHECK_FALSE(status.override_state->enabled);
}

TEST_CASE("refused actions change nothing and are recorded as refused") {
  Fixture f;
  f.sink.taken();
  CHECK_THROWS_WITH(f.control.setEnabled("nosuch", true, kAdmin),
                    Catch::Contains("no module named nosuch"));
  auto events = f.sink.taken();
  REQUIRE(events.size() == 1);
  CHECK(boost::json::parse(events[0].detail_json).as_object().contains("refused"));
  CHECK_THROWS_WITH(f.control.setEnabled("../probe", true, kAdmin),
                    Catch::Contains("not a module name"));
  CHECK_THROWS_WITH(f.control.show("nosuch"), Catch::Contains("no module named"));
  // A module whose library refuses to load (wrong API version) leaves the running set alone.
  CHECK_THROWS_WITH(f.control.setEnabled("wrong_version", true, kAdmin),
                    Catch::Contains("nothing changed"));
  CHECK(f.running() == std::vector<std::string>{"probe"});
}

TEST_CASE("a change that cannot be saved is undone") {
  Fixture f;
  // The overrides file cannot be written: its directory is gone.
  auto cfg = std::make_shared<config::Config>(*f.config);
  cfg->admin.overrides_file = (f.dir.path / "missing" / "overrides.json").string();
  RecordingSink sink;
  modules::ModuleHost host{sink, [](xml::Element) {}, PARLEY_TEST_MODULE_DIR};
  admin::ModuleControl control{host, sink, cfg};
  control.start();
  CHECK_THROWS_WITH(control.setEnabled("probe_b", true, kAdmin),
                    Catch::Contains("could not be saved"));
  REQUIRE(host.active().size() == 1);
  CHECK(host.active()[0].name == "probe");
}

TEST_CASE("reload takes one module's new settings, or the whole file") {
  Fixture f;
  auto tagOf = [&]() {
    Stanza s;
    s.element = xml::Element(std::string(ns::kClient), "message");
    s.from = *Jid::parse("a@example.org/r");
    s.to = *Jid::parse("b@example.org");
    f.host.runStanza(HookPoint::PreRoute, s);
    return std::string(s.element.attrOr("trace"));
  };
  CHECK(tagOf() == "p1;");
  write(f.dir.path / "parley.yaml", configText("p2"));
  CHECK(f.control.reloadModule("probe", kAdmin) ==
        "probe: reloaded with the settings now in " + f.config->path);
  CHECK(tagOf() == "p2;");
  // A setting the module refuses: the running instance stays.
  write(f.dir.path / "parley.yaml", configText("p3\n    verdict: maybe"));
  CHECK_THROWS_WITH(f.control.reloadModule("probe", kAdmin),
                    Catch::Contains("modules.probe.verdict"));
  CHECK(tagOf() == "p2;");
  write(f.dir.path / "parley.yaml", configText("p4"));
  f.control.reload(kAdmin);
  CHECK(tagOf() == "p4;");
}

TEST_CASE("the admin socket protocol answers every request, errors included") {
  Fixture f;
  admin::AdminServices services{f.control, []() { return boost::json::object{{"queue", 0}}; }};
  auto ask = [&](const std::string& line) {
    return boost::json::parse(admin::handleAdminRequest(services, line, kAdmin)).as_object();
  };
  auto bad = ask("{not json");
  CHECK(bad["ok"] == false);
  CHECK(std::string(bad["error"].as_string()).find("not a JSON object") != std::string::npos);
  CHECK(ask("{\"command\": \"module.fly\"}")["ok"] == false);
  CHECK(ask("{\"command\": \"module.enable\"}")["error"] == "module.enable needs a module name");
  CHECK(ask("{\"command\": \"module.enable\", \"name\": 7}")["ok"] == false);

  auto list = ask("{\"command\": \"module.list\"}");
  REQUIRE(list["ok"] == true);
  std::vector<std::string> names;
  for (const auto& m : list["modules"].as_array()) {
    names.emplace_back(m.as_object().at("name").as_string());
  }
  // Running, configured, and every .so installed in the module directory.
  CHECK(std::find(names.begin(), names.end(), "probe") != names.end());
  CHECK(std::find(names.begin(), names.end(), "probe_b") != names.end());
  CHECK(std::find(names.begin(), names.end(), "wrong_version") != names.end());

  auto disabled = ask("{\"command\": \"module.disable\", \"name\": \"probe\"}");
  CHECK(disabled["message"] == "probe: disabled");
  CHECK(f.running().empty());
  CHECK(ask("{\"command\": \"events.status\"}")["events"].as_object()["queue"] == 0);
}
