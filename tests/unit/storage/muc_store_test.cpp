// Persistent MUC rooms against a real PostgreSQL: a room's configuration, subject and
// affiliations round-trip, history keeps the newest messages in order, and deleting the room
// takes its affiliations and history with it.
#include <catch2/catch.hpp>

#include "storage/muc_store.hpp"
#include "storage_test_support.hpp"

namespace st = parley::storage;

TEST_CASE("muc: rooms, affiliations and history", "[storage][muc]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string jid = "lobby@conference.example.org";
  CHECK_FALSE(st::loadMucRoom(*c, jid));

  st::MucRoomRecord room;
  room.jid = jid;
  room.config.name = "Lobby";
  room.config.persistent = true;
  room.config.members_only = true;
  room.config.password_hash = "pbkdf2-sha256$1$c2FsdA==$a2V5";
  room.config.max_users = 10;
  room.config.history_length = 2;
  room.config.logging = true;
  room.config.allow_invites = true;
  room.subject = "Welcome";
  room.subject_by = "Alice";
  room.affiliations = {{"alice@example.org", "owner"}, {"bob@example.org", "member"}};
  st::saveMucRoom(*c, room);

  auto loaded = st::loadMucRoom(*c, jid);
  REQUIRE(loaded);
  CHECK(loaded->config.name == "Lobby");
  CHECK(loaded->config.persistent);
  CHECK(loaded->config.members_only);
  CHECK_FALSE(loaded->config.moderated);
  CHECK(loaded->config.password_hash == room.config.password_hash);
  CHECK_FALSE(loaded->legacy_password);
  CHECK(loaded->config.max_users == 10);
  CHECK(loaded->config.logging);
  CHECK(loaded->config.allow_invites);
  CHECK(loaded->subject == "Welcome");
  CHECK(loaded->subject_by == "Alice");
  CHECK(loaded->affiliations == room.affiliations);

  st::setMucAffiliation(*c, jid, "carol@example.org", "outcast");
  st::setMucAffiliation(*c, jid, "bob@example.org", "none");
  loaded = st::loadMucRoom(*c, jid);
  CHECK(loaded->affiliations ==
        std::map<std::string, std::string>{{"alice@example.org", "owner"},
                                           {"carol@example.org", "outcast"}});

  for (const char* m : {"<message>1</message>", "<message>2</message>", "<message>3</message>"})
    st::appendMucHistory(*c, jid, m, 2);
  loaded = st::loadMucRoom(*c, jid);
  CHECK(loaded->history ==
        std::vector<std::string>{"<message>2</message>", "<message>3</message>"});

  st::deleteMucRoom(*c, jid);
  CHECK_FALSE(st::loadMucRoom(*c, jid));
  pqxx::read_transaction tx(*c);
  CHECK(tx.exec("SELECT count(*) FROM muc_history")[0][0].as<int>() == 0);
  CHECK(tx.exec("SELECT count(*) FROM muc_affiliations")[0][0].as<int>() == 0);
}

TEST_CASE("muc: a plaintext password from before 013 is handed over once, then replaced",
          "[storage][muc]") {
  TempDatabase db;
  auto c = db.connect();
  const std::string jid = "old@conference.example.org";
  {
    pqxx::work tx(*c);
    tx.exec_params("INSERT INTO muc_rooms (jid, password) VALUES ($1, 'plain')", jid);
    tx.commit();
  }
  auto loaded = st::loadMucRoom(*c, jid);
  REQUIRE(loaded);
  CHECK(loaded->legacy_password == std::optional<std::string>("plain"));
  CHECK_FALSE(loaded->config.password_hash);

  st::setMucRoomPasswordHash(*c, jid, "pbkdf2-sha256$1$c2FsdA==$a2V5");
  loaded = st::loadMucRoom(*c, jid);
  CHECK_FALSE(loaded->legacy_password);
  CHECK(loaded->config.password_hash ==
        std::optional<std::string>("pbkdf2-sha256$1$c2FsdA==$a2V5"));
  pqxx::read_transaction tx(*c);
  CHECK(
      tx.exec_params1("SELECT password IS NULL FROM muc_rooms WHERE jid = $1", jid)[0].as<bool>());
}
