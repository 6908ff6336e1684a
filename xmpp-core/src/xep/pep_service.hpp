#pragma once
// What the PEP service (xep/pep.cpp) offers the core services that keep other formats in step
// with PEP nodes: XEP-0402 bookmarks compatibility, XEP-0398 avatar conversion. They learn of
// an owner's publishes, publish on the owner's behalf (with the notifications a client's
// publish would cause), and may answer an owner's read of a node from another source.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "router/router.hpp"
#include "storage/pep_store.hpp"

namespace parley::xep::pep {

// The server's own bound on any node's items ('max').
inline constexpr int kServerMaxItems = 1000;

// Told after an owner's client published `item` on `node` and subscribers were notified (on the
// publishing session's strand; the client's result waits for it). Parameters by value: these
// are coroutines.
using PublishListener = std::function<router::Task<void>(router::Router& router, std::string owner,
                                                         std::string node, storage::PepItem item)>;
// Registered once at start-up, before any traffic.
void addPublishListener(PublishListener listener);

// An owner's read of `node`, answered from elsewhere (nullopt: read the node as usual).
using ItemsView = std::function<router::Task<std::optional<std::vector<storage::PepItem>>>(
    router::Router& router, std::string owner)>;
void setItemsView(std::string node, ItemsView view);

// Items to publish and ids to retract on one node, on the owner's behalf.
struct OwnerChange {
  std::vector<storage::PepItem> publish;
  std::vector<std::string> retract;
};
// Applies `change` to `owner`'s `node` and notifies as the owner's own publish and retract
// would. A node that does not exist is created with `options`; an existing node keeps its
// configuration (the owner's choice wins over the server's default). Listeners are not told:
// a conversion never triggers another.
router::Task<void> changeForOwner(router::Router& router, std::string owner, std::string node,
                                  OwnerChange change, storage::PepNodeOptions options);

}  // namespace parley::xep::pep
