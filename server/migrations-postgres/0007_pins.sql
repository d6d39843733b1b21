-- Pinned messages: who pinned a message and when, on the message itself (a
-- pin survives edits; deleting the message clears it). The pinned list of
-- a conversation is read through the partial index.
ALTER TABLE messages ADD COLUMN pinned_at BIGINT;
ALTER TABLE messages ADD COLUMN pinned_by TEXT REFERENCES users(id);
CREATE INDEX messages_pinned ON messages(channel_id, pinned_at) WHERE pinned_at IS NOT NULL;
