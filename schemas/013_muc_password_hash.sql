-- 013: room passwords as salted PBKDF2-HMAC-SHA-256 hashes (xep/muc_password) instead of
-- plaintext. The plaintext column stays for rows written before this migration: PostgreSQL
-- alone cannot compute PBKDF2, so the server hashes such a password when it first loads the
-- room, writes password_hash and clears password (storage/muc_store.cpp). New rows never set it.

ALTER TABLE muc_rooms ADD COLUMN password_hash text;
COMMENT ON COLUMN muc_rooms.password IS
  'Legacy plaintext password from before 013; cleared when the server first loads the room.';
