//! Link previews, end to end, with pages served by a test server on
//! 127.0.0.2 (the only address the fetcher is allowed besides public ones)
//! and names mapped by the test resolver. Every refused target is checked
//! before any packet is sent; a canary listener on 127.0.0.1 proves nothing
//! ever connected to it. No test sends anything beyond loopback.

use std::collections::HashMap;
use std::io::Cursor;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use chat_server::preview::fetch::{FetchError, Fetcher};
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};
use shared::{ChatMessage, ClientMsg, LinkPreview, PreviewKind, ServerMsg};

use tokio::net::TcpListener;

use crate::helpers::{TestApp, WsClient, session_cookie};
use crate::pages::{Answer, PageServer};

const PAGES_IP: &str = "127.0.0.2";

fn png(width: u32, height: u32) -> Vec<u8> {
    let pixels = ImageBuffer::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 200]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn article(image: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>fallback</title>
        <meta property="og:title" content="Ferris &amp; friends">
        <meta property="og:description" content="A crab's guide to &lt;b&gt;safe&lt;/b&gt; systems.">
        <meta property="og:site_name" content="Crab News">
        <meta property="og:image" content="{image}">
        </head><body>hello</body></html>"#
    )
}

/// The canned site: an article with an image, a plain image, a video,
/// redirects (good and bad), a huge page and a slow one.
async fn site(canary: u16) -> PageServer {
    let mut answers = HashMap::new();
    answers.insert(
        "/article".into(),
        Answer::ok("text/html; charset=utf-8", article("/cover.png")),
    );
    let mut with_cookie = Answer::ok("text/html", article("/cover.png"));
    with_cookie
        .headers
        .push(("Set-Cookie", "tracker=1; Path=/".into()));
    answers.insert("/cookie".into(), with_cookie);
    answers.insert("/cover.png".into(), Answer::ok("image/png", png(800, 400)));
    answers.insert("/cat.png".into(), Answer::ok("text/plain", png(120, 90)));
    let mut mp4 = b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41".to_vec();
    mp4.extend(std::iter::repeat_n(0u8, 1024));
    answers.insert("/clip.mp4".into(), Answer::ok("video/mp4", mp4));
    answers.insert(
        "/plain".into(),
        Answer::ok("text/html", "<html><body>nothing to say</body></html>"),
    );
    answers.insert("/hop".into(), Answer::redirect("/article".into()));
    let mut down = Answer::ok("text/html", "try later");
    down.status = "503 Service Unavailable";
    answers.insert("/down".into(), down);
    answers.insert(
        "/second".into(),
        Answer::ok("text/html", article("/cover.png")),
    );
    answers.insert(
        "/to-private".into(),
        Answer::redirect("http://10.1.2.3/admin".into()),
    );
    answers.insert(
        "/to-metadata".into(),
        Answer::redirect("http://169.254.169.254/latest/meta-data/".into()),
    );
    answers.insert(
        "/to-evil".into(),
        Answer::redirect(format!("http://evil.test:{canary}/")),
    );
    answers.insert(
        "/to-decimal".into(),
        Answer::redirect(format!("http://2130706433:{canary}/")),
    );
    answers.insert("/loop".into(), Answer::redirect("/loop".into()));
    let mut huge = article("/cover.png").into_bytes();
    huge.extend(std::iter::repeat_n(b' ', 3 * 1024 * 1024));
    answers.insert("/huge".into(), Answer::ok("text/html", huge));
    let mut slow = Answer::ok("text/html", article("/cover.png"));
    slow.delay = Duration::from_secs(5);
    answers.insert("/slow".into(), slow);
    PageServer::start(PAGES_IP, answers).await
}

/// Counts connections to 127.0.0.1 on a port no fetch may ever reach.
struct Canary {
    port: u16,
    connections: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Canary {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(Mutex::new(0));
        let count = connections.clone();
        let task = tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                *count.lock().unwrap() += 1;
            }
        });
        Self {
            port,
            connections,
            task,
        }
    }

    fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits (a bounded time) until `done` holds.
async fn until(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + crate::helpers::RECV_TIMEOUT;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pages_ip() -> IpAddr {
    PAGES_IP.parse().unwrap()
}

fn test_fetcher() -> Fetcher {
    Fetcher::new(
        vec![pages_ip()],
        vec![
            ("pages.test".into(), pages_ip()),
            ("evil.test".into(), "127.0.0.1".parse().unwrap()),
        ],
    )
    .unwrap()
}

#[actix_web::test]
async fn the_fetcher_refuses_private_targets_before_sending_anything() {
    let canary = Canary::start().await;
    let site = site(canary.port).await;
    let fetcher = test_fetcher();
    let port = canary.port;
    let refused = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://evil.test:{port}/"),
        "http://10.0.0.1/".into(),
        "http://192.168.1.1/".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://[fd00::1]/".into(),
        "http://224.0.0.1/".into(),
        site.url("pages.test", "/to-private"),
        site.url("pages.test", "/to-metadata"),
        site.url("pages.test", "/to-evil"),
        site.url("pages.test", "/to-decimal"),
    ];
    for link in &refused {
        match fetcher.fetch(link, 1024).await {
            Err(FetchError::Refused(_)) => {}
            other => panic!("{link} was not refused: {other:?}"),
        }
    }
    for link in [
        "ftp://pages.test/",
        "javascript:alert(1)",
        "http://user:pw@pages.test/",
    ] {
        assert!(
            matches!(fetcher.fetch(link, 1024).await, Err(FetchError::Refused(_))),
            "{link}"
        );
    }
    assert_eq!(canary.connections(), 0, "nothing reached 127.0.0.1");

    // The allowed test server works, redirects included, within limits.
    let page = fetcher
        .fetch(&site.url("pages.test", "/hop"), 65536)
        .await
        .unwrap();
    assert_eq!(page.url.path(), "/article");
    assert!(String::from_utf8_lossy(&page.body).contains("Ferris"));
    assert!(matches!(
        fetcher.fetch(&site.url("pages.test", "/loop"), 1024).await,
        Err(FetchError::TooManyRedirects)
    ));
    let huge = fetcher
        .fetch(&site.url("pages.test", "/huge"), 100_000)
        .await
        .unwrap();
    assert!(huge.truncated);
    assert_eq!(huge.body.len(), 100_000);
    let impatient = test_fetcher().with_timeout(Duration::from_millis(300));
    assert!(matches!(
        impatient
            .fetch(&site.url("pages.test", "/slow"), 1024)
            .await,
        Err(FetchError::Timeout)
    ));

    // Cookies a page sets are never sent back.
    fetcher
        .fetch(&site.url("pages.test", "/cookie"), 65536)
        .await
        .unwrap();
    fetcher
        .fetch(&site.url("pages.test", "/cookie"), 65536)
        .await
        .unwrap();
    let requests = site.requests.lock().unwrap().clone();
    let cookie_requests: Vec<_> = requests.iter().filter(|(p, _)| p == "/cookie").collect();
    assert_eq!(cookie_requests.len(), 2);
    for (_, head) in cookie_requests {
        assert!(!head.to_ascii_lowercase().contains("\r\ncookie:"), "{head}");
    }
}

async fn preview_of(client: &mut WsClient) -> (ChatMessage, LinkPreview) {
    client
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } => {
                let preview = *message.preview.clone()?;
                Some((message, preview))
            }
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn messages_with_links_get_previews_live_cached_and_on_catch_up() {
    let canary = Canary::start().await;
    let site = site(canary.port).await;
    let app = TestApp::spawn_with(|s| {
        s.link_previews = true;
        s.preview_allowed_addresses = vec![pages_ip()];
        s.preview_resolve = vec![
            ("pages.test".into(), pages_ip()),
            ("evil.test".into(), "127.0.0.1".parse().unwrap()),
        ];
    })
    .await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, bob_token) = app.user("Bob").await;
    alice.online_notice().await;

    // A link to a private address: the message is stored, no preview is made.
    alice
        .say_acked(&format!("internal http://evil.test:{}/x", canary.port))
        .await;
    let article = site.url("pages.test", "/article");
    let seq = alice.say_acked(&format!("read this: {article} !")).await;
    let (message, preview) = preview_of(&mut bob).await;
    assert_eq!(message.seq, seq);
    assert_eq!(preview.url, article);
    assert_eq!(preview.kind, PreviewKind::Page);
    assert_eq!(preview.title.as_deref(), Some("Ferris & friends"));
    assert_eq!(
        preview.description.as_deref(),
        Some("A crab's guide to <b>safe</b> systems.")
    );
    assert_eq!(preview.site_name.as_deref(), Some("Crab News"));
    let image = preview.image.clone().expect("the page's image, copied");
    assert!(image.starts_with("/api/previews/"), "{image}");
    assert_eq!((preview.width, preview.height), (Some(800), Some(400)));

    // The copied image is served from here, to signed-in users only.
    let mut response = app
        .http()
        .get(app.url(&image))
        .insert_header(session_cookie(&bob_token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let copy = image::load_from_memory(&response.body().await.unwrap()).unwrap();
    assert!(copy.width() <= 480, "a thumbnail, not the original");
    let anonymous = app.http().get(app.url(&image)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Uploaded files cannot be fetched through the preview route by hash.
    let missing = app
        .http()
        .get(app.url(&format!("/api/previews/{}", "ab".repeat(32))))
        .insert_header(session_cookie(&bob_token))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The same link again comes from the cache: the page is fetched once.
    alice.say_acked(&format!("again {article}")).await;
    let (_, again) = preview_of(&mut bob).await;
    assert_eq!(again.title, preview.title);
    assert_eq!(site.hits("/article"), 1);

    // Direct links to images and videos.
    alice.say_acked(&site.url("pages.test", "/cat.png")).await;
    let (_, picture) = preview_of(&mut bob).await;
    assert_eq!(picture.kind, PreviewKind::Image);
    assert_eq!((picture.width, picture.height), (Some(120), Some(90)));
    assert!(picture.image.unwrap().starts_with("/api/previews/"));
    alice.say_acked(&site.url("pages.test", "/clip.mp4")).await;
    let (_, clip) = preview_of(&mut bob).await;
    assert_eq!(clip.kind, PreviewKind::Video);
    assert_eq!(clip.title.as_deref(), Some("clip.mp4"));

    // A server error is not remembered: the next mention fetches again.
    // "Nothing to show" (a 404) is remembered like a preview.
    let down = site.url("pages.test", "/down");
    let missing = site.url("pages.test", "/missing");
    let outcomes = ["failed", "nothing"]
        .map(|outcome| format!("chat_preview_fetches_total{{outcome=\"{outcome}\"}}"));
    let mut ended_before = Vec::new();
    for series in &outcomes {
        ended_before.push(app.metric(series).await);
    }
    alice.say_acked(&format!("{down} {missing}")).await;
    alice.say_acked(&missing).await;
    until(|| site.hits("/down") == 1 && site.hits("/missing") == 1).await;
    // Both fetches have ended (the 404 is cached by then), or a mention
    // made while one is still on its way would fetch it again.
    for (series, before) in outcomes.iter().zip(ended_before) {
        let deadline = std::time::Instant::now() + crate::helpers::RECV_TIMEOUT;
        while app.metric(series).await < before + 1.0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{series} did not rise"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    alice.say_acked(&down).await;
    alice.say_acked(&missing).await;
    alice.say_acked(&site.url("pages.test", "/second")).await;
    preview_of(&mut bob).await;
    until(|| site.hits("/down") == 2).await;
    assert_eq!(site.hits("/missing"), 1, "a 404 is cached");

    // A reconnecting client gets the preview in its catch-up.
    let general = bob.general();
    let mut late = app.connect(&bob_token).await;
    late.welcome().await;
    late.send(&ClientMsg::Sync {
        channel: general,
        after_seq: Some(seq),
        after_change: Some(shared::ChangeNo(0)),
    })
    .await;
    let updated = late
        .recv_until(|m| match m {
            ServerMsg::Synced { updated, .. } => Some(updated),
            _ => None,
        })
        .await;
    let held = updated
        .iter()
        .find(|m| m.seq == seq)
        .expect("the previewed message");
    assert_eq!(held.preview.as_ref().unwrap().title, preview.title);

    assert_eq!(canary.connections(), 0, "nothing reached 127.0.0.1");
}

#[actix_web::test]
async fn previews_can_be_turned_off() {
    let canary = Canary::start().await;
    let site = site(canary.port).await;
    let app = TestApp::spawn_with(|s| {
        s.link_previews = false;
        s.preview_allowed_addresses = vec![pages_ip()];
        s.preview_resolve = vec![("pages.test".into(), pages_ip())];
    })
    .await;
    let (mut alice, _, _) = app.user("Alice").await;
    alice.say_acked(&site.url("pages.test", "/article")).await;
    alice.expect_silence(Duration::from_millis(700)).await;
    assert_eq!(site.total_hits(), 0);
}

#[actix_web::test]
async fn pages_built_to_be_slow_to_read_hold_up_nobody_s_messages() {
    // 1 MiB pages shaped to make a naive scanner quadratic: every `<` or `&`
    // followed by a long tail without the end it looks for.
    let shapes = ["<", "&", "<a ", "<title>&", "<meta content='"];
    let mut answers = HashMap::new();
    for (n, unit) in shapes.iter().enumerate() {
        let page = unit.repeat(1024 * 1024 / unit.len());
        answers.insert(format!("/hostile{n}"), Answer::ok("text/html", page));
    }
    let site = PageServer::start(PAGES_IP, answers).await;
    let app = TestApp::spawn_with(|s| {
        s.link_previews = true;
        s.preview_allowed_addresses = vec![pages_ip()];
        s.preview_resolve = vec![("pages.test".into(), pages_ip())];
    })
    .await;
    let (mut mallory, _, _) = app.user("Mallory").await;
    let (mut bob, _, _) = app.user("Bob").await;
    // A query string makes every link new to the cache.
    for round in 0..3 {
        for n in 0..shapes.len() {
            let link = site.url("pages.test", &format!("/hostile{n}?round={round}"));
            mallory.say_acked(&format!("look {link}")).await;
        }
    }
    // Everyone else's messages are acknowledged promptly meanwhile.
    for n in 0..20 {
        let id = bob.say(&format!("still chatting {n}")).await;
        let started = std::time::Instant::now();
        tokio::time::timeout(Duration::from_secs(3), bob.ack_for(&id))
            .await
            .expect("acknowledged while the pages are read");
        assert!(started.elapsed() < Duration::from_secs(3));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until(|| site.total_hits() >= shapes.len() * 3).await;
}

#[actix_web::test]
async fn one_author_cannot_fill_the_preview_queue() {
    let site = site(Canary::start().await.port).await;
    let app = TestApp::spawn_with(|s| {
        s.link_previews = true;
        s.preview_allowed_addresses = vec![pages_ip()];
        s.preview_resolve = vec![("pages.test".into(), pages_ip())];
        s.request_limits.previews = chat_server::budget::RequestLimits::default().previews;
    })
    .await;
    let (mut mallory, _, _) = app.user("Mallory").await;
    for n in 0..30 {
        let link = site.url("pages.test", &format!("/article?n={n}"));
        mallory.say_acked(&format!("spam {link}")).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fetched = site.hits_prefix("/article");
    assert!(fetched <= 11, "{fetched} of 30 links fetched");
    assert!(fetched >= 5);
    // Someone else still gets a preview.
    let (mut bob, _, _) = app.user("Bob").await;
    let (mut alice, _, _) = app.user("Alice").await;
    let article = site.url("pages.test", "/second");
    alice.say_acked(&format!("look {article}")).await;
    let (_, preview) = preview_of(&mut bob).await;
    assert_eq!(preview.url, article);
}
