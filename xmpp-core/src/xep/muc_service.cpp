// XEP-0045 service: the registry of rooms (in memory, loaded from PostgreSQL on first use,
// forgotten when destroyed or emptied) and the dispatch of stanzas to the handlers.

#include "xep/muc_service.hpp"
#include "storage/server_secret_store.hpp"
#include "util/log.hpp"
#include "xep/muc_occupant_id.hpp"
#include "xep/muc_password.hpp"
#include "xep/services.hpp"

namespace parley::xep::muc {

Task<RoomPtr> MucService::findRoom(std::string jid) {
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(jid);
    if (it != rooms_.end()) {
      if (!it->second->gone) co_return it->second;
      rooms_.erase(it);
    }
  }
  auto job = [jid](pqxx::connection& c) {
    auto record = storage::loadMucRoom(c, jid);
    if (record && record->legacy_password) {
      // Written before room passwords were hashed (schemas/013): hash it now, once.
      record->config.password_hash = hashRoomPassword(*record->legacy_password);
      storage::setMucRoomPasswordHash(c, jid, *record->config.password_hash);
      record->legacy_password.reset();
    }
    return record;
  };
  std::optional<storage::MucRoomRecord> record = co_await router_.ctx().db().run(std::move(job));
  if (!record) co_return nullptr;
  RoomPtr room = roomFromRecord(*record);
  std::lock_guard lock(mutex_);
  auto& slot = rooms_[jid];
  if (!slot || slot->gone) slot = room;
  co_return slot;  // another request may have loaded it meanwhile: theirs wins
}

RoomPtr MucService::createRoom(const Jid& jid, const std::string& owner) {
  std::lock_guard lock(mutex_);
  auto& slot = rooms_[jid.full()];
  if (!slot || slot->gone) {
    slot = std::make_shared<Room>();
    slot->jid = jid;
    slot->affiliations[owner] = Affiliation::Owner;
    slot->fresh = true;
  }
  return slot;
}

void MucService::forget(const RoomPtr& room) {
  room->gone = true;
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room->jid.full());
  if (it != rooms_.end() && it->second == room) rooms_.erase(it);
}

Task<void> MucService::runEffects(Effects fx) {
  for (auto& job : fx.db) {
    try {
      co_await router_.ctx().db().run(std::move(job));
    } catch (const std::exception& e) {
      log::error("muc: storing a room change failed: ", e.what());
    }
  }
}

Task<void> MucService::loadOccupantIdSecret() {
  auto job = [](pqxx::connection& c) {
    return storage::loadOrCreateServerSecret(c, std::string(kOccupantIdSecretName), 32);
  };
  std::string secret = co_await router_.ctx().db().run(std::move(job));
  std::lock_guard lock(mutex_);
  if (!occupant_id_ready_) {
    occupant_id_secret_ = std::move(secret);
    occupant_id_ready_ = true;
  }
}

Task<void> MucService::handle(Stanza& stanza, const SessionPtr& session) {
  try {
    if (!occupant_id_ready_) co_await loadOccupantIdSecret();
    if (stanza.kind() == "presence") {
      co_await onPresence(stanza, session);
    } else if (stanza.kind() == "message") {
      if (stanza.to.node().empty()) {
        router_.bounce(session, stanza.element, "service-unavailable",
                       "The chat room service takes no messages itself.");
      } else {
        co_await onMessage(stanza, session);
      }
    } else {
      co_await onIq(stanza, session);
    }
    co_return;
  } catch (const std::exception& e) {
    log::error("muc: ", stanza.kind(), " to ", stanza.to.full(), " failed: ", e.what());
  }
  router_.bounce(session, stanza.element, "internal-server-error",
                 "The chat room service could not complete this; please retry.");
}

}  // namespace parley::xep::muc

namespace parley::xep {

void registerMuc(router::Router& router) {
  auto service = std::make_shared<muc::MucService>(router);
  router.addSubdomainService("conference", "Chat rooms",
                             [service](Stanza& stanza, const router::SessionPtr& session) {
                               return service->handle(stanza, session);
                             });
}

}  // namespace parley::xep
