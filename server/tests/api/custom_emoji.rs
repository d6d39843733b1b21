//! Custom emoji over real HTTP and sockets: anyone signed in adds one, it
//! is listed and served to everyone signed in (to nobody else), a large
//! image is scaled down, it can be a reaction while an unknown name cannot,
//! bad names and files get clear refusals and leave nothing stored, and the
//! janitor keeps an emoji's image even when an upload of the same bytes goes.

use actix_web::http::{StatusCode, header};
use image::ImageFormat;
use shared::api::{ApiError, ApiErrorCode, CustomEmoji};
use shared::limits::MAX_CUSTOM_EMOJI_BYTES;
use shared::{ClientMsg, ErrorCode, ServerMsg};

use crate::helpers::{TestApp, session_cookie};
use crate::uploads::{fetch, picture, upload};

async fn add_emoji(
    app: &TestApp,
    token: &str,
    name: &str,
    body: Vec<u8>,
) -> Result<CustomEmoji, (StatusCode, ApiErrorCode)> {
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(90))
        .finish();
    let mut response = client
        .post(app.url("/api/emoji"))
        .query(&[("name", name)])
        .unwrap()
        .insert_header(session_cookie(token))
        .send_body(body)
        .await
        .unwrap();
    if response.status() == StatusCode::CREATED {
        Ok(response.json().await.unwrap())
    } else {
        let error: ApiError = response.json().await.unwrap();
        Err((response.status(), error.code))
    }
}

async fn listed(app: &TestApp, token: &str) -> Vec<CustomEmoji> {
    let fetched = fetch(app, Some(token), "/api/emoji").await;
    assert_eq!(fetched.status, StatusCode::OK);
    serde_json::from_slice(&fetched.body).unwrap()
}

#[actix_web::test]
async fn an_emoji_anyone_adds_is_listed_served_and_usable_as_a_reaction_for_everyone() {
    let app = TestApp::spawn().await;
    let (mut alice, _, alice_token) = app.user("Alice").await;
    let (mut bob, _, bob_token) = app.user("Bob").await;
    let general = alice.general();

    let party = add_emoji(
        &app,
        &alice_token,
        ":PartyParrot:",
        picture(300, 200, ImageFormat::Png),
    )
    .await
    .unwrap();
    assert_eq!(party.name, "partyparrot");
    assert_eq!(listed(&app, &bob_token).await, vec![party.clone()]);

    // The image is served scaled down, inert, to anyone signed in.
    let served = fetch(&app, Some(&bob_token), &party.url()).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header(header::CONTENT_TYPE), "image/png");
    assert_eq!(served.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    let image = image::load_from_memory(&served.body).unwrap();
    assert_eq!(image.width().max(image.height()), 128);
    // Nobody else sees the list or the image.
    assert_eq!(
        fetch(&app, None, &party.url()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fetch(&app, None, "/api/emoji").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Only emoji images are served at that address.
    assert_eq!(
        fetch(
            &app,
            Some(&bob_token),
            &format!("/api/emoji/{}", "0".repeat(64))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // A reaction with it; an unknown custom name is no emoji.
    let seq = alice.post_to(&general, "release is out").await.unwrap();
    bob.send(&ClientMsg::React {
        channel: general.clone(),
        seq,
        emoji: ":partyparrot:".into(),
        add: true,
    })
    .await;
    let reactions = alice
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == seq => Some(message.reactions),
            _ => None,
        })
        .await;
    assert_eq!(reactions.len(), 1);
    assert_eq!(reactions[0].emoji, ":partyparrot:");
    for not_one in [":nosuchthing:", ":PartyParrot:", "partyparrot"] {
        bob.send(&ClientMsg::React {
            channel: general.clone(),
            seq,
            emoji: not_one.into(),
            add: true,
        })
        .await;
        assert_eq!(bob.next_error().await, ErrorCode::InvalidEmoji, "{not_one}");
    }
}

#[actix_web::test]
async fn bad_names_and_files_are_refused_clearly_and_keep_nothing() {
    let app = TestApp::spawn().await;
    let (_alice, _, token) = app.user("Alice").await;
    let small = picture(40, 40, ImageFormat::Png);
    add_emoji(&app, &token, "ship_it", small.clone())
        .await
        .unwrap();
    let stored = app.stored_files().await;

    let refused = [
        (
            "a",
            small.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::InvalidEmojiName,
        ),
        (
            "two words",
            small.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::InvalidEmojiName,
        ),
        (
            "smile",
            small.clone(),
            StatusCode::CONFLICT,
            ApiErrorCode::EmojiNameTaken,
        ),
        (
            "Ship_It",
            small.clone(),
            StatusCode::CONFLICT,
            ApiErrorCode::EmojiNameTaken,
        ),
        (
            "photo",
            picture(40, 40, ImageFormat::Jpeg),
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::InvalidFile,
        ),
        (
            "cut",
            small[..small.len() / 2].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::InvalidFile,
        ),
        (
            "words",
            b"<svg onload=alert(1)>".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::InvalidFile,
        ),
        (
            "empty",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
            ApiErrorCode::InvalidFile,
        ),
        (
            "huge",
            vec![0u8; MAX_CUSTOM_EMOJI_BYTES as usize + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            ApiErrorCode::TooLarge,
        ),
    ];
    for (name, body, status, code) in refused {
        assert_eq!(
            add_emoji(&app, &token, name, body).await.unwrap_err(),
            (status, code),
            "{name}"
        );
    }
    assert_eq!(listed(&app, &token).await.len(), 1);
    assert_eq!(app.stored_files().await, stored, "nothing more stored");
}

#[actix_web::test]
async fn the_janitor_keeps_an_emojis_image_when_an_upload_of_the_same_bytes_goes() {
    use chat_server::media::janitor::sweep;
    use chat_server::store::Store;

    let app = TestApp::spawn().await;
    let (alice, _, token) = app.user("Alice").await;
    let bytes = picture(48, 48, ImageFormat::Png);
    // Never posted: swept a day later; the same content as an emoji stays.
    upload(&app, &token, &alice.general(), "same.png", bytes.clone())
        .await
        .unwrap();
    let emoji = add_emoji(&app, &token, "same", bytes).await.unwrap();
    assert_eq!(app.stored_files().await, 1, "one content for both");
    let store = Store::open(&app.settings.database_url).await.unwrap();
    sweep(&store, &app.file_store(), i64::MAX).await.unwrap();
    store.close().await;
    assert_eq!(
        fetch(&app, Some(&token), &emoji.url()).await.status,
        StatusCode::OK
    );
}
