//! A database that fails: clear errors, nothing lost, recovery without duplicates.

use shared::{ClientMsg, ErrorCode, ServerMsg};

use crate::helpers::{TestApp, new_client_id};

#[actix_web::test]
async fn a_failing_database_gets_clear_errors_and_loses_nothing() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    alice.online_notice().await; // bob joined

    // Break the messages table from outside the server.
    app.outside_sql("ALTER TABLE messages RENAME TO messages_away")
        .await;

    let id = new_client_id();
    let send = ClientMsg::Send {
        channel: alice.general(),
        client_id: id.clone(),
        text: "during the outage".into(),
        attachments: vec![],
    };
    alice.send(&send).await;
    match alice.recv().await {
        ServerMsg::Error {
            code, client_id, ..
        } => {
            assert_eq!(code, ErrorCode::StoreUnavailable);
            assert_eq!(client_id, Some(id.clone()));
        }
        other => panic!("expected store_unavailable, got {other:?}"),
    }
    alice
        .send(&ClientMsg::Sync {
            channel: alice.general(),
            after_seq: None,
            after_change: None,
        })
        .await;
    match alice.recv().await {
        ServerMsg::Error { code, .. } => assert_eq!(code, ErrorCode::StoreUnavailable),
        other => panic!("expected store_unavailable, got {other:?}"),
    }

    // The database recovers; the client's resend is stored once and delivered.
    app.outside_sql("ALTER TABLE messages_away RENAME TO messages")
        .await;
    alice.send(&send).await;
    assert_eq!(alice.ack_for(&id).await, 1);
    let message = bob
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(message.text, "during the outage");
    assert_eq!(message.seq, 1, "the failed attempt used no sequence number");
}
