-- Link previews waiting to be made, one per message: a worker claims a job
-- for a while (due_at moves past its lease) and deletes it when done, so a
-- job whose worker stopped is taken up again when the lease runs out.
CREATE TABLE preview_jobs (
    channel_id  TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    link        TEXT NOT NULL,
    due_at      INTEGER NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, seq)
);
CREATE INDEX preview_jobs_due ON preview_jobs (due_at);
