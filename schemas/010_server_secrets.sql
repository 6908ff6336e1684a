-- 010: secrets the server keeps across restarts, by purpose. The first is the key of XEP-0421
-- occupant ids in chat rooms: an id must stay the same for a user in a room across rejoins and
-- restarts, and must not be computable by anyone without the key, so the key lives here rather
-- than being derived from anything public. Created on first use by the server
-- (storage/server_secret_store), never updated: changing it would change every occupant id.

CREATE TABLE server_secrets (
  name        text PRIMARY KEY,  -- the purpose, e.g. 'muc-occupant-id'
  secret      text NOT NULL,     -- base64 of random bytes
  created_at  timestamptz NOT NULL DEFAULT now()
);
