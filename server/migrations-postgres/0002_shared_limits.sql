-- Counts that must be the same on every node (sign-ups per address), per
-- key and fixed window (ms since the epoch); old windows are deleted by
-- housekeeping.
CREATE TABLE limit_hits (
    key           TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX limit_hits_window ON limit_hits (window_start);
