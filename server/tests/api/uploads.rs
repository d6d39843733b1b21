//! Uploads over real HTTP: the type comes from the bytes, bad and oversized
//! files are refused with a clear answer, images lose their metadata and get
//! thumbnails, files are stored once per content, served inert, and only to
//! members of the conversation they were posted in.

use std::io::Cursor;

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};
use shared::api::{ApiError, ApiErrorCode};
use shared::{
    Attachment, AttachmentKind, ChannelId, ChatMessage, ClientMsg, ErrorCode, FileId, ServerMsg,
};

use crate::helpers::{TestApp, WsClient, new_client_id, session_cookie};

/// A `width` x `height` image with a gradient, encoded as `format`.
pub(crate) fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let pixels = ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// A JPEG with an EXIF segment right after its start marker, holding `secret`
/// where a camera would put the GPS position.
fn jpeg_with_exif(secret: &str) -> Vec<u8> {
    let jpeg = picture(1000, 600, ImageFormat::Jpeg);
    let mut payload = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0".to_vec();
    payload.extend_from_slice(secret.as_bytes());
    let mut file = jpeg[..2].to_vec();
    file.extend_from_slice(&[0xFF, 0xE1]);
    file.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    file.extend_from_slice(&payload);
    file.extend_from_slice(&jpeg[2..]);
    file
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    channel: &ChannelId,
    name: &str,
    body: Vec<u8>,
) -> Result<Attachment, (StatusCode, ApiError)> {
    let url = app.url(&format!("/api/channels/{}/files", channel.0));
    // Image preparation may wait its turn behind others: a long timeout.
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(90))
        .finish();
    let mut response = client
        .post(url)
        .query(&[("name", name)])
        .unwrap()
        .insert_header(session_cookie(token))
        .send_body(body)
        .await
        .unwrap();
    if response.status() == StatusCode::CREATED {
        Ok(response.json().await.unwrap())
    } else {
        Err((response.status(), response.json().await.unwrap()))
    }
}

pub(crate) struct Fetched {
    pub status: StatusCode,
    pub headers: header::HeaderMap,
    pub body: Bytes,
}

impl Fetched {
    pub fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

pub(crate) async fn fetch(app: &TestApp, token: Option<&str>, path: &str) -> Fetched {
    let mut request = app.http().get(app.url(path));
    if let Some(token) = token {
        request = request.insert_header(session_cookie(token));
    }
    let mut response = request.send().await.unwrap();
    let mut headers = header::HeaderMap::new();
    for (name, value) in response.headers() {
        headers.insert(name.clone(), value.clone());
    }
    Fetched {
        status: response.status(),
        headers,
        body: response.body().limit(64 * 1024 * 1024).await.unwrap(),
    }
}

async fn post_files(client: &mut WsClient, channel: &ChannelId, caption: &str, files: &[FileId]) {
    client
        .send(&ClientMsg::Send {
            channel: channel.clone(),
            client_id: new_client_id(),
            text: caption.into(),
            attachments: files.to_vec(),
        })
        .await;
}

async fn acked_or_refused(client: &mut WsClient) -> Result<i64, ErrorCode> {
    client
        .recv_until(|m| match m {
            ServerMsg::Ack { seq, .. } => Some(Ok(seq)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

async fn next_message(client: &mut WsClient) -> ChatMessage {
    client
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn the_type_comes_from_the_bytes_and_bad_files_are_refused() {
    let app = TestApp::spawn().await;
    let (alice, _, token) = app.user("Alice").await;
    let general = alice.general();

    // A PNG named like text is an image.
    let png = picture(64, 48, ImageFormat::Png);
    let file = upload(&app, &token, &general, "notes.txt", png.clone())
        .await
        .unwrap();
    assert_eq!(file.kind, AttachmentKind::Image);
    assert_eq!(file.mime, "image/png");
    assert_eq!((file.width, file.height), (Some(64), Some(48)));
    assert!(!file.thumbnail, "small images are shown as they are");
    assert_eq!(file.name, "notes.txt");

    // HTML named like an image, and an SVG with a script: downloads, never inline.
    let html = b"<!doctype html><script>document.cookie</script>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    for (name, body) in [("cute-cat.png", html), ("logo.svg", svg)] {
        let file = upload(&app, &token, &general, name, body.clone())
            .await
            .unwrap();
        assert_eq!(file.kind, AttachmentKind::File, "{name}");
        assert_eq!(file.mime, "application/octet-stream", "{name}");
        let fetched = fetch(&app, Some(&token), &file.url()).await;
        assert_eq!(fetched.status, StatusCode::OK);
        assert_eq!(fetched.body.as_ref(), body.as_slice());
        assert_eq!(
            fetched.header(header::CONTENT_TYPE),
            "application/octet-stream"
        );
        assert_eq!(fetched.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(
            fetched
                .header(header::CONTENT_DISPOSITION)
                .starts_with("attachment"),
            "{}",
            fetched.header(header::CONTENT_DISPOSITION)
        );
        assert!(
            fetched
                .header(header::CONTENT_SECURITY_POLICY)
                .contains("sandbox")
        );
    }

    // Cut-off images are refused, as is an empty file.
    let jpeg = picture(300, 200, ImageFormat::Jpeg);
    for (name, body) in [
        ("half.png", png[..png.len() / 2].to_vec()),
        ("half.jpg", jpeg[..jpeg.len() * 2 / 3].to_vec()),
        ("empty.bin", Vec::new()),
    ] {
        let (status, error) = upload(&app, &token, &general, name, body)
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert_eq!(error.code, ApiErrorCode::InvalidFile, "{name}");
        assert!(!error.message.is_empty());
    }

    // Uploads need a session and a conversation you are in.
    let url = app.url(&format!("/api/channels/{}/files", general.0));
    let response = app.http().post(url).send_body("x").await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = upload(
        &app,
        &token,
        &ChannelId("nope".into()),
        "a.txt",
        b"hi".to_vec(),
    )
    .await
    .unwrap_err();
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn images_lose_their_metadata_and_get_thumbnails_and_content_is_stored_once() {
    let app = TestApp::spawn().await;
    let (_alice, _, token) = app.user("Alice").await;
    let general = _alice.general();
    let photo = jpeg_with_exif("GPS 51.5007N 0.1246W secret-spot");
    assert!(photo.windows(11).any(|w| w == b"secret-spot"));

    let file = upload(&app, &token, &general, "holiday.jpg", photo.clone())
        .await
        .unwrap();
    assert_eq!(file.mime, "image/jpeg");
    assert_eq!((file.width, file.height), (Some(1000), Some(600)));
    assert!(file.thumbnail);

    let full = fetch(&app, Some(&token), &file.url()).await;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(full.header(header::CONTENT_TYPE), "image/jpeg");
    assert!(
        full.header(header::CONTENT_DISPOSITION)
            .starts_with("inline")
    );
    assert!(
        full.header(header::CACHE_CONTROL)
            .contains("max-age=31536000")
    );
    assert!(
        !full.body.windows(11).any(|w| w == b"secret-spot"),
        "the EXIF segment is gone"
    );
    let decoded = image::load_from_memory(&full.body).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1000, 600));

    let thumbnail = fetch(&app, Some(&token), &file.thumbnail_url()).await;
    assert_eq!(thumbnail.status, StatusCode::OK);
    let small = image::load_from_memory(&thumbnail.body).unwrap();
    assert!(small.width() <= 480 && small.height() <= 480);
    assert_eq!(small.width(), 480);

    // Video is recognised by its bytes and can be fetched in ranges (seeking).
    // ftyp, then a movie box whose user data holds a GPS position, then the frames.
    let mut mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    let xyz = b"\0\0\0\x1a\xa9xyz+51.5007-000.1246/";
    mp4.extend_from_slice(&((8 + 8 + xyz.len()) as u32).to_be_bytes());
    mp4.extend_from_slice(b"moov");
    mp4.extend_from_slice(&((8 + xyz.len()) as u32).to_be_bytes());
    mp4.extend_from_slice(b"udta");
    mp4.extend_from_slice(xyz);
    mp4.extend_from_slice(&(8 + 4096u32).to_be_bytes());
    mp4.extend_from_slice(b"mdat");
    mp4.extend(std::iter::repeat_n(7u8, 4096));
    let video = upload(&app, &token, &general, "clip.mp4", mp4.clone())
        .await
        .unwrap();
    assert_eq!(video.kind, AttachmentKind::Video);
    assert_eq!(video.mime, "video/mp4");
    let mut ranged = app
        .http()
        .get(app.url(&video.url()))
        .insert_header(session_cookie(&token))
        .insert_header((header::RANGE, "bytes=0-31"))
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        ranged.body().await.unwrap().as_ref(),
        &mp4[..32],
        "ftyp untouched"
    );
    let stored = fetch(&app, Some(&token), &video.url()).await;
    assert_eq!(stored.body.len(), mp4.len(), "nothing moved");
    assert!(
        !stored.body.windows(5).any(|w| w == b"+51.5"),
        "the location is gone"
    );
    assert!(stored.body.ends_with(&[7u8; 4096]), "the frames are intact");
    // A cut-off video is refused.
    let (status, _) = upload(
        &app,
        &token,
        &general,
        "cut.mp4",
        mp4[..mp4.len() - 100].to_vec(),
    )
    .await
    .unwrap_err();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The same bytes again: a new file id, the same stored content.
    let before = app.stored_files().await;
    let again = upload(&app, &token, &general, "copy.jpg", photo)
        .await
        .unwrap();
    assert_ne!(again.id, file.id);
    assert_eq!(app.stored_files().await, before);
}

#[actix_web::test]
async fn oversized_uploads_are_refused_without_being_stored() {
    let app = TestApp::spawn_with(|s| s.max_upload_bytes = 10_000).await;
    let (alice, _, token) = app.user("Alice").await;
    let general = alice.general();

    // Refused from Content-Length, before the body is read.
    let (status, error) = upload(&app, &token, &general, "big.bin", vec![1; 10_001])
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error.code, ApiErrorCode::TooLarge);

    // Without a length (chunked), refused once the stream passes the limit.
    let chunks = futures_util::stream::iter(
        (0..20).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![2u8; 1000]))),
    );
    let response = app
        .http()
        .post(app.url(&format!(
            "/api/channels/{}/files?name=stream.bin",
            general.0
        )))
        .insert_header(session_cookie(&token))
        .send_stream(chunks)
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE),
        // The server may close the connection before the client finished sending.
        Err(error) => eprintln!("the server cut the upload off: {error}"),
    }

    assert_eq!(app.stored_files().await, 0);
    let tmp = std::fs::read_dir(app.settings.files_dir.join("tmp")).unwrap();
    assert_eq!(tmp.count(), 0, "partial uploads are removed");

    // At the limit is fine.
    upload(&app, &token, &general, "fits.bin", vec![3; 10_000])
        .await
        .unwrap();
}

#[actix_web::test]
async fn files_are_posted_once_and_fetched_only_by_members_until_deleted() {
    let mut app = TestApp::spawn().await;
    let (mut alice, _, alice_token) = app.user("Alice").await;
    let (mut bob, bob_user, bob_token) = app.user("Bob").await;
    alice.online_notice().await;
    let general = alice.general();

    let secret = alice.create_channel("secret", true).await.id;

    // Bob cannot upload into a private channel he is not in.
    let png = picture(40, 30, ImageFormat::Png);
    let (status, _) = upload(&app, &bob_token, &secret, "x.png", png.clone())
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::NOT_FOUND);

    let file = upload(&app, &alice_token, &secret, "plan.png", png.clone())
        .await
        .unwrap();
    // Before it is posted, only the uploader can see it.
    assert_eq!(
        fetch(&app, Some(&alice_token), &file.url()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, Some(&bob_token), &file.url()).await.status,
        StatusCode::NOT_FOUND
    );

    // Bob cannot post Alice's upload, not even in a channel he is in.
    post_files(&mut bob, &general, "", std::slice::from_ref(&file.id)).await;
    assert_eq!(
        acked_or_refused(&mut bob).await,
        Err(ErrorCode::InvalidAttachment)
    );
    // Alice cannot post it to another channel than the one it was uploaded to.
    post_files(&mut alice, &general, "", std::slice::from_ref(&file.id)).await;
    assert_eq!(
        acked_or_refused(&mut alice).await,
        Err(ErrorCode::InvalidAttachment)
    );
    // Too many files for one message.
    let many = vec![file.id.clone(); 11];
    post_files(&mut alice, &secret, "", &many).await;
    assert_eq!(
        acked_or_refused(&mut alice).await,
        Err(ErrorCode::InvalidAttachment)
    );

    post_files(&mut alice, &secret, "", std::slice::from_ref(&file.id)).await;
    let seq = acked_or_refused(&mut alice).await.unwrap();
    // Posted once only.
    post_files(&mut alice, &secret, "again", std::slice::from_ref(&file.id)).await;
    assert_eq!(
        acked_or_refused(&mut alice).await,
        Err(ErrorCode::InvalidAttachment)
    );

    // Not a member: not found, like an id that does not exist; not signed in: 401.
    for path in [file.url(), file.thumbnail_url()] {
        assert_eq!(
            fetch(&app, Some(&bob_token), &path).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            fetch(&app, None, &path).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        fetch(
            &app,
            Some(&bob_token),
            "/api/files/0123456789abcdef0123456789abcdef"
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // Invited, Bob sees it, in the catch-up too.
    alice
        .send(&ClientMsg::Invite {
            channel: secret.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    bob.recv_until(|m| matches!(m, ServerMsg::ChannelJoined { .. }).then_some(()))
        .await;
    let fetched = fetch(&app, Some(&bob_token), &file.url()).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body.as_ref(), png.as_slice());

    // A caption-less message with two files reaches Bob live with both.
    let doc = upload(
        &app,
        &alice_token,
        &secret,
        "notes.pdf",
        b"%PDF-1.4 hello".to_vec(),
    )
    .await
    .unwrap();
    let pic = upload(&app, &alice_token, &secret, "b.png", png.clone())
        .await
        .unwrap();
    post_files(
        &mut alice,
        &secret,
        "two files",
        &[doc.id.clone(), pic.id.clone()],
    )
    .await;
    acked_or_refused(&mut alice).await.unwrap();
    let live = next_message(&mut bob).await;
    assert_eq!(live.text, "two files");
    let names: Vec<&str> = live.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["notes.pdf", "b.png"]);
    assert_eq!(live.attachments[0].mime, "application/pdf");

    // After a restart the history still has them, in order.
    app.restart().await;
    let mut bob = app.connect(&bob_token).await;
    bob.welcome().await;
    bob.send(&ClientMsg::Sync {
        channel: secret.clone(),
        after_seq: None,
        after_change: None,
    })
    .await;
    let history = bob
        .recv_until(|m| match m {
            ServerMsg::Synced { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert_eq!(history[0].attachments, vec![file.clone()]);
    assert_eq!(history[1].attachments.len(), 2);

    // Deleting the message hides the file from everyone.
    let mut alice = app.connect(&alice_token).await;
    alice.welcome().await;
    alice
        .send(&ClientMsg::Delete {
            channel: secret.clone(),
            seq,
        })
        .await;
    let deleted = bob
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } => Some(message),
            _ => None,
        })
        .await;
    assert!(deleted.deleted && deleted.attachments.is_empty());
    for token in [&alice_token, &bob_token] {
        assert_eq!(
            fetch(&app, Some(token), &file.url()).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[actix_web::test]
async fn unposted_uploads_and_files_of_deleted_messages_are_swept_from_disk() {
    use chat_server::media::janitor::sweep;
    use chat_server::store::Store;

    let app = TestApp::spawn().await;
    let (mut alice, _, token) = app.user("Alice").await;
    let general = alice.general();
    let kept = picture(30, 30, ImageFormat::Png);
    let gone = picture(31, 31, ImageFormat::Png);
    let abandoned = picture(32, 32, ImageFormat::Png);

    // One content posted twice; one deleted; one never posted.
    let first = upload(&app, &token, &general, "a.png", kept.clone())
        .await
        .unwrap();
    let second = upload(&app, &token, &general, "b.png", kept).await.unwrap();
    let doomed = upload(&app, &token, &general, "c.png", gone).await.unwrap();
    let lost = upload(&app, &token, &general, "d.png", abandoned)
        .await
        .unwrap();
    post_files(
        &mut alice,
        &general,
        "",
        &[first.id.clone(), doomed.id.clone()],
    )
    .await;
    let seq = acked_or_refused(&mut alice).await.unwrap();
    post_files(&mut alice, &general, "", std::slice::from_ref(&second.id)).await;
    acked_or_refused(&mut alice).await.unwrap();
    alice
        .send(&ClientMsg::Delete {
            channel: general.clone(),
            seq,
        })
        .await;
    alice
        .recv_until(|m| matches!(m, ServerMsg::MessageUpdated { .. }).then_some(()))
        .await;
    assert_eq!(app.stored_files().await, 3);

    // A sweep with a cutoff in the past keeps fresh unposted uploads.
    let store = Store::open(&app.settings.database_url).await.unwrap();
    let files = app.file_store();
    assert_eq!(
        sweep(&store, &files, 0).await.unwrap(),
        1,
        "only the deleted message's file"
    );
    assert_eq!(app.stored_files().await, 2);
    assert_eq!(
        fetch(&app, Some(&token), &lost.url()).await.status,
        StatusCode::OK
    );

    // A day later the abandoned upload goes too; content still posted stays.
    let tomorrow = i64::MAX;
    assert_eq!(sweep(&store, &files, tomorrow).await.unwrap(), 1);
    assert_eq!(app.stored_files().await, 1);
    assert_eq!(
        fetch(&app, Some(&token), &lost.url()).await.status,
        StatusCode::NOT_FOUND
    );
    let still = fetch(&app, Some(&token), &second.url()).await;
    assert_eq!(still.status, StatusCode::OK);
    assert_eq!(sweep(&store, &files, tomorrow).await.unwrap(), 0);
    store.close().await;
}

#[actix_web::test]
async fn uploads_are_limited_per_user_and_minute() {
    let app = TestApp::spawn().await;
    let (alice, _, alice_token) = app.user("Alice").await;
    let (_bob, _, bob_token) = app.user("Bob").await;
    let general = alice.general();
    // 60 at once, then one a second: uploading as fast as possible is
    // refused after about 60, however long each upload takes.
    let mut accepted = 0;
    let refusal = loop {
        match upload(
            &app,
            &alice_token,
            &general,
            "n.txt",
            format!("note {accepted}").into_bytes(),
        )
        .await
        {
            Ok(_) => accepted += 1,
            Err(refusal) => break refusal,
        }
        assert!(accepted <= 200, "never refused");
    };
    assert!(accepted >= 60, "{accepted}");
    let (status, error) = refusal;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error.code, ApiErrorCode::RateLimited);
    // Others are not held up by Alice.
    upload(&app, &bob_token, &general, "b.txt", b"hi".to_vec())
        .await
        .unwrap();
}

#[actix_web::test]
async fn uploads_during_a_database_outage_get_a_clear_error_and_work_after() {
    let app = TestApp::spawn().await;
    let (alice, _, token) = app.user("Alice").await;
    let general = alice.general();
    let before = upload(&app, &token, &general, "before.txt", b"kept".to_vec())
        .await
        .unwrap();

    app.outside_sql("ALTER TABLE files RENAME TO files_away")
        .await;
    let photo = picture(64, 64, ImageFormat::Png);
    let (status, error) = upload(&app, &token, &general, "p.png", photo.clone())
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error.code, ApiErrorCode::Unavailable);
    assert!(error.message.contains("try again"), "{}", error.message);
    assert_eq!(
        fetch(&app, Some(&token), &before.url()).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    app.outside_sql("ALTER TABLE files_away RENAME TO files")
        .await;
    let stored = app.stored_files().await;
    let again = upload(&app, &token, &general, "p.png", photo)
        .await
        .unwrap();
    assert_eq!(
        app.stored_files().await,
        stored,
        "the bytes kept from the failed try are reused"
    );
    assert_eq!(
        fetch(&app, Some(&token), &again.url()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&app, Some(&token), &before.url()).await.status,
        StatusCode::OK
    );
}

/// A GIF of `width` x `height` with `frames` frames of one pixel each: tiny
/// on disk, but every frame is drawn onto the whole canvas when decoded.
fn gif_bomb(width: u16, height: u16, frames: usize) -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&width.to_le_bytes());
    gif.extend_from_slice(&height.to_le_bytes());
    gif.extend_from_slice(&[0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    for _ in 0..frames {
        gif.extend_from_slice(&[0x21, 0xF9, 4, 0, 10, 0, 0, 0]);
        gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
        // LZW, minimum code size 2: clear, pixel 0, end.
        gif.extend_from_slice(&[2, 2, 0x44, 0x01, 0]);
    }
    gif.push(0x3B);
    gif
}

#[actix_web::test]
async fn an_animation_bomb_is_refused_quickly_and_others_upload_meanwhile() {
    let app = TestApp::spawn().await;
    let (alice, _, alice_token) = app.user("Alice").await;
    let (_bob, _, bob_token) = app.user("Bob").await;
    let general = alice.general();
    let bomb = gif_bomb(2000, 2000, 2000);
    assert!(bomb.len() < 50_000, "{} bytes", bomb.len());
    let started = std::time::Instant::now();
    let (refused, others) = futures_util::join!(
        upload(&app, &alice_token, &general, "bomb.gif", bomb),
        upload(
            &app,
            &bob_token,
            &general,
            "fine.png",
            picture(300, 200, ImageFormat::Png)
        ),
    );
    let (status, error) = refused.unwrap_err();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error.message.contains("animation is too large"),
        "{}",
        error.message
    );
    assert!(others.is_ok());
    // 8 billion pixels would take minutes; the budget stops it within moments.
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    // A small animation is fine.
    upload(
        &app,
        &alice_token,
        &general,
        "ok.gif",
        gif_bomb(100, 100, 50),
    )
    .await
    .unwrap();
}

#[actix_web::test]
async fn uploads_beyond_those_waiting_for_the_image_slots_are_told_to_retry() {
    let app = TestApp::spawn().await;
    let (alice, _, token) = app.user("Alice").await;
    let general = alice.general();
    let heavy = picture(2500, 2500, ImageFormat::Png);
    let answers = futures_util::future::join_all(
        (0..14).map(|_| upload(&app, &token, &general, "heavy.png", heavy.clone())),
    )
    .await;
    let busy = answers
        .iter()
        .filter(|answer| matches!(answer, Err((StatusCode::SERVICE_UNAVAILABLE, _))))
        .count();
    let stored = answers.iter().filter(|answer| answer.is_ok()).count();
    assert_eq!(busy + stored, 14, "{answers:?}");
    // 2 at work and 8 waiting at most: the rest are told to retry at once
    // (and a waiting one whose turn does not come within 10 s too, on a
    // slow machine).
    assert!(busy >= 4, "busy {busy}, stored {stored}: {answers:?}");
    assert!(stored >= 2, "busy {busy}, stored {stored}: {answers:?}");
}

#[actix_web::test]
async fn a_photo_with_a_second_image_appended_loses_both_locations() {
    let app = TestApp::spawn().await;
    let (alice, _, token) = app.user("Alice").await;
    let mut photo = jpeg_with_exif("GPS 51.5007N 0.1246W");
    // A second image after the first one's end, with its own location: how
    // phones store previews and "motion photos".
    photo.extend(jpeg_with_exif("GPS 48.8584N 2.2945E"));
    let attachment = upload(&app, &token, &alice.general(), "photo.jpg", photo)
        .await
        .unwrap();
    let served = fetch(&app, Some(&token), &attachment.url()).await;
    assert!(!served.body.windows(3).any(|w| w == b"GPS"));
    assert!(served.body.ends_with(&[0xFF, 0xD9]));
    assert_eq!(
        served
            .body
            .windows(2)
            .filter(|w| *w == [0xFF, 0xD8])
            .count(),
        1,
        "one image"
    );
}

#[actix_web::test]
async fn file_names_lose_direction_overrides() {
    let app = TestApp::spawn().await;
    let (alice, _, token) = app.user("Alice").await;
    let attachment = upload(
        &app,
        &token,
        &alice.general(),
        "invoice\u{202E}fdp.exe",
        b"MZ not really a program".to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(attachment.name, "invoicefdp.exe");
}

#[actix_web::test]
async fn sweeping_many_files_never_holds_up_messages() {
    use chat_server::media::janitor::sweep;
    use chat_server::store::Store;

    use crate::helpers::on_postgres;

    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let general = alice.general();
    // 40,000 uploads nobody posted: half from long ago (to be forgotten,
    // each checked against everything kept), half fresh (kept).
    let (numbers, hash) = if on_postgres() {
        (
            "SELECT generate_series(1, 40000) AS i",
            "lpad(i::text, 64, '0')",
        )
    } else {
        (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40000)
             SELECT i FROM n",
            "printf('%064d', i)",
        )
    };
    // Ids made by the server: hex, nothing to escape.
    let (channel, uploader) = (&general.0, &alice_user.id.0);
    app.outside_sql(&format!(
        "INSERT INTO files (id, channel_id, uploader_id, name, kind, mime, size, sha256, created_at)
         SELECT 'old' || i, '{channel}', '{uploader}', 'old.bin', 'file',
                'application/octet-stream', 1, {hash},
                CASE WHEN i % 2 = 0 THEN 0 ELSE 9000000000000 END
         FROM ({numbers}) AS n"
    ))
    .await;
    let store = Store::open(&app.settings.database_url).await.unwrap();
    let files = app.file_store();
    let sweeping = tokio::spawn(async move {
        let removed = sweep(&store, &files, 1).await;
        store.close().await;
        removed
    });
    let mut acked = 0;
    while !sweeping.is_finished() || acked < 50 {
        let id = alice.say(&format!("during the sweep {acked}")).await;
        let outcome = alice
            .recv_until(|m| match m {
                ServerMsg::Ack { client_id, .. } if client_id == id => Some(Ok(())),
                ServerMsg::Error {
                    code,
                    client_id: Some(client_id),
                    ..
                } if client_id == id => Some(Err(code)),
                _ => None,
            })
            .await;
        assert_eq!(outcome, Ok(()), "message {acked} during the sweep");
        acked += 1;
        assert!(acked < 5_000, "the sweep never finished");
    }
    sweeping.await.unwrap().unwrap();
    let left = app.outside_count("SELECT COUNT(*) FROM files").await;
    assert_eq!(left, 20_000, "the fresh half stays");
}

#[actix_web::test]
async fn each_user_has_an_hourly_upload_volume() {
    let app = TestApp::spawn_with(|settings| settings.upload_mib_per_hour = 3).await;
    let (alice, _, alice_token) = app.user("Alice").await;
    let (_bob, _, bob_token) = app.user("Bob").await;
    let general = alice.general();
    let two_mib = vec![7u8; 2 * 1024 * 1024];
    upload(&app, &alice_token, &general, "a.bin", two_mib.clone())
        .await
        .unwrap();
    let (status, error) = upload(&app, &alice_token, &general, "b.bin", two_mib.clone())
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error.code, ApiErrorCode::RateLimited);
    assert!(error.message.contains("last hour"), "{}", error.message);
    // Someone else's volume is their own.
    upload(&app, &bob_token, &general, "c.bin", two_mib)
        .await
        .unwrap();
}
