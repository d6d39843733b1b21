//! Between server nodes (never sent to browsers): the notices one node
//! publishes on the bus so the others tell their own connections. A notice
//! about messages is a wake-up that names sequence numbers only: the
//! database is the log, and a node reads the messages themselves from it.
//! Everything else a node publishes (someone joined, a topic, typing, a
//! sign-out) travels as the protocol message its connections get.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, Seq, UserId};
use crate::protocol::{PresenceStatus, ServerMsg, UserInfo};

/// Largest notice in bytes: PostgreSQL's `NOTIFY` takes under 8,000.
pub const MAX_NOTICE_BYTES: usize = 7_500;

/// One notice on the bus, from node `node`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub node: String,
    #[serde(flatten)]
    pub about: About,
}

/// What a notice is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum About {
    /// New messages were committed: per channel, the first and last
    /// sequence number of the batch (every number between was taken).
    Stored {
        channels: Vec<(ChannelId, Seq, Seq)>,
    },
    /// A message changed (edit, delete, reaction, preview): read it again.
    Changed { channel: ChannelId, seq: Seq },
    /// Every connection of `user` joins `channel`'s room, then gets `announce`.
    Subscribe {
        user: UserId,
        channel: ChannelId,
        announce: Option<ServerMsg>,
    },
    /// Every connection of `user` leaves `channel`'s room, then gets `announce`.
    Unsubscribe {
        user: UserId,
        channel: ChannelId,
        announce: ServerMsg,
    },
    /// Everyone in `channel`'s room, but `except_user`.
    ToRoom {
        channel: ChannelId,
        message: ServerMsg,
        except_user: Option<UserId>,
    },
    /// Every connection of `user`.
    ToUser { user: UserId, message: ServerMsg },
    /// `user` joined `channel`.
    MemberJoined { channel: ChannelId, user: UserInfo },
    /// Sessions of `user` end: one (`only`), or all but `keep` (if any).
    CloseSessions {
        user: UserId,
        only: Option<String>,
        keep: Option<String>,
    },
    /// How `user` is present through the sending node's connections now
    /// (the node's `version`-th report; a later one wins).
    Presence {
        user: UserInfo,
        status: PresenceStatus,
        version: u64,
    },
    /// The node is alive, and these are all the people connected to it, as
    /// of its `version`-th report; `last` ends the list (it may take several
    /// notices): anyone not listed is no longer there.
    Heartbeat {
        version: u64,
        users: Vec<(UserInfo, PresenceStatus)>,
        last: bool,
    },
    /// The node is stopping: nobody is connected to it any more.
    Left,
    /// The node could not send everything it should have (its bus was
    /// down or full): read what changed instead.
    Missed,
}

/// Who needs a notice: every node, the nodes with someone in a channel's
/// room, or the nodes `user` is connected to. A bus that routes (NATS)
/// sends each notice only where its scope is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every node: presence, heartbeats, comings and goings of nodes.
    Nodes,
    /// Every node, apart from presence traffic so that it never crowds
    /// these out: changes of membership and sign-outs.
    Control,
    Room(&'a ChannelId),
    User(&'a UserId),
}

impl About {
    /// Where this notice goes. Changes of membership and sign-outs go to
    /// every node (`Control`): the node a user is connected to must hear
    /// them even in the moment before it follows that user or room, and
    /// they are rare.
    /// A `Stored` about several channels is scoped by its first; split it
    /// per channel for a routing bus.
    pub fn scope(&self) -> Scope<'_> {
        match self {
            About::Stored { channels } => match channels.first() {
                Some((channel, _, _)) if channels.len() == 1 => Scope::Room(channel),
                _ => Scope::Nodes,
            },
            About::Changed { channel, .. }
            | About::ToRoom { channel, .. }
            | About::MemberJoined { channel, .. } => Scope::Room(channel),
            About::ToUser { user, .. } => Scope::User(user),
            About::Subscribe { .. } | About::Unsubscribe { .. } | About::CloseSessions { .. } => {
                Scope::Control
            }
            About::Presence { .. } | About::Heartbeat { .. } | About::Left | About::Missed => {
                Scope::Nodes
            }
        }
    }
}

impl Notice {
    /// The notice as the bus carries it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a notice always serializes")
    }

    /// Notices of committed messages from `node`, each under
    /// [`MAX_NOTICE_BYTES`] (a batch into many channels takes several).
    pub fn stored(node: &str, channels: &[(ChannelId, Seq, Seq)]) -> Vec<String> {
        chunked(
            node,
            channels,
            |(channel, _, _)| channel.0.len() + 48,
            |chunk, _| About::Stored { channels: chunk },
        )
    }

    /// A node's heartbeat with everyone connected to it, in as many
    /// notices as it takes (at least one).
    pub fn heartbeat(
        node: &str,
        version: u64,
        users: &[(UserInfo, PresenceStatus)],
    ) -> Vec<String> {
        if users.is_empty() {
            let about = About::Heartbeat {
                version,
                users: Vec::new(),
                last: true,
            };
            return vec![Self::from(node, about).to_json()];
        }
        chunked(
            node,
            users,
            // Names and ids may need escaping: counted at six bytes a byte.
            |(user, _)| (user.id.0.len() + user.name.len()) * 6 + 48,
            |users, last| About::Heartbeat {
                version,
                users,
                last,
            },
        )
    }

    fn from(node: &str, about: About) -> Self {
        Self {
            node: node.to_owned(),
            about,
        }
    }
}

/// `items` told in notices of at most [`MAX_NOTICE_BYTES`], given each
/// item's largest size and how a chunk (and whether it is the last) is told.
fn chunked<T: Clone>(
    node: &str,
    items: &[T],
    size: impl Fn(&T) -> usize,
    about: impl Fn(Vec<T>, bool) -> About,
) -> Vec<String> {
    let overhead = node.len() + 96;
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut chunk: Vec<T> = Vec::new();
    let mut used = overhead;
    for item in items {
        let bytes = size(item);
        if !chunk.is_empty() && used + bytes > MAX_NOTICE_BYTES {
            chunks.push(std::mem::take(&mut chunk));
            used = overhead;
        }
        used += bytes;
        chunk.push(item.clone());
    }
    if !chunk.is_empty() {
        chunks.push(chunk);
    }
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| Notice::from(node, about(chunk, i + 1 == count)).to_json())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_and_sign_outs_reach_every_node_and_room_traffic_only_its_rooms() {
        let (channel, user) = (ChannelId("c".into()), UserId("u".into()));
        let hello = ServerMsg::Typing {
            channel: channel.clone(),
            user: UserInfo {
                id: user.clone(),
                name: "U".into(),
            },
        };
        let one = About::Stored {
            channels: vec![(channel.clone(), 1, 2)],
        };
        let two = About::Stored {
            channels: vec![(channel.clone(), 1, 2), (ChannelId("d".into()), 3, 3)],
        };
        assert_eq!(one.scope(), Scope::Room(&channel));
        assert_eq!(two.scope(), Scope::Nodes);
        let to_room = About::ToRoom {
            channel: channel.clone(),
            message: hello.clone(),
            except_user: None,
        };
        assert_eq!(to_room.scope(), Scope::Room(&channel));
        let to_user = About::ToUser {
            user: user.clone(),
            message: hello.clone(),
        };
        assert_eq!(to_user.scope(), Scope::User(&user));
        for control in [
            About::Unsubscribe {
                user: user.clone(),
                channel: channel.clone(),
                announce: hello,
            },
            About::CloseSessions {
                user: user.clone(),
                only: None,
                keep: None,
            },
        ] {
            assert_eq!(control.scope(), Scope::Control, "{control:?}");
        }
        assert_eq!(About::Left.scope(), Scope::Nodes);
        assert_eq!(About::Missed.scope(), Scope::Nodes);
    }

    #[test]
    fn a_batch_into_many_channels_is_told_in_notices_that_fit() {
        let channels: Vec<(ChannelId, Seq, Seq)> = (0..1000)
            .map(|i| (ChannelId(format!("{i:032x}")), i64::MAX - 1, i64::MAX))
            .collect();
        let notices = Notice::stored("node-1", &channels);
        assert!(notices.len() > 1);
        let mut told = Vec::new();
        for json in &notices {
            assert!(json.len() <= MAX_NOTICE_BYTES, "{} bytes", json.len());
            let notice: Notice = serde_json::from_str(json).unwrap();
            assert_eq!(notice.node, "node-1");
            let About::Stored { channels } = notice.about else {
                panic!("a stored notice")
            };
            told.extend(channels);
        }
        assert_eq!(told, channels);
    }

    #[test]
    fn a_heartbeat_lists_everyone_in_notices_that_fit_and_marks_the_last() {
        let users: Vec<(UserInfo, PresenceStatus)> = (0..500)
            .map(|i| {
                let user = UserInfo {
                    id: UserId(format!("{i:032x}")),
                    name: format!("\u{1}\"{i}"),
                };
                (user, PresenceStatus::Away)
            })
            .collect();
        let notices = Notice::heartbeat("node-1", 7, &users);
        assert!(notices.len() > 1);
        let mut told = Vec::new();
        for (i, json) in notices.iter().enumerate() {
            assert!(json.len() <= MAX_NOTICE_BYTES, "{} bytes", json.len());
            let notice: Notice = serde_json::from_str(json).unwrap();
            let About::Heartbeat {
                version,
                users,
                last,
            } = notice.about
            else {
                panic!("a heartbeat")
            };
            assert_eq!((version, last), (7, i + 1 == notices.len()));
            told.extend(users);
        }
        assert_eq!(told, users);
        let empty = Notice::heartbeat("node-1", 8, &[]);
        assert_eq!(empty.len(), 1, "an empty node still beats");
    }
}
