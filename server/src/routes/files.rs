//! Uploads and downloads. `POST /api/channels/{id}/files?name=…` streams a
//! file (the raw body) into the files folder, decides its type from its bytes,
//! prepares images (metadata removed, thumbnail made) and MP4 videos
//! (location and user-data boxes blanked), and answers the
//! `Attachment` to post with a message. `GET /api/files/{id}` (and
//! `/thumbnail`) serve it to members of its channel only;
//! `GET /api/previews/{hash}` serves images copied for link previews.

use std::time::Duration;

use actix_files::NamedFile;
use actix_web::http::StatusCode;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    HeaderValue, TryIntoHeaderValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use shared::api::ApiErrorCode;
use shared::limits::MAX_FILE_NAME_CHARS;
use shared::{Attachment, AttachmentKind, ChannelId, FileId};

use super::AppState;
use crate::error::HttpError;
use crate::media::image::{self as media_image, ImageError};
use crate::media::objects;
use crate::media::sniff::{FileType, sniff};
use crate::media::strip;
use crate::slow_body;
use crate::store::{Channels, Files, LinkCache, NewFile};

/// Files are immutable under their id: browsers may keep them, but only for
/// this user (`private`), since access depends on who asks.
const FILE_CACHE: &str = "private, max-age=31536000, immutable";
/// A served file is never a page: no scripts, no plugins, sandboxed even if opened directly.
const FILE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    #[serde(default)]
    name: String,
}

/// `POST /api/channels/{channel}/files?name=photo.jpg`, the file as the body:
/// 201 with the `Attachment`; 413 over the size limit (refused from
/// `Content-Length` before reading, or as soon as the stream passes it);
/// 422 for an empty or damaged file; 404 for a channel you are not in;
/// 429 past 60 uploads a minute.
pub async fn upload(
    request: HttpRequest,
    state: web::Data<AppState>,
    channel: web::Path<String>,
    query: web::Query<UploadQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let user = uploader(&request, &state).await?;
    let store = &state.realtime.store;
    let channel = ChannelId(channel.into_inner());
    if !store.is_member(&user.user.id, &channel).await? {
        return Err(HttpError::new(
            StatusCode::NOT_FOUND,
            ApiErrorCode::NotFound,
            "No such conversation (or you are not in it).",
        ));
    }
    let limit = state.realtime.max_upload_bytes;
    let declared = declared_length(&request, limit)?;
    // The user's hourly volume is charged before reading when the size is
    // declared, and after reading otherwise.
    if let Some(length) = declared {
        charge_volume(&state, &user.user.id.0, length)?;
    }

    let mut upload = state.files.begin().await.map_err(storage_failed)?;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(body_failed)?;
        if upload.size() + chunk.len() as u64 > limit {
            return Err(too_large(limit));
        }
        upload.write(&chunk).await.map_err(storage_failed)?;
    }
    if upload.size() == 0 {
        return Err(invalid_file("The file is empty."));
    }
    if declared.is_none() {
        charge_volume(&state, &user.user.id.0, upload.size())?;
    }

    let file_type = sniff(upload.head());
    let name = clean_file_name(&query.name);
    let mut new_file = NewFile {
        channel,
        uploader: user.user.id.clone(),
        name,
        kind: file_type.kind(),
        mime: file_type.mime().to_owned(),
        size: upload.size(),
        width: None,
        height: None,
        sha256: String::new(),
        thumb_sha256: None,
    };
    // Images and MP4 videos are rewritten without their metadata; anything
    // else is kept exactly as sent. Rewriting waits for a preparation slot
    // before the file is read into memory, and keeps it until the result is
    // stored, so only a few uploads are ever in memory at once.
    let (bytes, thumbnail, slot) = match file_type.kind() {
        AttachmentKind::Image => {
            let slot = state.images.reserve().await.map_err(image_refused)?;
            let bytes = upload.into_bytes().await.map_err(storage_failed)?;
            let prepared = slot
                .prepare(file_type, bytes)
                .await
                .map_err(image_refused)?;
            state.realtime.metrics.image_preparations.inc();
            new_file.width = Some(prepared.width);
            new_file.height = Some(prepared.height);
            (prepared.bytes, prepared.thumbnail, slot)
        }
        _ if file_type == FileType::Mp4 => {
            let slot = state.images.reserve().await.map_err(image_refused)?;
            let mut bytes = upload.into_bytes().await.map_err(storage_failed)?;
            let bytes = slot
                .run(move || strip::mp4(&mut bytes).map(|_| bytes))
                .await
                .map_err(image_refused)?
                .map_err(|_| invalid_file("The video is damaged or incomplete."))?;
            (bytes, None, slot)
        }
        _ => {
            let _content = state.files.hold(&state.realtime.store, false).await?;
            new_file.sha256 = state.files.adopt(upload).await.map_err(storage_failed)?;
            let attachment = record(&state, &new_file).await?;
            return Ok(HttpResponse::Created().json(attachment));
        }
    };
    new_file.size = bytes.len() as u64;
    // From storing the bytes until their row exists, nothing may remove them.
    let _content = state.files.hold(&state.realtime.store, false).await?;
    let sha256 = state.files.put(bytes).await.map_err(storage_failed)?;
    let thumb_sha256 = match thumbnail {
        Some(thumbnail) => Some(state.files.put(thumbnail).await.map_err(storage_failed)?),
        None => None,
    };
    drop(slot);
    new_file.sha256 = sha256;
    new_file.thumb_sha256 = thumb_sha256;
    let attachment = record(&state, &new_file).await?;
    Ok(HttpResponse::Created().json(attachment))
}

/// The signed-in user of an upload request from an allowed origin, within
/// their budget of uploads (files and custom emoji together).
pub(super) async fn uploader(
    request: &HttpRequest,
    state: &AppState,
) -> Result<crate::store::SessionUser, HttpError> {
    let user = state.signed_in(request).await?;
    if request.headers().contains_key(header::ORIGIN) && !state.origins.allows(request) {
        return Err(HttpError::forbidden_origin());
    }
    if let Err(retry_after) = state.uploads.check(&user.user.id.0) {
        state.realtime.metrics.refused("rate_limited");
        let mut error = HttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiErrorCode::RateLimited,
            format!(
                "Too many uploads. Please wait {} seconds.",
                retry_after.as_secs().max(1)
            ),
        );
        error.retry_after = Some(retry_after);
        return Err(error);
    }
    Ok(user)
}

/// The body's declared length; 413 before reading when it passes `limit`.
pub(super) fn declared_length(request: &HttpRequest, limit: u64) -> Result<Option<u64>, HttpError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    Ok(declared)
}

/// Why an upload's body stopped arriving.
pub(super) fn body_failed(error: actix_web::error::PayloadError) -> HttpError {
    if slow_body::is_timeout(&error) {
        HttpError::new(
            StatusCode::REQUEST_TIMEOUT,
            ApiErrorCode::Timeout,
            "The upload arrived too slowly and was stopped.",
        )
    } else {
        HttpError::new(
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidRequest,
            "The upload was interrupted.",
        )
    }
}

/// Takes `bytes` (in whole mebibytes) from the user's hourly upload volume.
fn charge_volume(state: &AppState, user: &str, bytes: u64) -> Result<(), HttpError> {
    let mebibytes = u32::try_from(bytes.div_ceil(1024 * 1024)).unwrap_or(u32::MAX);
    state.upload_bytes.check_n(user, mebibytes).map_err(|wait| {
        state.realtime.metrics.refused("upload_volume");
        let mut error = HttpError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ApiErrorCode::RateLimited,
            "You have uploaded a lot in the last hour. Please wait a while before uploading more.",
        );
        error.retry_after = Some(wait.unwrap_or(Duration::from_secs(3600)));
        error
    })
}

/// Writes the upload's row; if that fails, its bytes are left to the
/// janitor, which removes them unless a later upload refers to them.
async fn record(state: &AppState, file: &NewFile) -> Result<Attachment, HttpError> {
    let result = state.realtime.store.insert_file(file).await;
    if result.is_err() {
        state.files.suspect(
            [file.sha256.clone()]
                .into_iter()
                .chain(file.thumb_sha256.clone()),
        );
    }
    Ok(result?)
}

/// `GET /api/files/{id}`: the file, for members of its channel.
pub async fn download(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    serve_file(request, state, FileId(id.into_inner()), false).await
}

/// `GET /api/files/{id}/thumbnail`: the thumbnail (or the file if it has none).
pub async fn thumbnail(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    serve_file(request, state, FileId(id.into_inner()), true).await
}

async fn serve_file(
    request: HttpRequest,
    state: web::Data<AppState>,
    id: FileId,
    thumbnail: bool,
) -> Result<HttpResponse, HttpError> {
    let user = state.signed_in(&request).await?;
    let file = state
        .realtime
        .store
        .file_for(&user.user.id, &id)
        .await?
        .ok_or_else(HttpError::not_found)?;
    let attachment = file.attachment;
    let (sha256, mime) = match file.thumb_sha256 {
        Some(thumb) if thumbnail => {
            let head = state.files.head(&thumb, 8).await;
            (thumb, media_image::thumbnail_mime(&head).to_owned())
        }
        _ => (file.sha256, attachment.mime.clone()),
    };
    let inline = matches!(
        attachment.kind,
        AttachmentKind::Image | AttachmentKind::Video
    );
    let name = if thumbnail && inline {
        format!("thumbnail-{}", attachment.name)
    } else {
        attachment.name
    };
    send(&request, &state, &sha256, &mime, inline, Some(name)).await
}

/// `GET /api/previews/{hash}`: an image copied from a previewed page, for
/// anyone signed in. Only hashes recorded as preview images are served here.
pub async fn preview_image(
    request: HttpRequest,
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    state.signed_in(&request).await?;
    let hash = hash.into_inner();
    let mime = state
        .realtime
        .store
        .preview_image_mime(&hash)
        .await?
        .ok_or_else(HttpError::not_found)?;
    send(&request, &state, &hash, &mime, true, None).await
}

/// Streams a stored file (with ranges, for video seeking) with headers that
/// keep it inert: the sniffed type, `nosniff`, a sandboxing CSP, and
/// `attachment` for anything that is not an image or video.
pub(super) async fn send(
    request: &HttpRequest,
    state: &AppState,
    sha256: &str,
    mime: &str,
    inline: bool,
    name: Option<String>,
) -> Result<HttpResponse, HttpError> {
    let content_type: mime_guess::mime::Mime = mime
        .parse()
        .unwrap_or(actix_files::file_extension_to_mime("bin"));
    let disposition = ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: name
            .map(|name| {
                vec![DispositionParam::FilenameExt(ExtendedValue {
                    charset: Charset::Ext("UTF-8".into()),
                    language_tag: None,
                    value: name.into_bytes(),
                })]
            })
            .unwrap_or_default(),
    };
    // Stored files are served as they are: most are compressed already, and
    // compressing a 25 MiB download costs far more than it saves.
    let mut response = match state.files.object(sha256) {
        Some((bucket, key)) => {
            let headers = [
                (header::CONTENT_TYPE, content_type.as_ref().try_into_value()),
                (header::CONTENT_DISPOSITION, disposition.try_into_value()),
                (
                    header::CONTENT_ENCODING,
                    Ok(HeaderValue::from_static("identity")),
                ),
            ]
            .into_iter()
            // Every header or no file: never one without its type and
            // disposition.
            .map(|(name, value)| value.map(|value| (name, value)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage_failed)?;
            objects::respond(request, bucket, &key, headers)
                .await
                .map_err(storage_failed)?
                .ok_or_else(|| {
                    tracing::error!(sha256, "a stored file is missing from the bucket");
                    HttpError::not_found()
                })?
        }
        None => {
            let path = state
                .files
                .path_of(sha256)
                .ok_or_else(HttpError::not_found)?;
            let file = NamedFile::open(&path).map_err(|error| {
                tracing::error!(%error, path = %path.display(), "a stored file is missing");
                HttpError::not_found()
            })?;
            file.set_content_type(content_type)
                .set_content_disposition(disposition)
                .set_content_encoding(header::ContentEncoding::Identity)
                .use_last_modified(false)
                .into_response(request)
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(FILE_CACHE));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// The last part of a path, without control characters or bidirectional
/// formatting (so `invoice\u{202E}fdp.exe` cannot pose as a PDF), at most
/// `MAX_FILE_NAME_CHARS`; "file" if nothing is left.
pub fn clean_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(MAX_FILE_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Unicode's explicit direction marks, embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

pub(super) fn image_refused(error: ImageError) -> HttpError {
    match error {
        ImageError::Damaged | ImageError::TooLarge | ImageError::TooManyPixels => {
            invalid_file(&error.to_string())
        }
        ImageError::Busy => HttpError::busy(std::time::Duration::from_secs(2)),
    }
}

pub(super) fn too_large(limit: u64) -> HttpError {
    HttpError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ApiErrorCode::TooLarge,
        format!("The file is too large: at most {}.", human_size(limit)),
    )
}

pub(super) fn invalid_file(message: &str) -> HttpError {
    HttpError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ApiErrorCode::InvalidFile,
        message,
    )
}

pub(super) fn storage_failed(error: impl std::fmt::Display) -> HttpError {
    tracing::error!(%error, "storing an upload failed");
    HttpError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ApiErrorCode::Unavailable,
        "The file could not be stored right now. Please try again shortly.",
    )
}

/// `26214400` → "25 MiB".
pub fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\Users\\me\\cat.png"), "cat.png");
        assert_eq!(clean_file_name("a\r\nb.txt"), "ab.txt");
        assert_eq!(clean_file_name(".."), "file");
        assert_eq!(clean_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean_file_name("\u{2067}a\u{2069}.txt"), "a.txt");
        assert_eq!(clean_file_name(""), "file");
        assert_eq!(clean_file_name(&"x".repeat(500)).len(), MAX_FILE_NAME_CHARS);
        assert_eq!(human_size(25 * 1024 * 1024), "25 MiB");
    }
}
