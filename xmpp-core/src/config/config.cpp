#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "parley/jid.hpp"

namespace parley::config {

namespace {

std::string formatError(const std::string& file, int line, const std::string& key,
                        const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  return out;
}

constexpr uint64_t kMiB = 1024 * 1024;

// Walks the YAML tree once, checking every key against the struct it fills. Knows the file name
// and its directory so errors can name the file and relative paths resolve next to it.
class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(file_).parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    fs::path abs = fs::absolute(dir, ec);
    base_dir_ = ec ? dir : abs;
  }

  Config load(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      // yaml-cpp marks are 0-based; -1 when it has no position (then the whole file is meant).
      throw ConfigError(file_, e.mark.line >= 0 ? e.mark.line + 1 : 0, "",
                        "invalid YAML: " + e.msg);
    }
    if (!root.IsDefined() || root.IsNull()) {
      throw ConfigError(file_, 0, "", "the configuration is empty");
    }
    if (!root.IsMap()) {
      throw ConfigError(file_, lineOf(root, 0), "", "expected a mapping of settings at top level");
    }

    Config cfg;
    cfg.path = file_;
    auto top = entries(root, "",
                       {"hosts", "listen", "tls", "database", "limits", "auth", "server", "log",
                        "io_threads", "modules", "groups", "events", "admin", "components"});
    const int root_line = lineOf(root, 1);

    const auto& hosts = require(top, "hosts", "hosts", root_line);
    readHosts(hosts, cfg);

    if (auto* listen = find(top, "listen")) readListen(*listen, cfg);
    if (auto* components = find(top, "components")) readComponents(*components, cfg);

    const auto& tls = require(top, "tls", "tls", root_line);
    readTls(tls, cfg);

    const auto& db = require(top, "database", "database", root_line);
    readDatabase(db, cfg);

    if (auto* limits = find(top, "limits")) readLimits(*limits, cfg);
    if (auto* auth = find(top, "auth")) readAuth(*auth, cfg);
    if (auto* server = find(top, "server")) readServer(*server, cfg);
    if (auto* log = find(top, "log")) readLog(*log, cfg);
    if (auto* io = find(top, "io_threads")) {
      cfg.io_threads = static_cast<unsigned>(integer(io->value, "io_threads", 0, 1024));
    }
    if (auto* modules = find(top, "modules")) readModules(*modules, cfg);
    if (auto* groups = find(top, "groups")) readGroups(*groups, cfg);
    cfg.events.spool_dir = resolvePath("spool");
    if (auto* events = find(top, "events")) {
      auto m = entries(events->value, events->path, {"spool_dir", "node"}, events->line);
      if (auto* x = find(m, "spool_dir")) cfg.events.spool_dir = resolvePath(string(*x, false));
      if (auto* x = find(m, "node")) cfg.events.node = string(*x, false);
    }
    readAdmin(find(top, "admin"), cfg);
    return cfg;
  }

 private:
  struct Entry {
    YAML::Node key;
    YAML::Node value;
    std::string path;  // dotted, for errors
    int line;
  };
  using Entries = std::map<std::string, Entry>;

  [[noreturn]] void fail(int line, const std::string& key, const std::string& message) const {
    throw ConfigError(file_, line, key, message);
  }

  void readAdmin(const Entry* admin, Config& cfg) {
    cfg.admin.socket = resolvePath("parleyd.sock");
    cfg.admin.overrides_file = resolvePath("module-overrides.json");
    int line = 0;
    std::string key = "admin.socket";
    if (admin) {
      auto m = entries(admin->value, admin->path, {"socket", "overrides_file"}, admin->line);
      if (auto* x = find(m, "socket")) {
        cfg.admin.socket = string(*x, true).empty() ? "" : resolvePath(string(*x, true));
        line = x->line;
      }
      if (auto* x = find(m, "overrides_file")) {
        cfg.admin.overrides_file = resolvePath(string(*x, false));
      }
    }
    // sockaddr_un holds 108 bytes including the terminating NUL.
    if (cfg.admin.socket.size() > 107) {
      fail(line, key,
           "the admin socket path " + cfg.admin.socket + " is " +
               std::to_string(cfg.admin.socket.size()) +
               " bytes long; Unix sockets allow 107. Set admin.socket to a shorter path.");
    }
  }

  static int lineOf(const YAML::Node& node, int fallback) {
    if (!node.IsDefined()) return fallback;
    auto mark = node.Mark();
    return mark.line >= 0 ? mark.line + 1 : fallback;
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // The keys of a mapping, each checked against `allowed`. A typo is an error rather than a
  // silently ignored setting that leaves the default in force.
  Entries entries(const YAML::Node& node, const std::string& path,
                  std::initializer_list<const char*> allowed, int fallback_line = 0) const {
    Entries out;
    if (node.IsNull()) return out;  // "limits:" with nothing under it keeps every default
    if (!node.IsMap()) {
      fail(lineOf(node, fallback_line), path, "expected a mapping (key: value lines)");
    }
    std::set<std::string> known;
    for (const char* k : allowed) known.insert(k);
    for (const auto& kv : node) {
      // Copies, not references: yaml-cpp's iterator hands out a temporary proxy.
      const YAML::Node k = kv.first;
      const YAML::Node v = kv.second;
      int line = lineOf(k, lineOf(node, fallback_line));
      if (!k.IsScalar()) fail(line, path, "keys must be plain names");
      std::string name = k.Scalar();
      std::string full = join(path, name);
      if (!known.count(name)) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        fail(line, full, "unknown key '" + name + "' (expected one of: " + list + ")");
      }
      if (out.count(name)) fail(line, full, "duplicate key '" + name + "'");
      out.emplace(name, Entry{k, v, full, line});
    }
    return out;
  }

  static const Entry* find(const Entries& e, const std::string& name) {
    auto it = e.find(name);
    return it == e.end() ? nullptr : &it->second;
  }

  const Entry& require(const Entries& e, const std::string& name, const std::string& full,
                       int parent_line) const {
    auto* entry = find(e, name);
    if (!entry) fail(parent_line, full, "required setting is missing");
    return *entry;
  }

  // yaml-cpp gives an empty value ("key:" and nothing else) the position of whatever follows it,
  // so errors about an empty value point at the key's own line instead.
  int valueLine(const Entry& e) const {
    return e.value.IsNull() ? e.line : lineOf(e.value, e.line);
  }

  static bool isPlain(const YAML::Node& n) { return n.Tag() == "?"; }

  static std::string describe(const YAML::Node& n) {
    if (n.IsNull()) return "nothing";
    if (n.IsMap()) return "a mapping";
    if (n.IsSequence()) return "a list";
    if (!isPlain(n)) return "the quoted string \"" + n.Scalar() + "\"";
    return "'" + n.Scalar() + "'";
  }

  long long integer(const Entry& e, long long min, long long max,
                    const char* what = "an integer") const {
    return integer(e.value, e.path, min, max, valueLine(e), what);
  }

  long long integer(const YAML::Node& n, const std::string& key, long long min, long long max,
                    int line = 0, const char* what = "an integer") const {
    if (line == 0) line = lineOf(n, 0);
    std::string expected = std::string("expected ") + what + " between " + std::to_string(min) +
                           " and " + std::to_string(max);
    // A quoted "5222" is a string in YAML; accepting it would hide a templating mistake.
    if (!n.IsScalar() || !isPlain(n)) fail(line, key, expected + ", got " + describe(n));
    const std::string& s = n.Scalar();
    long long v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range) fail(line, key, expected + ", got " + s);
    if (ec != std::errc() || ptr != s.data() + s.size()) {
      fail(line, key, expected + ", got " + describe(n));
    }
    if (v < min || v > max) fail(line, key, expected + ", got " + s);
    return v;
  }

  // Durations are whole seconds: "30s" or "1m" would need a unit grammar nobody asked for.
  std::chrono::seconds seconds(const Entry& e, long long min, long long max) const {
    return std::chrono::seconds(integer(e, min, max, "a duration in whole seconds"));
  }

  bool boolean(const Entry& e) const {
    const YAML::Node& n = e.value;
    if (n.IsScalar() && isPlain(n)) {
      const std::string& s = n.Scalar();
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    fail(valueLine(e), e.path, "expected true or false, got " + describe(n));
  }

  std::string string(const Entry& e, bool allow_empty = true) const {
    const YAML::Node& n = e.value;
    if (!n.IsScalar()) fail(valueLine(e), e.path, "expected a string, got " + describe(n));
    if (!allow_empty && n.Scalar().empty()) fail(valueLine(e), e.path, "must not be empty");
    return n.Scalar();
  }

  std::string oneOf(const Entry& e, std::initializer_list<const char*> choices) const {
    std::string v = string(e);
    std::string list;
    for (const char* c : choices) {
      if (v == c) return v;
      list += (list.empty() ? "" : " | ") + std::string(c);
    }
    fail(valueLine(e), e.path, "expected one of " + list + ", got '" + v + "'");
  }

  std::string resolvePath(const std::string& p) const {
    std::filesystem::path path(p);
    if (path.is_relative()) path = base_dir_ / path;
    return path.lexically_normal().string();
  }

  // The server reads these at start and on reload; checking now turns "TLS fails for every
  // client" into an error naming the key.
  std::string readableFile(const Entry& e) const {
    std::string path = resolvePath(string(e, false));
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      fail(valueLine(e), e.path, "file '" + path + "' does not exist");
    }
    if (std::filesystem::is_directory(path, ec)) {
      fail(valueLine(e), e.path, "'" + path + "' is a directory, expected a file");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      int err = errno;
      fail(valueLine(e), e.path,
           "cannot read '" + path + "': " + std::strerror(err) +
               " (check the file's permissions for the user parley runs as)");
    }
    return path;
  }

  void readHosts(const Entry& e, Config& cfg) const {
    const YAML::Node& n = e.value;
    if (!n.IsSequence()) {
      fail(valueLine(e), e.path,
           "expected a list of domain names (e.g. [example.org]), got " + describe(n));
    }
    if (n.size() == 0) fail(valueLine(e), e.path, "at least one host is required");
    std::set<std::string> seen;
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node item = n[i];
      std::string key = e.path + "[" + std::to_string(i) + "]";
      int line = lineOf(item, valueLine(e));
      if (!item.IsScalar() || item.Scalar().empty()) {
        fail(line, key, "expected a domain name, got " + describe(item));
      }
      auto prepared = parley::nameprep(item.Scalar());
      if (!prepared || prepared->empty()) {
        fail(line, key, "'" + item.Scalar() + "' is not a valid domain name");
      }
      if (!seen.insert(*prepared).second) {
        fail(line, key, "'" + item.Scalar() + "' is listed twice (as " + *prepared + ")");
      }
      cfg.hosts.push_back(*prepared);
    }
  }

  void readEndpoint(const Entry& e, ListenEndpoint& ep) const {
    auto m = entries(e.value, e.path, {"address", "port", "enabled"}, e.line);
    if (auto* a = find(m, "address")) ep.address = string(*a, false);
    if (auto* p = find(m, "port")) ep.port = static_cast<uint16_t>(integer(*p, 0, 65535));
    if (auto* en = find(m, "enabled")) ep.enabled = boolean(*en);
  }

  void readListen(const Entry& e, Config& cfg) const {
    auto m = entries(e.value, e.path, {"c2s", "c2s_direct_tls", "component", "ports_file"}, e.line);
    if (auto* c = find(m, "c2s")) readEndpoint(*c, cfg.listen.c2s);
    if (auto* d = find(m, "c2s_direct_tls")) readEndpoint(*d, cfg.listen.c2s_direct_tls);
    if (auto* x = find(m, "component")) readEndpoint(*x, cfg.listen.component);
    if (auto* p = find(m, "ports_file")) {
      std::string v = string(*p);
      cfg.listen.ports_file = v.empty() ? v : resolvePath(v);
    }
  }

  // components: [{domain: echo.example.org, secret: ...}, ...]. Runs after hosts, so a
  // component cannot take over a local host's addresses.
  void readComponents(const Entry& e, Config& cfg) const {
    const YAML::Node& n = e.value;
    if (n.IsNull()) return;
    if (!n.IsSequence()) {
      fail(valueLine(e), e.path, "expected a list of {domain, secret} entries, got " + describe(n));
    }
    for (size_t i = 0; i < n.size(); ++i) {
      const YAML::Node item = n[i];
      const std::string path = e.path + "[" + std::to_string(i) + "]";
      Entry entry{item, item, path, lineOf(item, valueLine(e))};
      if (!item.IsMap()) {
        fail(entry.line, path, "expected {domain: ..., secret: ...}, got " + describe(item));
      }
      auto m = entries(item, path, {"domain", "secret"}, entry.line);
      const Entry& domain = require(m, "domain", path + ".domain", entry.line);
      const Entry& secret = require(m, "secret", path + ".secret", entry.line);
      const std::string raw = string(domain, false);
      auto prepared = parley::nameprep(raw);
      auto jid = prepared ? parley::Jid::parse(*prepared) : std::nullopt;
      if (!jid || !jid->isDomain() || prepared->find('.') == std::string::npos ||
          prepared->front() == '.' || prepared->back() == '.') {
        fail(valueLine(domain), domain.path,
             "'" + raw + "' is not a domain name with at least two labels (e.g. echo." +
                 cfg.hosts.front() + ")");
      }
      for (const auto& host : cfg.hosts) {
        if (host == *prepared) {
          fail(valueLine(domain), domain.path,
               "'" + raw + "' is a local host; a component needs a domain of its own (e.g. " +
                   "bot." + host + ")");
        }
      }
      for (const auto& other : cfg.components) {
        if (other.domain == *prepared) {
          fail(valueLine(domain), domain.path, "'" + raw + "' is listed twice");
        }
      }
      cfg.components.push_back({*prepared, string(secret, false)});
    }
  }

  void readTls(const Entry& e, Config& cfg) const {
    auto m = entries(e.value, e.path, {"certificate", "key", "require_starttls"}, e.line);
    cfg.tls.certificate = readableFile(require(m, "certificate", e.path + ".certificate", e.line));
    cfg.tls.key = readableFile(require(m, "key", e.path + ".key", e.line));
    if (auto* r = find(m, "require_starttls")) cfg.tls.require_starttls = boolean(*r);
  }

  void readDatabase(const Entry& e, Config& cfg) const {
    auto m = entries(e.value, e.path, {"conninfo", "pool_size", "queue_limit"}, e.line);
    cfg.database.conninfo = string(require(m, "conninfo", e.path + ".conninfo", e.line), false);
    if (auto* p = find(m, "pool_size")) {
      cfg.database.pool_size = static_cast<unsigned>(integer(*p, 1, 64));
    }
    if (auto* q = find(m, "queue_limit")) {
      cfg.database.queue_limit = static_cast<unsigned>(integer(*q, 1, 10000000));
    }
  }

  void readLimits(const Entry& e, Config& cfg) const {
    auto m =
        entries(e.value, e.path,
                {"pre_auth_stanza_bytes", "max_stanza_bytes", "max_depth", "max_attributes",
                 "max_name_bytes", "negotiation_timeout", "idle_ping_after", "idle_ping_timeout",
                 "sm_resume_timeout", "sm_max_unacked", "send_queue_bytes", "offline_max_messages"},
                e.line);
    auto& l = cfg.limits;
    constexpr long long kStanzaMin = 4096, kStanzaMax = 16 * kMiB;
    if (auto* x = find(m, "pre_auth_stanza_bytes")) {
      l.pre_auth_stanza_bytes = integer(*x, kStanzaMin, kStanzaMax);
    }
    if (auto* x = find(m, "max_stanza_bytes")) {
      l.max_stanza_bytes = integer(*x, kStanzaMin, kStanzaMax);
    }
    if (l.pre_auth_stanza_bytes > l.max_stanza_bytes) {
      auto* x = find(m, "pre_auth_stanza_bytes");
      if (!x) x = find(m, "max_stanza_bytes");
      fail(valueLine(*x), x->path,
           "pre_auth_stanza_bytes (" + std::to_string(l.pre_auth_stanza_bytes) +
               ") must not exceed max_stanza_bytes (" + std::to_string(l.max_stanza_bytes) + ")");
    }
    if (auto* x = find(m, "max_depth")) l.max_depth = static_cast<unsigned>(integer(*x, 2, 1024));
    if (auto* x = find(m, "max_attributes")) {
      l.max_attributes = static_cast<unsigned>(integer(*x, 1, 4096));
    }
    if (auto* x = find(m, "max_name_bytes")) l.max_name_bytes = integer(*x, 16, 65536);
    if (auto* x = find(m, "negotiation_timeout")) l.negotiation_timeout = seconds(*x, 1, 3600);
    if (auto* x = find(m, "idle_ping_after")) l.idle_ping_after = seconds(*x, 0, 86400);
    if (auto* x = find(m, "idle_ping_timeout")) l.idle_ping_timeout = seconds(*x, 1, 3600);
    if (auto* x = find(m, "sm_resume_timeout")) l.sm_resume_timeout = seconds(*x, 0, 86400);
    if (auto* x = find(m, "sm_max_unacked")) {
      l.sm_max_unacked = static_cast<size_t>(integer(*x, 16, 1000000));
    }
    if (auto* x = find(m, "send_queue_bytes")) {
      l.send_queue_bytes = integer(*x, 65536, 1024 * static_cast<long long>(kMiB));
    }
    if (l.send_queue_bytes < l.max_stanza_bytes) {
      auto* x = find(m, "send_queue_bytes");
      if (!x) x = find(m, "max_stanza_bytes");
      fail(valueLine(*x), x->path,
           "send_queue_bytes (" + std::to_string(l.send_queue_bytes) +
               ") must be at least max_stanza_bytes (" + std::to_string(l.max_stanza_bytes) +
               ") or a single large stanza would close the session");
    }
    if (auto* x = find(m, "offline_max_messages")) l.offline_max_messages = integer(*x, 0, 1000000);
  }

  void readAuth(const Entry& e, Config& cfg) const {
    auto m = entries(e.value, e.path,
                     {"scram_iterations", "ip_failures_before_backoff",
                      "account_failures_before_backoff", "backoff_initial", "backoff_max"},
                     e.line);
    auto& a = cfg.auth;
    if (auto* x = find(m, "scram_iterations")) {
      a.scram_iterations = static_cast<unsigned>(integer(*x, 4096, 1000000));
    }
    if (auto* x = find(m, "ip_failures_before_backoff")) {
      a.ip_failures_before_backoff = static_cast<unsigned>(integer(*x, 1, 1000000));
    }
    if (auto* x = find(m, "account_failures_before_backoff")) {
      a.account_failures_before_backoff = static_cast<unsigned>(integer(*x, 1, 1000000));
    }
    if (auto* x = find(m, "backoff_initial")) a.backoff_initial = seconds(*x, 1, 86400);
    if (auto* x = find(m, "backoff_max")) a.backoff_max = seconds(*x, 1, 86400);
    if (a.backoff_max < a.backoff_initial) {
      auto* x = find(m, "backoff_max");
      if (!x) x = find(m, "backoff_initial");
      fail(valueLine(*x), x->path,
           "backoff_max (" + std::to_string(a.backoff_max.count()) +
               ") must be at least backoff_initial (" + std::to_string(a.backoff_initial.count()) +
               ")");
    }
  }

  void readServer(const Entry& e, Config& cfg) const {
    auto m = entries(e.value, e.path, {"hide_version", "admins"}, e.line);
    if (auto* x = find(m, "hide_version")) cfg.server.hide_version = boolean(*x);
    if (auto* x = find(m, "admins")) {
      const YAML::Node& n = x->value;
      if (n.IsNull()) return;
      if (!n.IsSequence()) {
        fail(valueLine(*x), x->path, "expected a list of bare JIDs, got " + describe(n));
      }
      for (size_t i = 0; i < n.size(); ++i) {
        const YAML::Node item = n[i];
        std::string key = x->path + "[" + std::to_string(i) + "]";
        int line = lineOf(item, valueLine(*x));
        if (!item.IsScalar()) fail(line, key, "expected a bare JID, got " + describe(item));
        auto jid = parley::Jid::parse(item.Scalar());
        if (!jid || !jid->isBare() || jid->node().empty()) {
          fail(line, key, "'" + item.Scalar() + "' is not a bare JID (user@domain)");
        }
        cfg.server.admins.push_back(jid->full());
      }
    }
  }

  // modules: {dir: PATH, NAME: {enabled, monitor_only, priority, on_error, budget_us, ...}}
  void readModules(const Entry& e, Config& cfg) const {
    const YAML::Node& n = e.value;
    if (n.IsNull()) return;
    if (!n.IsMap()) fail(valueLine(e), e.path, "expected a mapping of module names");
    for (const auto& kv : n) {
      const YAML::Node k = kv.first;
      const YAML::Node v = kv.second;
      int line = lineOf(k, valueLine(e));
      if (!k.IsScalar()) fail(line, e.path, "keys must be plain names");
      const std::string name = k.Scalar();
      Entry entry{k, v, join(e.path, name), line};
      if (name == "dir") {
        cfg.modules.dir = resolvePath(string(entry, false));
        continue;
      }
      if (name.empty() ||
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        fail(line, entry.path, "module names are lowercase letters, digits and '_'");
      }
      for (const auto& m : cfg.modules.list) {
        if (m.name == name) fail(line, entry.path, "duplicate module '" + name + "'");
      }
      if (!v.IsNull() && !v.IsMap()) {
        fail(valueLine(entry), entry.path, "expected the module's settings (a mapping)");
      }
      ModuleSettings m;
      m.name = name;
      m.line = line;
      m.options = YAML::Node(YAML::NodeType::Map);
      if (v.IsMap()) {
        for (const auto& okv : v) {
          const YAML::Node ok = okv.first;
          const YAML::Node ov = okv.second;
          int oline = lineOf(ok, line);
          if (!ok.IsScalar()) fail(oline, entry.path, "keys must be plain names");
          const std::string key = ok.Scalar();
          Entry o{ok, ov, join(entry.path, key), oline};
          if (key == "enabled") {
            m.enabled = boolean(o);
          } else if (key == "monitor_only") {
            m.monitor_only = boolean(o);
          } else if (key == "priority") {
            m.priority = static_cast<int>(integer(o, -100000, 100000));
          } else if (key == "on_error") {
            m.on_error = oneOf(o, {"reject", "pass"});
          } else if (key == "budget_us") {
            m.budget = std::chrono::microseconds(integer(o, 10, 10000000));
          } else {
            m.options[key] = ov;  // the module validates its own keys
          }
        }
      }
      cfg.modules.list.push_back(std::move(m));
    }
  }

  // groups: {NAME: [bare JID, ...]}
  void readGroups(const Entry& e, Config& cfg) const {
    const YAML::Node& n = e.value;
    if (n.IsNull()) return;
    if (!n.IsMap()) fail(valueLine(e), e.path, "expected a mapping of group names to lists");
    for (const auto& kv : n) {
      const YAML::Node k = kv.first;
      const YAML::Node v = kv.second;
      int line = lineOf(k, valueLine(e));
      if (!k.IsScalar()) fail(line, e.path, "keys must be plain names");
      Entry entry{k, v, join(e.path, k.Scalar()), line};
      if (!v.IsSequence()) {
        fail(valueLine(entry), entry.path, "expected a list of bare JIDs, got " + describe(v));
      }
      auto& members = cfg.groups[k.Scalar()];
      for (size_t i = 0; i < v.size(); ++i) {
        const YAML::Node item = v[i];
        std::string key = entry.path + "[" + std::to_string(i) + "]";
        int iline = lineOf(item, valueLine(entry));
        auto jid = item.IsScalar() ? parley::Jid::parse(item.Scalar()) : std::nullopt;
        if (!jid || !jid->isBare() || jid->node().empty()) {
          fail(iline, key, describe(item) + " is not a bare JID (user@domain)");
        }
        members.push_back(jid->full());
      }
    }
  }

  void readLog(const Entry& e, Config& cfg) const {
    auto m = entries(e.value, e.path, {"level", "target"}, e.line);
    if (auto* x = find(m, "level")) cfg.log.level = oneOf(*x, {"debug", "info", "warn", "error"});
    if (auto* x = find(m, "target")) cfg.log.target = oneOf(*x, {"stderr", "journald"});
  }

  std::string file_;
  std::filesystem::path base_dir_;
};

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string key, std::string message)
    : std::runtime_error(formatError(file, line, key, message)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)) {}

Config parseConfig(const std::string& yaml_text, const std::string& name) {
  return Loader(name).load(yaml_text);
}

Config loadConfig(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigError(path, 0, "", "is a directory, expected the configuration file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    throw ConfigError(path, 0, "",
                      std::string("cannot read the configuration file: ") + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path, 0, "", "error while reading the configuration file");
  return parseConfig(text.str(), path);
}

}  // namespace parley::config
