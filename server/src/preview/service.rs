//! Making and delivering link previews. After a message with a link is
//! stored (or edited), a job is queued here and recorded in the database;
//! a few fetches run at a time, each on a job claimed for a while, so a job
//! whose node stops is done by another (or by this one after a restart).
//! Results are cached by URL (also "nothing to show"), so a popular link is
//! fetched once a day at most. Page images are copied to this server (checked,
//! stripped and shrunk like uploads), so browsers never load third-party
//! images. The preview is stored on the message as a change, so everyone in
//! the conversation gets `message_updated` now and catch-up covers the rest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::{ChannelId, ChatMessage, LinkPreview, PreviewKind, Seq, ServerMsg};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinHandle;
use url::Url;

use super::fetch::{FetchError, Fetched, Fetcher};
use super::links::first_link;
use super::page;
use crate::budget::Budget;
use crate::media::image::{ImageSlots, thumbnail_mime};
use crate::media::sniff::{FileType, sniff};
use crate::media::storage::FileStore;
use crate::metrics::Metrics;
use crate::realtime::fanout::FanOut;
use crate::store::{LinkCache, Messages, PreviewJob, Store};

/// Fetches running at once.
const CONCURRENT_FETCHES: usize = 4;
/// Links waiting to be recorded as jobs; more are skipped (the messages
/// stay as they are).
const QUEUE: usize = 256;
/// Jobs waiting in the database, at most; more links are skipped.
const WAITING: u32 = 1_000;
/// How long a claimed job is its worker's before another may take it.
const LEASE: Duration = Duration::from_secs(60);
/// Claims of one job before it is given up.
const MAX_TRIES: u32 = 3;
/// How often a worker looks for jobs nobody woke it for (queued on
/// another node, or left by a worker that stopped).
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// Bytes of a page read for its meta tags.
const PAGE_BYTES: usize = 1024 * 1024;
/// Largest image copied for a preview.
const IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// Longest time spent reading one page's tags.
const PARSE_TIME: Duration = Duration::from_millis(500);
/// How long a fetched result is reused.
const CACHE_MS: i64 = 24 * 60 * 60 * 1000;

struct Job {
    channel: ChannelId,
    seq: Seq,
    link: String,
}

struct Context {
    store: Store,
    fanout: Arc<dyn FanOut>,
    files: FileStore,
    images: ImageSlots,
    fetcher: Fetcher,
    metrics: Metrics,
}

/// Handle for queueing previews; cheap to clone.
#[derive(Clone)]
pub struct Previews {
    jobs: mpsc::Sender<Job>,
    /// Links previewed per author, so one person cannot fill the queue.
    per_author: Arc<Budget>,
}

impl Previews {
    /// Starts the preview worker; `per_author` paces each author's links.
    pub fn start(
        store: Store,
        fanout: Arc<dyn FanOut>,
        files: FileStore,
        images: ImageSlots,
        fetcher: Fetcher,
        metrics: Metrics,
        per_author: Arc<Budget>,
    ) -> (Self, JoinHandle<()>) {
        let (jobs, receiver) = mpsc::channel(QUEUE);
        let context = Arc::new(Context {
            store,
            fanout,
            files,
            images,
            fetcher,
            metrics,
        });
        (
            Self { jobs, per_author },
            tokio::spawn(run(context, receiver)),
        )
    }

    /// Queues a preview of the message's first link, if it has one (and its
    /// author has not had too many previewed lately).
    pub fn consider(&self, message: &ChatMessage) {
        if message.deleted {
            return;
        }
        let Some(link) = first_link(&message.text) else {
            return;
        };
        if self.per_author.check(&message.author.id.0).is_err() {
            tracing::debug!("too many links from one author; skipping a preview");
            return;
        }
        let job = Job {
            channel: message.channel.clone(),
            seq: message.seq,
            link,
        };
        if self.jobs.try_send(job).is_err() {
            tracing::debug!("link preview queue full; skipping a link");
        }
    }
}

/// Records queued links as jobs and works on due jobs, a few at a time:
/// when one is recorded, when a fetch ends, and every few seconds.
async fn run(context: Arc<Context>, mut jobs: mpsc::Receiver<Job>) {
    let slots = Arc::new(Semaphore::new(CONCURRENT_FETCHES));
    let finished = Arc::new(Notify::new());
    let mut look = tokio::time::interval(LOOK_EVERY);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            job = jobs.recv() => {
                let Some(job) = job else { return };
                let queued = context
                    .store
                    .queue_preview(&job.channel, job.seq, &job.link, WAITING)
                    .await;
                match queued {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::debug!("too many link previews waiting; skipping a link");
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "queueing a link preview failed");
                        continue;
                    }
                }
            }
            () = finished.notified() => {}
            _ = look.tick() => {}
        }
        start_due_jobs(&context, &slots, &finished).await;
    }
}

/// Claims as many due jobs as there are free slots and starts them.
async fn start_due_jobs(context: &Arc<Context>, slots: &Arc<Semaphore>, finished: &Arc<Notify>) {
    let free = slots.available_permits();
    if free == 0 {
        return;
    }
    let lease = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
    let claimed = match context.store.claim_previews(free as u32, lease).await {
        Ok(claimed) => claimed,
        Err(error) => {
            tracing::warn!(%error, "claiming link previews failed");
            return;
        }
    };
    for job in claimed {
        // Free slots were counted above and only this task takes them; a
        // job without one waits for its lease to run out.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            break;
        };
        let (context, finished) = (context.clone(), finished.clone());
        tokio::spawn(async move {
            let done = job.tries > MAX_TRIES || deliver(&context, &job).await;
            if done && let Err(error) = context.store.finish_preview(&job.channel, job.seq).await {
                tracing::warn!(%error, "finishing a link preview job failed");
            }
            drop(slot);
            finished.notify_one();
        });
    }
}

/// What fetching a link came to.
enum Made {
    Preview(LinkPreview),
    /// Nothing to show (refused, not found, no title or description): cached too.
    Nothing,
    /// Failed in a way that may pass (timeout, server error): not cached.
    Retry,
}

/// Makes (or finds in the cache) the job's preview and puts it on its
/// message; false when it failed in a way that may pass (tried again when
/// its lease runs out).
async fn deliver(context: &Context, job: &PreviewJob) -> bool {
    let preview = match context.store.cached_preview(&job.link, CACHE_MS).await {
        Ok(Some(cached)) => cached,
        _ => {
            let (made, outcome) = match make(context, &job.link).await {
                Made::Preview(preview) => (Some(preview), "preview"),
                Made::Nothing => (None, "nothing"),
                Made::Retry => {
                    context.metrics.preview_fetched("failed");
                    return false;
                }
            };
            if let Err(error) = context.store.cache_preview(&job.link, made.as_ref()).await {
                tracing::warn!(%error, "caching a link preview failed");
            }
            // Counted once it is cached: a later mention of the link finds it.
            context.metrics.preview_fetched(outcome);
            made
        }
    };
    let Some(preview) = preview else {
        return true;
    };
    match context
        .store
        .set_preview(&job.channel, job.seq, &preview)
        .await
    {
        Ok(Some(message)) => {
            context
                .fanout
                .to_room(
                    job.channel.clone(),
                    ServerMsg::MessageUpdated { message },
                    None,
                )
                .await;
        }
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, "storing a link preview failed");
            return false;
        }
    }
    true
}

/// Fetches `link` and turns it into a preview.
async fn make(context: &Context, link: &str) -> Made {
    let fetched = match context.fetcher.fetch(link, PAGE_BYTES).await {
        Ok(fetched) => fetched,
        Err(error) => {
            log_failure(link, &error);
            return if error.is_transient() {
                Made::Retry
            } else {
                Made::Nothing
            };
        }
    };
    match describe(context, link, fetched).await {
        Some(preview) => Made::Preview(preview),
        None => Made::Nothing,
    }
}

/// The preview of a fetched link: an image, a video, or a page's meta tags.
async fn describe(context: &Context, link: &str, fetched: Fetched) -> Option<LinkPreview> {
    let file_type = sniff(&fetched.body);
    let base = LinkPreview {
        url: link.to_owned(),
        kind: PreviewKind::Page,
        site_name: None,
        title: None,
        description: None,
        image: None,
        width: None,
        height: None,
    };
    match file_type {
        FileType::Png | FileType::Jpeg | FileType::Gif | FileType::Webp => {
            let fetched = if fetched.truncated {
                fetch_logged(&context.fetcher, link, IMAGE_BYTES).await?
            } else {
                fetched
            };
            let (image, width, height) = copy_image(context, file_type, fetched.body).await?;
            Some(LinkPreview {
                kind: PreviewKind::Image,
                title: file_name(&fetched.url),
                image: Some(image),
                width: Some(width),
                height: Some(height),
                ..base
            })
        }
        FileType::Mp4 | FileType::Webm => Some(LinkPreview {
            kind: PreviewKind::Video,
            title: file_name(&fetched.url),
            ..base
        }),
        _ if is_html(&fetched) => {
            // Untrusted markup is read on a blocking thread, within a deadline.
            let page_url = fetched.url.clone();
            let body = fetched.body;
            let deadline = Instant::now() + PARSE_TIME;
            let meta = tokio::task::spawn_blocking(move || page::parse(&body, &page_url, deadline))
                .await
                .ok()?;
            if meta.title.is_none() && meta.description.is_none() {
                return None;
            }
            let mut preview = LinkPreview {
                title: meta.title,
                description: meta.description,
                site_name: meta
                    .site_name
                    .or_else(|| fetched.url.host_str().map(str::to_owned)),
                ..base
            };
            if let Some(image_url) = meta.image
                && let Some(image) = fetch_logged(&context.fetcher, &image_url, IMAGE_BYTES).await
                && !image.truncated
            {
                let image_type = sniff(&image.body);
                if image_type.kind() == shared::AttachmentKind::Image
                    && let Some((path, width, height)) =
                        copy_image(context, image_type, image.body).await
                {
                    preview.image = Some(path);
                    preview.width = Some(width);
                    preview.height = Some(height);
                }
            }
            Some(preview)
        }
        _ => None,
    }
}

async fn fetch_logged(fetcher: &Fetcher, link: &str, max_bytes: usize) -> Option<Fetched> {
    fetcher
        .fetch(link, max_bytes)
        .await
        .inspect_err(|error| log_failure(link, error))
        .ok()
}

fn log_failure(link: &str, error: &FetchError) {
    match error {
        FetchError::Refused(refusal) => tracing::info!(%link, %refusal, "link preview refused"),
        error => tracing::debug!(%link, %error, "link preview fetch failed"),
    }
}

fn is_html(fetched: &Fetched) -> bool {
    matches!(
        fetched.content_type.as_str(),
        "text/html" | "application/xhtml+xml"
    ) || (fetched.content_type.is_empty()
        && String::from_utf8_lossy(&fetched.body[..fetched.body.len().min(512)])
            .to_ascii_lowercase()
            .contains("<html"))
}

/// Checks and shrinks an image, stores it, and returns its preview path and size.
async fn copy_image(
    context: &Context,
    file_type: FileType,
    bytes: Vec<u8>,
) -> Option<(String, u32, u32)> {
    let prepared = context
        .images
        .reserve()
        .await
        .ok()?
        .prepare(file_type, bytes)
        .await
        .ok()?;
    let (bytes, mime) = match prepared.thumbnail {
        Some(thumbnail) => {
            let mime = thumbnail_mime(&thumbnail);
            (thumbnail, mime)
        }
        None => (prepared.bytes, file_type.mime()),
    };
    let (width, height) = (prepared.width, prepared.height);
    let _content = context.files.hold(&context.store, false).await.ok()?;
    let sha256 = context.files.put(bytes).await.ok()?;
    context.store.add_preview_image(&sha256, mime).await.ok()?;
    Some((format!("/api/previews/{sha256}"), width, height))
}

fn file_name(url: &Url) -> Option<String> {
    url.path_segments()
        .and_then(|mut segments| segments.next_back())
        .filter(|name| !name.is_empty())
        .map(|name| {
            percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .into_owned()
        })
}
