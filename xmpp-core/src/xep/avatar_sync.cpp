#include "xep/avatar_sync.hpp"

#include <map>
#include <mutex>

#include "parley/xml/serializer.hpp"
#include "storage/pep_store.hpp"
#include "storage/stores.hpp"
#include "util/log.hpp"
#include "xep/avatar_conversion.hpp"
#include "xep/pep_service.hpp"
#include "xep/services.hpp"

namespace parley::xep::avatars {

namespace {

using router::SessionPtr;
using router::Task;

// Account → avatar hash ("" for none). About 100 bytes an entry; a full table starts over
// (each account costs one vCard read to come back).
class Hashes {
 public:
  std::optional<std::string> find(const std::string& owner) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(owner);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void set(const std::string& owner, std::string hash) {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kCapacity && !entries_.count(owner)) entries_.clear();
    entries_[owner] = std::move(hash);
  }

 private:
  static constexpr size_t kCapacity = 100000;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> entries_;
};

Hashes& hashes() {
  static Hashes table;
  return table;
}

std::optional<xml::Element> parsedVcard(const std::optional<std::string>& stored) {
  if (!stored) return std::nullopt;
  return router::parseStoredStanza(*stored);
}

// XEP-0398 §3.1: a metadata publish puts the image from the data node into the vCard.
Task<void> onPublished(router::Router& router, std::string owner, std::string node,
                       storage::PepItem item) {
  if (node != kMetadataNs) co_return;
  auto metadata = router::parseStoredStanza(item.payload);
  if (!metadata || !metadata->is("metadata", kMetadataNs)) co_return;
  auto info = metadataInfoOf(*metadata);
  if (!info) co_return;  // only images elsewhere (url): nothing a vCard can hold
  auto job = [owner, info = *info](pqxx::connection& c) -> std::optional<std::string> {
    std::optional<Avatar> avatar;
    if (!info.id.empty()) {
      auto data = storage::loadPepItems(c, owner, std::string(kDataNs), {info.id}, 1);
      if (data.empty()) return std::nullopt;  // metadata before data: nothing to copy yet
      auto element = router::parseStoredStanza(data.front().payload);
      auto bytes = element ? dataBytesOf(*element) : std::nullopt;
      // §3.1: the id is the image's SHA-1; an image that does not match is not copied.
      if (!bytes || sha1Hex(*bytes) != info.id) return std::nullopt;
      avatar = Avatar{info.id, info.type.empty() ? "image/png" : info.type, std::move(*bytes)};
    }
    auto vcard = parsedVcard(storage::loadVcard(c, owner))
                     .value_or(xml::Element(std::string(kVcardNs), "vCard"));
    storage::saveVcard(c, owner, xml::toString(withPhoto(std::move(vcard), avatar)));
    return info.id;
  };
  auto hash = co_await router.ctx().db().run(std::move(job));
  if (hash) hashes().set(owner, *hash);
}

// XEP-0398 §4 and XEP-0153 §3.2: the hash goes into every available presence, unless the
// client put a <photo/> of its own (an empty one says "no avatar" and stands too). An <x/>
// without <photo/> is replaced.
Task<void> decorate(router::Router& router, SessionPtr session, xml::Element& presence) {
  if (const auto* x = presence.child("x", kVcardUpdateNs); x && x->child("photo", kVcardUpdateNs))
    co_return;
  const std::string owner = session->jid().bareString();
  std::string hash = co_await currentHash(router, owner);
  presence.removeChildren("x", kVcardUpdateNs);
  auto& photo = presence.addChild(std::string(kVcardUpdateNs), "x")
                    .addChild(std::string(kVcardUpdateNs), "photo");
  if (!hash.empty()) photo.addText(hash);
}

}  // namespace

Task<std::string> currentHash(router::Router& router, std::string owner) {
  if (auto known = hashes().find(owner)) co_return *known;
  auto job = [owner](pqxx::connection& c) {
    auto vcard = parsedVcard(storage::loadVcard(c, owner));
    auto avatar = vcard ? photoOf(*vcard) : std::nullopt;
    return avatar ? avatar->id : std::string();
  };
  std::string hash = co_await router.ctx().db().run(std::move(job));
  hashes().set(owner, hash);
  co_return hash;
}

Task<void> vcardStored(router::Router& router, std::string owner, xml::Element vcard) {
  const std::string previous = hashes().find(owner).value_or("");
  auto avatar = photoOf(vcard);
  const std::string now = avatar ? avatar->id : std::string();
  hashes().set(owner, now);
  if (now == previous) co_return;
  // XEP-0398 §3.2: the data first, then the metadata that points at it.
  if (avatar) {
    const std::string data_node(kDataNs);
    pep::OwnerChange data;
    data.publish.push_back({avatar->id, xml::toString(dataElement(*avatar)), owner});
    co_await pep::changeForOwner(router, owner, data_node, std::move(data), {});
  }
  // No PHOTO any more: an empty <metadata/> tells contacts the avatar is gone (XEP-0084 §4.2).
  const std::string metadata_node(kMetadataNs);
  xml::Element metadata =
      avatar ? metadataElement(*avatar) : xml::Element(std::string(kMetadataNs), "metadata");
  pep::OwnerChange change;
  change.publish.push_back({avatar ? avatar->id : "none", xml::toString(metadata), owner});
  co_await pep::changeForOwner(router, owner, metadata_node, std::move(change), {});
}

}  // namespace parley::xep::avatars

namespace parley::xep {

void registerAvatarSync(router::Router& router) {
  router.addAccountFeature("urn:xmpp:pep-vcard-conversion:0");
  pep::addPublishListener(avatars::onPublished);
  router.addPresenceDecorator([&router](const router::SessionPtr& session, xml::Element& presence) {
    return avatars::decorate(router, session, presence);
  });
}

}  // namespace parley::xep
