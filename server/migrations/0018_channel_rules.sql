-- Rules moderators and admins set per channel: slow mode (a member posts
-- at most once per so many seconds; moderators are exempt; the writer
-- keeps each member's last post time in slow channels) and archiving
-- (read-only, hidden from browsing, restorable).
ALTER TABLE channels ADD COLUMN slow_mode_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN archived_at INTEGER;
ALTER TABLE memberships ADD COLUMN last_posted_at INTEGER;
