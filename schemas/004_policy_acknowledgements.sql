-- 004: who acknowledged which version of the IM policy notice (modules/notice, require_ack).
--
-- One row per account and version: the first acknowledgement is kept (the module inserts with
-- ON CONFLICT DO NOTHING), so acknowledged_at is when the person first confirmed that wording.
-- A new policy_version in the configuration asks everybody again. Deleting an account deletes
-- its acknowledgements, so a new account of the same name must acknowledge for itself; the
-- compliance events (kind notice.acknowledged) keep the history either way.

CREATE TABLE policy_acknowledgements (
  account         text NOT NULL REFERENCES accounts (jid) ON DELETE CASCADE,  -- bare JID
  policy_version  text NOT NULL,
  acknowledged_at timestamptz NOT NULL DEFAULT now(),
  session         text NOT NULL DEFAULT '',  -- the full JID that acknowledged
  via             text NOT NULL DEFAULT ''   -- 'reply' (the phrase) or 'element' (<acknowledge/>)
                  CHECK (via IN ('reply', 'element', '')),
  PRIMARY KEY (account, policy_version)
);
-- The module reads one version's accounts at start and every minute.
CREATE INDEX policy_acknowledgements_version ON policy_acknowledgements (policy_version);
