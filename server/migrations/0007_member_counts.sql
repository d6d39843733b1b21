-- A channel's member count, kept by triggers in the same transaction as
-- every membership change, so listing channels does not count members
-- (counting #general's 10,000 members on every connection made a
-- connection storm quadratic).
ALTER TABLE channels ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE channels SET member_count =
    (SELECT COUNT(*) FROM memberships m WHERE m.channel_id = channels.id);

CREATE TRIGGER memberships_count_insert AFTER INSERT ON memberships
BEGIN
    UPDATE channels SET member_count = member_count + 1 WHERE id = NEW.channel_id;
END;

CREATE TRIGGER memberships_count_delete AFTER DELETE ON memberships
BEGIN
    UPDATE channels SET member_count = member_count - 1 WHERE id = OLD.channel_id;
END;
