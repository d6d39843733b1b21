-- The server's settings admins change from the browser (one row per
-- setting), and invite links: the code's SHA-256 (the code itself is shown
-- once and never stored), who made it, until when and how many times it
-- may be used.
CREATE TABLE server_settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

CREATE TABLE invites (
    id          TEXT PRIMARY KEY,
    code_hash   TEXT NOT NULL UNIQUE,
    created_by  TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    max_uses    BIGINT NOT NULL,
    uses        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX invites_expiry ON invites(expires_at);
