#pragma once
// The queries behind accounts, rosters, offline messages, vCards and last activity. Each function
// is blocking and takes a connection: the server calls them through DbPool::run on a database
// thread; parleyctl calls them directly. Jids are passed in prepared form (bare "node@domain").

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "auth/scram.hpp"

namespace parley::storage {

// A text[] literal for a bound parameter (libpqxx 6.4 cannot bind a std::vector): every element
// quoted and escaped, so "NULL", "a,b" or "{x}" stay exactly that.
std::string textArrayLiteral(const std::vector<std::string>& items);

// ---- accounts ----
struct Account {
  std::string jid;  // bare
  bool disabled = false;
  std::string created_at;  // ISO 8601, for display
};

bool accountExists(pqxx::connection& c, const std::string& jid);
std::optional<Account> findAccount(pqxx::connection& c, const std::string& jid);
std::vector<Account> listAccounts(pqxx::connection& c, const std::string& domain = {});
// Creates the account with credentials for every SCRAM hash; false when it already exists.
bool createAccount(pqxx::connection& c, const std::string& jid,
                   const std::vector<auth::ScramCredentials>& creds);
// Replaces the credentials; false when the account does not exist.
bool setCredentials(pqxx::connection& c, const std::string& jid,
                    const std::vector<auth::ScramCredentials>& creds);
bool setDisabled(pqxx::connection& c, const std::string& jid, bool disabled);
// Deletes the account and everything it owns (roster, offline, vCard, last activity).
bool deleteAccount(pqxx::connection& c, const std::string& jid);
// Credentials for one hash; nullopt when the account or that hash is missing.
struct StoredLogin {
  bool disabled = false;
  auth::ScramCredentials creds;
};
std::optional<StoredLogin> loadLogin(pqxx::connection& c, const std::string& jid,
                                     auth::ScramHash hash);

// ---- roster (RFC 6121 §2) ----
struct RosterItem {
  std::string contact;  // bare jid
  std::string name;
  std::string subscription = "none";  // none | to | from | both
  bool ask_out = false;               // we sent subscribe, awaiting answer ("ask='subscribe'")
  bool pending_in = false;            // contact asked to subscribe, user has not answered
  bool preapproved = false;           // user pre-approved an inbound subscription
  std::vector<std::string> groups;
  // False for an inbound request from someone the user never added ("None + Pending In",
  // RFC 6121 §3.1.3): kept so it can be redelivered, but not shown in the roster.
  bool listed = true;
};

struct Roster {
  int64_t version = 0;
  std::vector<RosterItem> items;
};

Roster loadRoster(pqxx::connection& c, const std::string& owner);
std::optional<RosterItem> loadRosterItem(pqxx::connection& c, const std::string& owner,
                                         const std::string& contact);
// Inserts or replaces the item and bumps the owner's roster version; returns the new version.
// Read-modify-write of one item in one transaction, under the roster's lock, so concurrent
// changes to the same roster (a subscription arriving while the owner edits the contact)
// never overwrite each other. `change` gets the stored item (or nullopt) and returns the item
// to store, or nullopt to leave everything as it is. Returns the new version when stored.
struct RosterUpdate {
  std::optional<RosterItem> before;  // as it was
  std::optional<int64_t> version;    // set when the item was stored
};
RosterUpdate updateRosterItem(
    pqxx::connection& c, const std::string& owner, const std::string& contact,
    const std::function<std::optional<RosterItem>(const std::optional<RosterItem>&)>& change);
int64_t saveRosterItem(pqxx::connection& c, const std::string& owner, const RosterItem& item);
// Removes the item and bumps the version; returns the new version (or nullopt if absent).
std::optional<int64_t> deleteRosterItem(pqxx::connection& c, const std::string& owner,
                                        const std::string& contact);

// ---- offline messages (XEP-0160) ----
struct OfflineMessage {
  int64_t id = 0;
  std::string stanza;     // serialized <message/>, as received (already carries stamped from)
  std::string stored_at;  // ISO 8601 UTC with 'Z', for XEP-0203 <delay stamp=...>
};
// Stores unless the owner already has `cap` messages; returns false when full.
bool storeOffline(pqxx::connection& c, const std::string& owner, const std::string& stanza,
                  size_t cap);
// Returns and deletes the owner's messages, oldest first.
std::vector<OfflineMessage> takeOffline(pqxx::connection& c, const std::string& owner);
// Every account with at least one stored message (start-up of the offline index).
std::vector<std::string> ownersWithOffline(pqxx::connection& c);
size_t countOffline(pqxx::connection& c, const std::string& owner);

// ---- vCard-temp (XEP-0054) ----
std::optional<std::string> loadVcard(pqxx::connection& c, const std::string& owner);
void saveVcard(pqxx::connection& c, const std::string& owner, const std::string& vcard_xml);

// ---- last activity (XEP-0012) ----
struct LastActivity {
  int64_t logout_unix = 0;
  std::string status;
};
std::optional<LastActivity> loadLastActivity(pqxx::connection& c, const std::string& owner);
void saveLastActivity(pqxx::connection& c, const std::string& owner, const LastActivity& last);
// Many accounts' rows in one statement (the write-behind batch of LastActivityWriter).
void saveLastActivities(pqxx::connection& c, const std::map<std::string, LastActivity>& batch);

}  // namespace parley::storage
