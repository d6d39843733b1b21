//! Flood protection: fast senders are paced (nothing refused, order kept),
//! and username creation is limited per address.

use actix_web::http::{StatusCode, header};
use shared::ServerMsg;
use shared::api::{ApiError, ApiErrorCode};

use crate::helpers::TestApp;

#[actix_web::test]
async fn a_flooding_client_is_slowed_down_but_loses_nothing() {
    let app = TestApp::spawn_with(|settings| {
        settings.message_burst = 5;
        settings.messages_per_second = 20;
    })
    .await;
    let (mut alice, _, _) = app.user("Alice").await;
    let count = 25;
    for n in 0..count {
        alice.say(&format!("flood {n}")).await;
    }
    let mut acks = Vec::new();
    while acks.len() < count {
        match alice.recv().await {
            ServerMsg::Ack { seq, sent_at, .. } => acks.push((seq, sent_at)),
            ServerMsg::Error { code, .. } => panic!("nothing is refused, got {code:?}"),
            _ => {}
        }
    }
    let seqs: Vec<i64> = acks.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        (1..=count as i64).collect::<Vec<_>>(),
        "in order, none lost"
    );
    // 5 at once, then 20 per second: the last 20 cannot be stored in under ~1 s.
    let spread_ms = acks.last().unwrap().1 - acks.first().unwrap().1;
    assert!(spread_ms >= 900, "messages were paced over {spread_ms} ms");
}

#[actix_web::test]
async fn creating_usernames_is_limited_per_address() {
    let app = TestApp::spawn_with(|settings| settings.signups_per_minute = 3).await;
    for name in ["a1", "a2", "a3"] {
        app.sign_up(name).await;
    }
    let mut response = app
        .http()
        .post(app.url("/api/session"))
        .send_json(&serde_json::json!({ "username": "a4" }))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response
        .headers()
        .get(header::RETRY_AFTER)
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let error: ApiError = response.json().await.unwrap();
    assert_eq!(error.code, ApiErrorCode::RateLimited);
    assert!(error.message.contains("try again"), "{}", error.message);
}
