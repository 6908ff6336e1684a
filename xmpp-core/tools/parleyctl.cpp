// parleyctl: the admin CLI. It talks to PostgreSQL directly with the same configuration file as
// parleyd, so it works whether or not the server is running (first install, outages, scripts).

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_client.hpp"
#include "auth/scram.hpp"
#include "config/config.hpp"
#include "events/event_codec.hpp"
#include "events/event_store.hpp"
#include "events/event_time.hpp"
#include "parley/jid.hpp"
#include "storage/migrations.hpp"
#include "storage/stores.hpp"

namespace {

namespace cfg = parley::config;
namespace st = parley::storage;
namespace auth = parley::auth;
namespace ev = parley::events;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;       // the operation itself failed (user exists, no such user...)
constexpr int kExitUsage = 2;        // the command line is wrong
constexpr int kExitUnavailable = 3;  // no usable configuration, or the database is unreachable

constexpr size_t kSaltBytes = 16;

constexpr const char* kUsage =
    R"(usage: parleyctl [--config FILE] COMMAND [ARGS]

Administers a Parley server through its database; parleyd need not be running, except for
the module commands, which act on the running server through its admin socket (admin.socket;
its file permissions decide who may use it). Every module change is a compliance event.

Commands:
  user add JID [--password PW]     create an account (bare JID on one of the configured hosts)
  user passwd JID [--password PW]  set a new password
  user del JID                     delete an account and everything it owns
  user list [DOMAIN]               list accounts, optionally of one domain
  user show JID                    show an account
  user disable JID                 refuse logins to an account
  user enable JID                  allow logins again
  module list [--json]             the policy modules: running or not, and why
  module show NAME [--json]        one module's state, settings and counters
  module enable NAME               switch a module on now (kept across restarts)
  module disable NAME              switch a module off now (kept across restarts)
  module reload [NAME]             re-read the configuration file: all of it (like SIGHUP),
                                   or only NAME's settings
  db migrate                       create or upgrade the database schema
  db status                        show the schema version and pending migrations
  config check FILE                validate a configuration file
  events tail [--limit N] [--json]
                                   the newest compliance events (default 50), oldest first
  events status [--json]           the running server's event pipeline: queue, spool, rows
  events search [--module M] [--actor JID] [--action A] [--since TIME] [--until TIME]
                [--limit N] [--json]
                                   the newest events matching every filter given

Without --password the password is read from standard input: typed twice without echo on a
terminal, otherwise the first line. (--password is visible to other local users in the process
list; prefer standard input outside of throwaway setups.)

Events print one line each: time (UTC), module, action, actor → target, kind, stanza id;
--json prints one JSON object per line instead, with every field. --actor with a bare JID also
matches its full JIDs. --action is one of allowed, blocked, redacted, flagged, would_block,
admin, error. TIME is UTC unless it says otherwise: 2024-05-01, 2024-05-01T13:00,
"2024-05-01 13:00:30", 2024-05-01T15:00+02:00, or a duration back from now: 90s, 15m, 24h, 7d.
--since is inclusive, --until exclusive.

The configuration is the first of: --config FILE, $PARLEY_CONFIG, ./var/parley.yaml,
/etc/parley/parley.yaml.

Exit status: 0 success, 1 operation failed, 2 usage error, 3 configuration or database unusable.
)";

// Unwinds to main with an exit status after the message has been decided; main prints it.
struct Exit {
  int code;
  std::string message;
  bool show_usage = false;
};

[[noreturn]] void usageError(const std::string& message) { throw Exit{kExitUsage, message, true}; }

[[noreturn]] void failed(const std::string& message) { throw Exit{kExitFailed, message}; }

struct CommandLine {
  std::optional<std::string> config;
  std::optional<std::string> password;
  std::vector<std::string> words;  // command, subcommand, arguments
  // events only
  std::vector<std::pair<std::string, std::string>> filters;  // --module M etc., as given
  std::optional<std::string> limit;
  bool json = false;
};

constexpr const char* kEventFilters[] = {"--module", "--actor", "--action", "--since", "--until"};

CommandLine parseCommandLine(int argc, char** argv) {
  CommandLine cl;
  // Options may appear anywhere, so "parleyctl user add JID --config FILE" works too.
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto valueOf = [&](const std::string& name) -> std::optional<std::string> {
      if (arg == name) {
        if (i + 1 >= argc) usageError(name + " needs a value");
        return std::string(argv[++i]);
      }
      if (arg.rfind(name + "=", 0) == 0) return arg.substr(name.size() + 1);
      return std::nullopt;
    };
    if (arg == "-h" || arg == "--help") throw Exit{kExitOk, "", true};
    if (auto v = valueOf("--config")) {
      cl.config = *v;
    } else if (auto p = valueOf("--password")) {
      cl.password = *p;
    } else if (auto l = valueOf("--limit")) {
      cl.limit = *l;
    } else if (arg == "--json") {
      cl.json = true;
    } else if (arg == "--") {
      for (++i; i < argc; ++i) cl.words.emplace_back(argv[i]);
    } else if (arg.size() > 1 && arg[0] == '-') {
      bool filter = false;
      for (const char* name : kEventFilters) {
        if (auto v = valueOf(name)) {
          cl.filters.emplace_back(name, *v);
          filter = true;
          break;
        }
      }
      if (!filter) usageError("unknown option '" + arg + "'");
    } else {
      cl.words.push_back(arg);
    }
  }
  return cl;
}

// libpq messages end in a newline; ours add their own advice after them.
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// ---- configuration and database ----

struct Context {
  cfg::Config config;
  bool explicit_config = false;  // named on the command line: repeat it in suggested commands
};

std::string findConfig(const CommandLine& cl) {
  if (cl.config) return *cl.config;  // explicit: a missing file is reported as such by loadConfig
  // $PARLEY_CONFIG is just as explicit: falling through to /etc when it points nowhere would
  // silently administer a different server than the operator meant.
  if (const char* env = std::getenv("PARLEY_CONFIG"); env && *env) {
    if (!std::filesystem::exists(env)) {
      throw Exit{kExitUnavailable, std::string("PARLEY_CONFIG points to '") + env +
                                       "', which does not exist; fix or unset PARLEY_CONFIG"};
    }
    return env;
  }
  const std::vector<std::string> candidates = {"./var/parley.yaml", "/etc/parley/parley.yaml"};
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c)) return c;
  }
  throw Exit{kExitUnavailable,
             "no configuration file found; tried --config (not given), $PARLEY_CONFIG (not set), "
             "./var/parley.yaml, /etc/parley/parley.yaml.\nPass one with --config FILE (see "
             "examples/parley.yaml for a complete one)."};
}

Context loadContext(const CommandLine& cl) {
  Context ctx;
  std::string path = findConfig(cl);
  ctx.explicit_config = cl.config.has_value();
  try {
    ctx.config = cfg::loadConfig(path);
  } catch (const cfg::ConfigError& e) {
    throw Exit{kExitUnavailable, std::string(e.what()) +
                                     "\nFix the configuration, then check it "
                                     "with: parleyctl config check " +
                                     path};
  }
  return ctx;
}

// "parleyctl db migrate", plus --config when the operator had to give one.
std::string suggest(const Context& ctx, const std::string& command) {
  std::string s = "parleyctl " + command;
  if (ctx.explicit_config) s += " --config " + ctx.config.path;
  return s;
}

std::unique_ptr<pqxx::connection> connect(const Context& ctx) {
  try {
    return std::make_unique<pqxx::connection>(ctx.config.database.conninfo);
  } catch (const std::exception& e) {
    throw Exit{kExitUnavailable,
               "cannot connect to the database (database.conninfo in " + ctx.config.path +
                   "): " + trimmed(e.what()) +
                   "\nCheck that PostgreSQL is running and that the conninfo, user and "
                   "permissions are right."};
  }
}

// User commands never migrate implicitly: a schema change is an operator decision (backups,
// several nodes), so they stop and say what to run.
void requireCurrentSchema(const Context& ctx, pqxx::connection& c) {
  auto status = st::schemaStatus(c);
  if (status.current < status.latest) {
    failed("the database schema is at version " + std::to_string(status.current) +
           " but this parleyctl needs version " + std::to_string(status.latest) +
           "; run: " + suggest(ctx, "db migrate"));
  }
  if (status.current > status.latest) {
    failed("the database schema (version " + std::to_string(status.current) +
           ") is newer than this parleyctl knows (" + std::to_string(status.latest) +
           "); use the parleyctl from the same release as the running parleyd, or upgrade");
  }
}

// ---- arguments ----

std::string userJid(const Context& ctx, const std::string& text) {
  auto jid = parley::Jid::parse(text);
  if (!jid) failed("'" + text + "' is not a valid JID (expected user@domain)");
  if (jid->node().empty()) {
    failed("'" + text + "' has no user part; accounts are user@domain");
  }
  if (!jid->isBare()) {
    failed("'" + text + "' has a resource; accounts are bare JIDs (use " + jid->bareString() + ")");
  }
  const auto& hosts = ctx.config.hosts;
  if (std::find(hosts.begin(), hosts.end(), jid->domain()) == hosts.end()) {
    std::string list;
    for (const auto& h : hosts) list += (list.empty() ? "" : ", ") + h;
    failed("'" + jid->domain() + "' is not a host of this server (hosts in " + ctx.config.path +
           ": " + list + ")");
  }
  return jid->bareString();
}

// ---- passwords ----

termios g_saved_termios;
volatile sig_atomic_t g_echo_off = 0;

void restoreEcho() {
  if (g_echo_off) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
    g_echo_off = 0;
  }
}

// Ctrl-C at the password prompt must not leave the operator's terminal without echo.
void onInterrupt(int sig) {
  restoreEcho();
  signal(sig, SIG_DFL);
  raise(sig);
}

std::string readLineNoEcho(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  if (tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) {
    failed(std::string("cannot read the terminal settings: ") + std::strerror(errno));
  }
  termios quiet = g_saved_termios;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;  // still move to the next line when Enter is pressed
  auto old_int = signal(SIGINT, onInterrupt);
  auto old_term = signal(SIGTERM, onInterrupt);
  g_echo_off = 1;
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string line;
  bool ok = static_cast<bool>(std::getline(std::cin, line));
  restoreEcho();
  signal(SIGINT, old_int);
  signal(SIGTERM, old_term);
  if (!ok) failed("no password entered");
  return line;
}

std::string obtainPassword(const CommandLine& cl, const std::string& jid) {
  std::string password;
  if (cl.password) {
    password = *cl.password;
  } else if (isatty(STDIN_FILENO)) {
    password = readLineNoEcho("Password for " + jid + ": ");
    if (password.empty()) failed("refusing an empty password");
    if (readLineNoEcho("Repeat the password: ") != password) {
      failed("the passwords do not match; nothing was changed");
    }
  } else {
    // Scripts pipe the password in; only the first line counts (a trailing CR from a Windows
    // editor is not part of it).
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  if (password.empty()) {
    failed("refusing an empty password (give one with --password or on standard input)");
  }
  return password;
}

std::vector<auth::ScramCredentials> credentialsFor(const Context& ctx,
                                                   const std::string& password) {
  auto prepared = auth::saslprep(password);
  if (!prepared || prepared->empty()) {
    failed(
        "the password contains characters SASLprep (RFC 4013) does not allow, such as control "
        "characters; choose another");
  }
  std::vector<auth::ScramCredentials> creds;
  // Both hashes: clients that only know SCRAM-SHA-1 must still be able to log in.
  for (auto hash : {auth::ScramHash::Sha1, auth::ScramHash::Sha256}) {
    std::string salt = auth::randomBytes(kSaltBytes);  // one salt per hash, never shared
    creds.push_back(
        auth::deriveCredentials(hash, *prepared, salt, ctx.config.auth.scram_iterations));
  }
  return creds;
}

// ---- commands ----

void expectArgs(const std::vector<std::string>& words, size_t min, size_t max,
                const std::string& command) {
  size_t n = words.size() - 2;
  if (n < min) usageError(command + ": missing argument");
  if (n > max) usageError(command + ": unexpected argument '" + words[2 + max] + "'");
}

int userCommand(const CommandLine& cl) {
  const auto& w = cl.words;
  if (w.size() < 2) usageError("user: missing subcommand");
  const std::string& sub = w[1];
  const std::string name = "user " + sub;
  if (sub == "list") {
    expectArgs(w, 0, 1, name);
  } else if (sub == "add" || sub == "passwd" || sub == "del" || sub == "show" || sub == "disable" ||
             sub == "enable") {
    expectArgs(w, 1, 1, name);
  } else {
    usageError("unknown command 'user " + sub + "'");
  }
  if (cl.password && sub != "add" && sub != "passwd") {
    usageError("--password only applies to user add and user passwd");
  }

  Context ctx = loadContext(cl);
  // Validate the JID, then the database, before asking for a password that could not be used.
  std::string jid = sub == "list" ? std::string() : userJid(ctx, w[2]);
  auto conn = connect(ctx);
  requireCurrentSchema(ctx, *conn);

  if (sub == "add") {
    if (st::accountExists(*conn, jid)) {
      failed(jid +
             " already exists; to change its password run: " + suggest(ctx, "user passwd " + jid));
    }
    auto creds = credentialsFor(ctx, obtainPassword(cl, jid));
    if (!st::createAccount(*conn, jid, creds)) {
      failed(jid + " already exists (created concurrently)");
    }
    std::cout << "created " << jid << "\n";
  } else if (sub == "passwd") {
    if (!st::accountExists(*conn, jid)) {
      failed("no such user " + jid + "; to create it run: " + suggest(ctx, "user add " + jid));
    }
    auto creds = credentialsFor(ctx, obtainPassword(cl, jid));
    if (!st::setCredentials(*conn, jid, creds)) {
      failed("no such user " + jid + " (deleted concurrently)");
    }
    std::cout << "changed the password of " << jid << "\n";
  } else if (sub == "del") {
    if (!st::deleteAccount(*conn, jid)) failed("no such user " + jid);
    std::cout << "deleted " << jid
              << " with its roster, offline messages, vCard and last activity\n";
  } else if (sub == "disable" || sub == "enable") {
    bool disable = sub == "disable";
    if (!st::setDisabled(*conn, jid, disable)) failed("no such user " + jid);
    std::cout << (disable ? "disabled " : "enabled ") << jid
              << (disable ? " (new logins are refused)\n" : "\n");
  } else if (sub == "show") {
    auto account = st::findAccount(*conn, jid);
    if (!account) failed("no such user " + jid);
    std::string mechanisms;
    for (auto [hash, mech] : {std::pair{auth::ScramHash::Sha1, "SCRAM-SHA-1"},
                              std::pair{auth::ScramHash::Sha256, "SCRAM-SHA-256"}}) {
      if (auto login = st::loadLogin(*conn, jid, hash)) {
        mechanisms += (mechanisms.empty() ? "" : ", ") + std::string(mech) + " (" +
                      std::to_string(login->creds.iterations) + " iterations)";
      }
    }
    std::cout << "jid:         " << account->jid << "\n"
              << "status:      " << (account->disabled ? "disabled" : "enabled") << "\n"
              << "created:     " << account->created_at << "\n"
              << "credentials: " << (mechanisms.empty() ? "none" : mechanisms) << "\n";
  } else if (sub == "list") {
    std::string domain;
    if (w.size() > 2) {
      auto prepared = parley::nameprep(w[2]);
      if (!prepared || prepared->empty()) failed("'" + w[2] + "' is not a valid domain name");
      domain = *prepared;
    }
    for (const auto& a : st::listAccounts(*conn, domain)) {
      std::cout << a.jid << (a.disabled ? "\tdisabled" : "") << "\n";
    }
  }
  return kExitOk;
}

int dbCommand(const CommandLine& cl) {
  const auto& w = cl.words;
  if (w.size() < 2) usageError("db: missing subcommand");
  const std::string& sub = w[1];
  if (sub != "migrate" && sub != "status") usageError("unknown command 'db " + sub + "'");
  expectArgs(w, 0, 0, "db " + sub);
  if (cl.password) usageError("--password only applies to user add and user passwd");

  Context ctx = loadContext(cl);
  auto conn = connect(ctx);
  if (sub == "migrate") {
    int applied = 0;
    try {
      applied = st::migrate(*conn);
    } catch (const pqxx::broken_connection&) {
      throw;
    } catch (const std::exception& e) {
      failed(std::string("migration failed: ") + e.what() +
             "\nThe database stays at the last migration that completed.");
    }
    auto status = st::schemaStatus(*conn);
    if (applied == 0) {
      std::cout << "schema is up to date (version " << status.current << ")\n";
    } else {
      std::cout << "applied " << applied << " migration" << (applied == 1 ? "" : "s")
                << "; schema is now at version " << status.current << "\n";
    }
    return kExitOk;
  }
  auto status = st::schemaStatus(*conn);
  std::cout << "schema version: " << status.current << " (this parleyctl knows up to "
            << status.latest << ")\n";
  if (status.current > status.latest) {
    std::cout << "the database is newer than this parleyctl: upgrade parleyctl and parleyd\n";
  } else if (status.pending.empty()) {
    std::cout << "up to date\n";
  } else {
    std::cout << "pending:\n";
    for (const auto& m : status.pending) std::cout << "  " << m.name << "\n";
    std::cout << "run: " << suggest(ctx, "db migrate") << "\n";
  }
  return kExitOk;
}

int configCommand(const CommandLine& cl) {
  const auto& w = cl.words;
  if (w.size() < 2 || w[1] != "check") {
    usageError(w.size() < 2 ? "config: missing subcommand"
                            : "unknown command 'config " + w[1] + "'");
  }
  expectArgs(w, 1, 1, "config check");
  if (cl.password) usageError("--password only applies to user add and user passwd");
  try {
    cfg::loadConfig(w[2]);
  } catch (const cfg::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return kExitFailed;
  }
  std::cout << w[2] << ": OK\n";
  return kExitOk;
}

// ---- compliance events ----

constexpr size_t kDefaultEventLimit = 50;
constexpr size_t kMaxEventLimit = 100000;

size_t eventLimit(const std::optional<std::string>& text) {
  if (!text) return kDefaultEventLimit;
  bool digits =
      !text->empty() && text->size() <= 6 &&
      std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
  size_t n = digits ? std::stoul(*text) : 0;
  if (n == 0 || n > kMaxEventLimit) {
    usageError("--limit needs a number from 1 to " + std::to_string(kMaxEventLimit) + ", not '" +
               *text + "'");
  }
  return n;
}

ev::Clock::time_point eventTime(const std::string& option, const std::string& text) {
  auto t = ev::parseTimeArgument(text, ev::Clock::now());
  if (!t) {
    usageError(option + ": '" + text +
               "' is not a time; use e.g. 2024-05-01, 2024-05-01T13:00 (UTC), "
               "2024-05-01T13:00+02:00, or a duration back from now: 90s, 15m, 24h, 7d");
  }
  return *t;
}

// Events record JIDs in prepared form (as stamped on stanzas): prepare the one asked for too,
// so "Alice@Example.org" finds alice@example.org.
std::string eventActor(const std::string& text) {
  auto jid = parley::Jid::parse(text);
  if (!jid) usageError("--actor: '" + text + "' is not a valid JID");
  return jid->full();
}

// Stanza ids come from clients: a control character (a newline, an ANSI escape) must not forge
// a line or repaint the officer's terminal.
std::string printable(const std::string& text) {
  if (text.empty()) return "-";
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string eventLine(const parley::ComplianceEvent& e) {
  return ev::isoTimestamp(e.at) + "  " + printable(e.module) + "  " +
         std::string(parley::actionName(e.action)) + "  " + printable(e.actor) + " → " +
         printable(e.target) + "  " + printable(e.kind) + "  " + printable(e.stanza_id);
}

// Sends one request to the running parleyd through its admin socket; a refusal exits 1.
boost::json::object askRunningServer(const Context& ctx, const boost::json::object& request) {
  if (ctx.config.admin.socket.empty()) {
    throw Exit{kExitUnavailable, "the admin socket is turned off (admin.socket is empty in " +
                                     ctx.config.path + "); set it and restart parleyd"};
  }
  boost::json::object reply;
  try {
    reply = parley::admin::askServer(ctx.config.admin.socket, request);
  } catch (const parley::admin::AdminUnreachable& e) {
    throw Exit{kExitUnavailable, e.what()};
  }
  if (!reply.at("ok").as_bool()) failed(std::string(reply.at("error").as_string()));
  return reply;
}

int eventStatusCommand(const CommandLine& cl) {
  expectArgs(cl.words, 0, 0, "events status");
  if (!cl.filters.empty() || cl.limit || cl.password) {
    usageError("events status takes no options but --json and --config");
  }
  Context ctx = loadContext(cl);
  auto reply = askRunningServer(ctx, {{"command", "events.status"}});
  const auto& status = reply.at("events").as_object();
  if (cl.json) {
    std::cout << boost::json::serialize(status) << "\n";
    return kExitOk;
  }
  for (const auto& [key, value] : status) {
    std::string label(key);
    label.resize(std::max<size_t>(label.size() + 2, 24), ' ');
    std::cout << label << boost::json::serialize(value) << "\n";
  }
  return kExitOk;
}

int eventsCommand(const CommandLine& cl) {
  const auto& w = cl.words;
  if (w.size() < 2) usageError("events: missing subcommand (tail, search or status)");
  const std::string& sub = w[1];
  if (sub == "status") return eventStatusCommand(cl);
  if (sub != "tail" && sub != "search") usageError("unknown command 'events " + sub + "'");
  expectArgs(w, 0, 0, "events " + sub);
  if (cl.password) usageError("--password only applies to user add and user passwd");
  if (sub == "tail" && !cl.filters.empty()) {
    usageError(cl.filters.front().first +
               " only applies to events search (events tail shows every event)");
  }

  ev::EventQuery query;
  query.limit = eventLimit(cl.limit);
  std::vector<std::string> seen;
  for (const auto& [option, value] : cl.filters) {
    if (std::find(seen.begin(), seen.end(), option) != seen.end()) {
      usageError(option + " is given twice; filters combine with AND, each at most once");
    }
    seen.push_back(option);
    if (option == "--module") {
      query.module = value;
    } else if (option == "--actor") {
      query.actor = eventActor(value);
    } else if (option == "--action") {
      query.action = ev::parseAction(value);
      if (!query.action) {
        usageError("--action: '" + value +
                   "' is not an action; use one of allowed, blocked, redacted, flagged, "
                   "would_block, admin, error");
      }
    } else if (option == "--since") {
      query.since = eventTime(option, value);
    } else if (option == "--until") {
      query.until = eventTime(option, value);
    }
  }
  if (query.since && query.until && *query.since >= *query.until) {
    usageError("--since must be earlier than --until");
  }

  Context ctx = loadContext(cl);
  auto conn = connect(ctx);
  requireCurrentSchema(ctx, *conn);
  auto events = ev::findEvents(*conn, query);
  for (const auto& e : events) std::cout << (cl.json ? ev::displayJson(e) : eventLine(e)) << "\n";
  // On stderr, so that scripts reading stdout see no output rather than a sentence.
  if (events.empty()) std::cerr << (sub == "tail" ? "no events yet\n" : "no events match\n");
  return kExitOk;
}

// ---- module: the running server, through its admin socket ----

std::string moduleState(const boost::json::object& m) {
  const bool running = m.at("running").as_bool();
  std::string state = running ? "running" : "off";
  if (running && m.contains("monitor_only") && m.at("monitor_only").as_bool()) {
    state += " (monitor only)";
  }
  return state;
}

std::string moduleOrigin(const boost::json::object& m) {
  std::string origin = "config: " + std::string(m.at("configured").as_string());
  if (const auto* o = m.if_contains("override")) {
    const auto& ov = o->as_object();
    origin += "; " + std::string(ov.at("enabled").as_bool() ? "enabled" : "disabled") + " by " +
              std::string(ov.at("by").as_string()) + " at " + std::string(ov.at("at").as_string());
  }
  return origin;
}

void printModule(const boost::json::object& m) {
  auto field = [&](const char* label, const std::string& value) {
    std::cout << label << std::string(12 - std::string(label).size(), ' ') << value << "\n";
  };
  field("module", std::string(m.at("name").as_string()));
  field("state", moduleState(m));
  field("origin", moduleOrigin(m));
  if (m.contains("clause")) {
    field("clause", std::string(m.at("clause").as_string()));
    field("priority", std::to_string(m.at("priority").to_number<int64_t>()));
    field("on_error", std::string(m.at("on_error").as_string()));
    field("calls", std::to_string(m.at("calls").to_number<uint64_t>()));
    field("failures", std::to_string(m.at("failures").to_number<uint64_t>()));
    field("file", std::string(m.at("path").as_string()));
  }
}

int moduleCommand(const CommandLine& cl) {
  const auto& w = cl.words;
  if (w.size() < 2) usageError("module: missing subcommand (list, show, enable, disable, reload)");
  const std::string& sub = w[1];
  boost::json::object request;
  if (sub == "list") {
    expectArgs(w, 0, 0, "module list");
  } else if (sub == "show" || sub == "enable" || sub == "disable") {
    expectArgs(w, 1, 1, "module " + sub + " NAME");
    request["name"] = w[2];
  } else if (sub == "reload") {
    expectArgs(w, 0, 1, "module reload [NAME]");
    if (w.size() > 2) request["name"] = w[2];
  } else {
    usageError("unknown command 'module " + sub + "'");
  }
  if (cl.json && sub != "list" && sub != "show")
    usageError("--json only applies to module list and show");
  request["command"] = "module." + sub;

  Context ctx = loadContext(cl);
  boost::json::object reply = askRunningServer(ctx, request);
  if (sub == "list") {
    const auto& modules = reply.at("modules").as_array();
    if (cl.json) {
      for (const auto& m : modules) std::cout << boost::json::serialize(m) << "\n";
      return kExitOk;
    }
    for (const auto& v : modules) {
      const auto& m = v.as_object();
      std::string name(m.at("name").as_string());
      std::string state = moduleState(m);
      name.resize(std::max<size_t>(name.size(), 16), ' ');
      state.resize(std::max<size_t>(state.size(), 24), ' ');
      std::cout << name << state << moduleOrigin(m) << "\n";
    }
    if (modules.empty()) std::cerr << "no modules configured or installed\n";
  } else if (sub == "show") {
    const auto& m = reply.at("module").as_object();
    if (cl.json) {
      std::cout << boost::json::serialize(m) << "\n";
    } else {
      printModule(m);
    }
  } else {
    std::cout << std::string(reply.at("message").as_string()) << "\n";
  }
  return kExitOk;
}

int run(int argc, char** argv) {
  CommandLine cl = parseCommandLine(argc, argv);
  if (cl.words.empty()) usageError("missing command");
  const std::string& command = cl.words[0];
  if (command == "help") throw Exit{kExitOk, "", true};
  if (command == "events") return eventsCommand(cl);
  if (command == "module" && cl.filters.empty() && !cl.limit) return moduleCommand(cl);
  if (!cl.filters.empty()) usageError(cl.filters.front().first + " only applies to events search");
  if (cl.limit || cl.json) {
    usageError(std::string(cl.limit ? "--limit" : "--json") +
               " only applies to events tail and events search");
  }
  if (command == "user") return userCommand(cl);
  if (command == "db") return dbCommand(cl);
  if (command == "config") return configCommand(cl);
  usageError("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Exit& e) {
    if (e.code == kExitOk && e.show_usage) {
      std::cout << kUsage;
      return kExitOk;
    }
    if (!e.message.empty()) std::cerr << "parleyctl: " << e.message << "\n";
    if (e.show_usage) std::cerr << "\n" << kUsage;
    return e.code;
  } catch (const pqxx::broken_connection& e) {
    std::cerr << "parleyctl: lost the connection to the database: " << trimmed(e.what())
              << "\nCheck that PostgreSQL is running, then run the command again.\n";
    return kExitUnavailable;
  } catch (const std::exception& e) {
    // Each store function runs in its own transaction, so a failure here changed nothing.
    std::cerr << "parleyctl: database error: " << trimmed(e.what()) << "\n";
    return kExitFailed;
  }
}
