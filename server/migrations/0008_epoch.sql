-- A random name for this database's history. Restoring a backup gives the
-- database another one (a backup copy gets its own; `server new-epoch`
-- makes one), and a client that sees the name change in `welcome` drops
-- what it cached: sequence numbers may have gone back.
CREATE TABLE epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value TEXT NOT NULL
);
INSERT INTO epoch (id, value) VALUES (1, lower(hex(randomblob(16))));
