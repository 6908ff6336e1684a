-- 007: Message Archive Management (XEP-0313) for user accounts, and the archiving preferences
-- of XEP-0441 (XEP-0313 §6 before the split).
--
-- Each message between two local accounts is archived twice, once in each party's archive
-- (once when both are the same account), with its own archive id there. That id is what the
-- recipient's copy carries as XEP-0359 <stanza-id by='owner'/> and what clients page with
-- (RSM after/before), so it is a random UUID: opaque, unpredictable and telling nothing about
-- the archive's size (XEP-0359 security considerations), never reused.
--
-- The archive's order is (at, id): `at` is when the server routed the message, taken from a
-- clock that never runs backwards within one parleyd, so messages sort in the order the server
-- handled them; the id only breaks ties between parleyd nodes.
--
-- Every query has the form "the first or last N of one owner's messages [with one partner]
-- [between two times] [after or before one message]", so the two indexes below start with the
-- owner (and the partner) and continue in archive order: a page is one index range scan of
-- N+1 entries, whatever the archive's size. The primary key finds the messages a client names
-- by id (RSM after/before, before-id, after-id, ids).
--
-- Not partitioned: a user's archive is queried by owner, and retention of the user's own
-- archive (unlike the compliance archive) is a per-user choice, not a bulk drop by month.

CREATE TABLE mam_messages (
  owner         text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,  -- bare JID
  id            uuid NOT NULL,         -- archive id = the XEP-0359 stanza-id in this archive
  at            timestamptz NOT NULL,  -- when the server routed it (XEP-0203 delay stamp)
  with_jid      text NOT NULL,         -- bare JID of the other party (the owner for notes to self)
  with_resource text NOT NULL DEFAULT '',  -- the other party's resource as addressed, if any
  direction     text NOT NULL CHECK (direction IN ('in', 'out')),  -- as seen by the owner
  origin_id     text,                  -- XEP-0359 <origin-id/> as the sender gave it
  stanza        text NOT NULL,         -- the message as routed, serialized
  PRIMARY KEY (owner, id)
);
CREATE INDEX mam_messages_owner_order ON mam_messages (owner, at, id);
CREATE INDEX mam_messages_owner_with_order ON mam_messages (owner, with_jid, at, id);

-- Accounts without a row archive everything ('always', empty lists). JIDs are prepared
-- (canonical) strings; a bare one matches every resource of that JID.
CREATE TABLE mam_prefs (
  owner        text PRIMARY KEY REFERENCES accounts (jid) ON DELETE CASCADE,
  default_mode text NOT NULL CHECK (default_mode IN ('always', 'roster', 'never')),
  always       text[] NOT NULL DEFAULT '{}',
  never        text[] NOT NULL DEFAULT '{}',
  updated_at   timestamptz NOT NULL DEFAULT now()
);
