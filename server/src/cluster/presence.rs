//! Who is present through the other nodes, as this node hears it: each
//! node reports changes as they happen and everyone connected to it with
//! every heartbeat (so a missed change is corrected within a beat). A user
//! is online elsewhere while any other node has them, away while every
//! node that has them says away, and offline when none does; a node not
//! heard for [`DEAD_AFTER`] is gone, and so is everyone only it had.
//!
//! Pure bookkeeping: the answers are the users whose presence elsewhere
//! changed, for the hub.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use shared::protocol::PresenceStatus;
use shared::{UserId, UserInfo};

/// How often a node beats (and lists who is connected to it).
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A node not heard for this long is taken for dead.
pub const DEAD_AFTER: Duration = Duration::from_secs(15);

/// A user whose presence through the other nodes changed, and how it is now.
pub type Change = (UserInfo, PresenceStatus);

#[derive(Default)]
pub struct Elsewhere {
    nodes: HashMap<String, Node>,
}

struct Node {
    heard_at: Instant,
    /// Per user: how present (offline: left since the last heartbeat),
    /// and the report that said so.
    users: HashMap<UserId, (UserInfo, PresenceStatus, u64)>,
}

impl Node {
    /// Whether what the node said of `user` is older than report `version`.
    fn is_older(&self, user: &UserId, version: u64) -> bool {
        self.users
            .get(user)
            .is_none_or(|(_, _, seen)| *seen < version)
    }
}

impl Elsewhere {
    /// How `user` is present through the other nodes together.
    pub fn status(&self, user: &UserId) -> PresenceStatus {
        let mut status = PresenceStatus::Offline;
        for node in self.nodes.values() {
            match node.users.get(user) {
                Some((_, PresenceStatus::Online, _)) => return PresenceStatus::Online,
                Some((_, PresenceStatus::Away, _)) => status = PresenceStatus::Away,
                _ => {}
            }
        }
        status
    }

    /// `node`'s report number `version`: `user` is now `status` there.
    pub fn change(
        &mut self,
        node: &str,
        user: UserInfo,
        status: PresenceStatus,
        version: u64,
        now: Instant,
    ) -> Vec<Change> {
        let before = self.statuses(vec![user.clone()]);
        let entry = self.node(node, now);
        if entry.is_older(&user.id, version) {
            // Offline stays as a marker until the next heartbeat, so a late
            // older report cannot bring the user back.
            entry
                .users
                .insert(user.id.clone(), (user.clone(), status, version));
        }
        self.compare(before)
    }

    /// Part of `node`'s heartbeat listing everyone connected to it as of
    /// report `version`; the `last` part ends the list.
    pub fn heartbeat(
        &mut self,
        node: &str,
        version: u64,
        users: Vec<(UserInfo, PresenceStatus)>,
        last: bool,
        now: Instant,
    ) -> Vec<Change> {
        let mut affected: Vec<UserInfo> = users.iter().map(|(user, _)| user.clone()).collect();
        if last && let Some(known) = self.nodes.get(node) {
            affected.extend(known.users.values().map(|(user, _, _)| user.clone()));
        }
        let before = self.statuses(affected);
        let entry = self.node(node, now);
        for (user, status) in users {
            if entry.is_older(&user.id, version) && status != PresenceStatus::Offline {
                entry.users.insert(user.id.clone(), (user, status, version));
            }
        }
        if last {
            // Neither listed nor reported since the list was made: gone.
            entry.users.retain(|_, (_, status, seen)| {
                *seen >= version && *status != PresenceStatus::Offline
            });
        }
        self.compare(before)
    }

    /// `node` stopped: everyone only it had is offline.
    pub fn left(&mut self, node: &str) -> Vec<Change> {
        let Some(gone) = self.nodes.get(node) else {
            return Vec::new();
        };
        // Their presence across every node, before this one goes.
        let users = gone
            .users
            .values()
            .map(|(user, _, _)| user.clone())
            .collect();
        let before = self.statuses(users);
        self.nodes.remove(node);
        self.compare(before)
    }

    /// Nodes not heard for [`DEAD_AFTER`] are gone, with everyone only they had.
    pub fn expire(&mut self, now: Instant) -> Vec<Change> {
        let dead: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, node)| now.duration_since(node.heard_at) >= DEAD_AFTER)
            .map(|(name, _)| name.clone())
            .collect();
        let mut changes = Vec::new();
        for name in dead {
            tracing::warn!(node = %name, "a node stopped beating; taking it for dead");
            changes.extend(self.left(&name));
        }
        changes
    }

    fn node(&mut self, name: &str, now: Instant) -> &mut Node {
        let node = self.nodes.entry(name.to_owned()).or_insert_with(|| Node {
            heard_at: now,
            users: HashMap::new(),
        });
        node.heard_at = now;
        node
    }

    /// These users with their status now.
    fn statuses(&self, users: Vec<UserInfo>) -> Vec<(UserInfo, PresenceStatus)> {
        users
            .into_iter()
            .map(|user| {
                let status = self.status(&user.id);
                (user, status)
            })
            .collect()
    }

    /// The users among `before` (with their status before) whose status changed.
    fn compare(&self, before: Vec<(UserInfo, PresenceStatus)>) -> Vec<Change> {
        let mut seen = std::collections::HashSet::new();
        before
            .into_iter()
            .filter(|(user, _)| seen.insert(user.id.clone()))
            .filter_map(|(user, was)| {
                let now = self.status(&user.id);
                (now != was).then_some((user, now))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> UserInfo {
        UserInfo {
            id: UserId(name.into()),
            name: name.into(),
        }
    }

    fn names(changes: &[Change]) -> Vec<(&str, PresenceStatus)> {
        let mut names: Vec<_> = changes
            .iter()
            .map(|(user, status)| (user.name.as_str(), *status))
            .collect();
        names.sort_by_key(|(name, _)| name.to_string());
        names
    }

    #[test]
    fn a_user_on_two_nodes_is_offline_only_when_both_let_go() {
        use PresenceStatus::*;
        let mut elsewhere = Elsewhere::default();
        let now = Instant::now();
        let ann = user("ann");
        assert_eq!(
            names(&elsewhere.change("a", ann.clone(), Online, 1, now)),
            [("ann", Online)]
        );
        assert!(elsewhere.change("b", ann.clone(), Away, 1, now).is_empty());
        assert_eq!(
            names(&elsewhere.change("a", ann.clone(), Offline, 2, now)),
            [("ann", Away)]
        );
        assert_eq!(elsewhere.status(&ann.id), Away, "away where she still is");
        // A late report older than what was heard changes nothing.
        assert!(
            elsewhere
                .change("a", ann.clone(), Online, 1, now)
                .is_empty()
        );
        assert_eq!(
            names(&elsewhere.change("b", ann.clone(), Offline, 2, now)),
            [("ann", Offline)]
        );

        // Online on one node, away on another that stops: still online,
        // which is no news.
        elsewhere.change("a", ann.clone(), Online, 3, now);
        elsewhere.change("b", ann.clone(), Away, 3, now);
        assert!(elsewhere.left("b").is_empty());
        assert_eq!(elsewhere.status(&ann.id), Online);
    }

    #[test]
    fn heartbeats_correct_missed_changes_and_silent_nodes_die() {
        use PresenceStatus::*;
        let mut elsewhere = Elsewhere::default();
        let start = Instant::now();
        let (ann, ben, cat) = (user("ann"), user("ben"), user("cat"));
        elsewhere.change("a", ann.clone(), Online, 1, start);
        elsewhere.change("a", ben.clone(), Online, 2, start);
        // Ben's leaving was missed; the heartbeat lists Ann and Cat.
        let beat = elsewhere.heartbeat("a", 5, vec![(ann.clone(), Online)], false, start);
        assert!(beat.is_empty());
        let beat = elsewhere.heartbeat("a", 5, vec![(cat.clone(), Away)], true, start);
        assert_eq!(names(&beat), [("ben", Offline), ("cat", Away)]);
        // A change reported after the next list was made stands.
        elsewhere.change("a", cat.clone(), Online, 8, start);
        let beat = elsewhere.heartbeat("a", 7, vec![(cat.clone(), Away)], true, start);
        assert_eq!(names(&beat), [("ann", Offline)]);
        assert_eq!(elsewhere.status(&cat.id), Online);

        elsewhere.change("b", ann.clone(), Online, 1, start + Duration::from_secs(10));
        let changes = elsewhere.expire(start + DEAD_AFTER);
        assert_eq!(
            names(&changes),
            [("cat", Offline)],
            "node a died; b still has Ann"
        );
        assert_eq!(names(&elsewhere.left("b")), [("ann", Offline)]);
    }
}
