-- 005: Personal eventing (XEP-0163): every account's PEP nodes and their items.
--
-- A node is created by its owner's first publish (auto-create) or an explicit create; its
-- configuration decides who may read it and who is notified: access_model 'presence' (contacts
-- with a presence subscription), 'open' (anyone) or 'whitelist' (the owner only, as XEP-0223
-- private storage and XEP-0402 bookmarks ask). max_items NULL means 'max' (bounded by the
-- server's own limit). Items are ordered by seq, which every (re)publish takes afresh, so the
-- newest item is the one with the highest seq.

CREATE TABLE pep_nodes (
  owner         text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,  -- bare JID
  node          text NOT NULL,
  access_model  text NOT NULL DEFAULT 'presence'
                CHECK (access_model IN ('presence', 'open', 'whitelist')),
  max_items     integer CHECK (max_items IS NULL OR max_items >= 1),
  send_last     text NOT NULL DEFAULT 'on_sub_and_presence'
                CHECK (send_last IN ('never', 'on_sub', 'on_sub_and_presence')),
  notify_retract boolean NOT NULL DEFAULT true,
  persist_items boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, node)
);

CREATE SEQUENCE pep_items_seq;
CREATE TABLE pep_items (
  owner        text NOT NULL,
  node         text NOT NULL,
  item_id      text NOT NULL,
  payload      text NOT NULL,  -- the item's one child element, serialized
  publisher    text NOT NULL,  -- the full JID that published it
  published_at timestamptz NOT NULL DEFAULT now(),
  seq          bigint NOT NULL DEFAULT nextval('pep_items_seq'),
  PRIMARY KEY (owner, node, item_id),
  FOREIGN KEY (owner, node) REFERENCES pep_nodes (owner, node) ON DELETE CASCADE
);
-- Newest first, per node: items queries, the max_items trim and last-item delivery at login.
CREATE INDEX pep_items_newest ON pep_items (owner, node, seq DESC);
