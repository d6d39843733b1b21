//! Every kind of bad frame gets a clear error and the connection keeps working.

use shared::{ChannelId, ClientMsg, ErrorCode, ServerMsg};

use crate::helpers::{TestApp, WsClient, new_client_id};

async fn expect_error(client: &mut WsClient) -> (ErrorCode, String, Option<shared::ClientMsgId>) {
    match client.recv().await {
        ServerMsg::Error {
            code,
            message,
            client_id,
        } => (code, message, client_id),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[actix_web::test]
async fn malformed_unknown_and_invalid_frames_get_errors() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let cases = [
        ("{not json", ErrorCode::MalformedFrame),
        ("[]", ErrorCode::MalformedFrame),
        (r#"{"text":"no type"}"#, ErrorCode::MalformedFrame),
        (r#"{"type":"shout","text":"hi"}"#, ErrorCode::UnknownType),
        (
            r#"{"type":"send","text":"no channel"}"#,
            ErrorCode::InvalidFields,
        ),
        (
            r#"{"type":"send","channel":"x","client_id":"bad id!","text":"hi"}"#,
            ErrorCode::InvalidFields,
        ),
    ];
    for (frame, expected) in cases {
        alice.send_text(frame).await;
        let (code, message, _) = expect_error(&mut alice).await;
        assert_eq!(code, expected, "{frame}");
        assert!(!message.is_empty());
    }
    alice.send_binary(vec![1, 2, 3]).await;
    assert_eq!(
        expect_error(&mut alice).await.0,
        ErrorCode::BinaryNotSupported
    );
    // Still connected and working.
    assert_eq!(alice.say_acked("still here").await, 1);
}

#[actix_web::test]
async fn empty_and_oversized_texts_are_refused_and_named() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    alice.online_notice().await; // bob joined
    for text in ["", "   ", "\n\t \n"] {
        let id = alice.say(text).await;
        let (code, _, client_id) = expect_error(&mut alice).await;
        assert_eq!(code, ErrorCode::EmptyText);
        assert_eq!(client_id, Some(id));
    }
    let id = alice.say(&"a".repeat(4001)).await;
    let (code, message, client_id) = expect_error(&mut alice).await;
    assert_eq!(code, ErrorCode::TextTooLong);
    assert!(message.contains("4000"), "{message}");
    assert_eq!(client_id, Some(id));

    // Exactly at the limit is fine; multi-byte characters count as one.
    assert_eq!(alice.say_acked(&"é".repeat(4000)).await, 1);
    let message = bob
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(message.seq, 1, "nothing refused was stored or broadcast");
}

#[actix_web::test]
async fn a_frame_over_64_kib_closes_the_connection_with_1009() {
    let app = TestApp::spawn().await;
    let (mut alice, _, token) = app.user("Alice").await;
    let frame = format!(
        r#"{{"type":"send","channel":"{}","client_id":"big","text":"{}"}}"#,
        alice.general(),
        "x".repeat(70 * 1024)
    );
    alice.send_text(&frame).await;
    assert_eq!(expect_error(&mut alice).await.0, ErrorCode::FrameTooLarge);
    let reason = alice.closed().await.expect("a close reason");
    assert_eq!(u16::from(reason.code), 1009);
    // The user can reconnect and nothing was stored.
    let mut alice = app.connect(&token).await;
    alice.welcome().await;
    assert_eq!(alice.say_acked("small again").await, 1);
}

#[actix_web::test]
async fn channels_the_user_is_not_in_are_refused_for_every_operation() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    alice.online_notice().await; // bob joined
    let unknown = ChannelId("00000000000000000000000000000000".into());
    let id = new_client_id();
    let requests = [
        ClientMsg::Send {
            channel: unknown.clone(),
            client_id: id.clone(),
            text: "hello?".into(),
            attachments: vec![],
        },
        ClientMsg::Sync {
            channel: unknown.clone(),
            after_seq: None,
            after_change: None,
        },
        ClientMsg::History {
            channel: unknown.clone(),
            before_seq: 100,
            limit: None,
        },
    ];
    for request in requests {
        alice.send(&request).await;
        let (code, _, _) = expect_error(&mut alice).await;
        assert_eq!(code, ErrorCode::NotAMember, "{request:?}");
    }
    // Nothing reached Bob, and the connection still works.
    assert_eq!(alice.say_acked("real").await, 1);
    let message = bob
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(message.text, "real");
}
