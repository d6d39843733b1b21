-- Full-text search. Every message that is not deleted has a row in
-- `message_search` (FTS5) under the message's `search_no`, a number given
-- in the order messages are stored (newest first is the index's own
-- order). The rows are written, rewritten and deleted with the messages,
-- in the same transactions. The channel, author, time and flags ride along
-- unindexed, for the filters and for who may read each result.
ALTER TABLE messages ADD COLUMN search_no INTEGER;

CREATE VIRTUAL TABLE message_search USING fts5(
    body,
    channel_id UNINDEXED,
    seq UNINDEXED,
    author_id UNINDEXED,
    sent_at UNINDEXED,
    has_file UNINDEXED,
    has_link UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- The last search_no given.
CREATE TABLE search_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    last  INTEGER NOT NULL
);
INSERT INTO search_counter (id, last) VALUES (1, 0);

-- Messages stored while the index was turned off (`--search-index false`),
-- found quickly when it is turned on again.
CREATE INDEX messages_unindexed ON messages(channel_id) WHERE search_no IS NULL;
