-- Safe on the open internet.

-- Sessions end after a period without use.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_last_seen ON sessions(last_seen_at);

-- Names are unique by a look-alike skeleton (recomputed by the server at
-- start, see `name_keys` below); mentions keep matching the lowercase name.
ALTER TABLE users ADD COLUMN mention_key TEXT NOT NULL DEFAULT '';
UPDATE users SET mention_key = name_key;
CREATE INDEX users_mention_key ON users(mention_key);

-- Facts the server keeps about the database itself (e.g. which rule made
-- the name keys).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Private channels do not take a name from everyone: their `name` becomes a
-- unique internal key and the name people see moves to `display_name`.
ALTER TABLE channels ADD COLUMN display_name TEXT;
UPDATE channels SET display_name = name, name = 'private:' || id WHERE kind = 'private';

-- Who mentions whom, written with each message, so unread mention counts
-- are an index lookup instead of a scan of every unread message.
CREATE TABLE mentions (
    user_id     TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id, seq),
    FOREIGN KEY (channel_id, seq) REFERENCES messages(channel_id, seq) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT OR IGNORE INTO mentions (user_id, channel_id, seq)
    SELECT u.id, m.channel_id, m.seq
    FROM messages m
    JOIN memberships ms ON ms.channel_id = m.channel_id
    JOIN users u ON u.id = ms.user_id
    WHERE m.deleted = 0 AND m.author_id != u.id
      AND instr(lower(m.body), '@' || u.mention_key) > 0;

-- Blocking: a blocked user cannot start conversations with, invite, or
-- write directly to the person who blocked them.
CREATE TABLE blocks (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    blocked_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks(blocked_id);

-- A hidden direct conversation stays out of the list until a new message.
ALTER TABLE memberships ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
CREATE INDEX memberships_hidden ON memberships(channel_id) WHERE hidden = 1;

-- The file sweep finds its rows through indexes, in small batches.
CREATE INDEX files_unposted ON files(created_at) WHERE seq IS NULL;
CREATE INDEX files_sha256 ON files(sha256);
CREATE INDEX files_thumb_sha256 ON files(thumb_sha256) WHERE thumb_sha256 IS NOT NULL;
CREATE INDEX messages_deleted ON messages(channel_id, seq) WHERE deleted = 1;

-- Cached link previews older than a day are swept.
CREATE INDEX preview_cache_fetched ON preview_cache(fetched_at);
