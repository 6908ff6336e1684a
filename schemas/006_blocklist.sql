-- 006: XEP-0191 blocklists (and the read-only XEP-0016 privacy list the server derives from
-- them).
--
-- One row per blocked address, as the user gave it in prepared form: a full JID, a bare JID, a
-- domain/resource or a domain (XEP-0191 §6 says which stanzas each form matches). The version
-- is bumped in the same transaction as every change, under the row lock that also serialises
-- concurrent changes to one list: parleyd keeps the lists of online accounts in memory and
-- uses the version to keep the newest when changes finish out of order.

CREATE TABLE blocklist_versions (
  owner   text PRIMARY KEY REFERENCES accounts (jid) ON DELETE CASCADE,  -- bare JID
  version bigint NOT NULL
);

CREATE TABLE blocklist_items (
  owner      text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,  -- bare JID
  jid        text NOT NULL,                                             -- the blocked address
  blocked_at timestamptz NOT NULL DEFAULT now(),  -- lists are shown in the order blocked
  PRIMARY KEY (owner, jid)
);
