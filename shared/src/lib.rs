//! The wire protocol of the chat: every shape that crosses the network between
//! the server and the browser client lives here and nowhere else.
//!
//! - [`protocol`]: WebSocket frames (`ClientMsg` from browser, `ServerMsg` from server).
//! - [`api`]: JSON bodies of the small HTTP API (sessions, errors).
//! - [`ids`]: opaque identifiers and the per-channel sequence number.
//! - [`validate`]: domain types that validate on construction (`Username`, `MessageText`).
//! - [`limits`]: the numbers both sides agree on.
//! - [`search`]: what a search query means, and what of a result to highlight.
//! - [`community`]: sign-up modes, server settings, invite links.
//! - [`roles`]: who may moderate and administer whom; the admin panel's shapes.
//! - [`cluster`]: notices between server nodes (never sent to browsers).

pub mod api;
pub mod cluster;
pub mod community;
pub mod ids;
pub mod limits;
pub mod mention;
pub mod protocol;
pub mod roles;
pub mod search;
pub mod validate;

pub use ids::{ChangeNo, ChannelId, ClientMsgId, FileId, Seq, UserId};
pub use protocol::{
    Attachment, AttachmentKind, ChatMessage, ClientMsg, ErrorCode, InThread, LinkPreview, Pinned,
    PreviewKind, Reaction, Replies, ServerMsg, ThreadItem, UserInfo,
};
