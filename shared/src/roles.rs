//! Who may run the community: the roles, the one set of rules about who may
//! do what to whom (the server enforces them at the moment of each action,
//! from the database; the client only uses them to hide what a role cannot
//! do), and the shapes the admin panel and the audit log travel in.

use serde::{Deserialize, Serialize};

use crate::{ChannelId, Seq, UserInfo};

/// A person's role on this server, from the most to the least trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The first account, and whoever an owner promotes: manages admins.
    Owner,
    /// Manages moderators, members and the server's settings.
    Admin,
    /// Removes messages, mutes, deactivates, removes from public channels.
    Moderator,
    #[default]
    Member,
}

impl Role {
    /// Every role, most trusted first (the order of the role select).
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Moderator, Role::Member];

    fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Admin => 2,
            Self::Moderator => 1,
            Self::Member => 0,
        }
    }

    /// The role as stored and sent (`"moderator"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Moderator => "moderator",
            Self::Member => "member",
        }
    }

    /// The role a stored name stands for; an unknown one is a member.
    pub fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .unwrap_or_default()
    }

    /// The role's name as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Moderator => "Moderator",
            Self::Member => "Member",
        }
    }

    /// Moderators and above: remove messages, mute, deactivate, remove
    /// people from public channels, see the admin panel.
    pub fn moderates(self) -> bool {
        self.rank() >= Self::Moderator.rank()
    }

    /// Admins and above: the audit log and the server's settings.
    pub fn administers(self) -> bool {
        self.rank() >= Self::Admin.rank()
    }

    /// Whether someone of this role may mute, deactivate or remove from a
    /// channel someone of role `target`: moderators and above, over people
    /// of a lower role only.
    pub fn may_moderate(self, target: Role) -> bool {
        self.moderates() && self.rank() > target.rank()
    }

    /// Whether someone of this role may change the role of someone who is
    /// `current` to `new` (never their own: that is checked by who, not by
    /// role). Owners change anyone's role to any role; admins change
    /// members' and moderators' between member and moderator; no one else
    /// changes roles.
    pub fn may_assign(self, current: Role, new: Role) -> bool {
        match self {
            Self::Owner => true,
            Self::Admin => current.rank() < Self::Admin.rank() && new.rank() < Self::Admin.rank(),
            Self::Moderator | Self::Member => false,
        }
    }
}

/// A person as the admin panel lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub user: UserInfo,
    pub role: Role,
    /// Muted until then (ms since the epoch), if muted now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted_until: Option<i64>,
    /// Deactivated: cannot sign in; their messages stay.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deactivated: bool,
}

/// What a moderator or admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    SetRole,
    Mute,
    Unmute,
    Deactivate,
    Reactivate,
    RemoveMessage,
    RemoveMember,
    ChangeSettings,
    CreateInvite,
    DismissReport,
    SetSlowMode,
    ArchiveChannel,
    RestoreChannel,
    RenameChannel,
}

impl AuditAction {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetRole => "set_role",
            Self::Mute => "mute",
            Self::Unmute => "unmute",
            Self::Deactivate => "deactivate",
            Self::Reactivate => "reactivate",
            Self::RemoveMessage => "remove_message",
            Self::RemoveMember => "remove_member",
            Self::ChangeSettings => "change_settings",
            Self::CreateInvite => "create_invite",
            Self::DismissReport => "dismiss_report",
            Self::SetSlowMode => "set_slow_mode",
            Self::ArchiveChannel => "archive_channel",
            Self::RestoreChannel => "restore_channel",
            Self::RenameChannel => "rename_channel",
        }
    }

    /// The action a stored name stands for.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::SetRole,
            Self::Mute,
            Self::Unmute,
            Self::Deactivate,
            Self::Reactivate,
            Self::RemoveMessage,
            Self::RemoveMember,
            Self::ChangeSettings,
            Self::CreateInvite,
            Self::DismissReport,
            Self::SetSlowMode,
            Self::ArchiveChannel,
            Self::RestoreChannel,
            Self::RenameChannel,
        ]
        .into_iter()
        .find(|action| action.as_str() == name)
    }

    /// What was done, as a verb phrase people read ("muted").
    pub fn describe(self) -> &'static str {
        match self {
            Self::SetRole => "changed the role of",
            Self::Mute => "muted",
            Self::Unmute => "unmuted",
            Self::Deactivate => "deactivated",
            Self::Reactivate => "reactivated",
            Self::RemoveMessage => "removed a message by",
            Self::RemoveMember => "removed from a channel",
            Self::ChangeSettings => "changed the server's settings",
            Self::CreateInvite => "created an invite link",
            Self::DismissReport => "dismissed a report on a message by",
            Self::SetSlowMode => "set slow mode",
            Self::ArchiveChannel => "archived a channel",
            Self::RestoreChannel => "restored a channel",
            Self::RenameChannel => "renamed a channel",
        }
    }
}

/// One line of the audit log: who did what to whom, when. Never edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub actor: UserInfo,
    pub action: AuditAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<UserInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<Seq>,
    /// The new role, the mute's length, the channel's name…
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// A message someone reported to the moderators, with the message as it
/// was when reported (moderators may not be in its conversation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub id: String,
    pub channel: ChannelId,
    /// `#name`, or "a direct conversation".
    pub channel_name: String,
    pub seq: Seq,
    pub author: UserInfo,
    pub text: String,
    pub reporter: UserInfo,
    pub reason: String,
    /// Milliseconds since the epoch.
    pub at: i64,
}

#[cfg(test)]
mod tests {
    use super::Role::{self, *};

    #[test]
    fn only_moderators_and_above_moderate_and_only_people_below_them() {
        for actor in Role::ALL {
            for target in Role::ALL {
                let expected = match actor {
                    Owner => target != Owner,
                    Admin => matches!(target, Moderator | Member),
                    Moderator => target == Member,
                    Member => false,
                };
                assert_eq!(
                    actor.may_moderate(target),
                    expected,
                    "{actor:?} on {target:?}"
                );
            }
        }
    }

    #[test]
    fn owners_assign_any_role_admins_only_below_admin() {
        for current in Role::ALL {
            for new in Role::ALL {
                assert!(Owner.may_assign(current, new));
                let below = |role| matches!(role, Moderator | Member);
                assert_eq!(Admin.may_assign(current, new), below(current) && below(new));
                assert!(!Moderator.may_assign(current, new));
                assert!(!Member.may_assign(current, new));
            }
        }
    }

    #[test]
    fn stored_names_read_back_and_unknown_ones_are_members() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), role);
        }
        assert_eq!(Role::parse("root"), Member);
    }
}
