-- 008: Multi-User Chat (XEP-0045) on conference.<domain>: persistent rooms, their configuration
-- and subject, affiliations, and recent discussion history.
--
-- Only persistent rooms are stored; a temporary room lives in memory and is gone when its last
-- occupant leaves. Occupants and roles are never stored: they belong to live sessions.
-- (006 and 007 are taken by other branches; the gap is intended.)

CREATE TABLE muc_rooms (
  jid               text PRIMARY KEY,  -- room@conference.domain
  name              text NOT NULL DEFAULT '',
  members_only      boolean NOT NULL DEFAULT false,
  moderated         boolean NOT NULL DEFAULT false,
  password          text,              -- NULL: not password-protected
  whois_anyone      boolean NOT NULL DEFAULT false,
  max_users         integer NOT NULL DEFAULT 0 CHECK (max_users >= 0),  -- 0: no limit
  change_subject    boolean NOT NULL DEFAULT false,
  history_length    integer NOT NULL DEFAULT 20 CHECK (history_length >= 0),
  subject           text NOT NULL DEFAULT '',
  subject_by        text NOT NULL DEFAULT '',  -- the nick that set it
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE muc_affiliations (
  room         text NOT NULL REFERENCES muc_rooms (jid) ON DELETE CASCADE,
  jid          text NOT NULL,  -- bare JID
  affiliation  text NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
  PRIMARY KEY (room, jid)
);

CREATE SEQUENCE muc_history_seq;
CREATE TABLE muc_history (
  room     text NOT NULL REFERENCES muc_rooms (jid) ON DELETE CASCADE,
  seq      bigint NOT NULL DEFAULT nextval('muc_history_seq'),
  stanza   text NOT NULL,  -- the groupchat message as occupants received it, with its delay stamp
  sent_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room, seq)
);
