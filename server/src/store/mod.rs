//! Storage: the named operations the rest of the server uses, and the
//! shapes they take and return ([`model`]). Each aggregate's operations are
//! a trait ([`Accounts`], [`Channels`], [`Messages`], [`Files`],
//! [`LinkCache`], [`Search`], [`Threads`], [`Moderation`], [`Community`], [`Reports`]) with the decisions every dialect shares beside it; the
//! SQL lives in one folder per dialect, [`sqlite`] and [`postgres`], one
//! file per aggregate. [`Store`] ([`dialects`]) is whichever dialect the
//! database URL names.
//!
//! Architecture invariant: `store` depends only on `shared` and the leaf
//! module `random` (ids and the clock). It knows nothing of connections,
//! the hub, the fan-out or previews; callers publish what changed.

pub mod accounts;
pub mod channels;
pub mod community;
pub mod custom_emoji;
pub mod dialects;
pub mod files;
pub mod link_cache;
pub mod mentions;
pub mod messages;
pub mod model;
pub mod moderation;
pub mod postgres;
pub mod reports;
pub mod search;
pub mod sqlite;
pub mod threads;

pub use accounts::Accounts;
pub use channels::Channels;
pub use community::{Community, NewInvite};
pub use custom_emoji::{CustomEmojis, EmojiAdded, NewEmoji};
pub use dialects::Store;
pub use files::Files;
pub use link_cache::{LinkCache, PreviewJob};
pub use mentions::Mentions;
pub use messages::Messages;
pub use model::*;
pub use moderation::{
    AuditRecord, ChannelRule, ChannelRules, Moderation, Standing, StandingChange,
};
pub use reports::{NewReport, Reports};
pub use search::{Search, SearchPage};
pub use threads::{Following, ThreadLookup, ThreadPage, Threads};
