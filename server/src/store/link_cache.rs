//! The cache of fetched links and the images copied for previews: what
//! every dialect of the store does the same way. (A message's own preview
//! is a change of the message, with the messages.)

use shared::LinkPreview;

use super::StoreError;

/// The link cache. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait LinkCache {
    /// A cached fetch of `url` no older than `max_age_ms`: `Some(None)` means
    /// the link had nothing to preview.
    async fn cached_preview(
        &self,
        url: &str,
        max_age_ms: i64,
    ) -> Result<Option<Option<LinkPreview>>, StoreError>;

    /// Remembers the outcome of fetching `url`.
    async fn cache_preview(
        &self,
        url: &str,
        preview: Option<&LinkPreview>,
    ) -> Result<(), StoreError>;

    /// Forgets up to `limit` cached fetches older than `before` (ms); returns how many.
    async fn forget_cached_previews(&self, before: i64, limit: u32) -> Result<u64, StoreError>;

    /// Records an image copied for a preview, so `/api/previews/` may serve it.
    async fn add_preview_image(&self, sha256: &str, mime: &str) -> Result<(), StoreError>;

    /// The type of a preview image, if `sha256` is one (uploads are never served this way).
    async fn preview_image_mime(&self, sha256: &str) -> Result<Option<String>, StoreError>;
}

/// A preview as the cache stores it (JSON), and back; a row that no longer
/// reads as a preview counts as "nothing to show".
pub(crate) fn to_json(preview: &LinkPreview) -> String {
    serde_json::to_string(preview).unwrap_or_default()
}

pub(crate) fn from_json(json: Option<String>) -> Option<LinkPreview> {
    json.and_then(|json| serde_json::from_str(&json).ok())
}
