-- Messages reported to the moderators: who reported what and why, with
-- the message's text and author as they were (moderators may not be in
-- its conversation). A report is open until a moderator removes the
-- message or dismisses it. One report per person per message.
CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    channel_id   TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    author_id    TEXT NOT NULL REFERENCES users(id),
    body         TEXT NOT NULL,
    reporter_id  TEXT NOT NULL REFERENCES users(id),
    reason       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    resolved_at  BIGINT,
    resolved_by  TEXT REFERENCES users(id),
    resolution   TEXT,
    UNIQUE (channel_id, seq, reporter_id)
);
CREATE INDEX reports_open ON reports(created_at) WHERE resolved_at IS NULL;
