-- Edits, deletes and reactions. Every change to a channel's messages takes the
-- next number from channels.last_change, stored on the message as change_no,
-- so a reconnecting client can ask for everything changed since it last looked.
ALTER TABLE channels ADD COLUMN last_change INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN change_no INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_change ON messages(channel_id, change_no);

CREATE TABLE reactions (
    channel_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, seq, user_id, emoji),
    FOREIGN KEY (channel_id, seq) REFERENCES messages(channel_id, seq) ON DELETE CASCADE
);
