//! Channels, memberships and read state: what every dialect of the store
//! does the same way, and the decisions they share (how an unknown kind is
//! read, how a user's channel list is put together, the keys that make a
//! private channel's name its own and a direct conversation findable).

use std::collections::HashMap;

use shared::protocol::{ChannelInfo, ChannelKind, ChannelSummary, NotifyLevel};
use shared::validate::{ChannelName, Topic};
use shared::{ChangeNo, ChannelId, Seq, UserId, UserInfo};

use super::StoreError;

/// The channels aggregate. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait Channels {
    /// The id of the default channel (everyone joins it on sign-up).
    fn default_channel(&self) -> Option<&ChannelId>;

    /// The channels a user is a member of (but hidden direct
    /// conversations), with read state.
    async fn channels_of(&self, user: &UserInfo) -> Result<Vec<ChannelInfo>, StoreError>;

    /// One channel as `user` sees it, if they are a member (hidden or not).
    async fn channel_for(
        &self,
        user: &UserInfo,
        channel: &ChannelId,
    ) -> Result<Option<ChannelInfo>, StoreError>;

    /// The name people see of a channel (not of a direct conversation).
    async fn channel_name(&self, channel: &ChannelId) -> Result<Option<String>, StoreError>;

    /// Whether `user` is in a channel (public or private, hidden or not)
    /// whose name is `name`.
    async fn in_channel_named(&self, user: &UserId, name: &str) -> Result<bool, StoreError>;

    /// Whether `user` is a member of `channel`.
    async fn is_member(&self, user: &UserId, channel: &ChannelId) -> Result<bool, StoreError>;

    /// A channel's kind and creator, if it exists.
    async fn channel_kind(
        &self,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError>;

    /// The kind and creator of a channel `user` is a member of; `None` when
    /// they are not (or it does not exist). One query for both checks.
    async fn membership(
        &self,
        user: &UserId,
        channel: &ChannelId,
    ) -> Result<Option<(ChannelKind, Option<UserId>)>, StoreError>;

    /// Creates a public or private channel with its creator as first member.
    /// Public names are unique among public channels. A private channel
    /// takes no name from anyone else (its `name` column is an internal key,
    /// [`private_key`], its name is `display_name`), so creating one reveals
    /// nothing about other private channels and cannot squat a name. Either
    /// way the creator may not already be in a channel of that name.
    async fn create_channel(
        &self,
        creator: &UserId,
        name: &ChannelName,
        topic: &Topic,
        kind: ChannelKind,
    ) -> Result<ChannelId, StoreError>;

    /// Public channels whose name or topic contains `query`, with member
    /// counts, the biggest first (at most [`BROWSE_LIMIT`]).
    async fn browse_channels(
        &self,
        user: &UserId,
        query: &str,
    ) -> Result<Vec<ChannelSummary>, StoreError>;

    /// Adds a member; `false` if they already were one.
    async fn add_member(&self, channel: &ChannelId, user: &UserId) -> Result<bool, StoreError>;

    /// Removes a member; `false` if they were not one.
    async fn remove_member(&self, channel: &ChannelId, user: &UserId) -> Result<bool, StoreError>;

    /// Sets a channel's topic.
    async fn set_topic(&self, channel: &ChannelId, topic: &Topic) -> Result<(), StoreError>;

    /// The members of a channel, by name.
    async fn members(&self, channel: &ChannelId) -> Result<Vec<UserInfo>, StoreError>;

    /// The direct conversation between exactly these users, created if new.
    /// An existing one gets back anyone who had left it, and is shown again
    /// to whoever had hidden it. Returns its id and whether it was created now.
    async fn open_direct(&self, users: &[UserId]) -> Result<(ChannelId, bool), StoreError>;

    /// Hides a direct conversation from `user`'s list until its next message.
    async fn hide_direct(&self, user: &UserId, channel: &ChannelId) -> Result<(), StoreError>;

    /// Records that `user` has read `channel` up to `seq` (never backwards,
    /// never past the channel's last message).
    async fn mark_read(
        &self,
        user: &UserId,
        channel: &ChannelId,
        seq: Seq,
    ) -> Result<(), StoreError>;

    /// How `channel` notifies `user`; false if they are not a member.
    async fn set_notify(
        &self,
        user: &UserId,
        channel: &ChannelId,
        level: NotifyLevel,
    ) -> Result<bool, StoreError>;
}

/// Public channels listed by one browse at most.
pub const BROWSE_LIMIT: i64 = 200;

/// The kind stored for a channel; an unknown kind is treated as private
/// (members only, never joinable, never listed).
pub(crate) fn stored_kind(raw: &str) -> ChannelKind {
    ChannelKind::parse(raw).unwrap_or_else(|| {
        tracing::error!(
            kind = raw,
            "a channel has an unknown kind; treating it as private"
        );
        ChannelKind::Private
    })
}

/// A channel's kind and creator as stored.
pub(crate) fn kind_and_creator(
    (kind, creator): (String, Option<String>),
) -> (ChannelKind, Option<UserId>) {
    (stored_kind(&kind), creator.map(UserId))
}

/// The `name` key of a private channel (its name people see is apart, in
/// `display_name`), and the display name to store.
pub(crate) fn channel_keys<'a>(
    id: &ChannelId,
    name: &'a ChannelName,
    kind: ChannelKind,
) -> (String, Option<&'a str>) {
    match kind {
        ChannelKind::Public => (name.as_str().to_owned(), None),
        _ => (private_key(id), Some(name.as_str())),
    }
}

/// The internal `name` of a private channel.
pub fn private_key(id: &ChannelId) -> String {
    format!("private:{}", id.0)
}

/// The participants of a direct conversation, sorted and without repeats,
/// and the key its row is found by (the same group always finds the same
/// row).
pub(crate) fn direct_key(users: &[UserId]) -> (Vec<&str>, String) {
    let mut ids: Vec<&str> = users.iter().map(|u| u.0.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let key = format!("dm:{}", ids.join(","));
    (ids, key)
}

/// The `LIKE` pattern of a browse.
pub(crate) fn browse_pattern(query: &str) -> String {
    format!("%{}%", query.trim().to_lowercase())
}

/// A channel of a user's list as both dialects read it: id, name, topic,
/// kind, creator, last seq, last change, last read seq, member count,
/// unread mentions, unread replies shown only in threads, notification
/// setting, slow mode, archived.
pub(crate) type ChannelRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    i64,
    bool,
);

/// Whether a user's list has a direct conversation (whose partners must
/// then be read).
pub(crate) fn any_direct(rows: &[ChannelRow]) -> bool {
    rows.iter()
        .any(|row| stored_kind(&row.3) == ChannelKind::Direct)
}

/// A user's channels from their rows and the other people of each direct
/// conversation (named after them; after the user alone when nobody else
/// is left).
pub(crate) fn channel_infos(
    rows: Vec<ChannelRow>,
    mut partners: HashMap<ChannelId, Vec<UserInfo>>,
    user: &UserInfo,
) -> Vec<ChannelInfo> {
    rows.into_iter()
        .map(|row| {
            let (
                id,
                name,
                topic,
                kind,
                creator,
                last_seq,
                last_change,
                last_read,
                members,
                mentions,
                hidden,
                notify,
                slow_mode,
                archived,
            ) = row;
            let id = ChannelId(id);
            let kind = stored_kind(&kind);
            let mut info = ChannelInfo {
                name,
                topic,
                kind,
                direct_with: Vec::new(),
                created_by: creator.map(UserId),
                member_count: members as u32,
                last_seq,
                last_read_seq: last_read,
                unread_mentions: mentions as u32,
                unread_hidden: u32::try_from(hidden).unwrap_or(u32::MAX),
                last_change: ChangeNo(last_change),
                notify: notify.as_deref().and_then(NotifyLevel::parse),
                slow_mode_seconds: u32::try_from(slow_mode).unwrap_or(0),
                archived,
                id,
            };
            if kind == ChannelKind::Direct {
                info.direct_with = partners.remove(&info.id).unwrap_or_default();
                let names: Vec<&str> = info.direct_with.iter().map(|u| u.name.as_str()).collect();
                info.name = if names.is_empty() {
                    user.name.clone()
                } else {
                    names.join(", ")
                };
            }
            info
        })
        .collect()
}

/// The partners of direct conversations from rows `(channel id, user id,
/// user name)` in order.
pub(crate) fn partners_by_channel(
    rows: Vec<(String, String, String)>,
) -> HashMap<ChannelId, Vec<UserInfo>> {
    let mut partners: HashMap<ChannelId, Vec<UserInfo>> = HashMap::new();
    for (channel, id, name) in rows {
        partners
            .entry(ChannelId(channel))
            .or_default()
            .push(UserInfo {
                id: UserId(id),
                name,
            });
    }
    partners
}

/// Public channels found by a browse, from rows `(id, name, topic, member
/// count, joined)`.
pub(crate) fn summaries(rows: Vec<(String, String, String, i64, bool)>) -> Vec<ChannelSummary> {
    rows.into_iter()
        .map(|(id, name, topic, members, joined)| ChannelSummary {
            id: ChannelId(id),
            name,
            topic,
            member_count: members as u32,
            joined,
        })
        .collect()
}

/// People from rows `(id, name)`.
pub(crate) fn people(rows: Vec<(String, String)>) -> Vec<UserInfo> {
    rows.into_iter()
        .map(|(id, name)| UserInfo {
            id: UserId(id),
            name,
        })
        .collect()
}
