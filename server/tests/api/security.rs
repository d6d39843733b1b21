//! The WebSocket upgrade needs a valid session and an allowed Origin.

use actix_web::http::StatusCode;

use crate::helpers::TestApp;

#[actix_web::test]
async fn upgrade_without_a_valid_session_is_refused() {
    let app = TestApp::spawn().await;
    let origin = app.origin();
    assert_eq!(
        app.try_connect(Some(&origin), None).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        app.try_connect(Some(&origin), Some("0123456789abcdef"))
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
}

#[actix_web::test]
async fn cross_origin_upgrade_is_refused() {
    let app = TestApp::spawn().await;
    let (_, token) = app.sign_up("Alice").await;
    for origin in [
        "http://evil.example",
        "http://127.0.0.1:1",
        "null",
        &format!("https://{}.evil.example", app.addr.ip()),
    ] {
        assert_eq!(
            app.try_connect(Some(origin), Some(&token)).await.err(),
            Some(StatusCode::FORBIDDEN),
            "{origin}"
        );
    }
    assert_eq!(
        app.try_connect(None, Some(&token)).await.err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert!(
        app.try_connect(Some(&app.origin()), Some(&token))
            .await
            .is_ok()
    );
}

#[actix_web::test]
async fn configured_extra_origins_are_allowed() {
    let app = TestApp::spawn_with(|settings| {
        settings.allowed_origins = vec!["http://127.0.0.1:8081".into()];
    })
    .await;
    let (_, token) = app.sign_up("Alice").await;
    let mut client = app
        .try_connect(Some("http://127.0.0.1:8081"), Some(&token))
        .await
        .expect("allowed origin");
    client.welcome().await;
    assert_eq!(
        app.try_connect(Some("http://127.0.0.1:8082"), Some(&token))
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
}
