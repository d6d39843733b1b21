//! Real-time messaging between clients.

use std::time::Duration;

use shared::{ClientMsg, ServerMsg};

use crate::helpers::{TestApp, new_client_id};

#[actix_web::test]
async fn two_clients_see_each_others_messages() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;

    let id = alice.say("Hello World!").await;
    let seq = alice.ack_for(&id).await;
    assert_eq!(seq, 1);
    let received = bob
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(received.author, alice_user);
    assert_eq!(received.text, "Hello World!");
    assert_eq!(received.seq, 1);
    assert_eq!(received.client_id, id);
    assert_eq!(received.channel, alice.general());

    let seq = bob.say_acked("Hi Alice <b>not bold</b>").await;
    assert_eq!(seq, 2);
    let received = alice
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(received.author, bob_user);
    assert_eq!(
        received.text, "Hi Alice <b>not bold</b>",
        "text is stored and sent verbatim"
    );
}

#[actix_web::test]
async fn the_sender_gets_an_ack_and_its_other_tabs_get_the_message() {
    let app = TestApp::spawn().await;
    let (mut tab1, _, token) = app.user("Alice").await;
    let mut tab2 = app.connect(&token).await;
    tab2.welcome().await;

    let id = tab1.say("from tab one").await;
    match tab1.recv().await {
        ServerMsg::Ack { client_id, seq, .. } => {
            assert_eq!(client_id, id);
            assert_eq!(seq, 1);
        }
        other => panic!("expected an ack first, got {other:?}"),
    }
    let message = tab2
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(message.text, "from tab one");
    // The sending tab never gets its own message back as a second copy.
    tab1.expect_silence(Duration::from_millis(300)).await;
}

#[actix_web::test]
async fn a_resend_with_the_same_id_is_acked_again_but_not_stored_twice() {
    let app = TestApp::spawn().await;
    let (mut alice, _, token) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    alice.online_notice().await; // bob joined
    let general = alice.general();
    let id = new_client_id();
    let send = ClientMsg::Send {
        channel: general.clone(),
        client_id: id.clone(),
        text: "only once".into(),
        attachments: vec![],
    };
    alice.send(&send).await;
    let first = alice.ack_for(&id).await;

    // Same id again on the same socket, then after a reconnect.
    alice.send(&send).await;
    assert_eq!(alice.ack_for(&id).await, first);
    alice.close().await;
    let mut alice = app.connect(&token).await;
    alice.welcome().await;
    alice.send(&send).await;
    assert_eq!(alice.ack_for(&id).await, first);

    let next = alice.say_acked("after").await;
    assert_eq!(
        next,
        first + 1,
        "no sequence number was spent on the resends"
    );

    let mut texts = Vec::new();
    while texts.len() < 2 {
        if let ServerMsg::Message { message } = bob.recv().await {
            texts.push(message.text);
        }
    }
    assert_eq!(texts, ["only once", "after"]);

    alice
        .send(&ClientMsg::Sync {
            channel: general,
            after_seq: None,
            after_change: None,
        })
        .await;
    let synced = alice
        .recv_until(|m| match m {
            ServerMsg::Synced { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert_eq!(synced.len(), 2);
}

#[actix_web::test]
async fn many_clients_sending_at_once_get_ordered_gapless_sequence_numbers() {
    let app = TestApp::spawn().await;
    let mut senders = Vec::new();
    for i in 0..5 {
        let (client, _, _) = app.user(&format!("user{i}")).await;
        senders.push(client);
    }
    let (mut watcher, _, _) = app.user("watcher").await;
    let per_client = 20;
    let mut ids = Vec::new();
    for client in senders.iter_mut() {
        for n in 0..per_client {
            ids.push(client.say(&format!("message {n}")).await);
        }
    }
    let mut seqs = Vec::new();
    while seqs.len() < 5 * per_client {
        if let ServerMsg::Message { message } = watcher.recv().await {
            seqs.push(message.seq);
        }
    }
    let expected: Vec<i64> = (1..=(5 * per_client) as i64).collect();
    assert_eq!(
        seqs, expected,
        "broadcasts arrive in sequence order, without gaps"
    );
}
