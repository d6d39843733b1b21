//! Every refusal a connection can get, each in one wording: the `error`
//! frames answering requests, and the answers to posted messages the writer
//! could not store. A refusal never carries data about the channel.

use shared::limits::{MAX_ATTACHMENTS, MAX_PINS, MAX_REACTION_EMOJI, MAX_REACTIONS_PER_USER};
use shared::validate::MessageTextError;
use shared::{ClientMsgId, ErrorCode, ServerMsg};

use crate::store::StoreError;

/// A refusal, sent back as an `error` frame.
#[derive(Debug)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    /// The message it refuses, when it answers a `send`.
    pub client_id: Option<ClientMsgId>,
}

impl Refusal {
    /// The same refusal, naming the refused message.
    pub fn for_message(mut self, client_id: ClientMsgId) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// The `error` frame that carries it.
    pub fn into_frame(self) -> ServerMsg {
        ServerMsg::Error {
            code: self.code,
            message: self.message,
            client_id: self.client_id,
        }
    }
}

pub fn refuse(code: ErrorCode, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
        client_id: None,
    }
}

/// "Not a member", identical for channels that do not exist.
pub fn not_a_member() -> Refusal {
    refuse(
        ErrorCode::NotAMember,
        "you are not a member of that channel (or it does not exist)",
    )
}

pub fn blocked() -> Refusal {
    refuse(
        ErrorCode::Blocked,
        "You cannot start a conversation with or invite someone who has blocked you.",
    )
}

/// A post into a direct conversation where someone blocked the author.
pub fn blocked_post() -> Refusal {
    refuse(
        ErrorCode::Blocked,
        "You cannot write to this conversation: you have been blocked.",
    )
}

/// A muted person tried to post, reply, edit or react.
pub fn muted() -> Refusal {
    refuse(
        ErrorCode::Muted,
        "A moderator has muted you for now: you can read, but not post or react.",
    )
}

/// A post in a slow channel too soon after the author's last one.
pub fn slow_mode() -> Refusal {
    refuse(
        ErrorCode::SlowMode,
        "Slow mode is on in this channel: wait a little before posting again.",
    )
}

/// A post, edit or reaction in an archived channel.
pub fn archived() -> Refusal {
    refuse(
        ErrorCode::Archived,
        "This channel is archived: it is read-only.",
    )
}

/// Someone whose role does not allow the action (or not on that person).
pub fn not_your_role() -> Refusal {
    refuse(
        ErrorCode::NotAllowed,
        "Your role does not allow that (or not on that person).",
    )
}

/// A change of one's own role or standing.
pub fn not_on_yourself() -> Refusal {
    refuse(
        ErrorCode::NotAllowed,
        "You cannot change your own role, mute or deactivate yourself.",
    )
}

/// A report closed by another moderator meanwhile (or never open).
pub fn report_closed() -> Refusal {
    refuse(
        ErrorCode::UnknownMessage,
        "That report is closed already (another moderator may have acted on it).",
    )
}

pub fn unknown_user() -> Refusal {
    refuse(ErrorCode::UnknownUser, "There is no such user.")
}

pub fn unknown_message() -> Refusal {
    refuse(
        ErrorCode::UnknownMessage,
        "That message does not exist (or was deleted).",
    )
}

/// A reply to a message that is gone, deleted, or a reply itself.
pub fn no_such_thread() -> Refusal {
    refuse(
        ErrorCode::UnknownMessage,
        "There is no such message to reply to (replies go in the thread of a message that is not a reply).",
    )
}

pub fn only_the_author() -> Refusal {
    refuse(
        ErrorCode::NotAllowed,
        "Only the author can change a message.",
    )
}

pub fn too_many_reactions() -> Refusal {
    refuse(
        ErrorCode::TooManyReactions,
        format!(
            "A message can have at most {MAX_REACTION_EMOJI} different emoji, \
             and {MAX_REACTIONS_PER_USER} reactions from each person."
        ),
    )
}

pub fn too_many_pins() -> Refusal {
    refuse(
        ErrorCode::TooManyPins,
        format!("A conversation can have at most {MAX_PINS} pinned messages; unpin one first."),
    )
}

pub fn too_many_attachments() -> Refusal {
    refuse(
        ErrorCode::InvalidAttachment,
        format!("at most {MAX_ATTACHMENTS} files can be attached to one message"),
    )
}

/// An attachment that is not an unposted upload of the author in that conversation.
pub fn invalid_attachments() -> Refusal {
    refuse(
        ErrorCode::InvalidAttachment,
        "An attached file is not one of your uploads to this conversation \
         (or it was already posted).",
    )
}

pub fn client_id_reused() -> Refusal {
    refuse(
        ErrorCode::InvalidFields,
        "This client_id was already used for a message in another \
         conversation; send it with a new one.",
    )
}

/// The writer could not store the message (the client sends it again).
pub fn not_stored() -> Refusal {
    refuse(
        ErrorCode::StoreUnavailable,
        "The message could not be stored; it will be sent again.",
    )
}

pub fn shutting_down() -> Refusal {
    refuse(
        ErrorCode::StoreUnavailable,
        "the server is shutting down; the message will be sent again",
    )
}

/// A search that cannot run as typed.
pub fn bad_query(error: &shared::search::QueryError) -> Refusal {
    refuse(ErrorCode::InvalidQuery, error.to_string())
}

/// Search on a server that does not keep the index (`--search-index false`).
pub fn search_off() -> Refusal {
    refuse(
        ErrorCode::NotAllowed,
        "Search is turned off on this server.",
    )
}

pub fn bad_text(error: &MessageTextError) -> Refusal {
    let code = match error {
        MessageTextError::Empty => ErrorCode::EmptyText,
        MessageTextError::TooLong { .. } => ErrorCode::TextTooLong,
    };
    refuse(code, error.to_string())
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ChannelNameTaken => refuse(
                ErrorCode::ChannelNameTaken,
                "That channel name is taken. Please choose another.",
            ),
            other => {
                tracing::error!(error = %other, "database error in a request");
                refuse(
                    ErrorCode::StoreUnavailable,
                    "The database is unavailable right now; try again.",
                )
            }
        }
    }
}
