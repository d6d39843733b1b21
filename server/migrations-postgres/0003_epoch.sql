-- A random name for this database's history. Restoring a dump gives the
-- database another one (`server new-epoch`), and a client that sees the
-- name change in `welcome` drops what it cached: sequence numbers may have
-- gone back.
CREATE TABLE epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value TEXT NOT NULL
);
INSERT INTO epoch (id, value) VALUES (1, md5(random()::text || clock_timestamp()::text));
