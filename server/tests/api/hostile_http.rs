//! HTTP under attack: bodies must keep arriving, requests must be addressed
//! to a name this server answers to (DNS rebinding), and stored files are
//! not compressed on the fly.

use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use shared::api::{ApiError, ApiErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, session_cookie};

#[actix_web::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off() {
    let app = TestApp::spawn().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/session HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 200\r\n\r\n{{",
        app.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut reading, mut writing) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..60 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if writing.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    let ended = tokio::time::timeout(Duration::from_secs(25), async {
        loop {
            match reading.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
            if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    trickle.abort();
    assert!(ended.is_ok(), "the server was still waiting for the body");
    // A minimum rate after a grace time of 10 s: about 11 s at one byte a second.
    assert!(started.elapsed() < Duration::from_secs(20));
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer}"
    );
}

#[actix_web::test]
async fn requests_for_a_foreign_name_are_refused_even_with_a_matching_origin() {
    let app = TestApp::spawn_with(|settings| {
        settings.public_origins = vec!["https://chat.example.org".into()];
    })
    .await;
    let (_, token) = app.sign_up("Alice").await;
    // A page on evil.example whose name resolves to this server (DNS rebinding).
    let mut response = app
        .http()
        .get(app.url("/api/session"))
        .insert_header((header::HOST, "evil.example"))
        .insert_header(session_cookie(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ApiErrorCode::WrongHost);
    assert!(
        error.message.contains("--public-origin"),
        "{}",
        error.message
    );

    let upgrade = app
        .http()
        .ws(format!("ws://{}/ws", app.addr))
        .set_header(header::HOST, "evil.example:8080")
        .origin("http://evil.example:8080")
        .cookie(actix_web::cookie::Cookie::new(
            "chat_session",
            token.clone(),
        ))
        .connect()
        .await;
    match upgrade {
        Err(awc::error::WsClientError::InvalidResponseStatus(status)) => {
            assert_eq!(status, StatusCode::MISDIRECTED_REQUEST)
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("the upgrade went through"),
    }
    // The configured name and plain addresses are answered.
    for host in ["chat.example.org", "localhost:8080", "127.0.0.1"] {
        let response = app
            .http()
            .get(app.url("/healthz"))
            .insert_header((header::HOST, host))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{host}");
    }
}

#[actix_web::test]
async fn stored_files_are_sent_as_they_are() {
    let app = TestApp::spawn().await;
    let (mut alice, _, token) = app.user("Alice").await;
    let body: Vec<u8> = (0..200_000u32).map(|n| (n % 7) as u8 + b'a').collect();
    let mut response = app
        .http()
        .post(app.url(&format!(
            "/api/channels/{}/files?name=notes.txt",
            alice.general().0
        )))
        .insert_header(session_cookie(&token))
        .send_body(body.clone())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let attachment: shared::Attachment = response.json().await.unwrap();
    let _ = &mut alice;
    let response = app
        .http()
        .get(app.url(&attachment.url()))
        .insert_header(session_cookie(&token))
        .insert_header((header::ACCEPT_ENCODING, "gzip, br"))
        .no_decompress()
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        encoding.is_none() || encoding.as_deref() == Some("identity"),
        "{encoding:?}"
    );
    // The web app itself is still compressed.
    let page = app
        .http()
        .get(app.url("/"))
        .insert_header((header::ACCEPT_ENCODING, "gzip"))
        .no_decompress()
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers().get(header::CONTENT_ENCODING).unwrap(),
        "gzip"
    );
}
