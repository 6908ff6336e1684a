#pragma once
// The queries behind PEP (XEP-0163): nodes with their configuration, and their items. Blocking,
// like every storage function: the server calls them through DbPool::run.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace parley::storage {

enum class PepAccess { Presence, Open, Whitelist };
enum class PepSendLast { Never, OnSub, OnSubAndPresence };

struct PepNodeConfig {
  PepAccess access = PepAccess::Presence;
  std::optional<int> max_items = 1;  // nullopt: 'max' (the server's own bound applies)
  PepSendLast send_last = PepSendLast::OnSubAndPresence;
  bool notify_retract = true;
  bool persist_items = true;
  bool operator==(const PepNodeConfig&) const = default;
};

struct PepItem {
  std::string id;
  std::string payload;  // the serialized child element of <item/>
  std::string publisher;
};

// Options a client asked for (publish-options, a create's configure form): only what it named.
struct PepNodeOptions {
  std::optional<PepAccess> access;
  std::optional<std::optional<int>> max_items;
  std::optional<PepSendLast> send_last;
  std::optional<bool> notify_retract;
  std::optional<bool> persist_items;
  PepNodeConfig applyTo(PepNodeConfig base) const;
  // XEP-0060 §7.1.5: every option named matches the node's configuration.
  bool matches(const PepNodeConfig& config) const;
};

// The newest item of one node, with what decides who may see it (last-item delivery).
struct PepLastItem {
  std::string owner;
  std::string node;
  PepNodeConfig config;
  PepItem item;
};

std::optional<PepNodeConfig> loadPepNode(pqxx::connection& c, const std::string& owner,
                                         const std::string& node);
// Every node of the owner with its configuration, by name (disco#items on the account).
std::vector<std::pair<std::string, PepNodeConfig>> listPepNodes(pqxx::connection& c,
                                                                const std::string& owner);
// False when the node already exists.
bool createPepNode(pqxx::connection& c, const std::string& owner, const std::string& node,
                   const PepNodeConfig& config);
// False when the node does not exist. Items beyond a lowered max_items are removed.
bool configurePepNode(pqxx::connection& c, const std::string& owner, const std::string& node,
                      const PepNodeConfig& config, int server_max_items);
// Deletes the node and its items; false when it did not exist.
bool deletePepNode(pqxx::connection& c, const std::string& owner, const std::string& node);
// Removes every item; false when the node does not exist.
bool purgePepNode(pqxx::connection& c, const std::string& owner, const std::string& node);

struct PepPublishOutcome {
  enum class Kind { Published, PreconditionNotMet } kind = Kind::Published;
  PepNodeConfig config;  // the node's configuration (after creating it, if it was new)
  bool created = false;
};
// Publishes (or replaces) the item in one transaction. A node that does not exist is created
// with the defaults changed by `options`; an existing node whose configuration does not match
// `options` is left alone (precondition not met). Trims the node to its max_items
// (server_max_items for 'max').
PepPublishOutcome publishPepItem(pqxx::connection& c, const std::string& owner,
                                 const std::string& node, const PepItem& item,
                                 const PepNodeOptions& options, int server_max_items);
// Removes one item; false when it was not there.
bool retractPepItem(pqxx::connection& c, const std::string& owner, const std::string& node,
                    const std::string& id);
// Newest first: the given ids (in that order of recency) or the newest `max` items.
std::vector<PepItem> loadPepItems(pqxx::connection& c, const std::string& owner,
                                  const std::string& node, const std::vector<std::string>& ids,
                                  std::optional<int> max);
// The newest item of every node of these owners (one query for a login's contacts).
std::vector<PepLastItem> loadPepLastItems(pqxx::connection& c,
                                          const std::vector<std::string>& owners);

std::string_view pepAccessName(PepAccess access);
std::optional<PepAccess> parsePepAccess(std::string_view name);
std::string_view pepSendLastName(PepSendLast send_last);
std::optional<PepSendLast> parsePepSendLast(std::string_view name);

}  // namespace parley::storage
