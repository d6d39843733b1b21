//! Storage: the named operations the rest of the server uses, and the
//! shapes they take and return ([`model`]). The SQL lives in one folder per
//! dialect: [`sqlite`] today, so a PostgreSQL implementation sits beside it
//! rather than inside it. Within a dialect, one file per aggregate:
//! accounts (users, sessions, blocks), channels (and memberships, read
//! state), messages (posts, edits, reactions, catch-up), files, previews,
//! mentions.
//!
//! Architecture invariant: `store` depends only on `shared` and the leaf
//! module `random` (ids and the clock). It knows nothing of connections,
//! the hub, the fan-out or previews; callers publish what changed.

pub mod model;
pub mod sqlite;

pub use model::*;
pub use sqlite::Store;
