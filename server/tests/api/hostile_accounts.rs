//! Accounts under attack: guessing passwords costs the guesser (counted
//! before hashing, a few hashes at a time, delays instead of lock-outs),
//! revoking a session cuts its sockets at once, sessions expire, a password
//! change needs the old one and ends the other sessions, per-address limits
//! see through trusted proxies only, and look-alike names are refused.

use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use futures_util::future::join_all;
use shared::api::{ApiError, ApiErrorCode};
use shared::{ClientMsg, ServerMsg};

use crate::helpers::{TestApp, session_cookie as cookie};
use crate::raw_socket::{closed_within, send_frames, stuck_socket};

async fn set_password(
    app: &TestApp,
    token: &str,
    password: &str,
    current: Option<&str>,
) -> StatusCode {
    app.http()
        .put(app.url("/api/password"))
        .insert_header(cookie(token))
        .send_json(&serde_json::json!({ "password": password, "current_password": current }))
        .await
        .unwrap()
        .status()
}

/// Signs in from `address` (as told by a trusted proxy in `X-Forwarded-For`).
async fn sign_in_from(
    app: &TestApp,
    address: &str,
    name: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    let response = app
        .http()
        .post(app.url("/api/sign-in"))
        .insert_header(("X-Forwarded-For", address))
        .send_json(&serde_json::json!({ "username": name, "password": password }))
        .await
        .unwrap();
    let token = response
        .cookie("chat_session")
        .map(|c| c.value().to_owned());
    (response.status(), token)
}

async fn signed_in(app: &TestApp, token: &str) -> bool {
    app.http()
        .get(app.url("/api/session"))
        .insert_header(cookie(token))
        .send()
        .await
        .unwrap()
        .status()
        == StatusCode::OK
}

fn behind_a_proxy(settings: &mut chat_server::settings::Settings) {
    settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

#[actix_web::test]
async fn a_burst_of_guesses_runs_only_the_hashes_its_budget_allows() {
    let app = TestApp::spawn().await;
    let (_, token) = app.sign_up("Alice").await;
    assert_eq!(
        set_password(&app, &token, "correct horse battery", None).await,
        StatusCode::OK
    );
    let before = app.metric("chat_password_hashes_total").await;
    let started = Instant::now();
    // 120 guesses at once from one address, at 120 names.
    let answers = join_all((0..120).map(|n| {
        let app = &app;
        async move {
            app.http()
                .post(app.url("/api/sign-in"))
                .send_json(
                    &serde_json::json!({ "username": format!("name{n}"), "password": "guess" }),
                )
                .await
                .unwrap()
                .status()
        }
    }))
    .await;
    let hashes = app.metric("chat_password_hashes_total").await - before;
    assert!(
        hashes <= 10.0,
        "{hashes} hashes ran (the address's burst is 10)"
    );
    assert!(
        answers
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{answers:?}"
    );
    assert!(answers.contains(&StatusCode::TOO_MANY_REQUESTS));
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[actix_web::test]
async fn when_every_hashing_slot_is_taken_more_requests_are_told_to_retry() {
    let app = TestApp::spawn_with(|settings| {
        behind_a_proxy(settings);
        settings.password_checks = 1;
    })
    .await;
    let before = app.metric("chat_password_hashes_total").await;
    // From 60 addresses, so no per-address budget applies.
    let answers = join_all((0..60).map(|n| {
        let app = &app;
        async move {
            app.http()
                .post(app.url("/api/sign-in"))
                .insert_header(("X-Forwarded-For", format!("198.51.100.{n}")))
                .send_json(
                    &serde_json::json!({ "username": format!("user{n}"), "password": "guess" }),
                )
                .await
                .unwrap()
        }
    }))
    .await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "some were told the server is busy");
    assert!(
        busy.iter()
            .all(|r| r.headers().contains_key(header::RETRY_AFTER))
    );
    let hashes = app.metric("chat_password_hashes_total").await - before;
    assert!(hashes < 60.0, "{hashes}");
    assert_eq!(
        app.metric("chat_refusals_total{reason=\"busy\"}").await as usize,
        busy.len()
    );
}

#[actix_web::test]
async fn a_guesser_elsewhere_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(behind_a_proxy).await;
    let (_, token) = app.sign_up("Alice").await;
    set_password(&app, &token, "correct horse battery", None).await;
    let mut refused = false;
    for _ in 0..12 {
        let (status, _) = sign_in_from(&app, "198.51.100.7", "alice", "guess guess").await;
        refused |= status == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(refused, "the guesser is slowed down");
    let (status, session) =
        sign_in_from(&app, "203.0.113.5", "Alice", "correct horse battery").await;
    assert_eq!(status, StatusCode::OK, "the owner signs in at once");
    assert!(signed_in(&app, &session.unwrap()).await);
}

#[actix_web::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    let sign_up_from = |app: &TestApp, address: &'static str, name: &'static str| {
        let request = app
            .http()
            .post(app.url("/api/session"))
            .insert_header(("X-Forwarded-For", address))
            .send_json(&serde_json::json!({ "username": name }));
        async move { request.await.unwrap().status() }
    };
    let proxied = TestApp::spawn_with(|settings| {
        behind_a_proxy(settings);
        settings.signups_per_minute = 2;
    })
    .await;
    assert_eq!(
        sign_up_from(&proxied, "198.51.100.1", "a1").await,
        StatusCode::CREATED
    );
    assert_eq!(
        sign_up_from(&proxied, "198.51.100.1", "a2").await,
        StatusCode::CREATED
    );
    assert_eq!(
        sign_up_from(&proxied, "198.51.100.1", "a3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        sign_up_from(&proxied, "198.51.100.2", "b1").await,
        StatusCode::CREATED
    );

    // Without a trusted proxy, the header is the client's word and ignored.
    let direct = TestApp::spawn_with(|settings| settings.signups_per_minute = 2).await;
    assert_eq!(
        sign_up_from(&direct, "198.51.100.1", "a1").await,
        StatusCode::CREATED
    );
    assert_eq!(
        sign_up_from(&direct, "198.51.100.2", "a2").await,
        StatusCode::CREATED
    );
    assert_eq!(
        sign_up_from(&direct, "198.51.100.3", "a3").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn signing_out_everywhere_stops_even_a_socket_that_does_not_read() {
    let app = TestApp::spawn().await;
    let (mut bob, _, _) = app.user("Bob").await;
    let (victim, token) = app.sign_up("Victim").await;
    let general = bob.general();
    let mut stolen = stuck_socket(&app, &token).await;
    bob.online_notice().await;
    let response = app
        .http()
        .delete(app.url("/api/sessions"))
        .insert_header(cookie(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // The socket (which never reads its close frame) keeps trying to post.
    let post = serde_json::to_string(&ClientMsg::Send {
        channel: general,
        client_id: crate::helpers::new_client_id(),
        text: "posted after sign-out".into(),
        attachments: vec![],
    })
    .unwrap();
    send_frames(&mut stolen, [post], Duration::from_secs(1)).await;
    let posted = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            if let ServerMsg::Message { message } = bob.recv().await {
                return message;
            }
        }
    })
    .await;
    assert!(posted.is_err(), "nothing was posted as {}", victim.name);
    assert!(closed_within(&mut stolen, Duration::from_secs(10)).await);
}

#[actix_web::test]
async fn sockets_that_connect_during_a_sign_out_are_closed_too() {
    let app = TestApp::spawn().await;
    let (_, token) = app.sign_up("Alice").await;
    let origin = app.origin();
    let connecting = join_all((0..20).map(|_| app.try_connect(Some(&origin), Some(&token))));
    let signing_out = app
        .http()
        .delete(app.url("/api/sessions"))
        .insert_header(cookie(&token))
        .send();
    let (sockets, signed_out) = futures_util::join!(connecting, signing_out);
    assert_eq!(signed_out.unwrap().status(), StatusCode::NO_CONTENT);
    for socket in sockets.into_iter().flatten() {
        let mut socket = socket;
        let reason = tokio::time::timeout(Duration::from_secs(5), socket.closed())
            .await
            .expect("every socket of the session is closed");
        assert_eq!(reason.map(|r| u16::from(r.code)), Some(4001));
    }
    assert!(!signed_in(&app, &token).await);
}

#[actix_web::test]
async fn sessions_end_after_the_idle_time() {
    let app = TestApp::spawn().await;
    let (_, idle) = app.sign_up("Idle").await;
    let (_, active) = app.sign_up("Active").await;
    let forty_days_ago = chrono_millis() - 40 * 24 * 60 * 60 * 1000;
    app.outside_sql(&format!(
        "UPDATE sessions SET last_seen_at = {forty_days_ago}
         WHERE user_id = (SELECT id FROM users WHERE name = 'Idle')"
    ))
    .await;
    assert!(!signed_in(&app, &idle).await, "idle for 40 days (limit 30)");
    assert!(signed_in(&app, &active).await);
    assert_eq!(
        app.try_connect(Some(&app.origin()), Some(&idle))
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
}

fn chrono_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[actix_web::test]
async fn changing_a_password_needs_the_old_one_and_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let (_, here) = app.sign_up("Alice").await;
    assert_eq!(
        set_password(&app, &here, "first password", None).await,
        StatusCode::OK
    );
    let (_, elsewhere) = sign_in_from(&app, "127.0.0.1", "Alice", "first password").await;
    let elsewhere = elsewhere.unwrap();
    let mut other_tab = app.connect(&elsewhere).await;
    other_tab.welcome().await;

    // Someone at an unlocked screen cannot change it without the old one.
    assert_eq!(
        set_password(&app, &here, "taken over", None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        set_password(&app, &here, "taken over", Some("a guess!")).await,
        StatusCode::FORBIDDEN
    );
    assert!(signed_in(&app, &elsewhere).await);

    assert_eq!(
        set_password(&app, &here, "second password", Some("first password")).await,
        StatusCode::OK
    );
    let reason = other_tab.closed().await.expect("a close reason");
    assert_eq!(u16::from(reason.code), 4001);
    assert!(!signed_in(&app, &elsewhere).await);
    assert!(signed_in(&app, &here).await, "this session stays");
    let (status, _) = sign_in_from(&app, "127.0.0.1", "Alice", "second password").await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn look_alike_names_are_taken() {
    let app = TestApp::spawn().await;
    app.sign_up("alice").await;
    for look_alike in [
        "ALICE",
        "\u{0430}lice",                                  // Cyrillic а
        "al\u{0456}ce",                                  // Ukrainian і
        "ａｌｉｃｅ",                                    // fullwidth
        "\u{1D41A}\u{1D425}\u{1D422}\u{1D41C}\u{1D41E}", // mathematical bold
    ] {
        let mut response = app
            .http()
            .post(app.url("/api/session"))
            .send_json(&serde_json::json!({ "username": look_alike }))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT, "{look_alike}");
        let error: ApiError = response.json().await.unwrap();
        assert_eq!(error.code, ApiErrorCode::UsernameTaken);
    }
    app.sign_up("alicia").await;
}

/// A crowd picking names at the same moment is committed a batch at a time
/// (one sync to disk for many), and a batch still gives a name and its
/// look-alikes to exactly one of them.
#[actix_web::test]
async fn names_picked_at_the_same_moment_share_commits_and_look_alikes_still_lose() {
    let app = TestApp::spawn_with(|settings| settings.signups_per_minute = 10_000).await;
    let look_alikes = ["carol", "CAROL", "c\u{0430}rol", "ｃａｒｏｌ"];
    let names: Vec<String> = (0..60)
        .map(|n| format!("crowd{n:02}"))
        .chain(look_alikes.iter().map(|name| name.to_string()))
        .collect();
    let answers = join_all(names.iter().map(|name| {
        let request = app
            .http()
            .post(app.url("/api/session"))
            .send_json(&serde_json::json!({ "username": name }));
        async move {
            let response = request.await.unwrap();
            let token = response
                .cookie("chat_session")
                .map(|c| c.value().to_owned());
            (response.status(), token)
        }
    }))
    .await;

    let (crowd, carols) = answers.split_at(60);
    for (status, token) in crowd {
        assert_eq!(*status, StatusCode::CREATED);
        // Each has a working session and is in #general.
        let mut client = app.connect(token.as_deref().unwrap()).await;
        let ServerMsg::Welcome { channels, .. } = client.recv().await else {
            panic!("welcome first");
        };
        assert!(channels.iter().any(|channel| channel.name == "general"));
    }
    let created: Vec<_> = carols
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .collect();
    assert_eq!(created.len(), 1, "{carols:?}");
    assert!(
        carols
            .iter()
            .all(|(status, _)| *status == StatusCode::CREATED || *status == StatusCode::CONFLICT)
    );

    let transactions = app.metric("chat_signup_batch_size_count").await;
    let stored = app.metric("chat_signup_batch_size_sum").await;
    assert_eq!(stored as usize, names.len());
    assert!(
        transactions <= (names.len() / 2) as f64,
        "{} sign-ups took {transactions} transactions",
        names.len()
    );
}
