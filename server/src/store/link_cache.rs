//! The cache of fetched links and the images copied for previews: what
//! every dialect of the store does the same way. (A message's own preview
//! is a change of the message, with the messages.)

use shared::{ChannelId, LinkPreview, Seq};

use super::StoreError;

/// A link preview waiting to be made for message `channel`#`seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewJob {
    pub channel: ChannelId,
    pub seq: Seq,
    pub link: String,
    /// How many times it was claimed, this time included.
    pub tries: u32,
}

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

    /// Queues a preview of `link` for message `channel`#`seq`, due now (an
    /// edit's link replaces the one queued before). Not queued when
    /// `max_waiting` jobs wait already; returns whether it was.
    async fn queue_preview(
        &self,
        channel: &ChannelId,
        seq: Seq,
        link: &str,
        max_waiting: u32,
    ) -> Result<bool, StoreError>;

    /// Claims up to `limit` due jobs for `lease_ms`: until then no one
    /// else gets them; after that (the claimer stopped) anyone does.
    async fn claim_previews(
        &self,
        limit: u32,
        lease_ms: i64,
    ) -> Result<Vec<PreviewJob>, StoreError>;

    /// A job is done (made, nothing to make, or given up).
    async fn finish_preview(&self, channel: &ChannelId, seq: Seq) -> Result<(), StoreError>;
}

/// A preview as the cache stores it (JSON), and back; a row that no longer
/// reads as a preview counts as "nothing to show".
pub(crate) fn to_json(preview: &LinkPreview) -> String {
    serde_json::to_string(preview).unwrap_or_default()
}

/// Claimed rows (channel, seq, link, tries) as jobs.
pub(crate) fn jobs(rows: Vec<(String, Seq, String, i64)>) -> Vec<PreviewJob> {
    rows.into_iter()
        .map(|(channel, seq, link, tries)| PreviewJob {
            channel: ChannelId(channel),
            seq,
            link,
            tries: u32::try_from(tries).unwrap_or(u32::MAX),
        })
        .collect()
}

pub(crate) fn from_json(json: Option<String>) -> Option<LinkPreview> {
    json.and_then(|json| serde_json::from_str(&json).ok())
}
