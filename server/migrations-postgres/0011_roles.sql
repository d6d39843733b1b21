-- Roles and moderation. Every user has a role (the first account is the
-- owner), may be muted until a moment, or deactivated. A message removed
-- by a moderator names who removed it. The audit log records every
-- moderation and admin action and is never edited: a trigger refuses
-- updates and deletes.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
ALTER TABLE users ADD COLUMN muted_until BIGINT;
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
UPDATE users SET role = 'owner'
 WHERE id = (SELECT id FROM users ORDER BY created_at, id LIMIT 1);
CREATE INDEX users_role ON users (role);

ALTER TABLE messages ADD COLUMN removed_by TEXT;

CREATE TABLE audit_log (
    id              BIGSERIAL PRIMARY KEY,
    at              BIGINT NOT NULL,
    actor_id        TEXT NOT NULL REFERENCES users(id),
    action          TEXT NOT NULL,
    target_user_id  TEXT REFERENCES users(id),
    channel_id      TEXT,
    seq             BIGINT,
    detail          TEXT NOT NULL DEFAULT ''
);
CREATE FUNCTION audit_log_never_edited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is never edited';
END;
$$;
CREATE TRIGGER audit_log_never_edited BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_never_edited();
