-- Work done once for all nodes, not once per node (sweeps): the node that
-- claims a job's period first runs it (see `PgStore::claim_job`).
CREATE TABLE jobs (
    name         TEXT PRIMARY KEY,
    last_run_at  BIGINT NOT NULL
);
