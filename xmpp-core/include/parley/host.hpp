#pragma once
// What the core offers a module: hook registration, events, sending from the server, and
// facts about the deployment. One Host per loaded module; everything a module registers is
// recorded by the core and removed when the module is detached, whether or not the module
// cleans up. Hooks run concurrently on network threads and must not block.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/hooks.hpp"
#include "parley/jid.hpp"
#include "parley/stanza.hpp"

namespace parley {

// Stanza hooks: StanzaFromClient, StanzaFromServer, PreRoute, BeforeRemoteSend,
// BeforeLocalDelivery, PepPublish (the publish iq). BeforeLocalDelivery runs once per
// recipient session (stanza.to is that session's full JID), for everything delivered to it:
// routed stanzas, offline messages at login, server notices; a reject there is answered to
// the sender when it is a local session and the stanza may be bounced.
using StanzaHook = std::function<Verdict(Stanza&)>;
// SessionOpened / SessionClosed: the full JID.
using SessionHook = std::function<void(const Jid&)>;
// DiscoInfo: the entity asked about (a domain or an account) and its features, to edit.
using DiscoHook = std::function<void(const Jid&, std::vector<std::string>&)>;
// Decided (observe only): every stanza from a client with the policy chain's final verdict
// (pass, modify, drop or reject; a reject carries the text the sender was shown), before it
// is routed. What an archive records: what actually happened. It cannot change anything.
using DecidedHook = std::function<void(const Stanza&, const Verdict&)>;

// SaslAuthenticated: the credentials were right; a hook may still refuse the login (an account
// whose IM access was revoked). `account` is the bare JID.
struct LoginInfo {
  std::string ip;         // the client's address
  std::string mechanism;  // "SCRAM-SHA-256", "PLAIN", ...
  bool tls = false;
};
using LoginHook = std::function<Verdict(const Jid& account, const LoginInfo& info)>;

// IqNamespace: a module answers iqs addressed to the server whose payload is in its
// namespace. It returns pass to answer with a result carrying `reply` (when `reply` was given a
// name) or an empty result, or reject{condition, text} to answer with that error.
using IqHook = std::function<Verdict(const Stanza& iq, xml::Element& reply)>;

// ServerMessage: a message a local user addressed to the server itself (the domain, with or
// without a resource) that the policy chain let through. This is how a module offers a service
// that people reach from any client, by replying to a message the server sent them (the notice
// module's acknowledgement). Return drop() when the module took the message (it goes no
// further), pass() when it is not for this module (the next one is asked; when none takes it
// the sender gets service-unavailable), or reject{condition, text} to answer with that error.
// The hooks run in priority order; monitor_only does not apply (this is a service, not a
// policy decision).
using ServerMessageHook = std::function<Verdict(const Stanza& message)>;

// StreamFeatures: the <stream:features/> a client is offered, to edit (add a feature, or hide
// one, e.g. a SASL mechanism the policy forbids). `account` is the authenticated bare JID, or
// empty before authentication.
using FeaturesHook = std::function<void(const Jid& account, xml::Element& features)>;

// A periodic job (Host::every): runs on the core's module-jobs thread, never a network thread.
using TimerJob = std::function<void()>;

// What Host::query returns: column names, rows of text values (nullopt for NULL), and the
// number of rows an INSERT/UPDATE/DELETE affected.
struct DbRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t affected = 0;
};
// Called once with the rows, or with an error message (then rows is empty).
using DbDone = std::function<void(DbRows rows, std::string error)>;

enum class LogLevel { Debug, Info, Warn, Error };

class Host {
 public:
  virtual ~Host() = default;

  // Registration. A point this core does not dispatch yet is refused with std::logic_error
  // naming it, so a module never believes it enforces something it does not.
  virtual void onStanza(HookPoint point, StanzaHook hook) = 0;
  virtual void onSession(HookPoint point, SessionHook hook) = 0;
  virtual void onDiscoInfo(DiscoHook hook) = 0;
  virtual void onDecided(DecidedHook hook) = 0;
  virtual void onLogin(LoginHook hook) = 0;
  virtual void onStreamFeatures(FeaturesHook hook) = 0;
  // Refused with std::logic_error if the core itself serves `ns` (roster, disco, ...).
  virtual void onIq(std::string ns, IqHook hook) = 0;
  virtual void onServerMessage(ServerMessageHook hook) = 0;

  // Records an event outside a verdict (the core adds module, clause, id, node and time).
  virtual void emit(ComplianceEvent event) = 0;
  // Sends a stanza from the server to a local user (e.g. a headline notice); 'from' is set to
  // the user's domain when absent.
  virtual void sendFromServer(xml::Element stanza) = 0;
  // Whether `user` (bare JID) is in the named group of the configuration's `groups:`.
  virtual bool isMember(const Jid& user, std::string_view group) const = 0;

  // Timers (registered in attach()): `job` runs every `period` (first after one period) on the
  // core's module-jobs thread, until the module is detached or replaced by a reload. Jobs
  // never overlap; one that throws is counted, logged and recorded, and runs again next time.
  virtual void every(std::chrono::milliseconds period, TimerJob job) = 0;
  // Asynchronous database access through the core's pool: `sql` with $1, $2, ... bound to
  // `params` (text; nullopt is NULL), in one transaction of its own. `done` runs on the
  // module-jobs thread. Hooks must never wait for it: a hook that needs data keeps a copy
  // that timers and queries refresh.
  virtual void query(std::string sql, std::vector<std::optional<std::string>> params,
                     DbDone done) = 0;
  virtual void log(LogLevel level, std::string_view message) = 0;
};

}  // namespace parley
