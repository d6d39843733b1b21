//! Stored files in S3-compatible object storage, for nodes that share no
//! folder: connecting to a bucket, writing a finished upload, and answering
//! a download (with byte ranges, for video seeking) straight from the
//! bucket. Objects are named as in the files folder (`sha256/ab/abcdef…`).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as Key;
use object_store::{ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};
use tokio::io::AsyncWriteExt;

/// Where the bucket is and how to sign in to it (no `Debug`: it holds
/// the secret key).
#[derive(Clone)]
pub struct Bucket {
    pub name: String,
    /// An S3-compatible service's address; AWS when `None`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl Bucket {
    /// The bucket the settings name, if any.
    pub fn from_settings(settings: &crate::settings::Settings) -> Option<Self> {
        Some(Self {
            name: settings.files_bucket.clone()?,
            endpoint: settings.files_endpoint.clone(),
            region: settings.files_region.clone(),
            access_key_id: settings.files_access_key_id.clone(),
            secret_access_key: settings.files_secret_access_key.clone(),
        })
    }
}

/// The bucket as an object store. Plain `http://` endpoints are allowed
/// (a service on the same host); addressing is by path, which every
/// S3-compatible service understands.
pub fn connect(bucket: &Bucket) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    // No limit on a whole request: a download streams to its reader at the
    // reader's pace (a 25 MiB video to a slow phone takes minutes). Writes
    // get their own limit ([`WRITE_WITHIN`]).
    let client = ClientOptions::new()
        .with_timeout_disabled()
        .with_connect_timeout(Duration::from_secs(10));
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&bucket.name)
        .with_region(&bucket.region)
        .with_client_options(client);
    if let Some(endpoint) = &bucket.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    if let (Some(id), Some(secret)) = (&bucket.access_key_id, &bucket.secret_access_key) {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret);
    }
    Ok(Arc::new(builder.build()?))
}

/// Longest time a write (an upload, a removal) may take: writes run while
/// the content lock is held.
const WRITE_WITHIN: Duration = Duration::from_secs(300);

fn failed(error: object_store::Error) -> io::Error {
    io::Error::other(error)
}

/// `write`, or an error once it took longer than [`WRITE_WITHIN`].
async fn within<T>(write: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(WRITE_WITHIN, write)
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the bucket took too long",
            ))
        })
}

/// Whether the object exists.
pub async fn exists(objects: &dyn ObjectStore, key: &Key) -> io::Result<bool> {
    match objects.head(key).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => Ok(false),
        Err(error) => Err(failed(error)),
    }
}

/// Stores bytes held in memory.
pub async fn put(objects: &dyn ObjectStore, key: &Key, bytes: Vec<u8>) -> io::Result<()> {
    within(async {
        objects
            .put(key, PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(failed)
    })
    .await
}

/// Stores a finished upload from its temporary file, in parts (never the
/// whole file in memory).
pub async fn put_file(
    objects: &Arc<dyn ObjectStore>,
    key: &Key,
    path: &std::path::Path,
) -> io::Result<()> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut writer = BufWriter::new(objects.clone(), key.clone());
    let sent = within(async {
        tokio::io::copy(&mut file, &mut writer).await?;
        writer.shutdown().await
    })
    .await;
    if sent.is_err() {
        let _ = writer.abort().await;
    }
    sent
}

/// Removes objects, many per request (S3's `DeleteObjects`); returns the
/// keys that could not be removed (one gone already counts as removed).
pub async fn remove_all(objects: &dyn ObjectStore, keys: Vec<Key>) -> Vec<Key> {
    let asked = keys.clone();
    let keys = futures_util::stream::iter(keys.into_iter().map(Ok)).boxed();
    let removing = objects.delete_stream(keys).collect::<Vec<_>>();
    let Ok(results) = tokio::time::timeout(WRITE_WITHIN, removing).await else {
        tracing::warn!("removing stored files from the bucket took too long");
        return asked;
    };
    let mut removed: std::collections::HashSet<Key> = std::collections::HashSet::new();
    for result in results {
        match result {
            Ok(key) => {
                removed.insert(key);
            }
            Err(object_store::Error::NotFound { path, .. }) => {
                removed.insert(Key::from(path));
            }
            Err(error) => tracing::warn!(%error, "removing a stored file from the bucket failed"),
        }
    }
    asked
        .into_iter()
        .filter(|key| !removed.contains(key))
        .collect()
}

/// The first `n` bytes (fewer if the object is shorter; none if missing).
pub async fn head(objects: &dyn ObjectStore, key: &Key, n: u64) -> Vec<u8> {
    let options = GetOptions {
        range: Some(GetRange::Bounded(0..n)),
        ..GetOptions::default()
    };
    match objects.get_opts(key, options).await {
        Ok(result) => result.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// A download answered from the bucket: all of it, or the one byte range
/// asked for (206), or 416 for a range outside it, with `headers` (type,
/// disposition). `None`: no such object.
pub async fn respond(
    request: &HttpRequest,
    objects: &dyn ObjectStore,
    key: &Key,
    headers: impl IntoIterator<Item = (header::HeaderName, header::HeaderValue)>,
) -> io::Result<Option<HttpResponse>> {
    let size = match objects.head(key).await {
        Ok(meta) => meta.size,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(failed(error)),
    };
    let asked = request
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let range = match asked.map(|asked| actix_files::HttpRange::parse(asked, size)) {
        None => None,
        Some(Ok(ranges)) if ranges.len() == 1 && ranges[0].length > 0 => {
            Some(ranges[0].start..ranges[0].start + ranges[0].length)
        }
        // Several ranges at once are answered with the whole file.
        Some(Ok(ranges)) if ranges.len() > 1 => None,
        Some(_) => {
            let mut response = HttpResponse::build(StatusCode::RANGE_NOT_SATISFIABLE);
            response.insert_header((header::CONTENT_RANGE, format!("bytes */{size}")));
            return Ok(Some(response.finish()));
        }
    };
    let options = GetOptions {
        range: range.clone().map(GetRange::Bounded),
        ..GetOptions::default()
    };
    let result = match objects.get_opts(key, options).await {
        Ok(result) => result,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(error) => return Err(failed(error)),
    };
    let body = result
        .into_stream()
        .map_err(|error| actix_web::error::ErrorBadGateway(error.to_string()));
    let mut response = match &range {
        Some(range) => {
            let mut response = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
            response.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", range.start, range.end - 1),
            ));
            response.no_chunking(range.end - range.start);
            response
        }
        None => {
            let mut response = HttpResponse::Ok();
            response.no_chunking(size);
            response
        }
    };
    response.insert_header((header::ACCEPT_RANGES, "bytes"));
    for pair in headers {
        response.insert_header(pair);
    }
    Ok(Some(response.streaming(body)))
}
