//! Stored history: first open, scroll-back, catch-up after reconnect, restarts.

use shared::{ChatMessage, ClientMsg, ServerMsg};

use crate::helpers::{TestApp, WsClient};

async fn synced(client: &mut WsClient, after_seq: Option<i64>) -> (Vec<ChatMessage>, bool, bool) {
    client
        .send(&ClientMsg::Sync {
            channel: client.general(),
            after_seq,
            after_change: None,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::Synced {
                messages,
                has_older,
                complete,
                ..
            } => Some((messages, has_older, complete)),
            _ => None,
        })
        .await
}

fn seqs(messages: &[ChatMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

#[actix_web::test]
async fn history_survives_a_server_restart() {
    let mut app = TestApp::spawn().await;
    let (mut alice, alice_user, token) = app.user("Alice").await;
    for text in ["one", "two", "three"] {
        alice.say_acked(text).await;
    }
    app.restart().await;

    // The cookie still works and the messages are still there, in order.
    let mut alice = app.connect(&token).await;
    let (me, _) = alice.welcome().await;
    assert_eq!(me, alice_user);
    let (messages, has_older, complete) = synced(&mut alice, None).await;
    let texts: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    assert_eq!(seqs(&messages), [1, 2, 3]);
    assert!(messages.iter().all(|m| m.author == alice_user));
    assert!(!has_older);
    assert!(complete);
    // Numbering continues where it stopped.
    assert_eq!(alice.say_acked("four").await, 4);
}

#[actix_web::test]
async fn first_open_shows_the_latest_fifty_and_scroll_back_pages_older() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    for n in 1..=60 {
        alice.say(&format!("message {n}")).await;
    }
    let mut acked = 0;
    while acked < 60 {
        if let ServerMsg::Ack { .. } = alice.recv().await {
            acked += 1;
        }
    }
    let (latest, has_older, _) = synced(&mut alice, None).await;
    assert_eq!(seqs(&latest), (11..=60).collect::<Vec<_>>());
    assert_eq!(latest[0].text, "message 11");
    assert!(has_older);

    alice
        .send(&ClientMsg::History {
            channel: alice.general(),
            before_seq: 11,
            limit: Some(50),
        })
        .await;
    let (older, has_older) = alice
        .recv_until(|m| match m {
            ServerMsg::History {
                messages,
                has_older,
                ..
            } => Some((messages, has_older)),
            _ => None,
        })
        .await;
    assert_eq!(seqs(&older), (1..=10).collect::<Vec<_>>());
    assert!(!has_older);

    alice
        .send(&ClientMsg::History {
            channel: alice.general(),
            before_seq: 30,
            limit: Some(5),
        })
        .await;
    let (page, has_older) = alice
        .recv_until(|m| match m {
            ServerMsg::History {
                messages,
                has_older,
                ..
            } => Some((messages, has_older)),
            _ => None,
        })
        .await;
    assert_eq!(seqs(&page), [25, 26, 27, 28, 29]);
    assert!(has_older);
}

#[actix_web::test]
async fn a_reconnecting_client_catches_up_from_its_last_sequence_number() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, bob_token) = app.user("Bob").await;
    alice.online_notice().await; // bob joined
    alice.say_acked("before 1").await;
    let last_seen = alice.say_acked("before 2").await;
    // Bob saw both, then loses his connection.
    let mut seen = 0;
    while seen < 2 {
        if let ServerMsg::Message { .. } = bob.recv().await {
            seen += 1;
        }
    }
    drop(bob);
    for text in ["missed 1", "missed 2", "missed 3"] {
        alice.say_acked(text).await;
    }
    let mut bob = app.connect(&bob_token).await;
    bob.welcome().await;
    let (missed, has_older, complete) = synced(&mut bob, Some(last_seen)).await;
    let texts: Vec<&str> = missed.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["missed 1", "missed 2", "missed 3"]);
    assert!(has_older);
    assert!(complete);
    // Nothing new: an empty, complete catch-up.
    let (none, _, complete) = synced(&mut bob, Some(last_seen + 3)).await;
    assert!(none.is_empty());
    assert!(complete);
}

/// The `epoch` of the next `welcome` on a new connection.
async fn epoch_of(app: &TestApp, token: &str) -> String {
    let mut client = app.connect(token).await;
    client
        .recv_until(|m| match m {
            ServerMsg::Welcome { epoch, .. } => Some(epoch),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn welcome_names_the_history_and_a_restored_database_names_another() {
    let mut app = TestApp::spawn().await;
    let (_alice, _, token) = app.user("Alice").await;
    let first = epoch_of(&app, &token).await;
    assert!(!first.is_empty());
    app.restart().await;
    assert_eq!(
        epoch_of(&app, &token).await,
        first,
        "a restart is the same history"
    );
    // What an operator runs after putting a backup back.
    app.stop().await;
    let store = chat_server::store::Store::open(&app.settings.database_url)
        .await
        .unwrap();
    let renewed = store.new_epoch().await.unwrap();
    store.close().await;
    app.restart().await;
    let after = epoch_of(&app, &token).await;
    assert_ne!(after, first);
    assert_eq!(after, renewed);
}
