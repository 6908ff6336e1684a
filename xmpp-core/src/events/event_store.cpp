#include "events/event_store.hpp"

#include <set>

#include "events/event_codec.hpp"

namespace parley::events {
namespace {

constexpr const char* kColumns =
    "id, at, node, module, clause, kind, action, severity, actor, target, stanza_id, direction, "
    "session, detail";

std::string rowValues(pqxx::transaction_base& tx, const ComplianceEvent& e) {
  std::string v = "(";
  for (const std::string& field :
       {e.id, sqlTimestamp(e.at), e.node, e.module, e.clause, e.kind,
        std::string(actionName(e.action)), std::string(severityName(e.severity)), e.actor, e.target,
        e.stanza_id, std::string(directionName(e.direction)), e.session,
        e.detail_json.empty() ? std::string("{}") : e.detail_json}) {
    if (v.size() > 1) v += ',';
    v += tx.quote(field);  // untyped literals: PostgreSQL casts them to the column types
  }
  v += ')';
  return v;
}

}  // namespace

size_t insertEvents(pqxx::connection& c, const std::vector<ComplianceEvent>& events) {
  if (events.empty()) return 0;
  pqxx::work tx(c, "parley_events_insert");
  std::set<std::string> months;
  for (const auto& e : events) months.insert(monthStart(e.at));
  for (const auto& month : months) {
    tx.exec("SELECT parley_events_ensure_partition(" + tx.quote(month) + "::date)");
  }
  std::string sql = std::string("INSERT INTO events (") + kColumns + ") VALUES ";
  bool first = true;
  for (const auto& e : events) {
    if (!first) sql += ',';
    first = false;
    sql += rowValues(tx, e);
  }
  sql += " ON CONFLICT (id, at) DO NOTHING";
  auto result = tx.exec(sql);
  tx.commit();
  return result.affected_rows();
}

bool isBadData(const std::exception& error) {
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error);
  if (sql == nullptr) return false;
  const std::string& state = sql->sqlstate();
  return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0;
}

std::vector<ComplianceEvent> findEvents(pqxx::connection& c, const EventQuery& query) {
  pqxx::read_transaction tx(c, "parley_events_find");
  std::string where = "TRUE";
  if (!query.module.empty()) where += " AND module = " + tx.quote(query.module);
  if (!query.actor.empty()) {
    // Senders are recorded as full JIDs (user@host/resource); an officer asks about a person.
    where += " AND (actor = " + tx.quote(query.actor) + " OR starts_with(actor, " +
             tx.quote(query.actor + "/") + "))";
  }
  if (query.action) where += " AND action = " + tx.quote(std::string(actionName(*query.action)));
  if (query.since) where += " AND at >= " + tx.quote(sqlTimestamp(*query.since));
  if (query.until) where += " AND at < " + tx.quote(sqlTimestamp(*query.until));
  std::string sql =
      "SELECT id::text, (extract(epoch FROM at) * 1000000)::bigint, node, module, clause, kind, "
      "action, severity, actor, target, stanza_id, direction, session, detail::text "
      "FROM events WHERE " +
      where + " ORDER BY at DESC, id DESC LIMIT " + std::to_string(query.limit);
  std::vector<ComplianceEvent> out;
  for (const auto& row : tx.exec(sql)) {
    ComplianceEvent e;
    e.id = row[0].as<std::string>();
    e.at = fromMicros(row[1].as<int64_t>());
    e.node = row[2].as<std::string>();
    e.module = row[3].as<std::string>();
    e.clause = row[4].as<std::string>();
    e.kind = row[5].as<std::string>();
    // The table's CHECK constraints admit only names these parse.
    e.action = parseAction(row[6].as<std::string>()).value_or(EventAction::Error);
    e.severity = parseSeverity(row[7].as<std::string>()).value_or(Severity::Critical);
    e.actor = row[8].as<std::string>();
    e.target = row[9].as<std::string>();
    e.stanza_id = row[10].as<std::string>();
    e.direction = parseDirection(row[11].as<std::string>()).value_or(Direction::None);
    e.session = row[12].as<std::string>();
    e.detail_json = row[13].as<std::string>();
    out.push_back(std::move(e));
  }
  tx.commit();
  return {out.rbegin(), out.rend()};
}

}  // namespace parley::events
