-- The whole schema for PostgreSQL, equal to what SQLite's migrations 0001 to
-- 0007 build up. Ids are random 128-bit hex strings made by the server;
-- times are milliseconds since the epoch.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    -- the name's uniqueness key (NFKC, lowercase, confusable skeleton)
    name_key       TEXT NOT NULL UNIQUE,
    -- the lowercase name that @mentions and the directory search match
    mention_key    TEXT COLLATE "C" NOT NULL DEFAULT '',
    password_hash  TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX users_mention_key ON users (mention_key);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    -- SHA-256 of the cookie token; the token itself is never stored
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

CREATE TABLE channels (
    id            TEXT PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT COLLATE "C",
    topic         TEXT NOT NULL DEFAULT '',
    kind          TEXT NOT NULL DEFAULT 'public',
    created_by    TEXT REFERENCES users (id),
    -- the last sequence number and change number handed out here
    last_seq      BIGINT NOT NULL DEFAULT 0,
    last_change   BIGINT NOT NULL DEFAULT 0,
    member_count  BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX channels_kind ON channels (kind);

CREATE TABLE memberships (
    channel_id     TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at      BIGINT NOT NULL,
    last_read_seq  BIGINT NOT NULL DEFAULT 0,
    hidden         BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);
CREATE INDEX memberships_hidden ON memberships (channel_id) WHERE hidden;

CREATE FUNCTION count_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE channels SET member_count = member_count + 1 WHERE id = NEW.channel_id;
    ELSE
        UPDATE channels SET member_count = member_count - 1 WHERE id = OLD.channel_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER memberships_count AFTER INSERT OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION count_members();

CREATE TABLE messages (
    channel_id  TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES users (id),
    -- the id the sending client gave the message; a resend is recognised by it
    client_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    sent_at     BIGINT NOT NULL,
    edited_at   BIGINT,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    change_no   BIGINT NOT NULL DEFAULT 0,
    -- the link preview, as JSON
    preview     TEXT,
    PRIMARY KEY (channel_id, seq),
    UNIQUE (author_id, client_id)
);
CREATE INDEX messages_change ON messages (channel_id, change_no);
CREATE INDEX messages_deleted ON messages (channel_id, seq) WHERE deleted;

CREATE TABLE reactions (
    channel_id  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, seq, user_id, emoji),
    FOREIGN KEY (channel_id, seq) REFERENCES messages (channel_id, seq) ON DELETE CASCADE
);

CREATE TABLE mentions (
    user_id     TEXT NOT NULL,
    channel_id  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id, seq),
    FOREIGN KEY (channel_id, seq) REFERENCES messages (channel_id, seq) ON DELETE CASCADE
);

CREATE TABLE blocks (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);

CREATE TABLE files (
    id            TEXT PRIMARY KEY,
    channel_id    TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    uploader_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the message it was posted with; NULL until then
    seq           BIGINT,
    position      BIGINT NOT NULL DEFAULT 0,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    mime          TEXT NOT NULL,
    size          BIGINT NOT NULL,
    width         BIGINT,
    height        BIGINT,
    sha256        TEXT NOT NULL,
    thumb_sha256  TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX files_message ON files (channel_id, seq);
CREATE INDEX files_unposted ON files (created_at) WHERE seq IS NULL;
CREATE INDEX files_sha256 ON files (sha256);
CREATE INDEX files_thumb_sha256 ON files (thumb_sha256) WHERE thumb_sha256 IS NOT NULL;

CREATE TABLE preview_cache (
    url         TEXT PRIMARY KEY,
    preview     TEXT,
    fetched_at  BIGINT NOT NULL
);
CREATE INDEX preview_cache_fetched ON preview_cache (fetched_at);

CREATE TABLE preview_images (
    sha256      TEXT PRIMARY KEY,
    mime        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
