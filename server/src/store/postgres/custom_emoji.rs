//! Custom emoji in PostgreSQL.

use shared::api::CustomEmoji;
use shared::limits::MAX_CUSTOM_EMOJI;

use super::PgStore;
use crate::random::now_millis;
use crate::store::StoreError;
use crate::store::custom_emoji::{CustomEmojis, EmojiAdded, NewEmoji};

impl CustomEmojis for PgStore {
    async fn add_custom_emoji(&self, emoji: &NewEmoji<'_>) -> Result<EmojiAdded, StoreError> {
        let done = sqlx::query(
            "INSERT INTO custom_emoji (name, sha256, mime, created_by, created_at)
             SELECT $1, $2, $3, $4, $5
             WHERE (SELECT COUNT(*) FROM custom_emoji) < $6
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(emoji.name.as_str())
        .bind(emoji.sha256)
        .bind(emoji.mime)
        .bind(&emoji.by.0)
        .bind(now_millis())
        .bind(MAX_CUSTOM_EMOJI as i64)
        .execute(&self.pool)
        .await?;
        Ok(if done.rows_affected() == 1 {
            EmojiAdded::Added
        } else if self.custom_emoji_exists(emoji.name.as_str()).await? {
            EmojiAdded::NameTaken
        } else {
            EmojiAdded::Full
        })
    }

    async fn custom_emoji(&self) -> Result<Vec<CustomEmoji>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, sha256 FROM custom_emoji ORDER BY created_at, name")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(name, image)| CustomEmoji { name, image })
            .collect())
    }

    async fn custom_emoji_mime(&self, sha256: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT mime FROM custom_emoji WHERE sha256 = $1 LIMIT 1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn custom_emoji_exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM custom_emoji WHERE name = $1)")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
