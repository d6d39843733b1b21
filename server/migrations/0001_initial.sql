-- Users, their browser sessions, channels, memberships and messages.
-- Ids are random 128-bit hex strings made by the server, never sequences.

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- lowercase name: names are unique regardless of letter case
    name_key    TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    -- SHA-256 of the cookie token; the token itself is never stored
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE channels (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    topic       TEXT NOT NULL DEFAULT '',
    -- the last sequence number handed out in this channel
    last_seq    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

CREATE TABLE memberships (
    channel_id  TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at   INTEGER NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE messages (
    channel_id  TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    author_id   TEXT NOT NULL REFERENCES users(id),
    -- the id the sending client gave the message; a resend is recognised by it
    client_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (channel_id, seq),
    UNIQUE (author_id, client_id)
);
