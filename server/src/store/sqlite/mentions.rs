//! Who a message mentions, written in the same transaction as the message
//! (and rewritten on edit, removed on delete), so a member's unread mention
//! count is an index range count instead of a scan of every unread message.
//! A message mentions a user when its lowercase text contains `@` followed
//! by their lowercase name, the rule the count used before it was stored.

use shared::limits::MAX_USERNAME_CHARS;
use shared::{ChannelId, Seq, UserId};

use super::placeholders;
use crate::store::StoreError;

/// `@` signs looked at per message; more are ignored (a message of `@`s
/// must not turn into thousands of lookups).
const MAX_MENTION_SIGNS: usize = 20;

/// Records whom `text` (a new or edited message by `author`) mentions,
/// replacing what was recorded for this message before.
pub(super) async fn record(
    connection: &mut sqlx::SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
    author: &UserId,
    text: &str,
) -> Result<(), StoreError> {
    forget(connection, channel, seq).await?;
    for candidates in candidates(text) {
        // Up to MAX_USERNAME_CHARS placeholders: well within SQLite's limit.
        let keys = placeholders("?", candidates.len());
        let sql = format!(
            "INSERT OR IGNORE INTO mentions (user_id, channel_id, seq)
             SELECT id, ?, ? FROM users WHERE id != ? AND mention_key IN ({keys})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&channel.0)
            .bind(seq)
            .bind(&author.0);
        for candidate in &candidates {
            query = query.bind(candidate);
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

/// Forgets whom a message mentions (it was deleted, or is about to be re-recorded).
pub(super) async fn forget(
    connection: &mut sqlx::SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mentions WHERE channel_id = ? AND seq = ?")
        .bind(&channel.0)
        .bind(seq)
        .execute(connection)
        .await?;
    Ok(())
}

/// For each `@` (the first few), every lowercase string after it that could
/// be a name: one to `MAX_USERNAME_CHARS` characters.
fn candidates(text: &str) -> Vec<Vec<String>> {
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
