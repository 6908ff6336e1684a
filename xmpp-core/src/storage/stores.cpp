#include "storage/stores.hpp"

#include <stdexcept>
#include <utility>

namespace parley::storage {

namespace {

// Timestamps leave the database already formatted: XEP-0082 wants UTC with 'Z', and doing it in
// SQL avoids depending on the session's TimeZone or DateStyle.
std::string iso8601(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
}

const std::string& accountSelect() {
  static const std::string sql =
      "SELECT jid, disabled, " + iso8601("created_at") + " FROM accounts ";
  return sql;
}

const char* mechanismName(auth::ScramHash hash) {
  switch (hash) {
    case auth::ScramHash::Sha1:
      return "SCRAM-SHA-1";
    case auth::ScramHash::Sha256:
      return "SCRAM-SHA-256";
  }
  throw std::invalid_argument("unknown SCRAM hash");
}

std::string bytes(const pqxx::field& f) { return pqxx::binarystring(f).str(); }

void insertCredentials(pqxx::work& tx, const std::string& jid,
                       const std::vector<auth::ScramCredentials>& creds) {
  for (const auto& cr : creds) {
    tx.exec_params(
        "INSERT INTO account_credentials (jid, mechanism, salt, iterations, stored_key, "
        "server_key) VALUES ($1, $2, $3, $4, $5, $6)",
        jid, mechanismName(cr.hash), pqxx::binarystring(cr.salt),
        static_cast<long long>(cr.iterations), pqxx::binarystring(cr.stored_key),
        pqxx::binarystring(cr.server_key));
  }
}

Account accountFrom(const pqxx::row& row) {
  Account a;
  a.jid = row[0].as<std::string>();
  a.disabled = row[1].as<bool>();
  a.created_at = row[2].as<std::string>();
  return a;
}

std::vector<std::string> parseTextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  auto parser = f.as_array();
  for (;;) {
    auto [kind, value] = parser.get_next();
    if (kind == pqxx::array_parser::done) break;
    if (kind == pqxx::array_parser::string_value) out.push_back(std::move(value));
  }
  return out;
}

RosterItem rosterItemFrom(const pqxx::row& row) {
  RosterItem item;
  item.contact = row[0].as<std::string>();
  item.name = row[1].as<std::string>();
  item.subscription = row[2].as<std::string>();
  item.ask_out = row[3].as<bool>();
  item.pending_in = row[4].as<bool>();
  item.preapproved = row[5].as<bool>();
  item.groups = parseTextArray(row[6]);
  item.listed = row[7].as<bool>();
  return item;
}

constexpr const char* kRosterColumns =
    "contact, name, subscription, ask_out, pending_in, preapproved, groups, listed";

// Bumps (or starts) the owner's roster version inside the caller's transaction, so a client that
// saw version N can never miss a change made under N. The row lock it takes also serialises
// concurrent changes to one roster.
int64_t bumpRosterVersion(pqxx::work& tx, const std::string& owner) {
  auto row = tx.exec_params1(
      "INSERT INTO roster_versions (owner, version) VALUES ($1, 1) "
      "ON CONFLICT (owner) DO UPDATE SET version = roster_versions.version + 1 "
      "RETURNING version",
      owner);
  return row[0].as<int64_t>();
}

}  // namespace

// libpqxx 6.4 cannot bind a std::vector, so groups travel as one text[] literal parameter. Every
// element is quoted and escaped, so a group called NULL, "a,b" or {x} stays exactly that; being a
// bound parameter it can never become SQL.
std::string textArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// Single-statement reads and writes run in autocommit (pqxx::nontransaction): one statement is
// atomic on its own, and BEGIN/COMMIT would triple the round trips on the login path.

// ---- accounts ----

bool accountExists(pqxx::connection& c, const std::string& jid) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params("SELECT 1 FROM accounts WHERE jid = $1", jid);
  tx.commit();
  return !r.empty();
}

std::optional<Account> findAccount(pqxx::connection& c, const std::string& jid) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(accountSelect() + "WHERE jid = $1", jid);
  tx.commit();
  if (r.empty()) return std::nullopt;
  return accountFrom(r[0]);
}

std::vector<Account> listAccounts(pqxx::connection& c, const std::string& domain) {
  pqxx::read_transaction tx(c);
  // Bare JIDs are node@domain and a prepared node never contains '@', so the domain is the part
  // after the only '@'.
  auto r = domain.empty()
               ? tx.exec(accountSelect() + "ORDER BY jid")
               : tx.exec_params(accountSelect() + "WHERE split_part(jid, '@', 2) = $1 ORDER BY jid",
                                domain);
  tx.commit();
  std::vector<Account> out;
  out.reserve(r.size());
  for (const auto& row : r) out.push_back(accountFrom(row));
  return out;
}

bool createAccount(pqxx::connection& c, const std::string& jid,
                   const std::vector<auth::ScramCredentials>& creds) {
  pqxx::work tx(c);
  auto r =
      tx.exec_params("INSERT INTO accounts (jid) VALUES ($1) ON CONFLICT (jid) DO NOTHING", jid);
  if (r.affected_rows() == 0) return false;  // rolled back by tx's destructor
  insertCredentials(tx, jid, creds);
  tx.commit();
  return true;
}

bool setCredentials(pqxx::connection& c, const std::string& jid,
                    const std::vector<auth::ScramCredentials>& creds) {
  pqxx::work tx(c);
  // Locking the account row keeps a concurrent delete or password change from interleaving.
  auto r = tx.exec_params("SELECT 1 FROM accounts WHERE jid = $1 FOR UPDATE", jid);
  if (r.empty()) return false;
  tx.exec_params("DELETE FROM account_credentials WHERE jid = $1", jid);
  insertCredentials(tx, jid, creds);
  tx.commit();
  return true;
}

bool setDisabled(pqxx::connection& c, const std::string& jid, bool disabled) {
  pqxx::work tx(c);
  auto r = tx.exec_params("UPDATE accounts SET disabled = $2 WHERE jid = $1", jid, disabled);
  tx.commit();
  return r.affected_rows() > 0;
}

bool deleteAccount(pqxx::connection& c, const std::string& jid) {
  pqxx::work tx(c);
  // Credentials, roster, offline messages, vCard and last activity go with it (ON DELETE CASCADE).
  auto r = tx.exec_params("DELETE FROM accounts WHERE jid = $1", jid);
  tx.commit();
  return r.affected_rows() > 0;
}

std::optional<StoredLogin> loadLogin(pqxx::connection& c, const std::string& jid,
                                     auth::ScramHash hash) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(
      "SELECT a.disabled, c.salt, c.iterations, c.stored_key, c.server_key "
      "FROM accounts a JOIN account_credentials c ON c.jid = a.jid "
      "WHERE a.jid = $1 AND c.mechanism = $2",
      jid, mechanismName(hash));
  tx.commit();
  if (r.empty()) return std::nullopt;
  const auto& row = r[0];
  StoredLogin login;
  login.disabled = row[0].as<bool>();
  login.creds.hash = hash;
  login.creds.salt = bytes(row[1]);
  login.creds.iterations = row[2].as<uint32_t>();
  login.creds.stored_key = bytes(row[3]);
  login.creds.server_key = bytes(row[4]);
  return login;
}

// ---- roster ----

Roster loadRoster(pqxx::connection& c, const std::string& owner) {
  // One statement, so the version and the items come from one snapshot (a client caching by
  // version never stores items newer or older than the version it was told) without a
  // transaction: BEGIN, two SELECTs and COMMIT were four round trips on every login. The
  // one-row subquery keeps the version when the roster has no items.
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(
      "SELECT ri.contact, ri.name, ri.subscription, ri.ask_out, ri.pending_in, ri.preapproved,"
      " ri.groups, ri.listed, rv.version"
      " FROM (SELECT $1::text AS owner) o"
      " LEFT JOIN roster_versions rv ON rv.owner = o.owner"
      " LEFT JOIN roster_items ri ON ri.owner = o.owner"
      " ORDER BY ri.contact",
      owner);
  Roster roster;
  roster.items.reserve(r.size());
  for (const auto& row : r) {
    if (!row[8].is_null()) roster.version = row[8].as<int64_t>();
    if (!row[0].is_null()) roster.items.push_back(rosterItemFrom(row));
  }
  return roster;
}

std::optional<RosterItem> loadRosterItem(pqxx::connection& c, const std::string& owner,
                                         const std::string& contact) {
  pqxx::read_transaction tx(c);
  auto r = tx.exec_params(std::string("SELECT ") + kRosterColumns +
                              " FROM roster_items WHERE owner = $1 AND contact = $2",
                          owner, contact);
  tx.commit();
  if (r.empty()) return std::nullopt;
  return rosterItemFrom(r[0]);
}

namespace {

void upsertRosterItem(pqxx::work& tx, const std::string& owner, const RosterItem& item) {
  tx.exec_params(
      "INSERT INTO roster_items (owner, contact, name, subscription, ask_out, pending_in, "
      "preapproved, groups, listed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text[], $9) "
      "ON CONFLICT (owner, contact) DO UPDATE SET name = EXCLUDED.name, "
      "subscription = EXCLUDED.subscription, ask_out = EXCLUDED.ask_out, "
      "pending_in = EXCLUDED.pending_in, preapproved = EXCLUDED.preapproved, "
      "groups = EXCLUDED.groups, listed = EXCLUDED.listed",
      owner, item.contact, item.name, item.subscription, item.ask_out, item.pending_in,
      item.preapproved, textArrayLiteral(item.groups), item.listed);
}

}  // namespace

int64_t saveRosterItem(pqxx::connection& c, const std::string& owner, const RosterItem& item) {
  pqxx::work tx(c);
  int64_t version = bumpRosterVersion(tx, owner);
  upsertRosterItem(tx, owner, item);
  tx.commit();
  return version;
}

RosterUpdate updateRosterItem(
    pqxx::connection& c, const std::string& owner, const std::string& contact,
    const std::function<std::optional<RosterItem>(const std::optional<RosterItem>&)>& change) {
  pqxx::work tx(c);
  // The roster's version row is the lock: it exists for every roster that was ever changed and
  // is created here otherwise, so even two first changes of an empty roster are serialised.
  tx.exec_params(
      "INSERT INTO roster_versions (owner, version) VALUES ($1, 0) ON CONFLICT (owner) DO NOTHING",
      owner);
  tx.exec_params("SELECT version FROM roster_versions WHERE owner = $1 FOR UPDATE", owner);
  RosterUpdate update;
  auto r = tx.exec_params(std::string("SELECT ") + kRosterColumns +
                              " FROM roster_items WHERE owner = $1 AND contact = $2",
                          owner, contact);
  if (!r.empty()) update.before = rosterItemFrom(r[0]);
  std::optional<RosterItem> after = change(update.before);
  if (after) {
    after->contact = contact;
    update.version = bumpRosterVersion(tx, owner);
    upsertRosterItem(tx, owner, *after);
  }
  tx.commit();
  return update;
}

std::optional<int64_t> deleteRosterItem(pqxx::connection& c, const std::string& owner,
                                        const std::string& contact) {
  pqxx::work tx(c);
  auto r =
      tx.exec_params("DELETE FROM roster_items WHERE owner = $1 AND contact = $2", owner, contact);
  if (r.affected_rows() == 0) return std::nullopt;  // nothing changed: the version stays
  int64_t version = bumpRosterVersion(tx, owner);
  tx.commit();
  return version;
}

// ---- offline messages ----

bool storeOffline(pqxx::connection& c, const std::string& owner, const std::string& stanza,
                  size_t cap) {
  pqxx::work tx(c);
  // Counting and inserting must not interleave with another delivery to the same owner, or two
  // concurrent messages could both see cap-1 and overshoot. Locking the owner's account row
  // serialises them (NO KEY UPDATE still lets foreign-key checks elsewhere proceed).
  auto owner_row = tx.exec_params("SELECT 1 FROM accounts WHERE jid = $1 FOR NO KEY UPDATE", owner);
  if (owner_row.empty()) return false;
  auto count = tx.exec_params1("SELECT count(*) FROM offline_messages WHERE owner = $1", owner);
  if (count[0].as<long long>() >= static_cast<long long>(cap)) return false;
  tx.exec_params("INSERT INTO offline_messages (owner, stanza) VALUES ($1, $2)", owner, stanza);
  tx.commit();
  return true;
}

std::vector<OfflineMessage> takeOffline(pqxx::connection& c, const std::string& owner) {
  pqxx::nontransaction tx(c);
  // One statement deletes exactly the rows it returns, so a message stored meanwhile is neither
  // lost nor delivered twice; DELETE ... RETURNING has no order, hence the outer ORDER BY.
  auto r =
      tx.exec_params(std::string("WITH taken AS (DELETE FROM offline_messages WHERE owner = $1 "
                                 "RETURNING id, stanza, stored_at) ") +
                         "SELECT id, stanza, " + iso8601("stored_at") + " FROM taken ORDER BY id",
                     owner);
  tx.commit();
  std::vector<OfflineMessage> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    OfflineMessage m;
    m.id = row[0].as<int64_t>();
    m.stanza = row[1].as<std::string>();
    m.stored_at = row[2].as<std::string>();
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> ownersWithOffline(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec("SELECT DISTINCT owner FROM offline_messages");
  tx.commit();
  std::vector<std::string> owners;
  owners.reserve(r.size());
  for (const auto& row : r) owners.push_back(row[0].as<std::string>());
  return owners;
}

size_t countOffline(pqxx::connection& c, const std::string& owner) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params1("SELECT count(*) FROM offline_messages WHERE owner = $1", owner);
  tx.commit();
  return static_cast<size_t>(r[0].as<long long>());
}

// ---- vCard ----

std::optional<std::string> loadVcard(pqxx::connection& c, const std::string& owner) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params("SELECT vcard FROM vcards WHERE owner = $1", owner);
  tx.commit();
  if (r.empty()) return std::nullopt;
  return r[0][0].as<std::string>();
}

void saveVcard(pqxx::connection& c, const std::string& owner, const std::string& vcard_xml) {
  pqxx::nontransaction tx(c);
  tx.exec_params(
      "INSERT INTO vcards (owner, vcard, updated_at) VALUES ($1, $2, now()) "
      "ON CONFLICT (owner) DO UPDATE SET vcard = EXCLUDED.vcard, updated_at = now()",
      owner, vcard_xml);
  tx.commit();
}

// ---- last activity ----

std::optional<LastActivity> loadLastActivity(pqxx::connection& c, const std::string& owner) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(
      "SELECT floor(extract(epoch FROM logout_at))::bigint, status FROM last_activity "
      "WHERE owner = $1",
      owner);
  tx.commit();
  if (r.empty()) return std::nullopt;
  LastActivity last;
  last.logout_unix = r[0][0].as<int64_t>();
  last.status = r[0][1].as<std::string>();
  return last;
}

void saveLastActivity(pqxx::connection& c, const std::string& owner, const LastActivity& last) {
  saveLastActivities(c, {{owner, last}});
}

void saveLastActivities(pqxx::connection& c, const std::map<std::string, LastActivity>& batch) {
  if (batch.empty()) return;
  // Written at every logout. Last activity is presence information, not a record anyone relies
  // on, so this write does not wait for its WAL flush: a crash may lose the last few hundred
  // milliseconds of it.
  pqxx::work tx(c);
  tx.exec("SET LOCAL synchronous_commit TO OFF");
  // One statement for the whole batch; the map's keys are distinct, which ON CONFLICT needs.
  std::string sql = "INSERT INTO last_activity (owner, logout_at, status) VALUES ";
  bool first = true;
  for (const auto& [owner, last] : batch) {
    if (!first) sql += ',';
    first = false;
    sql += '(' + tx.quote(owner) + ", to_timestamp(" + std::to_string(last.logout_unix) + "), " +
           tx.quote(last.status) + ')';
  }
  sql +=
      " ON CONFLICT (owner) DO UPDATE SET logout_at = EXCLUDED.logout_at, "
      "status = EXCLUDED.status";
  tx.exec(sql);
  tx.commit();
}

}  // namespace parley::storage
