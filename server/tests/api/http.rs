//! HTTP: health, the web app's files, sessions.

use actix_web::http::StatusCode;
use actix_web::http::header;
use shared::api::{ApiError, ApiErrorCode, SessionInfo};

use crate::helpers::TestApp;

#[actix_web::test]
async fn healthz_reports_ok() {
    let app = TestApp::spawn().await;
    let mut response = app.http().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[actix_web::test]
async fn serves_the_client_and_falls_back_to_index_for_client_routes() {
    let app = TestApp::spawn().await;
    for path in ["/", "/index.html", "/c/general", "/some/deep/route"] {
        let mut response = app.http().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = response.body().await.unwrap();
        assert!(
            String::from_utf8_lossy(&body).contains("test client"),
            "{path}"
        );
        assert_eq!(
            response
                .headers()
                .get(header::X_CONTENT_TYPE_OPTIONS)
                .unwrap(),
            "nosniff"
        );
    }
    let mut response = app
        .http()
        .get(app.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ApiErrorCode::NotFound);
}

#[actix_web::test]
async fn built_files_are_served_from_their_compressed_copies_when_the_browser_accepts_them() {
    const WASM: &[u8] = b"\0asm plain bytes of the app";
    let app = TestApp::spawn_with(|settings| {
        let dir = &settings.static_dir;
        std::fs::write(dir.join("client-1f2e3d4c5b_bg.wasm"), WASM).unwrap();
        std::fs::write(dir.join("client-1f2e3d4c5b_bg.wasm.br"), b"brotli copy").unwrap();
        std::fs::write(dir.join("client-1f2e3d4c5b_bg.wasm.gz"), b"gzip copy").unwrap();
        // A copy whose original is missing is never served.
        std::fs::write(dir.join("orphan.js.br"), b"orphan").unwrap();
    })
    .await;
    let path = "/client-1f2e3d4c5b_bg.wasm";
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), &b"brotli copy"[..]),
        (Some("gzip;q=1.0, br;q=0"), Some("gzip"), b"gzip copy"),
        (Some("identity"), None, WASM),
        (None, None, WASM),
    ] {
        let mut request = app.http().get(app.url(path)).no_decompress();
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT_ENCODING, accept));
        }
        let mut response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
        let headers = response.headers().clone();
        assert_eq!(
            headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/wasm"
        );
        assert_eq!(headers.get(header::VARY).unwrap(), "accept-encoding");
        assert!(
            headers
                .get(header::CACHE_CONTROL)
                .unwrap()
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert_eq!(&response.body().await.unwrap()[..], body, "{accept:?}");
    }
    let mut response = app
        .http()
        .get(app.url("/orphan.js"))
        .no_decompress()
        .insert_header((header::ACCEPT_ENCODING, "br"))
        .send()
        .await
        .unwrap();
    let body = response.body().await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("test client"));
}

#[actix_web::test]
async fn picking_a_name_sets_a_secure_session_cookie() {
    let app = TestApp::spawn().await;
    let response = app
        .http()
        .post(app.url("/api/session"))
        .send_json(&serde_json::json!({ "username": "  Alice  " }))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("chat_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Max-Age="), "{set_cookie}");
    let token = set_cookie["chat_session=".len()..]
        .split(';')
        .next()
        .unwrap();
    assert!(token.len() >= 64, "a long random token");

    let mut me = app
        .http()
        .get(app.url("/api/session"))
        .insert_header((header::COOKIE, format!("chat_session={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let info: SessionInfo = me.json().await.unwrap();
    assert_eq!(info.user.name, "Alice");
}

#[actix_web::test]
async fn without_a_cookie_you_are_not_signed_in() {
    let app = TestApp::spawn().await;
    for cookie in [None, Some("chat_session=forged"), Some("chat_session=")] {
        let mut request = app.http().get(app.url("/api/session"));
        if let Some(cookie) = cookie {
            request = request.insert_header((header::COOKIE, cookie));
        }
        let mut response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{cookie:?}");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, ApiErrorCode::NotSignedIn);
    }
}

#[actix_web::test]
async fn invalid_and_taken_names_are_refused_with_a_message() {
    let app = TestApp::spawn().await;
    app.sign_up("Alice").await;
    let cases = [
        ("", StatusCode::BAD_REQUEST, ApiErrorCode::InvalidUsername),
        (
            "   ",
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidUsername,
        ),
        (
            "<script>",
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidUsername,
        ),
        (
            &"x".repeat(33),
            StatusCode::BAD_REQUEST,
            ApiErrorCode::InvalidUsername,
        ),
        ("alice", StatusCode::CONFLICT, ApiErrorCode::UsernameTaken),
        (" ALICE ", StatusCode::CONFLICT, ApiErrorCode::UsernameTaken),
    ];
    for (name, status, code) in cases {
        let mut response = app
            .http()
            .post(app.url("/api/session"))
            .send_json(&serde_json::json!({ "username": name }))
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{name:?}");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, code, "{name:?}");
        assert!(!error.message.is_empty());
    }
    // Malformed bodies get a clear 4xx, not a crash.
    let response = app
        .http()
        .post(app.url("/api/session"))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .send_body("{not json")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(app.sign_up("Bob").await.0.name == "Bob");
}

#[actix_web::test]
async fn sign_out_ends_the_session_and_closes_its_sockets() {
    let app = TestApp::spawn().await;
    let (mut socket, _, token) = app.user("Alice").await;
    let response = app
        .http()
        .delete(app.url("/api/session"))
        .insert_header((header::COOKIE, format!("chat_session={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");

    let reason = socket.closed().await.expect("a close reason");
    assert_eq!(u16::from(reason.code), 4001);

    let me = app
        .http()
        .get(app.url("/api/session"))
        .insert_header((header::COOKIE, format!("chat_session={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.try_connect(Some(&app.origin()), Some(&token))
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
}
