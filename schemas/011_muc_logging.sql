-- 011: whether a room's discussion is archived (muc#roomconfig_enablelogging). Occupants are
-- told when they enter a logged room (status 170) and when logging is switched on or off
-- (170/171), as XEP-0045 §7.2.12 and §10.2.1 require.

ALTER TABLE muc_rooms ADD COLUMN logging boolean NOT NULL DEFAULT false;
