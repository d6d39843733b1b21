//! Files and link previews in the browser: pictures and videos sent by one
//! person show for another, other files as download cards, a damaged image
//! is refused with a message, and a link gets the server's preview card
//! (pages served by a test site on 127.0.0.2); a linked video loads from its
//! site only once the reader clicks play.

use std::io::Cursor;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};

use crate::harness::{Browser, Driver, TestServer};
use crate::signed_in;

fn picture(width: u32, height: u32) -> Vec<u8> {
    let pixels = ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x / 4 % 256) as u8, (y / 3 % 256) as u8, 180])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// The smallest file the server takes for an MP4 video.
fn tiny_mp4() -> Vec<u8> {
    let mut mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    mp4.extend(std::iter::repeat_n(0u8, 2048));
    mp4
}

fn write(folder: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = folder.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Chooses files through the hidden file input, as the file picker would.
async fn choose(browser: &Browser, files: &[&Path]) {
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    browser
        .find("file-input")
        .await
        .send_keys(&paths.join("\n"))
        .await
        .unwrap();
}

/// Waits until nothing is uploading any more and a file is ready to post.
async fn wait_uploaded(browser: &Browser) {
    browser
        .eventually("the uploads are ready", || async {
            browser.all("upload-progress").await.is_empty()
                && browser
                    .client
                    .source()
                    .await
                    .unwrap_or_default()
                    .contains("upload-item ready")
        })
        .await;
}

/// Whether every `data-testid` element's image or video in the last message has loaded.
async fn last_message_media_loaded(browser: &Browser) -> bool {
    let loaded = browser
        .client
        .execute(
            "const m = [...document.querySelectorAll('[data-testid=\"message\"]')].pop();
             const imgs = [...m.querySelectorAll('img')];
             return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);",
            vec![],
        )
        .await
        .unwrap();
    loaded == serde_json::json!(true)
}

/// A small site on 127.0.0.2: an article with OpenGraph tags and its image.
async fn test_site() -> (actix_web::dev::ServerHandle, u16) {
    let cover = picture(600, 300);
    let server = HttpServer::new(move || {
        let cover = cover.clone();
        App::new()
            .route(
                "/article",
                web::get().to(|| async {
                    HttpResponse::Ok().content_type("text/html").body(
                        r#"<html><head><title>x</title>
                        <meta property="og:title" content="Ferris &amp; friends">
                        <meta property="og:description" content="A crab's guide to systems.">
                        <meta property="og:site_name" content="Crab News">
                        <meta property="og:image" content="/cover.png"></head></html>"#,
                    )
                }),
            )
            .route(
                "/cover.png",
                web::get().to(move || {
                    let cover = cover.clone();
                    async move { HttpResponse::Ok().content_type("image/png").body(cover) }
                }),
            )
    })
    .workers(1)
    .bind(("127.0.0.2", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (handle, port)
}

/// The test site, and a chat server that previews links to it (by the name
/// `crab.news.test`).
async fn with_previews() -> (actix_web::dev::ServerHandle, u16, TestServer) {
    let (site, site_port) = test_site().await;
    let site_ip: IpAddr = "127.0.0.2".parse().unwrap();
    let server = TestServer::start_with(|settings| {
        settings.link_previews = true;
        settings.preview_allowed_addresses = vec![site_ip];
        settings.preview_resolve = vec![("crab.news.test".into(), site_ip)];
    })
    .await;
    (site, site_port, server)
}

#[actix_web::test]
async fn pictures_videos_files_and_link_previews_reach_everyone() {
    let (site, site_port, server) = with_previews().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    alice.wait_connected().await;

    let folder = tempfile::TempDir::new().unwrap();
    let photo = write(folder.path(), "beach.png", &picture(900, 500));
    let clip = write(folder.path(), "waves.mp4", &tiny_mp4());
    let notes = write(folder.path(), "notes.pdf", b"%PDF-1.4\n% a document\n");
    let whole = picture(50, 50);
    let broken = write(folder.path(), "broken.png", &whole[..whole.len() / 2]);

    // A picture and a video at once, with a caption typed first.
    alice
        .find("message-input")
        .await
        .send_keys("holiday pics")
        .await
        .unwrap();
    choose(&alice, &[&photo, &clip]).await;
    // Send right away: the message goes out once both uploads are done; a
    // remark sent meanwhile is its own message and comes after it.
    alice.find("send-button").await.click().await.unwrap();
    alice.send_with_enter("and a remark").await;
    bob.wait_for_message("Alice: holiday pics").await;
    bob.find("message-image").await;
    bob.find("message-video").await;
    bob.wait_for_message("Alice: and a remark").await;
    let lines = bob.messages().await;
    let photos = lines.iter().position(|l| l == "Alice: holiday pics");
    let remark = lines.iter().position(|l| l == "Alice: and a remark");
    assert!(photos < remark, "{lines:?}");
    bob.eventually("the picture loads for Bob", || async {
        bob.client
            .execute(
                "return [...document.querySelectorAll('[data-testid=\"message-image\"]')]
                     .every(i => i.complete && i.naturalWidth > 0);",
                vec![],
            )
            .await
            .unwrap()
            == serde_json::json!(true)
    })
    .await;
    let alt = bob.find("message-image").await.attr("alt").await.unwrap();
    assert_eq!(alt.as_deref(), Some("beach.png"));
    // A click shows the full picture over the page; Escape closes it.
    bob.find("message-image").await.click().await.unwrap();
    bob.find("image-viewer").await;
    bob.eventually("the full-size picture loads", || async {
        bob.client
            .execute(
                "const i = document.querySelector('[data-testid=\"image-viewer\"] img');
                 return i.complete && i.naturalWidth === 900;",
                vec![],
            )
            .await
            .unwrap()
            == serde_json::json!(true)
    })
    .await;
    bob.screenshot("image-viewer").await.unwrap();
    bob.find("image-viewer")
        .await
        .send_keys("\u{E00C}")
        .await
        .unwrap();
    bob.eventually("the viewer closes", || async {
        !bob.exists("image-viewer").await
    })
    .await;

    // Another file, sent with Enter and no caption: a download card.
    choose(&alice, &[&notes]).await;
    wait_uploaded(&alice).await;
    alice
        .find("message-input")
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap();
    let card = bob.find("message-file").await;
    let text = card.text().await.unwrap();
    assert!(text.contains("notes.pdf"), "{text}");
    let download = bob
        .client
        .execute(
            "return document.querySelector('[data-testid=\"message-file\"] a').getAttribute('download');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(download, serde_json::json!("notes.pdf"));

    // A damaged picture is refused with a reason, and nothing is posted.
    choose(&alice, &[&broken]).await;
    let error = alice.find("upload-error").await.text().await.unwrap();
    assert!(error.contains("damaged"), "{error}");
    alice.screenshot("upload-refused").await.unwrap();

    // A link gets the server's preview card, image copied to this server.
    alice
        .send_with_enter(&format!("news: http://crab.news.test:{site_port}/article"))
        .await;
    let card = bob.find("link-preview").await;
    bob.eventually("the preview's title shows", || async {
        card.text()
            .await
            .unwrap_or_default()
            .contains("Ferris & friends")
    })
    .await;
    bob.eventually("the preview's image loads", || async {
        last_message_media_loaded(&bob).await
    })
    .await;
    bob.screenshot("files-and-previews").await.unwrap();

    site.stop(true).await;
    alice.close().await;
    bob.close().await;
}

/// Hands files to the page the way a drop or a paste does, from JavaScript.
async fn hand_over(browser: &Browser, how: &str, name: &str, mime: &str, bytes: &[u8]) {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    browser
        .client
        .execute(
            "const [how, name, mime, data] = arguments;
             const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
             const transfer = new DataTransfer();
             transfer.items.add(new File([bytes], name, { type: mime }));
             if (how === 'drop') {
                 const area = document.querySelector('main.conversation');
                 area.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
                 area.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
             } else {
                 const input = document.querySelector('[data-testid=\"message-input\"]');
                 input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
             }",
            vec![how.into(), name.into(), mime.into(), encoded.into()],
        )
        .await
        .unwrap();
}

#[actix_web::test]
async fn uploads_show_progress_can_be_cancelled_and_come_by_drop_and_paste() {
    let mut server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    alice.wait_connected().await;

    // A large upload shows its progress bar and can be cancelled while it
    // runs: the page drops 20 MB and clicks Cancel on the next frames.
    let cancelled = alice
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const transfer = new DataTransfer();
             transfer.items.add(new File([new Uint8Array(20 * 1024 * 1024)], 'big.bin'));
             document.querySelector('main.conversation').dispatchEvent(
                 new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
             const cancel = () => {
                 const bar = document.querySelector('[data-testid=\"upload-progress\"]');
                 const button = document.querySelector('.upload-item.uploading .upload-remove');
                 if (bar && button) { button.click(); done('cancelled while uploading'); }
                 else if (document.querySelector('.upload-item.ready')) { done('finished first'); }
                 else { requestAnimationFrame(cancel); }
             };
             requestAnimationFrame(cancel);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(cancelled, serde_json::json!("cancelled while uploading"));
    alice
        .eventually("the cancelled upload leaves the tray", || async {
            alice.all("upload-progress").await.is_empty()
        })
        .await;
    assert!(
        !alice.client.source().await.unwrap().contains("big.bin"),
        "a cancelled upload is gone for good"
    );

    // Dropped onto the conversation: uploaded, then sent with Enter.
    hand_over(&alice, "drop", "dropped.png", "image/png", &picture(80, 60)).await;
    wait_uploaded(&alice).await;
    alice.screenshot("upload-ready").await.unwrap();
    alice
        .find("message-input")
        .await
        .send_keys("dropped in\u{E007}")
        .await
        .unwrap();
    bob.wait_for_message("Alice: dropped in").await;
    let image = bob.find("message-image").await;
    assert_eq!(
        image.attr("alt").await.unwrap().as_deref(),
        Some("dropped.png")
    );

    // Pasted into the message box: the same.
    hand_over(
        &alice,
        "paste",
        "pasted.txt",
        "text/plain",
        b"from the clipboard",
    )
    .await;
    wait_uploaded(&alice).await;
    alice.find("send-button").await.click().await.unwrap();
    let card = bob.find("message-file").await;
    assert!(card.text().await.unwrap().contains("pasted.txt"));
    assert!(
        !bob.client.source().await.unwrap().contains("big.bin"),
        "the cancelled file was never posted"
    );

    // The server goes away mid-conversation: the upload fails with a reason
    // and a Retry button; once the server is back, Retry sends it.
    server.stop().await;
    hand_over(&alice, "drop", "later.png", "image/png", &picture(70, 40)).await;
    let error = alice.find("upload-error").await.text().await.unwrap();
    assert!(error.contains("connection"), "{error}");
    server.start_again().await;
    alice.wait_connected().await;
    alice
        .client
        .find(fantoccini::Locator::Css(".upload-retry"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_uploaded(&alice).await;
    alice.send_with_enter("sent after all").await;
    bob.wait_for_message("Alice: sent after all").await;
    let pictures = bob.all("message-image").await;
    let last = pictures.last().unwrap().attr("alt").await.unwrap();
    assert_eq!(last.as_deref(), Some("later.png"));

    alice.close().await;
    bob.close().await;
}

/// A short conversation as people write it: each caption stays with its
/// picture and the next message stands on its own. Its screenshot is the
/// README's picture: with `UPDATE_README_SCREENSHOT=1` it is copied to
/// docs/screenshot.png.
#[actix_web::test]
async fn a_captioned_picture_and_a_link_read_in_order() {
    let (site, site_port, server) = with_previews().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    alice.wait_connected().await;
    bob.send_with_enter("Morning! Are the photos from the trip up yet?")
        .await;
    alice
        .wait_for_message("Bob: Morning! Are the photos from the trip up yet?")
        .await;
    let sunset = ImageBuffer::from_fn(1200, 640, |x, y| {
        let (fx, fy) = (x as f32 / 1200.0, y as f32 / 640.0);
        Rgb([
            (250.0 - 90.0 * fy) as u8,
            (170.0 * (1.0 - fy) + 40.0 * fx) as u8,
            (80.0 + 140.0 * fy) as u8,
        ])
    });
    let mut encoded = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(sunset)
        .write_to(&mut encoded, ImageFormat::Png)
        .unwrap();
    let folder = tempfile::TempDir::new().unwrap();
    let photo = write(folder.path(), "sunset.png", &encoded.into_inner());
    alice
        .find("message-input")
        .await
        .send_keys("**Sunset** at the beach, more tomorrow")
        .await
        .unwrap();
    choose(&alice, &[&photo]).await;
    alice.find("send-button").await.click().await.unwrap();
    alice
        .send_with_enter(&format!(
            "And the write-up: http://crab.news.test:{site_port}/article"
        ))
        .await;
    bob.find("link-preview").await;
    bob.send_with_enter("Gorgeous! Reading it now. `cargo xtask run` really was all it took?")
        .await;
    bob.eventually("the pictures load", || async {
        bob.client
            .execute(
                "return [...document.images].every(i => i.complete && i.naturalWidth > 0);",
                vec![],
            )
            .await
            .unwrap()
            == serde_json::json!(true)
    })
    .await;
    let lines = bob.messages().await;
    assert_eq!(
        lines,
        [
            "Bob: Morning! Are the photos from the trip up yet?".to_string(),
            "Alice: Sunset at the beach, more tomorrow".into(),
            format!("Alice: And the write-up: http://crab.news.test:{site_port}/article"),
            "Bob: Gorgeous! Reading it now. cargo xtask run really was all it took?".into(),
        ]
    );
    let shot = bob.screenshot("showcase").await.unwrap();
    if std::env::var_os("UPDATE_README_SCREENSHOT").is_some() {
        let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshot.png");
        std::fs::copy(shot, docs).unwrap();
    }
    site.stop(true).await;
}

/// Who asked the test site for what: `(path, User-Agent)`.
type RequestLog = Arc<Mutex<Vec<(String, String)>>>;

/// A site on 127.0.0.2 with a video at `/clip.mp4`, noting every request.
async fn video_site() -> (actix_web::dev::ServerHandle, u16, RequestLog) {
    let log = RequestLog::default();
    let noted = log.clone();
    let server = HttpServer::new(move || {
        let log = noted.clone();
        App::new().default_service(web::to(move |request: HttpRequest| {
            let log = log.clone();
            async move {
                let agent = request
                    .headers()
                    .get("user-agent")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                log.lock().unwrap().push((request.path().to_owned(), agent));
                if request.path() == "/clip.mp4" {
                    HttpResponse::Ok()
                        .content_type("video/mp4")
                        .body(tiny_mp4())
                } else {
                    HttpResponse::NotFound().finish()
                }
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.2", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (handle, port, log)
}

/// Requests for `path` that came from a browser (not the server's previewer).
fn browser_requests(log: &RequestLog, path: &str) -> usize {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(p, agent)| p == path && !agent.starts_with("ChatLinkPreview/"))
        .count()
}

#[actix_web::test]
async fn a_linked_video_loads_from_its_site_only_after_a_click() {
    let (site, site_port, log) = video_site().await;
    let site_ip: IpAddr = "127.0.0.2".parse().unwrap();
    let server = TestServer::start_with(|settings| {
        settings.link_previews = true;
        settings.preview_allowed_addresses = vec![site_ip];
    })
    .await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    alice.wait_connected().await;

    let link = format!("http://127.0.0.2:{site_port}/clip.mp4");
    alice.send_with_enter(&format!("look: {link}")).await;
    bob.find_with("link-preview", "kind", "video").await;
    alice.find_with("link-preview", "kind", "video").await;
    let fetched_by_server = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(path, agent)| path == "/clip.mp4" && agent.starts_with("ChatLinkPreview/"))
        .count();
    assert!(
        fetched_by_server >= 1,
        "the server made the preview: {log:?}"
    );
    // Showing the card tells the video's site nothing.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        browser_requests(&log, "/clip.mp4"),
        0,
        "no browser fetched the video before a click: {log:?}"
    );
    for browser in [&alice, &bob] {
        let videos = browser
            .client
            .execute("return document.querySelectorAll('video').length;", vec![])
            .await
            .unwrap();
        assert_eq!(videos, serde_json::json!(0));
    }
    let play = bob.find("link-preview-play").await;
    let label = play.text().await.unwrap();
    assert!(label.contains("Play video from 127.0.0.2"), "{label}");
    bob.screenshot("video-preview-before-play").await.unwrap();

    // Bob asks for it: the video element appears, loads and tries to play.
    play.click().await.unwrap();
    let video = bob.find("link-preview-video").await;
    assert_eq!(
        video.attr("src").await.unwrap().as_deref(),
        Some(link.as_str())
    );
    assert!(video.attr("controls").await.unwrap().is_some());
    assert!(video.attr("autoplay").await.unwrap().is_some());
    bob.eventually("Bob's browser requests the video", || async {
        browser_requests(&log, "/clip.mp4") >= 1
    })
    .await;
    assert!(!bob.exists("link-preview-play").await);
    // Alice did not click: her page still has no video.
    let videos = alice
        .client
        .execute("return document.querySelectorAll('video').length;", vec![])
        .await
        .unwrap();
    assert_eq!(videos, serde_json::json!(0));

    site.stop(true).await;
    alice.close().await;
    bob.close().await;
}
