//! Custom emoji over HTTP. `POST /api/emoji?name=…` (the image as the
//! body, at most [`MAX_CUSTOM_EMOJI_BYTES`]) adds one for everyone: a PNG,
//! GIF or WebP that decodes completely, its metadata removed and, when
//! large, scaled down (`media::image::emoji`). `GET /api/emoji` lists them;
//! `GET /api/emoji/{hash}` serves an image. All for signed-in people only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;
use shared::api::{ApiErrorCode, CustomEmoji};
use shared::limits::{MAX_CUSTOM_EMOJI, MAX_CUSTOM_EMOJI_BYTES};
use shared::validate::EmojiName;

use super::AppState;
use super::files::{
    body_failed, declared_length, image_refused, invalid_file, send, storage_failed, too_large,
    uploader,
};
use crate::budget::RequestKind;
use crate::error::HttpError;
use crate::media::image as media_image;
use crate::media::sniff::sniff;
use crate::store::{CustomEmojis, EmojiAdded, NewEmoji};

#[derive(Debug, Deserialize)]
pub struct AddQuery {
    #[serde(default)]
    name: String,
}

/// `POST /api/emoji?name=partyparrot`: 201 with the [`CustomEmoji`]; 422
/// for a bad name or an image that is not a whole PNG, GIF or WebP; 409
/// for a name in use (custom or standard) or a full server; 413 past the
/// size limit; 429 past the upload budget.
pub async fn add(
    request: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<AddQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, HttpError> {
    let user = uploader(&request, &state).await?;
    let name = EmojiName::parse(&query.name).map_err(|problem| {
        HttpError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::InvalidEmojiName,
            problem.to_string(),
        )
    })?;
    let store = &state.realtime.store;
    if emojis::get_by_shortcode(name.as_str()).is_some()
        || store.custom_emoji_exists(name.as_str()).await?
    {
        return Err(name_taken(&name));
    }
    declared_length(&request, MAX_CUSTOM_EMOJI_BYTES)?;
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(body_failed)?;
        if (bytes.len() + chunk.len()) as u64 > MAX_CUSTOM_EMOJI_BYTES {
            return Err(too_large(MAX_CUSTOM_EMOJI_BYTES));
        }
        bytes.extend_from_slice(&chunk);
    }
    let file_type = sniff(&bytes);
    let slot = state.images.reserve().await.map_err(image_refused)?;
    let (image, mime) = slot
        .run(move || media_image::emoji(file_type, &bytes))
        .await
        .map_err(image_refused)?
        .map_err(|_| invalid_file("A custom emoji is a whole PNG, GIF or WebP image."))?;
    state.realtime.metrics.image_preparations.inc();
    // From storing the bytes until their row exists, nothing may remove them.
    let _content = state.files.hold(store, false).await?;
    let sha256 = state.files.put(image).await.map_err(storage_failed)?;
    drop(slot);
    let added = store
        .add_custom_emoji(&NewEmoji {
            name: &name,
            sha256: &sha256,
            mime,
            by: &user.user.id,
        })
        .await;
    if !matches!(added, Ok(EmojiAdded::Added)) {
        state.files.suspect([sha256.clone()]);
    }
    match added? {
        EmojiAdded::Added => {
            tracing::info!(name = name.as_str(), by = %user.user.name, "custom emoji added");
            Ok(HttpResponse::Created().json(CustomEmoji {
                name: name.as_str().to_owned(),
                image: sha256,
            }))
        }
        EmojiAdded::NameTaken => Err(name_taken(&name)),
        EmojiAdded::Full => Err(HttpError::new(
            StatusCode::CONFLICT,
            ApiErrorCode::TooManyEmoji,
            format!("This server holds {MAX_CUSTOM_EMOJI} custom emoji, as many as it may."),
        )),
    }
}

fn name_taken(name: &EmojiName) -> HttpError {
    HttpError::new(
        StatusCode::CONFLICT,
        ApiErrorCode::EmojiNameTaken,
        format!("There is an emoji called {} already.", name.shortcode()),
    )
}

/// `GET /api/emoji`: every custom emoji, oldest first (a whole list, so
/// counted in the user's directory budget).
pub async fn list(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, HttpError> {
    let user = state.signed_in(&request).await?;
    if !state
        .realtime
        .budgets
        .try_spend(RequestKind::Directory, &user.user.id.0)
    {
        state.realtime.metrics.refused("rate_limited");
        return Err(HttpError::rate_limited(std::time::Duration::from_secs(1)));
    }
    let emoji = state.realtime.store.custom_emoji().await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-cache"))
        .json(emoji))
}

/// `GET /api/emoji/{hash}`: a custom emoji's image. Only hashes recorded as
/// custom emoji are served here.
pub async fn image(
    request: HttpRequest,
    state: web::Data<AppState>,
    hash: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    state.signed_in(&request).await?;
    let hash = hash.into_inner();
    let mime = state
        .realtime
        .store
        .custom_emoji_mime(&hash)
        .await?
        .ok_or_else(HttpError::not_found)?;
    send(&request, &state, &hash, &mime, true, None).await
}
