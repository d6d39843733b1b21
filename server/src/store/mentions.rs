//! Who a message mentions, the same in every dialect: a message mentions a
//! user when its lowercase text contains `@` followed by their lowercase
//! name (`users.mention_key`). Each dialect records the matches in the
//! message's own transaction (rewritten on edit, removed on delete), so a
//! member's unread mention count is an index range count. `@channel` and
//! `@here` are recorded the same way, for each person they notify.

use shared::limits::MAX_USERNAME_CHARS;
use shared::{ChannelId, ChatMessage, Seq, UserId};

use super::{Messages, StoreError};

/// The mentions view.
#[allow(async_fn_in_trait)]
pub trait Mentions {
    /// The newest `limit` messages that mention `reader` (by name or to
    /// everyone) in conversations they are in now, newest first; never a
    /// deleted one.
    async fn mentions_of(
        &self,
        reader: &UserId,
        limit: u32,
    ) -> Result<Vec<ChatMessage>, StoreError>;
}

/// The messages of `(channel, seq)` keys, in order, as `reader` sees them
/// (their reactions marked).
pub(crate) async fn read_each(
    store: &impl Messages,
    reader: &UserId,
    keys: Vec<(String, Seq)>,
) -> Result<Vec<ChatMessage>, StoreError> {
    let mut messages = Vec::with_capacity(keys.len());
    for (channel, seq) in keys {
        if let Some(message) = store
            .message(&ChannelId(channel), seq, Some(reader))
            .await?
        {
            messages.push(message);
        }
    }
    Ok(messages)
}

/// `@` signs looked at per message; more are ignored (a message of `@`s
/// must not turn into thousands of lookups).
const MAX_MENTION_SIGNS: usize = 20;

/// For each `@` (the first few), every lowercase string after it that could
/// be a name: one to `MAX_USERNAME_CHARS` characters.
pub(crate) fn candidates(text: &str) -> Vec<Vec<String>> {
    let lower = text.to_lowercase();
    let mut found: Vec<Vec<String>> = Vec::new();
    for (at, _) in lower.match_indices('@').take(MAX_MENTION_SIGNS) {
        let after = &lower[at + 1..];
        let mut prefixes = Vec::new();
        let mut prefix = String::new();
        for c in after.chars().take(MAX_USERNAME_CHARS) {
            prefix.push(c);
            prefixes.push(prefix.clone());
        }
        if !prefixes.is_empty() && !found.contains(&prefixes) {
            found.push(prefixes);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_that_could_follow_an_at_sign_is_a_candidate() {
        let found = candidates("Hi @Bo and @bo!");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0][..3], ["b", "bo", "bo "]);
        assert!(candidates("no mentions").is_empty());
        assert!(candidates("trailing @").is_empty());
        assert_eq!(candidates(&"@".repeat(5000)).len(), 1, "the same tail once");
        let many: String = (0..100).map(|i| format!("@user{i} ")).collect();
        assert_eq!(candidates(&many).len(), MAX_MENTION_SIGNS);
    }
}
