//! Custom emoji: names people gave to images, for everyone on the server.
//! The images are stored contents like uploads; a row here keeps its
//! image from the janitor.

use shared::UserId;
use shared::api::CustomEmoji;
use shared::validate::EmojiName;

use super::StoreError;

/// What adding a custom emoji came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmojiAdded {
    Added,
    /// Someone has that name already.
    NameTaken,
    /// The server holds [`shared::limits::MAX_CUSTOM_EMOJI`] already.
    Full,
}

/// A custom emoji to add: its name, its stored image and that image's type.
#[derive(Debug, Clone)]
pub struct NewEmoji<'a> {
    pub name: &'a EmojiName,
    pub sha256: &'a str,
    pub mime: &'a str,
    pub by: &'a UserId,
}

/// The custom emoji. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait CustomEmojis {
    /// Adds one, unless its name is taken or the server is full.
    async fn add_custom_emoji(&self, emoji: &NewEmoji<'_>) -> Result<EmojiAdded, StoreError>;

    /// Every custom emoji, oldest first.
    async fn custom_emoji(&self) -> Result<Vec<CustomEmoji>, StoreError>;

    /// The type of a custom emoji's image, if `sha256` is one.
    async fn custom_emoji_mime(&self, sha256: &str) -> Result<Option<String>, StoreError>;

    /// Whether a custom emoji is called `name`.
    async fn custom_emoji_exists(&self, name: &str) -> Result<bool, StoreError>;
}
