#include "storage/mam_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <pqxx/stream_to>
#include <tuple>

#include "storage/stores.hpp"

namespace parley::storage {

namespace {

// What a row leaves the database as: the id as text, `at` as exact microseconds (EXTRACT
// returns numeric since PostgreSQL 14). Named apart from the columns on purpose: an ORDER BY
// "at, id" must mean the indexed columns, not these output expressions (which would sort).
constexpr const char* kKeyColumns =
    "id::text AS archive_id, (extract(epoch FROM at) * 1000000)::bigint AS at_us";

// A position in archive order.
struct Key {
  int64_t at_us = 0;
  std::string id;  // lower-case canonical UUID: its text order is PostgreSQL's uuid order
  auto operator<=>(const Key&) const = default;
};

// The exclusive bounds a query puts on archive order.
struct Range {
  std::optional<Key> after, before;
  void raiseAfter(const Key& k) {
    if (!after || k > *after) after = k;
  }
  void lowerBefore(const Key& k) {
    if (!before || k < *before) before = k;
  }
};

// The positions of every id the query names, or nullopt when one is not in the archive.
struct Anchors {
  Range form;  // after-id / before-id: part of the result set's definition
  Range page;  // RSM after / before: which page of it
};

bool isUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string lower(std::string s) {
  for (char& ch : s)
    if (ch >= 'A' && ch <= 'F') ch = static_cast<char>(ch - 'A' + 'a');
  return s;
}

// Ids in the canonical lower-case form the database returns (clients may send upper case).
ArchiveQuery normalized(ArchiveQuery q) {
  for (auto* id : {&q.after_id, &q.before_id, &q.page_after, &q.page_before})
    if (*id) **id = lower(**id);
  for (auto& id : q.ids) id = lower(id);
  return q;
}

// Builds a statement whose values are all bound parameters ($1, $2, ...).
class Builder {
 public:
  std::string param(std::string value) {
    params_.push_back(std::move(value));
    return "$" + std::to_string(params_.size());
  }
  std::string keyParams(const Key& k) {
    std::string at = param(sqlTimestamp(k.at_us));
    return "(" + at + "::timestamptz, " + param(k.id) + "::uuid)";
  }
  SqlStatement take(std::string sql) { return {std::move(sql), std::move(params_)}; }

 private:
  std::vector<std::string> params_;
};

// The conditions that define the result set (everything but the RSM page bounds).
std::string resultSetWhere(Builder& b, const ArchiveQuery& q, const Range& form) {
  std::string where = "owner = " + b.param(q.owner);
  if (q.with) where += " AND with_jid = " + b.param(*q.with);
  if (q.with_resource) where += " AND with_resource = " + b.param(*q.with_resource);
  if (q.start_us) where += " AND at >= " + b.param(sqlTimestamp(*q.start_us)) + "::timestamptz";
  if (q.end_us) where += " AND at <= " + b.param(sqlTimestamp(*q.end_us)) + "::timestamptz";
  if (form.after) where += " AND (at, id) > " + b.keyParams(*form.after);
  if (form.before) where += " AND (at, id) < " + b.keyParams(*form.before);
  if (!q.ids.empty()) where += " AND id = ANY(" + b.param(textArrayLiteral(q.ids)) + "::uuid[])";
  return where;
}

pqxx::result exec(pqxx::transaction_base& tx, SqlStatement s, std::vector<SqlStatement>* trace) {
  auto r = tx.exec_params(s.sql, pqxx::prepare::make_dynamic_params(s.params));
  if (trace) trace->push_back(std::move(s));
  return r;
}

std::optional<Anchors> resolveAnchors(pqxx::transaction_base& tx, const ArchiveQuery& q,
                                      std::vector<SqlStatement>* trace) {
  std::vector<std::string> named;
  for (const auto* id : {&q.after_id, &q.before_id, &q.page_after, &q.page_before})
    if (*id) named.push_back(**id);
  named.insert(named.end(), q.ids.begin(), q.ids.end());
  Anchors anchors;
  if (named.empty()) return anchors;
  // A malformed id cannot be in the archive (and must not reach the uuid cast).
  if (!std::all_of(named.begin(), named.end(), [](const std::string& s) { return isUuid(s); }))
    return std::nullopt;
  std::map<std::string, Key> found;
  SqlStatement lookup{std::string("SELECT ") + kKeyColumns +
                          " FROM mam_messages WHERE owner = $1 AND id = ANY($2::uuid[])",
                      {q.owner, textArrayLiteral(named)}};
  for (const auto& row : exec(tx, std::move(lookup), trace)) {
    Key k{row[1].as<int64_t>(), row[0].as<std::string>()};
    found.emplace(k.id, k);
  }
  for (const auto& id : named)
    if (!found.count(id)) return std::nullopt;
  if (q.after_id) anchors.form.raiseAfter(found[*q.after_id]);
  if (q.before_id) anchors.form.lowerBefore(found[*q.before_id]);
  if (q.page_after) anchors.page.raiseAfter(found[*q.page_after]);
  if (q.page_before) anchors.page.lowerBefore(found[*q.page_before]);
  return anchors;
}

// max+1 rows in the direction of paging: the extra one only tells whether more exist.
SqlStatement pageStatement(const ArchiveQuery& q, const Anchors& anchors) {
  Builder b;
  std::string where = resultSetWhere(b, q, anchors.form);
  if (anchors.page.after) where += " AND (at, id) > " + b.keyParams(*anchors.page.after);
  if (anchors.page.before) where += " AND (at, id) < " + b.keyParams(*anchors.page.before);
  const char* order = q.backwards() ? "at DESC, id DESC" : "at, id";
  return b.take(std::string("SELECT ") + kKeyColumns + ", stanza FROM mam_messages WHERE " + where +
                " ORDER BY " + order + " LIMIT " + std::to_string(q.max + 1));
}

// The size of the result set, or nullopt when it exceeds `limit` (counting stops there).
std::optional<int64_t> countResultSet(pqxx::transaction_base& tx, const ArchiveQuery& q,
                                      const Anchors& anchors, std::optional<int64_t> limit,
                                      std::vector<SqlStatement>* trace) {
  Builder b;
  const std::string where = resultSetWhere(b, q, anchors.form);
  std::string sql = limit ? "SELECT count(*) FROM (SELECT 1 FROM mam_messages WHERE " + where +
                                " LIMIT " + std::to_string(*limit + 1) + ") bounded"
                          : "SELECT count(*) FROM mam_messages WHERE " + where;
  const int64_t n = exec(tx, b.take(std::move(sql)), trace)[0][0].as<int64_t>();
  if (limit && n > *limit) return std::nullopt;
  return n;
}

// How many messages of the result set come before `first`.
int64_t countBefore(pqxx::transaction_base& tx, const ArchiveQuery& q, const Anchors& anchors,
                    const Key& first, std::vector<SqlStatement>* trace) {
  Builder b;
  std::string where = resultSetWhere(b, q, anchors.form);
  where += " AND (at, id) < " + b.keyParams(first);
  return exec(tx, b.take("SELECT count(*) FROM mam_messages WHERE " + where), trace)[0][0]
      .as<int64_t>();
}

}  // namespace

std::string sqlTimestamp(int64_t unix_us) {
  using namespace std::chrono;
  const sys_time<microseconds> t{microseconds(unix_us)};
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss hms(t - day);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02ld:%02ld:%02ld.%06ld+00",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long>(hms.hours().count()),
                static_cast<long>(hms.minutes().count()), static_cast<long>(hms.seconds().count()),
                static_cast<long>(hms.subseconds().count()));
  return buf;
}

void archiveMessages(pqxx::connection& c, const std::vector<const ArchiveRecord*>& records) {
  // COPY rather than INSERT: PostgreSQL takes a batch of rows two to three times faster this
  // way (tests/bench/results/2026-11-29-mam.md), and one statement commits by itself.
  pqxx::nontransaction tx(c);
  pqxx::stream_to copy(tx, "mam_messages",
                       std::vector<std::string>{"owner", "id", "at", "with_jid", "with_resource",
                                                "direction", "origin_id", "stanza"});
  for (const auto* r : records) {
    const std::string at = sqlTimestamp(r->at_us);
    const char* origin = r->origin_id ? r->origin_id->c_str() : nullptr;  // NULL when absent
    for (const auto& e : r->entries) {
      const char* direction = e.outgoing ? "out" : "in";
      copy << std::forward_as_tuple(e.owner, e.id, at, e.with_jid, e.with_resource, direction,
                                    origin, r->stanza);
    }
  }
  copy.complete();
}

void archiveMessage(pqxx::connection& c, const ArchiveRecord& record) {
  archiveMessages(c, {&record});
}

ArchivePage queryArchive(pqxx::connection& c, const ArchiveQuery& query, int64_t exact_count_limit,
                         std::vector<SqlStatement>* trace) {
  const ArchiveQuery q = normalized(query);
  // Autocommit statements: each sees its own snapshot, so a message archived meanwhile may be
  // counted but not paged (or the reverse); XEP-0059 allows counts to be approximate.
  pqxx::nontransaction tx(c);
  ArchivePage page;
  const auto anchors = resolveAnchors(tx, q, trace);
  if (!anchors) {
    page.unknown_id = true;
    return page;
  }
  // A count-only query (max 0) still fetches one row: whether any exists decides 'complete'.
  ArchiveQuery paged = q;
  paged.max = std::max(q.max, 0);
  auto rows = exec(tx, pageStatement(paged, *anchors), trace);
  const size_t max = static_cast<size_t>(paged.max);
  page.complete = rows.size() <= max;
  for (size_t i = 0; i < rows.size() && i < max; ++i) {
    page.messages.push_back(
        {rows[i][0].as<std::string>(), rows[i][1].as<int64_t>(), rows[i][2].as<std::string>()});
  }
  if (q.backwards()) std::reverse(page.messages.begin(), page.messages.end());

  // Count and index without a count query where the page itself tells them.
  const bool unbounded_page = !anchors->page.after && !anchors->page.before;
  if (unbounded_page && page.complete) {
    page.count = static_cast<int64_t>(page.messages.size());
  } else {
    page.count = countResultSet(
        tx, q, *anchors, q.max <= 0 ? std::nullopt : std::optional(exact_count_limit), trace);
  }
  if (!page.messages.empty()) {
    const Key first{page.messages.front().at_us, page.messages.front().id};
    if (!q.backwards() && !anchors->page.after) {
      page.first_index = 0;
    } else if (q.backwards() && page.complete) {
      page.first_index = 0;
    } else if (page.count && !anchors->page.before && !anchors->page.after) {
      page.first_index = *page.count - static_cast<int64_t>(page.messages.size());
    } else if (page.count) {
      page.first_index = countBefore(tx, q, *anchors, first, trace);
    }
  }
  tx.commit();
  return page;
}

std::optional<ArchiveBounds> archiveBounds(pqxx::connection& c, const std::string& owner) {
  pqxx::nontransaction tx(c);
  const std::string end =
      std::string("(SELECT ") + kKeyColumns + " FROM mam_messages WHERE owner = $1 ORDER BY ";
  auto r = tx.exec_params("SELECT f.archive_id, f.at_us, l.archive_id, l.at_us FROM " + end +
                              "at, id LIMIT 1) f, " + end + "at DESC, id DESC LIMIT 1) l",
                          owner);
  tx.commit();
  if (r.empty()) return std::nullopt;
  ArchiveBounds bounds;
  bounds.first = {r[0][0].as<std::string>(), r[0][1].as<int64_t>(), {}};
  bounds.last = {r[0][2].as<std::string>(), r[0][3].as<int64_t>(), {}};
  return bounds;
}

std::string_view archiveDefaultName(ArchiveDefault mode) {
  switch (mode) {
    case ArchiveDefault::Always:
      return "always";
    case ArchiveDefault::Roster:
      return "roster";
    case ArchiveDefault::Never:
      return "never";
  }
  return "always";
}

std::optional<ArchiveDefault> parseArchiveDefault(std::string_view name) {
  if (name == "always") return ArchiveDefault::Always;
  if (name == "roster") return ArchiveDefault::Roster;
  if (name == "never") return ArchiveDefault::Never;
  return std::nullopt;
}

std::map<std::string, ArchivePrefs> loadArchivePrefs(pqxx::connection& c,
                                                     const std::vector<std::string>& owners) {
  std::map<std::string, ArchivePrefs> out;
  for (const auto& o : owners) out[o] = ArchivePrefs{};
  if (owners.empty()) return out;
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(
      "SELECT owner, default_mode, always, never FROM mam_prefs WHERE owner = ANY($1::text[])",
      textArrayLiteral(owners));
  tx.commit();
  for (const auto& row : r) {
    ArchivePrefs& p = out[row[0].as<std::string>()];
    // An unknown mode cannot be stored (CHECK); 'never' would be the safe reading anyway.
    p.mode = parseArchiveDefault(row[1].as<std::string>()).value_or(ArchiveDefault::Never);
    for (auto [list, field] : {std::pair{&p.always, 2}, std::pair{&p.never, 3}}) {
      auto parser = row[field].as_array();
      for (;;) {
        auto [kind, value] = parser.get_next();
        if (kind == pqxx::array_parser::done) break;
        if (kind == pqxx::array_parser::string_value) list->push_back(std::move(value));
      }
    }
  }
  return out;
}

void saveArchivePrefs(pqxx::connection& c, const std::string& owner, const ArchivePrefs& prefs) {
  pqxx::nontransaction tx(c);
  tx.exec_params(
      "INSERT INTO mam_prefs (owner, default_mode, always, never) VALUES ($1, $2, $3, $4)"
      " ON CONFLICT (owner) DO UPDATE SET default_mode = EXCLUDED.default_mode,"
      " always = EXCLUDED.always, never = EXCLUDED.never, updated_at = now()",
      owner, std::string(archiveDefaultName(prefs.mode)), textArrayLiteral(prefs.always),
      textArrayLiteral(prefs.never));
  tx.commit();
}

}  // namespace parley::storage
