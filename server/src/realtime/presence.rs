//! Who is online, as the hub keeps it, and who hears about whom, so that a
//! room of 10,000 costs no O(N²) frames when people connect: up to
//! [`ONLINE_PAGE`] online, every connection sees everyone come and go one by
//! one; beyond that, a connection is told about the people it was shown (its
//! `welcome` list, its conversations, the pages it asked for) and about the
//! rest through a coalesced summary at most once per tick.
//!
//! Pure bookkeeping: no queues, no frames; the hub decides what to send.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use shared::protocol::{ONLINE_PAGE, PresenceStatus, UserPresence};
use shared::{ServerMsg, UserId, UserInfo};

use super::fanout::{ConnId, OnlinePage};

/// At most this many people watched per connection (pages beyond it are
/// still answered, without live updates).
const WATCH_MAX: usize = 1_000;

/// Names given in full in a coalesced notice; the rest are counted.
const NAMED: usize = 3;

/// An online user and their open connections.
struct OnlineUser {
    info: UserInfo,
    connections: HashSet<ConnId>,
    active_at: u64,
}

/// Some names and how many more: "Alice, Bob and 37 others".
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Coalesced {
    pub named: Vec<UserInfo>,
    pub others: u32,
}

impl Coalesced {
    pub fn add(&mut self, user: UserInfo) {
        if self.named.len() < NAMED {
            self.named.push(user);
        } else {
            self.others += 1;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.named.is_empty()
    }
}

/// What a new connection is told, and whether it is its user's first.
pub struct Connected {
    pub first: bool,
    pub online: Vec<UserInfo>,
    pub away: Vec<UserId>,
    pub online_count: u32,
}

/// Who hears one person's coming, going or away status.
pub struct Audience {
    /// See everyone: told one by one (`user_joined`, `user_left`).
    pub see_all: Vec<ConnId>,
    /// Were shown this person: told through `presence`.
    pub watchers: Vec<ConnId>,
}

/// A user, as a small number (see [`Interner`]).
type Key = u32;

/// Numbers for user ids, handed out on first sight and kept (one per
/// account ever seen by this process).
#[derive(Default)]
struct Interner {
    keys: HashMap<UserId, Key>,
}

impl Interner {
    fn key(&mut self, user: &UserId) -> Key {
        let next = self.keys.len() as Key;
        *self.keys.entry(user.clone()).or_insert(next)
    }

    fn get(&self, user: &UserId) -> Option<Key> {
        self.keys.get(user).copied()
    }
}

#[derive(Default)]
pub struct Presence {
    users: HashMap<UserId, OnlineUser>,
    by_name: BTreeMap<String, UserId>,
    by_activity: BTreeSet<(u64, UserId)>,
    clock: u64,
    away: HashSet<UserId>,
    see_all: HashSet<ConnId>,
    /// Who each connection watches, and the reverse; users by [`Key`] (a
    /// connection watches up to a thousand people: ids would cost kilobytes).
    watching: HashMap<ConnId, HashSet<Key>>,
    watchers: HashMap<Key, HashSet<ConnId>>,
    keys: Interner,
    joined: Coalesced,
    left: Coalesced,
}

impl Presence {
    pub fn count(&self) -> u32 {
        self.users.len() as u32
    }

    pub fn is_online(&self, user: &UserId) -> bool {
        self.users.contains_key(user)
    }

    pub fn connections_of(&self, user: &UserId) -> impl Iterator<Item = ConnId> + '_ {
        self.users
            .get(user)
            .into_iter()
            .flat_map(|u| u.connections.iter().copied())
    }

    pub fn sees_all(&self, conn: ConnId) -> bool {
        self.see_all.contains(&conn)
    }

    /// Everyone online, sorted by name.
    pub fn everyone(&self) -> Vec<UserInfo> {
        self.by_name
            .values()
            .filter_map(|id| self.users.get(id))
            .map(|u| u.info.clone())
            .collect()
    }

    pub fn status(&self, user: &UserId) -> PresenceStatus {
        if !self.users.contains_key(user) {
            PresenceStatus::Offline
        } else if self.away.contains(user) {
            PresenceStatus::Away
        } else {
            PresenceStatus::Online
        }
    }

    /// Everyone online and whether they are away.
    pub fn statuses(&self) -> HashMap<UserId, PresenceStatus> {
        self.users
            .keys()
            .map(|user| (user.clone(), self.status(user)))
            .collect()
    }

    /// Counts `user` online through other server nodes, under the stand-in
    /// connection `conn` (nobody's queue: it watches no one and is sent
    /// nothing); `true` when that makes them online here.
    pub fn connect_elsewhere(&mut self, conn: ConnId, user: &UserInfo) -> bool {
        self.add_connection(conn, user)
    }

    /// Adds `conn` to `user`'s connections; `true` when it is their first.
    fn add_connection(&mut self, conn: ConnId, user: &UserInfo) -> bool {
        self.clock += 1;
        let clock = self.clock;
        let first = !self.users.contains_key(&user.id);
        let entry = self
            .users
            .entry(user.id.clone())
            .or_insert_with(|| OnlineUser {
                info: user.clone(),
                connections: HashSet::new(),
                active_at: clock,
            });
        entry.connections.insert(conn);
        let previous = std::mem::replace(&mut entry.active_at, clock);
        self.by_activity.remove(&(previous, user.id.clone()));
        self.by_activity.insert((clock, user.id.clone()));
        if first {
            self.by_name
                .insert(user.name.to_lowercase(), user.id.clone());
            self.left.named.retain(|u| u.id != user.id);
            if self.someone_needs_summaries() {
                self.joined.add(user.clone());
            }
        }
        first
    }

    /// Registers a connection of `user`, who has conversations with `contacts`.
    pub fn connect(&mut self, conn: ConnId, user: &UserInfo, contacts: &[UserId]) -> Connected {
        let first = self.add_connection(conn, user);
        let online = if self.users.len() <= ONLINE_PAGE {
            self.see_all.insert(conn);
            self.everyone()
        } else {
            // Too many for everyone to see everyone: those who did see
            // everyone keep watching whom they know and get summaries.
            let saw_all = std::mem::take(&mut self.see_all);
            if !saw_all.is_empty() {
                let everyone: Vec<UserId> = self.users.keys().cloned().collect();
                for conn in saw_all {
                    self.watch(conn, everyone.iter().cloned());
                }
            }
            let mut shown: Vec<UserId> = contacts
                .iter()
                .filter(|id| self.users.contains_key(*id))
                .take(ONLINE_PAGE / 2)
                .cloned()
                .collect();
            let mut seen: HashSet<UserId> = shown.iter().cloned().collect();
            for (_, id) in self.by_activity.iter().rev() {
                if shown.len() >= ONLINE_PAGE {
                    break;
                }
                if seen.insert(id.clone()) {
                    shown.push(id.clone());
                }
            }
            let mut online: Vec<UserInfo> = shown
                .iter()
                .filter_map(|id| self.users.get(id))
                .map(|u| u.info.clone())
                .collect();
            online.sort_by_cached_key(|u| u.name.to_lowercase());
            online
        };
        let mut watched: Vec<UserId> = online.iter().map(|u| u.id.clone()).collect();
        watched.extend(contacts.iter().cloned());
        self.watch(conn, watched);
        let away = online
            .iter()
            .filter(|u| self.away.contains(&u.id))
            .map(|u| u.id.clone())
            .collect();
        Connected {
            first,
            online,
            away,
            online_count: self.count(),
        }
    }

    /// Forgets a connection; `true` when it was its user's last.
    pub fn disconnect(&mut self, conn: ConnId, user: &UserId) -> bool {
        self.see_all.remove(&conn);
        for watched in self.watching.remove(&conn).unwrap_or_default() {
            if let Some(watchers) = self.watchers.get_mut(&watched) {
                watchers.remove(&conn);
                if watchers.is_empty() {
                    self.watchers.remove(&watched);
                }
            }
        }
        let Some(entry) = self.users.get_mut(user) else {
            return false;
        };
        entry.connections.remove(&conn);
        if !entry.connections.is_empty() {
            return false;
        }
        let entry = self.users.remove(user).expect("present above");
        self.by_name.remove(&entry.info.name.to_lowercase());
        self.by_activity.remove(&(entry.active_at, user.clone()));
        self.away.remove(user);
        self.joined.named.retain(|u| &u.id != user);
        if self.someone_needs_summaries() {
            self.left.add(entry.info);
        }
        true
    }

    /// Marks `user` as just active (they posted), for `welcome`'s choice.
    pub fn touch(&mut self, user: &UserId) {
        if let Some(entry) = self.users.get_mut(user) {
            self.clock += 1;
            self.by_activity.remove(&(entry.active_at, user.clone()));
            entry.active_at = self.clock;
            self.by_activity.insert((self.clock, user.clone()));
        }
    }

    /// Records whether every connection of `user` is away; `true` if that changed.
    pub fn set_away(&mut self, user: &UserId, away: bool) -> bool {
        if away {
            self.away.insert(user.clone())
        } else {
            self.away.remove(user)
        }
    }

    /// Who hears about `user` (never `user`'s own connections).
    pub fn audience(&self, user: &UserId) -> Audience {
        let none = HashSet::new();
        let own = self.users.get(user).map_or(&none, |u| &u.connections);
        let see_all = self
            .see_all
            .iter()
            .copied()
            .filter(|c| !own.contains(c))
            .collect();
        let watchers = self
            .keys
            .get(user)
            .and_then(|key| self.watchers.get(&key))
            .into_iter()
            .flatten()
            .copied()
            .filter(|c| !own.contains(c) && !self.see_all.contains(c))
            .collect();
        Audience { see_all, watchers }
    }

    /// A page of who is online whose name contains `query`, after the name
    /// `after`; the people on it are watched by `conn` from now on.
    pub fn page(&mut self, conn: ConnId, query: &str, after: Option<&str>) -> OnlinePage {
        use std::ops::Bound::{Excluded, Unbounded};
        let query = query.trim().to_lowercase();
        let start = match after {
            Some(after) => Excluded(after.to_lowercase()),
            None => Unbounded,
        };
        let mut found: Vec<(&String, &UserId)> = self
            .by_name
            .range((start, Unbounded))
            .filter(|(name, _)| name.contains(&query))
            .take(ONLINE_PAGE + 1)
            .collect();
        let next = (found.len() > ONLINE_PAGE).then(|| {
            found.truncate(ONLINE_PAGE);
            found
                .last()
                .map(|(name, _)| (*name).clone())
                .unwrap_or_default()
        });
        let users: Vec<UserPresence> = found
            .iter()
            .filter_map(|(_, id)| self.users.get(*id))
            .map(|u| UserPresence {
                user: u.info.clone(),
                status: self.status(&u.info.id),
            })
            .collect();
        let shown: Vec<UserId> = users.iter().map(|u| u.user.id.clone()).collect();
        self.watch(conn, shown);
        OnlinePage {
            users,
            next,
            online_count: self.count(),
        }
    }

    /// The summary of comings and goings since the last one, if any.
    pub fn take_summary(&mut self) -> Option<ServerMsg> {
        if self.joined.is_empty() && self.left.is_empty() {
            return None;
        }
        let joined = std::mem::take(&mut self.joined);
        let left = std::mem::take(&mut self.left);
        Some(ServerMsg::PresenceSummary {
            online_count: self.count(),
            joined: joined.named,
            joined_others: joined.others,
            left: left.named,
            left_others: left.others,
        })
    }

    /// Whether some connection does not see everyone (every connection
    /// has a watch list, possibly empty).
    fn someone_needs_summaries(&self) -> bool {
        self.watching.len() > self.see_all.len()
    }

    fn watch(&mut self, conn: ConnId, users: impl IntoIterator<Item = UserId>) {
        let watching = self.watching.entry(conn).or_default();
        for user in users {
            if watching.len() >= WATCH_MAX {
                break;
            }
            let key = self.keys.key(&user);
            if watching.insert(key) {
                self.watchers.entry(key).or_default().insert(conn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: usize) -> UserInfo {
        UserInfo {
            id: UserId(format!("id-{n}")),
            name: format!("user{n:05}"),
        }
    }

    #[test]
    fn up_to_a_page_everyone_sees_everyone() {
        let mut presence = Presence::default();
        for n in 0..ONLINE_PAGE {
            let connected = presence.connect(n as ConnId, &user(n), &[]);
            assert!(connected.first);
            assert_eq!(connected.online.len(), n + 1);
        }
        let audience = presence.audience(&user(0).id);
        assert_eq!(audience.see_all.len(), ONLINE_PAGE - 1);
        assert!(audience.watchers.is_empty());
        assert_eq!(presence.take_summary(), None, "nobody needs a summary");
    }

    #[test]
    fn beyond_a_page_welcome_is_bounded_and_the_rest_is_summarised() {
        let mut presence = Presence::default();
        let total = 5 * ONLINE_PAGE;
        for n in 0..total {
            presence.connect(n as ConnId, &user(n), &[]);
        }
        // The newcomer is told about its contact and the most recently active.
        let me = user(total);
        let connected = presence.connect(total as ConnId, &me, &[user(3).id]);
        assert_eq!(connected.online.len(), ONLINE_PAGE);
        assert_eq!(connected.online_count as usize, total + 1);
        assert!(connected.online.contains(&user(3)));
        assert!(connected.online.contains(&user(total - 1)));
        assert!(!connected.online.contains(&user(200)));
        // A contact's going is news for this connection; a stranger's is not.
        assert!(
            presence
                .audience(&user(3).id)
                .watchers
                .contains(&(total as ConnId))
        );
        assert!(
            !presence
                .audience(&user(200).id)
                .watchers
                .contains(&(total as ConnId))
        );
        assert!(presence.audience(&user(200).id).see_all.is_empty());
        // Comings and goings are coalesced: three names and a count.
        let _ = presence.take_summary();
        for n in 0..10 {
            presence.disconnect(n as ConnId, &user(n).id);
        }
        let Some(ServerMsg::PresenceSummary {
            online_count,
            left,
            left_others,
            joined,
            ..
        }) = presence.take_summary()
        else {
            panic!("a summary");
        };
        assert_eq!(online_count as usize, total + 1 - 10);
        assert_eq!(left.len(), NAMED);
        assert_eq!(left_others as usize, 10 - NAMED);
        assert!(joined.is_empty());
        assert_eq!(presence.take_summary(), None);
    }

    #[test]
    fn pages_go_by_name_filter_by_query_and_are_watched() {
        let mut presence = Presence::default();
        let total = 2 * ONLINE_PAGE + 10;
        for n in 0..total {
            presence.connect(n as ConnId, &user(n), &[]);
        }
        let viewer = 10_000;
        presence.connect(viewer, &user(99_999), &[]);
        let first = presence.page(viewer, "", None);
        assert_eq!(first.users.len(), ONLINE_PAGE);
        assert_eq!(first.users[0].user, user(0));
        let second = presence.page(viewer, "", first.next.as_deref());
        assert_eq!(second.users[0].user, user(ONLINE_PAGE));
        let third = presence.page(viewer, "", second.next.as_deref());
        assert_eq!(third.next, None);
        assert_eq!(third.users.len(), total + 1 - 2 * ONLINE_PAGE);
        let found = presence.page(viewer, "USER0015", None);
        let names: Vec<&str> = found.users.iter().map(|u| u.user.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "user00150",
                "user00151",
                "user00152",
                "user00153",
                "user00154",
                "user00155",
                "user00156",
                "user00157",
                "user00158",
                "user00159"
            ]
        );
        assert!(presence.audience(&user(150).id).watchers.contains(&viewer));
    }

    #[test]
    fn a_second_tab_is_not_news_and_the_last_one_closing_is() {
        let mut presence = Presence::default();
        assert!(presence.connect(1, &user(1), &[]).first);
        assert!(!presence.connect(2, &user(1), &[]).first);
        assert!(!presence.disconnect(1, &user(1).id));
        assert!(presence.is_online(&user(1).id));
        assert!(presence.disconnect(2, &user(1).id));
        assert!(!presence.is_online(&user(1).id));
        assert_eq!(presence.count(), 0);
    }
}
