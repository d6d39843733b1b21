//! Between server nodes (never sent to browsers): the notices one node
//! publishes on the bus so the others tell their own connections. A notice
//! about messages is a wake-up that names sequence numbers only: the
//! database is the log, and a node reads the messages themselves from it.
//! Everything else a node publishes (someone joined, a topic, typing, a
//! sign-out) travels as the protocol message its connections get.

use serde::{Deserialize, Serialize};

use crate::ids::{ChannelId, Seq, UserId};
use crate::protocol::{ServerMsg, UserInfo};

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
}

impl Notice {
    /// The notice as the bus carries it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a notice always serializes")
    }

    /// Notices of committed messages from `node`, each under
    /// [`MAX_NOTICE_BYTES`] (a batch into many channels takes several).
    pub fn stored(node: &str, channels: &[(ChannelId, Seq, Seq)]) -> Vec<String> {
        let mut notices = Vec::new();
        let mut chunk: Vec<(ChannelId, Seq, Seq)> = Vec::new();
        let mut size = node.len() + 64;
        for entry in channels {
            let entry_size = entry.0.0.len() + 48;
            if !chunk.is_empty() && size + entry_size > MAX_NOTICE_BYTES {
                notices.push(Self::stored_notice(node, std::mem::take(&mut chunk)));
                size = node.len() + 64;
            }
            size += entry_size;
            chunk.push(entry.clone());
        }
        if !chunk.is_empty() {
            notices.push(Self::stored_notice(node, chunk));
        }
        notices
    }

    fn stored_notice(node: &str, channels: Vec<(ChannelId, Seq, Seq)>) -> String {
        Self {
            node: node.to_owned(),
            about: About::Stored { channels },
        }
        .to_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
