// XEP-0402 §5.3 bookmarks compatibility (see bookmarks_compat.hpp), and the account features
// that announce it.

#include "xep/bookmarks_compat.hpp"

#include <algorithm>

#include "parley/xml/serializer.hpp"
#include "storage/pep_store.hpp"
#include "util/log.hpp"
#include "xep/bookmark_conversion.hpp"
#include "xep/pep_service.hpp"
#include "xep/services.hpp"

namespace parley::xep::bookmarks {

namespace {

using router::Task;

// XEP-0402 §3: the native node's configuration (private to the owner, every room kept).
storage::PepNodeOptions nativeOptions() {
  storage::PepNodeOptions o;
  o.access = storage::PepAccess::Whitelist;
  o.max_items = std::optional<int>{};  // 'max'
  o.send_last = storage::PepSendLast::Never;
  o.persist_items = true;
  return o;
}

std::vector<Conference> conferencesOf(const std::vector<storage::PepItem>& items) {
  std::vector<Conference> out;
  for (const auto& item : items) {
    auto payload = router::parseStoredStanza(item.payload);
    if (!payload || !payload->is("conference", kNativeNs)) continue;
    out.push_back({item.id, std::move(*payload)});
  }
  // Oldest first reads like a list the user built; items come newest first.
  std::reverse(out.begin(), out.end());
  return out;
}

// The native node's items, or nullopt when there is no native node.
Task<std::optional<std::vector<storage::PepItem>>> nativeItems(router::Router& router,
                                                               std::string owner) {
  auto job = [owner](pqxx::connection& c) -> std::optional<std::vector<storage::PepItem>> {
    const std::string node(kNativeNs);
    if (!storage::loadPepNode(c, owner, node)) return std::nullopt;
    return storage::loadPepItems(c, owner, node, {}, pep::kServerMaxItems);
  };
  co_return co_await router.ctx().db().run(std::move(job));
}

// '#compat-pep': a legacy list published on the PEP node storage:bookmarks.
Task<void> onPublished(router::Router& router, std::string owner, std::string node,
                       storage::PepItem item) {
  if (node != kLegacyNs) co_return;
  auto payload = router::parseStoredStanza(item.payload);
  if (!payload || !payload->is("storage", kLegacyNs)) co_return;
  co_await legacyStored(router, owner, std::move(*payload));
}

// An owner reading the legacy PEP node sees the native rooms, as item 'current' (XEP-0048
// §3.3 uses one item; that id is what clients publish under).
Task<std::optional<std::vector<storage::PepItem>>> legacyPepView(router::Router& router,
                                                                 std::string owner) {
  auto view = co_await legacyView(router, owner, std::nullopt);
  if (!view) co_return std::nullopt;
  co_return std::vector<storage::PepItem>{{"current", xml::toString(*view), owner}};
}

}  // namespace

Task<void> legacyStored(router::Router& router, std::string owner, xml::Element storage) {
  const std::vector<Conference> wanted = fromLegacy(storage);
  auto current = co_await nativeItems(router, owner);
  pep::OwnerChange change;
  for (const auto& w : wanted) {
    storage::PepItem item{w.jid, xml::toString(w.payload), owner};
    const storage::PepItem* existing = nullptr;
    if (current) {
      for (const auto& c : *current)
        if (c.id == item.id) existing = &c;
    }
    // Unchanged rooms are not republished: no notification for what did not change.
    if (existing && existing->payload == item.payload) continue;
    change.publish.push_back(std::move(item));
  }
  if (current) {
    for (const auto& c : *current) {
      bool kept = std::any_of(wanted.begin(), wanted.end(),
                              [&](const Conference& w) { return w.jid == c.id; });
      if (!kept) change.retract.push_back(c.id);
    }
  }
  if (change.publish.empty() && change.retract.empty()) co_return;
  const std::string node(kNativeNs);
  co_await pep::changeForOwner(router, owner, node, std::move(change), nativeOptions());
}

Task<std::optional<xml::Element>> legacyView(router::Router& router, std::string owner,
                                             std::optional<xml::Element> stored) {
  auto items = co_await nativeItems(router, owner);
  if (!items) co_return std::nullopt;
  std::vector<const xml::Element*> urls;
  if (stored) urls = stored->childrenNamed("url", kLegacyNs);
  co_return toLegacy(conferencesOf(*items), urls);
}

}  // namespace parley::xep::bookmarks

namespace parley::xep {

void registerBookmarkSync(router::Router& router) {
  router.addAccountFeature(std::string(bookmarks::kNativeNs) + "#compat");
  router.addAccountFeature(std::string(bookmarks::kNativeNs) + "#compat-pep");
  pep::addPublishListener(bookmarks::onPublished);
  pep::setItemsView(std::string(bookmarks::kLegacyNs), bookmarks::legacyPepView);
}

}  // namespace parley::xep
