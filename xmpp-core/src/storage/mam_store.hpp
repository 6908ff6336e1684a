#pragma once
// The queries behind Message Archive Management (XEP-0313) for user accounts: archiving one
// message, paging through an archive (XEP-0059 RSM) and the archiving preferences. Blocking,
// like every storage function: the server calls them through DbPool::run. Times are
// microseconds since the Unix epoch (UTC); archive ids are lower-case UUIDs.

#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace parley::storage {

// ---- archiving ----

// One copy of a message in one owner's archive.
struct ArchiveEntry {
  std::string owner;          // bare JID
  std::string id;             // archive id (random UUID), the stanza-id in this archive
  std::string with_jid;       // bare JID of the other party
  std::string with_resource;  // the other party's resource as addressed ("" if none)
  bool outgoing = false;      // sent by the owner
};

// A message and the archives it goes into (one or two entries).
struct ArchiveRecord {
  int64_t at_us = 0;
  std::string stanza;  // serialized <message/>
  std::optional<std::string> origin_id;
  std::vector<ArchiveEntry> entries;
};

// Inserts every entry of every record in one COPY, committed together.
void archiveMessages(pqxx::connection& c, const std::vector<const ArchiveRecord*>& records);
void archiveMessage(pqxx::connection& c, const ArchiveRecord& record);

// ---- queries ----

// What to return, in archive order (at, id). Form fields (XEP-0313 §4.1) narrow the result
// set; RSM (XEP-0059) picks a page of it.
struct ArchiveQuery {
  std::string owner;
  std::optional<std::string> with;           // bare JID of the other party
  std::optional<std::string> with_resource;  // and only this resource of it
  std::optional<int64_t> start_us, end_us;   // inclusive
  std::optional<std::string> after_id;       // form 'after-id' (exclusive)
  std::optional<std::string> before_id;      // form 'before-id' (exclusive)
  std::vector<std::string> ids;              // form 'ids': only these
  std::optional<std::string> page_after;     // RSM <after/>
  std::optional<std::string> page_before;    // RSM <before>id</before>
  bool last_page = false;                    // RSM <before/> (empty): the newest page
  int max = 50;                              // page size; 0 asks for the count alone
  bool backwards() const { return page_before.has_value() || last_page; }
};

struct ArchivedMessage {
  std::string id;
  int64_t at_us = 0;
  std::string stanza;
};

struct ArchivePage {
  bool unknown_id = false;                // an id the query names is not in the archive
  std::vector<ArchivedMessage> messages;  // in archive order, at most max
  // True when the page reaches the end of the result set in the direction of paging (the
  // last message going forwards, the first going backwards): nothing more to fetch.
  bool complete = false;
  std::optional<int64_t> count;        // size of the result set, when known exactly
  std::optional<int64_t> first_index;  // position of messages.front() in it, when known
};

// A statement with its parameters ($1, $2, ...).
struct SqlStatement {
  std::string sql;
  std::vector<std::string> params;
};

// Result sets larger than this get no RSM count and no index (XEP-0059 §2.2 lets them be
// omitted when counting would be exceptionally costly). Counting is an index-only scan that
// stops after this many entries, about 0.2 ms at 1,000 (1.7 ms at 10,000) where the page
// itself costs 0.05 ms (tests/bench/results/2026-11-29-mam.md); a big archive is counted
// that far and no further on every page, so the bound is what a page pays for its count.
inline constexpr int64_t kArchiveExactCountLimit = 1000;

// A count-only query (max 0) is always counted in full: the client asked for nothing else.
// `trace`, when given, receives every statement run, in order (the benchmark EXPLAINs them).
ArchivePage queryArchive(pqxx::connection& c, const ArchiveQuery& query,
                         int64_t exact_count_limit = kArchiveExactCountLimit,
                         std::vector<SqlStatement>* trace = nullptr);

// The oldest and newest message of the archive (XEP-0313 §5 metadata); nullopt when empty.
struct ArchiveBounds {
  ArchivedMessage first, last;  // stanza left empty
};
std::optional<ArchiveBounds> archiveBounds(pqxx::connection& c, const std::string& owner);

// ---- preferences (XEP-0441) ----

enum class ArchiveDefault { Always, Roster, Never };

struct ArchivePrefs {
  ArchiveDefault mode = ArchiveDefault::Always;
  std::vector<std::string> always, never;  // prepared JIDs, bare or full
  bool operator==(const ArchivePrefs&) const = default;
};

// Every listed owner's preferences; an owner without a row gets the defaults.
std::map<std::string, ArchivePrefs> loadArchivePrefs(pqxx::connection& c,
                                                     const std::vector<std::string>& owners);
void saveArchivePrefs(pqxx::connection& c, const std::string& owner, const ArchivePrefs& prefs);

std::string_view archiveDefaultName(ArchiveDefault mode);
std::optional<ArchiveDefault> parseArchiveDefault(std::string_view name);

// Times as PostgreSQL reads them exactly: "2026-11-29 10:00:00.123456+00".
std::string sqlTimestamp(int64_t unix_us);

}  // namespace parley::storage
