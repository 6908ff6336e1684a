-- 001: accounts, SCRAM credentials, rosters, offline messages, vCards, last activity.
-- Applied by the migration runner inside one transaction; never edit once landed, add 002_… instead.
-- Every table owned by an account references accounts(jid) ON DELETE CASCADE so deleting an
-- account removes everything it owned in one statement.

CREATE TABLE accounts (
  jid        text PRIMARY KEY,                 -- bare JID in prepared (canonical) form
  disabled   boolean NOT NULL DEFAULT false,   -- a disabled account cannot log in
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The server never stores a password: only what SCRAM needs to verify one (RFC 5802 §3).
CREATE TABLE account_credentials (
  jid        text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,
  mechanism  text NOT NULL CHECK (mechanism IN ('SCRAM-SHA-1', 'SCRAM-SHA-256')),
  salt       bytea NOT NULL,
  iterations integer NOT NULL CHECK (iterations > 0),
  stored_key bytea NOT NULL,
  server_key bytea NOT NULL,
  PRIMARY KEY (jid, mechanism)
);

-- Roster versioning (RFC 6121 §2.6): bumped in the same transaction as every roster change.
CREATE TABLE roster_versions (
  owner   text PRIMARY KEY REFERENCES accounts (jid) ON DELETE CASCADE,
  version bigint NOT NULL DEFAULT 0
);

CREATE TABLE roster_items (
  owner        text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,
  contact      text NOT NULL,
  name         text NOT NULL DEFAULT '',
  subscription text NOT NULL DEFAULT 'none'
               CHECK (subscription IN ('none', 'to', 'from', 'both')),
  ask_out      boolean NOT NULL DEFAULT false,
  pending_in   boolean NOT NULL DEFAULT false,
  preapproved  boolean NOT NULL DEFAULT false,
  -- false: an inbound request from someone the user never added (RFC 6121 §3.1.3 "None +
  -- Pending In"), kept for redelivery but not shown in the roster
  listed       boolean NOT NULL DEFAULT true,
  groups       text[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (owner, contact)
);

-- XEP-0160: delivered oldest first, so (owner, id) is the access path.
CREATE TABLE offline_messages (
  id        bigserial PRIMARY KEY,
  owner     text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,
  stanza    text NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offline_messages_owner_id ON offline_messages (owner, id);

-- XEP-0054 vcard-temp: stored as the serialized <vCard/> element.
CREATE TABLE vcards (
  owner      text PRIMARY KEY REFERENCES accounts (jid) ON DELETE CASCADE,
  vcard      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- XEP-0012: when the account's last session ended and its last unavailable status text.
CREATE TABLE last_activity (
  owner     text PRIMARY KEY REFERENCES accounts (jid) ON DELETE CASCADE,
  logout_at timestamptz NOT NULL,
  status    text NOT NULL DEFAULT ''
);
