-- Channels on topics (public or private) and direct conversations, and what
-- each member has read.
ALTER TABLE channels ADD COLUMN kind TEXT NOT NULL DEFAULT 'public';
ALTER TABLE channels ADD COLUMN created_by TEXT REFERENCES users(id);
ALTER TABLE memberships ADD COLUMN last_read_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX channels_kind ON channels(kind);
