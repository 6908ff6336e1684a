#include "storage/pep_store.hpp"

#include "storage/stores.hpp"

namespace parley::storage {

namespace {

constexpr const char* kNodeColumns =
    "access_model, max_items, send_last, notify_retract, persist_items";

PepNodeConfig configFrom(const pqxx::row& row, int first = 0) {
  PepNodeConfig config;
  config.access = parsePepAccess(row[first].as<std::string>()).value_or(PepAccess::Whitelist);
  if (row[first + 1].is_null()) {
    config.max_items = std::nullopt;
  } else {
    config.max_items = row[first + 1].as<int>();
  }
  config.send_last =
      parsePepSendLast(row[first + 2].as<std::string>()).value_or(PepSendLast::OnSubAndPresence);
  config.notify_retract = row[first + 3].as<bool>();
  config.persist_items = row[first + 4].as<bool>();
  return config;
}

std::optional<int> dbMaxItems(const PepNodeConfig& config) { return config.max_items; }

void insertNode(pqxx::work& tx, const std::string& owner, const std::string& node,
                const PepNodeConfig& config) {
  tx.exec_params(
      "INSERT INTO pep_nodes (owner, node, access_model, max_items, send_last, notify_retract,"
      " persist_items) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      owner, node, std::string(pepAccessName(config.access)), dbMaxItems(config),
      std::string(pepSendLastName(config.send_last)), config.notify_retract, config.persist_items);
}

// Keeps the newest `limit` items of the node.
void trim(pqxx::work& tx, const std::string& owner, const std::string& node,
          const PepNodeConfig& config, int server_max_items) {
  int limit = config.max_items ? std::min(*config.max_items, server_max_items) : server_max_items;
  tx.exec_params(
      "DELETE FROM pep_items WHERE owner = $1 AND node = $2 AND seq < ALL ("
      " SELECT seq FROM pep_items WHERE owner = $1 AND node = $2 ORDER BY seq DESC LIMIT $3)",
      owner, node, limit);
}

}  // namespace

std::string_view pepAccessName(PepAccess access) {
  switch (access) {
    case PepAccess::Presence:
      return "presence";
    case PepAccess::Open:
      return "open";
    case PepAccess::Whitelist:
      return "whitelist";
  }
  return "whitelist";
}

std::optional<PepAccess> parsePepAccess(std::string_view name) {
  if (name == "presence") return PepAccess::Presence;
  if (name == "open") return PepAccess::Open;
  if (name == "whitelist") return PepAccess::Whitelist;
  return std::nullopt;
}

std::string_view pepSendLastName(PepSendLast send_last) {
  switch (send_last) {
    case PepSendLast::Never:
      return "never";
    case PepSendLast::OnSub:
      return "on_sub";
    case PepSendLast::OnSubAndPresence:
      return "on_sub_and_presence";
  }
  return "on_sub_and_presence";
}

std::optional<PepSendLast> parsePepSendLast(std::string_view name) {
  if (name == "never") return PepSendLast::Never;
  if (name == "on_sub") return PepSendLast::OnSub;
  if (name == "on_sub_and_presence") return PepSendLast::OnSubAndPresence;
  return std::nullopt;
}

PepNodeConfig PepNodeOptions::applyTo(PepNodeConfig base) const {
  if (access) base.access = *access;
  if (max_items) base.max_items = *max_items;
  if (send_last) base.send_last = *send_last;
  if (notify_retract) base.notify_retract = *notify_retract;
  if (persist_items) base.persist_items = *persist_items;
  return base;
}

bool PepNodeOptions::matches(const PepNodeConfig& config) const {
  return applyTo(config) == config;
}

std::optional<PepNodeConfig> loadPepNode(pqxx::connection& c, const std::string& owner,
                                         const std::string& node) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params(
      std::string("SELECT ") + kNodeColumns + " FROM pep_nodes WHERE owner = $1 AND node = $2",
      owner, node);
  if (r.empty()) return std::nullopt;
  return configFrom(r[0]);
}

std::vector<std::pair<std::string, PepNodeConfig>> listPepNodes(pqxx::connection& c,
                                                                const std::string& owner) {
  pqxx::nontransaction tx(c);
  std::vector<std::pair<std::string, PepNodeConfig>> out;
  for (const auto& row : tx.exec_params(std::string("SELECT node, ") + kNodeColumns +
                                            " FROM pep_nodes WHERE owner = $1 ORDER BY node",
                                        owner)) {
    out.emplace_back(row[0].as<std::string>(), configFrom(row, 1));
  }
  return out;
}

bool createPepNode(pqxx::connection& c, const std::string& owner, const std::string& node,
                   const PepNodeConfig& config) {
  pqxx::work tx(c);
  auto exists = tx.exec_params("SELECT 1 FROM pep_nodes WHERE owner = $1 AND node = $2 FOR UPDATE",
                               owner, node);
  if (!exists.empty()) return false;
  insertNode(tx, owner, node, config);
  tx.commit();
  return true;
}

bool configurePepNode(pqxx::connection& c, const std::string& owner, const std::string& node,
                      const PepNodeConfig& config, int server_max_items) {
  pqxx::work tx(c);
  auto r = tx.exec_params(
      "UPDATE pep_nodes SET access_model = $3, max_items = $4, send_last = $5,"
      " notify_retract = $6, persist_items = $7 WHERE owner = $1 AND node = $2",
      owner, node, std::string(pepAccessName(config.access)), dbMaxItems(config),
      std::string(pepSendLastName(config.send_last)), config.notify_retract, config.persist_items);
  if (r.affected_rows() == 0) return false;
  trim(tx, owner, node, config, server_max_items);
  tx.commit();
  return true;
}

bool deletePepNode(pqxx::connection& c, const std::string& owner, const std::string& node) {
  pqxx::nontransaction tx(c);
  return tx.exec_params("DELETE FROM pep_nodes WHERE owner = $1 AND node = $2", owner, node)
             .affected_rows() > 0;
}

bool purgePepNode(pqxx::connection& c, const std::string& owner, const std::string& node) {
  pqxx::work tx(c);
  auto exists = tx.exec_params("SELECT 1 FROM pep_nodes WHERE owner = $1 AND node = $2 FOR UPDATE",
                               owner, node);
  if (exists.empty()) return false;
  tx.exec_params("DELETE FROM pep_items WHERE owner = $1 AND node = $2", owner, node);
  tx.commit();
  return true;
}

PepPublishOutcome publishPepItem(pqxx::connection& c, const std::string& owner,
                                 const std::string& node, const PepItem& item,
                                 const PepNodeOptions& options, int server_max_items) {
  pqxx::work tx(c);
  PepPublishOutcome out;
  // The row lock serialises publishes to one node, so the trim below sees every item.
  auto r = tx.exec_params(std::string("SELECT ") + kNodeColumns +
                              " FROM pep_nodes WHERE owner = $1 AND node = $2 FOR UPDATE",
                          owner, node);
  if (r.empty()) {
    out.config = options.applyTo(PepNodeConfig{});
    insertNode(tx, owner, node, out.config);
    out.created = true;
  } else {
    out.config = configFrom(r[0]);
    if (!options.matches(out.config)) {
      out.kind = PepPublishOutcome::Kind::PreconditionNotMet;
      return out;
    }
  }
  tx.exec_params(
      "INSERT INTO pep_items (owner, node, item_id, payload, publisher) VALUES ($1, $2, $3, $4, $5)"
      " ON CONFLICT (owner, node, item_id) DO UPDATE SET payload = EXCLUDED.payload,"
      " publisher = EXCLUDED.publisher, published_at = now(), seq = nextval('pep_items_seq')",
      owner, node, item.id, item.payload, item.publisher);
  trim(tx, owner, node, out.config, server_max_items);
  tx.commit();
  return out;
}

bool retractPepItem(pqxx::connection& c, const std::string& owner, const std::string& node,
                    const std::string& id) {
  pqxx::nontransaction tx(c);
  return tx.exec_params("DELETE FROM pep_items WHERE owner = $1 AND node = $2 AND item_id = $3",
                        owner, node, id)
             .affected_rows() > 0;
}

std::vector<PepItem> loadPepItems(pqxx::connection& c, const std::string& owner,
                                  const std::string& node, const std::vector<std::string>& ids,
                                  std::optional<int> max) {
  pqxx::nontransaction tx(c);
  pqxx::result r;
  if (!ids.empty()) {
    const std::string list = textArrayLiteral(ids);
    r = tx.exec_params(
        "SELECT item_id, payload, publisher FROM pep_items"
        " WHERE owner = $1 AND node = $2 AND item_id = ANY($3::text[]) ORDER BY seq DESC",
        owner, node, list);
  } else {
    r = tx.exec_params(
        "SELECT item_id, payload, publisher FROM pep_items WHERE owner = $1 AND node = $2"
        " ORDER BY seq DESC LIMIT $3",
        owner, node, max);
  }
  std::vector<PepItem> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return out;
}

std::vector<PepLastItem> loadPepLastItems(pqxx::connection& c,
                                          const std::vector<std::string>& owners) {
  std::vector<PepLastItem> out;
  if (owners.empty()) return out;
  pqxx::nontransaction tx(c);
  const std::string list = textArrayLiteral(owners);
  // One index probe per node (pep_items_newest) through the lateral join.
  auto r = tx.exec_params(std::string("SELECT n.owner, n.node, ") +
                              "n.access_model, n.max_items, n.send_last, n.notify_retract,"
                              " n.persist_items, i.item_id, i.payload, i.publisher"
                              " FROM pep_nodes n CROSS JOIN LATERAL ("
                              "  SELECT item_id, payload, publisher FROM pep_items"
                              "  WHERE owner = n.owner AND node = n.node ORDER BY seq DESC LIMIT 1"
                              " ) i WHERE n.owner = ANY($1::text[]) ORDER BY n.owner, n.node",
                          list);
  out.reserve(r.size());
  for (const auto& row : r) {
    PepLastItem last;
    last.owner = row[0].as<std::string>();
    last.node = row[1].as<std::string>();
    last.config = configFrom(row, 2);
    last.item = {row[7].as<std::string>(), row[8].as<std::string>(), row[9].as<std::string>()};
    out.push_back(std::move(last));
  }
  return out;
}

}  // namespace parley::storage
