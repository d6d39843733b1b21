//! Editing, deleting and reacting: authorized on the server, live for
//! everyone in the conversation, persistent, and caught up after reconnecting.

use std::time::Duration;

use shared::{ChatMessage, ClientMsg, ErrorCode, ServerMsg};

use crate::helpers::{TestApp, WsClient};

async fn updated(client: &mut WsClient) -> ChatMessage {
    client
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } => Some(message),
            _ => None,
        })
        .await
}

async fn refused(client: &mut WsClient) -> ErrorCode {
    match client.recv().await {
        ServerMsg::Error { code, .. } => code,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn reactions(message: &ChatMessage) -> Vec<(String, Vec<String>)> {
    message
        .reactions
        .iter()
        .map(|r| {
            (
                r.emoji.clone(),
                r.users.iter().map(|u| u.name.clone()).collect(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn edits_deletes_and_reactions_reach_everyone_and_only_authors_edit() {
    let mut app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, bob_token) = app.user("Bob").await;
    alice.online_notice().await; // bob joined
    let general = alice.general();
    let seq = alice.say_acked("helo world").await;
    let original = bob
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;

    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq,
            text: "hello world".into(),
        })
        .await;
    for client in [&mut alice, &mut bob] {
        let message = updated(client).await;
        assert_eq!(message.text, "hello world");
        assert!(message.edited_at.is_some());
        assert!(message.change > original.change);
    }

    // Bob may not touch Alice's words; nobody edits what does not exist.
    for request in [
        ClientMsg::Edit {
            channel: general.clone(),
            seq,
            text: "hijacked".into(),
        },
        ClientMsg::Delete {
            channel: general.clone(),
            seq,
        },
    ] {
        bob.send(&request).await;
        assert_eq!(refused(&mut bob).await, ErrorCode::NotAllowed);
    }
    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq: 999,
            text: "x".into(),
        })
        .await;
    assert_eq!(refused(&mut alice).await, ErrorCode::UnknownMessage);
    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq,
            text: "   ".into(),
        })
        .await;
    assert_eq!(refused(&mut alice).await, ErrorCode::EmptyText);

    // Reactions: toggled per person, counted, only real emoji.
    let react = |emoji: &str, add: bool| ClientMsg::React {
        channel: general.clone(),
        seq,
        emoji: emoji.into(),
        add,
    };
    bob.send(&react("👍", true)).await;
    assert_eq!(
        reactions(&updated(&mut alice).await),
        [("👍".into(), vec!["Bob".into()])]
    );
    updated(&mut bob).await;
    bob.send(&react("👍", true)).await; // already there: nothing changes
    alice.expect_silence(Duration::from_millis(200)).await;
    bob.send(&react("<b>", true)).await;
    assert_eq!(refused(&mut bob).await, ErrorCode::InvalidEmoji);
    alice.send(&react("👍", true)).await;
    let both = updated(&mut bob).await;
    assert_eq!(
        reactions(&both),
        [("👍".into(), vec!["Bob".into(), "Alice".into()])]
    );
    updated(&mut alice).await;
    bob.send(&react("👍", false)).await;
    assert_eq!(
        reactions(&updated(&mut alice).await),
        [("👍".into(), vec!["Alice".into()])]
    );
    updated(&mut bob).await;

    // Bob goes away; Alice edits and reacts; Bob catches up on the changes.
    let seen_change = both.change;
    bob.close().await;
    alice.recv().await; // bob left
    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq,
            text: "hello, world".into(),
        })
        .await;
    updated(&mut alice).await;
    alice.send(&react("🎉", true)).await;
    updated(&mut alice).await;
    let mut bob = app.connect(&bob_token).await;
    bob.welcome().await;
    bob.send(&ClientMsg::Sync {
        channel: general.clone(),
        after_seq: Some(seq),
        after_change: Some(seen_change),
    })
    .await;
    let (messages, changed) = bob
        .recv_until(|m| match m {
            ServerMsg::Synced {
                messages, updated, ..
            } => Some((messages, updated)),
            _ => None,
        })
        .await;
    assert!(messages.is_empty());
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].text, "hello, world");
    assert_eq!(
        reactions(&changed[0]),
        [
            ("👍".into(), vec!["Alice".into()]),
            ("🎉".into(), vec!["Alice".into()])
        ]
    );

    // Deleting clears text and reactions, for good, and survives a restart.
    alice
        .send(&ClientMsg::Delete {
            channel: general.clone(),
            seq,
        })
        .await;
    let gone = updated(&mut bob).await;
    assert!(gone.deleted);
    assert_eq!(gone.text, "");
    assert!(gone.reactions.is_empty());
    updated(&mut alice).await;
    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq,
            text: "back from the dead".into(),
        })
        .await;
    assert_eq!(refused(&mut alice).await, ErrorCode::UnknownMessage);

    app.restart().await;
    let (mut carol, _, _) = app.user("Carol").await;
    carol
        .send(&ClientMsg::Sync {
            channel: carol.general(),
            after_seq: None,
            after_change: None,
        })
        .await;
    let history = carol
        .recv_until(|m| match m {
            ServerMsg::Synced { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert!(history[0].deleted);
    assert_eq!(history[0].text, "");
}

#[actix_web::test]
async fn reactions_and_edits_in_a_private_channel_need_membership() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let secret = alice.create_channel("secret", true).await.id;
    let id = shared::ClientMsgId::parse("secret-1").unwrap();
    alice
        .send(&ClientMsg::Send {
            channel: secret.clone(),
            client_id: id.clone(),
            text: "members only".into(),
            attachments: vec![],
        })
        .await;
    let seq = alice.ack_for(&id).await;
    for request in [
        ClientMsg::React {
            channel: secret.clone(),
            seq,
            emoji: "👍".into(),
            add: true,
        },
        ClientMsg::Edit {
            channel: secret.clone(),
            seq,
            text: "mine now".into(),
        },
        ClientMsg::Delete {
            channel: secret.clone(),
            seq,
        },
    ] {
        bob.send(&request).await;
        assert_eq!(
            refused(&mut bob).await,
            ErrorCode::NotAMember,
            "{request:?}"
        );
    }
}
