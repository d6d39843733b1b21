//! Storage: the named operations the rest of the server uses, and the
//! shapes they take and return ([`model`]). The SQL lives in one folder per
//! dialect: [`sqlite`], and [`postgres`] growing beside it (accounts,
//! channels, files and the link cache so far; the server does not open PostgreSQL until every aggregate is
//! there). Each aggregate's operations are a trait ([`Accounts`], [`Channels`], [`Files`],
//! [`LinkCache`]) that every
//! dialect implements. Within a dialect, one file per aggregate:
//! accounts (users, sessions, blocks), channels (and memberships, read
//! state), messages (posts, edits, reactions, catch-up), files, previews,
//! mentions.
//!
//! Architecture invariant: `store` depends only on `shared` and the leaf
//! module `random` (ids and the clock). It knows nothing of connections,
//! the hub, the fan-out or previews; callers publish what changed.

pub mod accounts;
pub mod channels;
pub mod files;
pub mod link_cache;
pub mod mentions;
pub mod messages;
pub mod model;
pub mod postgres;
pub mod sqlite;

pub use accounts::Accounts;
pub use channels::Channels;
pub use files::Files;
pub use link_cache::LinkCache;
pub use messages::Messages;
pub use model::*;
pub use sqlite::Store;
