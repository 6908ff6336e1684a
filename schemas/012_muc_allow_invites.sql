-- 012: whether members of a members-only room may invite others (muc#roomconfig_allowinvites).
-- An invitation to a members-only room from someone allowed to invite makes the invitee a member
-- (XEP-0045 §7.8.2), stored in muc_affiliations like any other membership.

ALTER TABLE muc_rooms ADD COLUMN allow_invites boolean NOT NULL DEFAULT false;
