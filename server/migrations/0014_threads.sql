-- Threads. A reply is a message of its conversation (numbered, acked,
-- edited, reacted to like any other) that names its parent (`thread_seq`);
-- `in_channel` is 0 for a reply shown only in its thread. The parent keeps
-- the thread's summary (how many replies, the newest one's number and
-- time). Who follows a thread (its parent's author, repliers, people
-- mentioned in it, or by choice), how far each has read it, and when each
-- first replied (the parent names its first repliers).
ALTER TABLE messages ADD COLUMN thread_seq INTEGER;
ALTER TABLE messages ADD COLUMN in_channel INTEGER NOT NULL DEFAULT 1;
ALTER TABLE messages ADD COLUMN reply_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_reply_seq INTEGER;
ALTER TABLE messages ADD COLUMN last_reply_at INTEGER;
CREATE INDEX messages_thread ON messages(channel_id, thread_seq, seq) WHERE thread_seq IS NOT NULL;
CREATE INDEX messages_thread_only ON messages(channel_id, seq) WHERE in_channel = 0;

CREATE TABLE thread_follows (
    channel_id     TEXT NOT NULL,
    root_seq       INTEGER NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    following      INTEGER NOT NULL DEFAULT 1,
    read_seq       INTEGER NOT NULL DEFAULT 0,
    first_reply_seq INTEGER,
    PRIMARY KEY (user_id, channel_id, root_seq),
    FOREIGN KEY (channel_id, root_seq) REFERENCES messages(channel_id, seq) ON DELETE CASCADE
);
CREATE INDEX thread_follows_root ON thread_follows(channel_id, root_seq);
