-- Custom emoji: a name written `:name:` and its image (a stored content
-- hash, kept by the janitor while a row refers to it).
CREATE TABLE custom_emoji (
    name        TEXT PRIMARY KEY,
    sha256      TEXT NOT NULL,
    mime        TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX custom_emoji_image ON custom_emoji(sha256);
