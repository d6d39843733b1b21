-- Link previews waiting to be made, one per message: a node claims a job
-- for a while (due_at moves past its lease; `FOR UPDATE SKIP LOCKED`, so
-- nodes never take the same one) and deletes it when done, so a job whose
-- node stopped is taken up by another when the lease runs out.
CREATE TABLE preview_jobs (
    channel_id  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    link        TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, seq)
);
CREATE INDEX preview_jobs_due ON preview_jobs (due_at);
