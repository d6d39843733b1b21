//! Identifiers that travel on the wire. Server-made ids are opaque random
//! strings (never sequential integers); client message ids are validated.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::limits::MAX_CLIENT_ID_CHARS;

/// Position of a message inside its channel: 1, 2, 3, … assigned by the server.
pub type Seq = i64;

/// A channel's change counter: each new message, edit, delete, reaction
/// and link preview takes the channel's next number, stored on the message.
/// Catch-up asks for the changes after the last number a client holds. Its
/// own type, so it is never mixed up with a [`Seq`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ChangeNo(pub i64);

/// An opaque channel identifier chosen by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChannelId(pub String);

/// An opaque user identifier chosen by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

/// An opaque uploaded-file identifier chosen by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileId(pub String);

/// The id a client gives each message it sends (a UUID in practice), used to
/// acknowledge it and to recognise a resend after a reconnect.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientMsgId(String);

/// Why a client message id was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidClientMsgId;

impl fmt::Display for InvalidClientMsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "client_id must be 1-{MAX_CLIENT_ID_CHARS} characters of letters, digits, '-' or '_'"
        )
    }
}

impl std::error::Error for InvalidClientMsgId {}

impl ClientMsgId {
    /// Accepts 1–64 ASCII letters, digits, `-` and `_` (UUIDs and ULIDs fit).
    pub fn parse(raw: &str) -> Result<Self, InvalidClientMsgId> {
        let well_formed = !raw.is_empty()
            && raw.len() <= MAX_CLIENT_ID_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidClientMsgId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClientMsgId {
    type Error = InvalidClientMsgId;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<ClientMsgId> for String {
    fn from(id: ClientMsgId) -> Self {
        id.0
    }
}

impl fmt::Display for ClientMsgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
