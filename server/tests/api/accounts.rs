//! Passwords, signing in from another browser, and signing out (everywhere).

use actix_web::http::{StatusCode, header};
use shared::api::{ApiError, ApiErrorCode, SessionInfo};

use crate::helpers::{TestApp, session_cookie as cookie};

async fn set_password(
    app: &TestApp,
    token: &str,
    password: &str,
) -> (StatusCode, serde_json::Value) {
    let mut response = app
        .http()
        .put(app.url("/api/password"))
        .insert_header(cookie(token))
        .send_json(&serde_json::json!({ "password": password }))
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Signs in; returns the status, the body and the new session token, if any.
async fn sign_in(
    app: &TestApp,
    name: &str,
    password: &str,
) -> (StatusCode, serde_json::Value, Option<String>) {
    let mut response = app
        .http()
        .post(app.url("/api/sign-in"))
        .send_json(&serde_json::json!({ "username": name, "password": password }))
        .await
        .unwrap();
    let token = response
        .cookie("chat_session")
        .map(|c| c.value().to_owned());
    (response.status(), response.json().await.unwrap(), token)
}

async fn whoami(app: &TestApp, token: &str) -> Option<SessionInfo> {
    let mut response = app
        .http()
        .get(app.url("/api/session"))
        .insert_header(cookie(token))
        .send()
        .await
        .unwrap();
    if response.status() == StatusCode::OK {
        Some(response.json().await.unwrap())
    } else {
        None
    }
}

#[actix_web::test]
async fn a_password_lets_you_sign_in_from_another_browser() {
    let app = TestApp::spawn().await;
    let (alice, first_token) = app.sign_up("Alice").await;
    assert!(!whoami(&app, &first_token).await.unwrap().has_password);

    let (status, body) = set_password(&app, &first_token, "short").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_password");
    let (status, body) = set_password(&app, &first_token, "correct horse battery").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["has_password"], true);

    // A second browser: any letter case of the name works.
    let (status, body, second_token) = sign_in(&app, "ALICE", "correct horse battery").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second_token = second_token.expect("a session cookie");
    assert_ne!(second_token, first_token);
    let info = whoami(&app, &second_token).await.unwrap();
    assert_eq!(info.user, alice);
    assert!(info.has_password);
    // The first browser stays signed in.
    assert_eq!(whoami(&app, &first_token).await.unwrap().user, alice);

    // Both browsers are the same user on the socket too.
    let mut second = app.connect(&second_token).await;
    let (me, _) = second.welcome().await;
    assert_eq!(me, alice);
}

#[actix_web::test]
async fn setting_a_password_needs_a_session() {
    let app = TestApp::spawn().await;
    let (status, body) = set_password(&app, "forged", "correct horse battery").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "not_signed_in");
}

#[actix_web::test]
async fn every_wrong_combination_gets_the_same_answer() {
    let app = TestApp::spawn().await;
    let (_, alice_token) = app.sign_up("Alice").await;
    set_password(&app, &alice_token, "correct horse battery").await;
    app.sign_up("Bob").await; // no password

    let mut answers = Vec::new();
    for (name, password) in [
        ("Alice", "wrong password"),
        ("Nobody", "correct horse battery"),
        ("Bob", "any password at all"),
        ("<bad name>", "correct horse battery"),
        ("", ""),
    ] {
        let (status, body, token) = sign_in(&app, name, password).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}");
        assert!(token.is_none());
        answers.push(body);
    }
    let error: ApiError = serde_json::from_value(answers[0].clone()).unwrap();
    assert_eq!(error.code, ApiErrorCode::WrongCredentials);
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
}

#[actix_web::test]
async fn repeated_failures_for_a_name_are_refused_for_a_while() {
    let app = TestApp::spawn().await;
    let (_, token) = app.sign_up("Alice").await;
    set_password(&app, &token, "correct horse battery").await;
    let (_, carol_token) = app.sign_up("Carol").await;
    set_password(&app, &carol_token, "carol's own password").await;

    for _ in 0..5 {
        let (status, _, _) = sign_in(&app, "alice", "guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password has to wait.
    let response = app
        .http()
        .post(app.url("/api/sign-in"))
        .send_json(&serde_json::json!({ "username": "Alice", "password": "correct horse battery" }))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    // Other names are not affected.
    let (status, _, _) = sign_in(&app, "Carol", "carol's own password").await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn signing_out_everywhere_ends_every_session_and_socket() {
    let app = TestApp::spawn().await;
    let (_, first) = app.sign_up("Alice").await;
    set_password(&app, &first, "correct horse battery").await;
    let (_, _, second) = sign_in(&app, "Alice", "correct horse battery").await;
    let second = second.unwrap();
    let (_, _, third) = sign_in(&app, "Alice", "correct horse battery").await;
    let third = third.unwrap();
    let mut socket_one = app.connect(&first).await;
    socket_one.welcome().await;
    let mut socket_two = app.connect(&second).await;
    socket_two.welcome().await;

    // Signing out one session leaves the others.
    let response = app
        .http()
        .delete(app.url("/api/session"))
        .insert_header(cookie(&third))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(whoami(&app, &third).await.is_none());
    assert!(whoami(&app, &first).await.is_some());

    let response = app
        .http()
        .delete(app.url("/api/sessions"))
        .insert_header(cookie(&second))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for socket in [&mut socket_one, &mut socket_two] {
        let reason = socket.closed().await.expect("a close reason");
        assert_eq!(u16::from(reason.code), 4001);
    }
    assert!(whoami(&app, &first).await.is_none());
    assert!(whoami(&app, &second).await.is_none());
}
