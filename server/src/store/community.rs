//! Who may join: the server's settings (kept as rows, so every node reads
//! the same) and invite links (the code's hash, an expiry and a count of
//! uses). A sign-up spends one use before its account is created and gives
//! it back when the account could not be; changes are audited in the same
//! transaction.

use shared::community::{Invite, ServerSettings, SignupMode};
use shared::{UserId, UserInfo};

use super::{AuditRecord, Moderation, StoreError};

const SIGNUP_MODE: &str = "signup_mode";
const MEMBERS_INVITE: &str = "members_invite";
const ADMINS_CREATE_CHANNELS: &str = "admins_create_channels";

/// The settings as rows `(key, value)`.
pub(crate) fn setting_rows(settings: &ServerSettings) -> [(&'static str, String); 3] {
    [
        (SIGNUP_MODE, settings.signup_mode.as_str().to_owned()),
        (MEMBERS_INVITE, settings.members_invite.to_string()),
        (
            ADMINS_CREATE_CHANNELS,
            settings.admins_create_channels.to_string(),
        ),
    ]
}

/// The settings stored rows stand for (missing ones keep their default).
pub(crate) fn settings_from(rows: Vec<(String, String)>) -> ServerSettings {
    let mut settings = ServerSettings::default();
    for (key, value) in rows {
        match key.as_str() {
            SIGNUP_MODE => settings.signup_mode = SignupMode::parse(&value),
            MEMBERS_INVITE => settings.members_invite = value == "true",
            ADMINS_CREATE_CHANNELS => settings.admins_create_channels = value == "true",
            _ => {}
        }
    }
    settings
}

/// An invite to store: its id, the hash of its code, and its bounds.
#[derive(Debug, Clone)]
pub struct NewInvite<'a> {
    pub id: &'a str,
    pub code_hash: &'a str,
    pub by: &'a UserInfo,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: u32,
}

impl NewInvite<'_> {
    /// The invite as listed, before any use.
    pub fn listed(&self) -> Invite {
        Invite {
            id: self.id.to_owned(),
            created_by: self.by.clone(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            max_uses: self.max_uses,
            uses: 0,
        }
    }
}

/// An invite row as both dialects read it: id, created at, expires at, max
/// uses, uses, creator id and name.
pub(crate) type InviteRow = (String, i64, i64, i64, i64, String, String);

pub(crate) fn invite_from(row: InviteRow) -> Invite {
    let (id, created_at, expires_at, max_uses, uses, by_id, by_name) = row;
    Invite {
        id,
        created_by: UserInfo {
            id: UserId(by_id),
            name: by_name,
        },
        created_at,
        expires_at,
        max_uses: u32::try_from(max_uses).unwrap_or(u32::MAX),
        uses: u32::try_from(uses).unwrap_or(u32::MAX),
    }
}

/// The community aggregate. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait Community: Moderation {
    /// The stored settings rows.
    async fn settings_rows(&self) -> Result<Vec<(String, String)>, StoreError>;

    /// Stores the settings and records `record`, in one transaction.
    async fn set_settings(
        &self,
        record: &AuditRecord<'_>,
        settings: &ServerSettings,
    ) -> Result<(), StoreError>;

    /// Stores an invite and records `record`, in one transaction.
    async fn create_invite(
        &self,
        record: &AuditRecord<'_>,
        invite: &NewInvite<'_>,
    ) -> Result<(), StoreError>;

    /// Up to `limit` invites still usable at `now`, newest first: all of
    /// them, or only `by`'s.
    async fn invites(
        &self,
        by: Option<&UserId>,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Invite>, StoreError>;

    /// Spends one use of the invite whose code hashes to `code_hash`, if it
    /// is still usable at `now`; whether it was.
    async fn use_invite(&self, code_hash: &str, now: i64) -> Result<bool, StoreError>;

    /// Gives back a use spent by a sign-up that did not happen.
    async fn return_invite(&self, code_hash: &str) -> Result<(), StoreError>;

    /// The server's settings.
    async fn settings(&self) -> Result<ServerSettings, StoreError> {
        Ok(settings_from(self.settings_rows().await?))
    }
}
