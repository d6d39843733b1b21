//! Who may join and the server-wide settings admins change from the
//! browser: the sign-up mode, whether members may invite, and invite
//! links (a code shown once, stored hashed, with an expiry and a number
//! of uses).

use serde::{Deserialize, Serialize};

use crate::UserInfo;

/// Who may create an account by picking a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupMode {
    /// Anyone (a fresh install's default).
    #[default]
    Open,
    /// Only someone with a valid invite link.
    Invite,
    /// Nobody; existing accounts still sign in.
    Closed,
}

impl SignupMode {
    pub const ALL: [SignupMode; 3] = [SignupMode::Open, SignupMode::Invite, SignupMode::Closed];

    /// As stored and in the select's values (`"invite"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }

    /// The mode a stored name stands for; an unknown one is open.
    pub fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|mode| mode.as_str() == name)
            .unwrap_or_default()
    }

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open: anyone can pick a name",
            Self::Invite => "Invite only: a valid invite link is needed",
            Self::Closed => "Closed: no new accounts",
        }
    }
}

/// The settings of the whole server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServerSettings {
    pub signup_mode: SignupMode,
    /// Members (not only admins) may create invite links.
    #[serde(default)]
    pub members_invite: bool,
    /// Only admins (and owners) create channels.
    #[serde(default)]
    pub admins_create_channels: bool,
}

/// An invite link as listed (its code is shown only once, when created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// An id to tell invites apart (not the code).
    pub id: String,
    pub created_by: UserInfo,
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub expires_at: i64,
    pub max_uses: u32,
    pub uses: u32,
}

/// The address an invite code opens (`/invite/<code>`).
pub fn invite_path(code: &str) -> String {
    format!("{INVITE_PREFIX}{code}")
}

/// The invite code in an address, if it is an invite's.
pub fn invite_code(path: &str) -> Option<&str> {
    let code = path.strip_prefix(INVITE_PREFIX)?.trim_end_matches('/');
    (!code.is_empty() && code.len() <= 64 && code.chars().all(|c| c.is_ascii_alphanumeric()))
        .then_some(code)
}

const INVITE_PREFIX: &str = "/invite/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_addresses_round_trip_and_nothing_else_is_one() {
        assert_eq!(invite_code(&invite_path("abc123")), Some("abc123"));
        assert_eq!(invite_code("/invite/abc123/"), Some("abc123"));
        assert_eq!(invite_code("/invite/"), None);
        assert_eq!(invite_code("/invite/a-b"), None);
        assert_eq!(invite_code("/c/general"), None);
    }

    #[test]
    fn modes_read_back_and_unknown_ones_are_open() {
        for mode in SignupMode::ALL {
            assert_eq!(SignupMode::parse(mode.as_str()), mode);
        }
        assert_eq!(SignupMode::parse("?"), SignupMode::Open);
    }
}
