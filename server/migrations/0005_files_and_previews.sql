-- Uploaded files and link previews.
--
-- A file is uploaded into a channel by a member, then posted with a message
-- (seq set, in attachment order). Its bytes live on disk under the files
-- folder, named by their SHA-256, so the same content is stored once.
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    channel_id   TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    uploader_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- the message it was posted with; NULL until then
    seq          INTEGER,
    position     INTEGER NOT NULL DEFAULT 0,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    mime         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    sha256       TEXT NOT NULL,
    thumb_sha256 TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX files_message ON files(channel_id, seq);

-- The preview of a message's first link, as JSON (shared::LinkPreview).
ALTER TABLE messages ADD COLUMN preview TEXT;

-- Fetched links: the preview JSON, or NULL when the link had nothing to show.
CREATE TABLE preview_cache (
    url         TEXT PRIMARY KEY,
    preview     TEXT,
    fetched_at  INTEGER NOT NULL
);

-- Images copied from previewed pages, served under /api/previews/.
CREATE TABLE preview_images (
    sha256      TEXT PRIMARY KEY,
    mime        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
