#pragma once
// parley.yaml, loaded and validated in one place. Every error names the file, the line and the
// key path ("parley.yaml:14: limits.max_stanza_bytes: expected an integer between 8192 and
// 16777216"), and an unknown key is an error (a typo must not silently fall back to a default).

#include <yaml-cpp/yaml.h>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace parley::config {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string key, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 1-based; 0 when the error concerns the whole file
  const std::string& key() const { return key_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
};

struct ListenEndpoint {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0 = ephemeral (tests); the bound port is logged and written to ports_file
  bool enabled = true;
};

// One entry of `modules:`. The core's own keys are parsed here; the rest is the module's,
// validated by the module itself (errors then name modules.<name>.<key> and its line).
struct ModuleSettings {
  std::string name;
  bool enabled = true;
  bool monitor_only = false;        // record would_block, let the stanza pass
  std::optional<int> priority;      // lower runs first; default from the module
  std::string on_error = "reject";  // reject | pass: verdict when the module fails
  // Per hook call, wall-clock; over it counts as a failure. Wall-clock includes time the thread
  // waited for a CPU, and on a busy machine that alone reaches several ms (a 5 ms default
  // refused stray stanzas under load in the benchmark), so the default only catches a module
  // that blocks. The thread's CPU time would be exact but costs a system call per reading.
  std::chrono::microseconds budget{100000};
  YAML::Node options;  // the module's own keys
  int line = 0;        // of modules.<name>
};

struct Config {
  std::string path;  // the file this came from

  // Served domains (already nameprep'ed). The first is the default for tools.
  std::vector<std::string> hosts;

  struct {
    ListenEndpoint c2s{"127.0.0.1", 5222, true};             // STARTTLS
    ListenEndpoint c2s_direct_tls{"127.0.0.1", 5223, true};  // XEP-0368
    // XEP-0114 external components; opened only when `components` lists at least one.
    ListenEndpoint component{"127.0.0.1", 5347, true};
    // When set, "KIND PORT" per open listener (c2s, c2s_direct_tls, component) is written at start.
    std::string ports_file;
  } listen;

  // XEP-0114: the external components (gateways, bots) allowed to attach, each serving every
  // address at its domain once it has proved it knows the secret.
  struct Component {
    std::string domain;  // nameprep'ed; never a local host
    std::string secret;  // shared with the component; never empty
  };
  std::vector<Component> components;

  struct {
    std::string certificate;  // PEM chain
    std::string key;          // PEM private key
    bool require_starttls = true;
  } tls;

  struct {
    std::string conninfo;  // libpq connection string
    unsigned pool_size = 2;
    unsigned queue_limit = 10000;
  } database;

  struct {
    size_t pre_auth_stanza_bytes = 8192;
    size_t max_stanza_bytes = 262144;  // post-auth, advertised per XEP-0478
    unsigned max_depth = 32;
    unsigned max_attributes = 64;
    size_t max_name_bytes = 256;
    std::chrono::seconds negotiation_timeout{60};  // connect → bound resource
    // XEP-0199: a bound session that sent nothing for idle_ping_after is pinged; if it still
    // sends nothing within idle_ping_timeout, it is closed as dead (0 turns pinging off).
    std::chrono::seconds idle_ping_after{240};
    std::chrono::seconds idle_ping_timeout{60};
    // XEP-0198: how long a session whose connection died stays resumable (0: acks only, no
    // resumption), and how many unacknowledged stanzas it may hold before it is closed (its
    // messages then go to another resource or offline storage).
    std::chrono::seconds sm_resume_timeout{300};
    size_t sm_max_unacked = 10000;
    size_t send_queue_bytes = 4 * 1024 * 1024;  // per session before it is closed as too slow
    size_t offline_max_messages = 1000;         // per account
  } limits;

  struct {
    unsigned scram_iterations = 4096;
    unsigned ip_failures_before_backoff = 5;
    unsigned account_failures_before_backoff = 10;
    std::chrono::seconds backoff_initial{30};
    std::chrono::seconds backoff_max{900};
  } auth;

  struct {
    bool hide_version = false;        // XEP-0092 answers service-unavailable when true
    std::vector<std::string> admins;  // bare JIDs
  } server;

  struct {
    std::string level = "info";     // debug | info | warn | error
    std::string target = "stderr";  // stderr | journald
  } log;

  unsigned io_threads = 0;  // 0 = one per core
  struct {
    std::string dir;  // where <name>.so live; empty = the directory built next to parleyd
    std::vector<ModuleSettings> list;
  } modules;
  struct {
    // Where compliance events wait while PostgreSQL is unreachable (fsync'd, replayed later).
    std::string spool_dir;  // default: spool/ next to the configuration file
    std::string node;       // this server's name in events; default: the host name
  } events;
  struct {
    // The local control socket of parleyctl module ...: whoever may open it is an admin, so
    // its permissions (0660, the directory's owner and group) are the authentication. Empty
    // turns it off.
    std::string socket;  // default: parleyd.sock next to the configuration file
    // Modules enabled or disabled at run time (parleyctl, ad-hoc commands), kept across
    // restarts and applied over modules: until changed back.
    std::string overrides_file;  // default: module-overrides.json next to the configuration
  } admin;
  // Named groups of bare JIDs (e.g. legal, sales), which modules consult for exceptions.
  std::map<std::string, std::vector<std::string>> groups;
};

// Loads and validates; throws ConfigError.
Config loadConfig(const std::string& path);
// The same from a string (tests); `name` is what errors call the file.
Config parseConfig(const std::string& yaml_text, const std::string& name);

}  // namespace parley::config
