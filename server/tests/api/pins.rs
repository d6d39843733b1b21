//! Pins over real sockets: any member pins and unpins, everyone in the
//! conversation sees the new state, the pinned list is most recently pinned
//! first, a pin survives an edit and goes with a deletion, nobody outside a
//! conversation can pin or list (answered as for a conversation that does
//! not exist), and a conversation holds at most `MAX_PINS`.

use shared::limits::MAX_PINS;
use shared::{ChannelId, ChatMessage, ClientMsg, ErrorCode, Seq, ServerMsg};

use crate::helpers::TestApp;
use crate::helpers::WsClient;

async fn pin(client: &mut WsClient, channel: &ChannelId, seq: Seq, pinned: bool) {
    client
        .send(&ClientMsg::Pin {
            channel: channel.clone(),
            seq,
            pinned,
        })
        .await;
}

/// The next state of message `seq` this client hears.
async fn updated(client: &mut WsClient, seq: Seq) -> ChatMessage {
    client
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == seq => Some(message),
            ServerMsg::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
            _ => None,
        })
        .await
}

/// The pinned list: (seq, text) most recently pinned first, or the refusal.
async fn pins(client: &mut WsClient, channel: &ChannelId) -> Result<Vec<(Seq, String)>, ErrorCode> {
    client
        .send(&ClientMsg::Pins {
            channel: channel.clone(),
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::Pins { messages, .. } => {
                Some(Ok(messages.into_iter().map(|m| (m.seq, m.text)).collect()))
            }
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn members_pin_and_everyone_sees_it_edits_keep_pins_and_deletes_drop_them() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    let (mut carol, _, _) = app.user("Carol").await;
    let general = alice.general();
    let first = alice
        .post_to(&general, "the deploy checklist")
        .await
        .unwrap();
    let second = alice
        .post_to(&general, "office wifi password")
        .await
        .unwrap();
    assert_eq!(pins(&mut carol, &general).await, Ok(vec![]));

    pin(&mut bob, &general, first, true).await;
    let seen = updated(&mut alice, first).await;
    let pinned = seen.pinned.expect("alice sees the pin");
    assert_eq!(pinned.by, bob_user);
    assert_eq!(seen.text, "the deploy checklist");
    assert!(updated(&mut carol, first).await.pinned.is_some());
    pin(&mut carol, &general, second, true).await;
    updated(&mut bob, second).await;
    assert_eq!(
        pins(&mut bob, &general).await,
        Ok(vec![
            (second, "office wifi password".to_owned()),
            (first, "the deploy checklist".to_owned())
        ]),
        "most recently pinned first"
    );
    // The state that history and catch-up read carries the pin too.
    alice
        .send(&ClientMsg::History {
            channel: general.clone(),
            before_seq: second + 1,
            limit: Some(2),
        })
        .await;
    let page = alice
        .recv_until(|m| match m {
            ServerMsg::History { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert!(page.iter().all(|m| m.pinned.is_some()), "{page:?}");

    // Pinning what is pinned changes nothing and refuses nothing.
    updated(&mut carol, second).await;
    pin(&mut carol, &general, first, true).await;
    carol
        .expect_silence(std::time::Duration::from_millis(200))
        .await;

    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq: first,
            text: "the deploy checklist, v2".into(),
        })
        .await;
    let edited = updated(&mut bob, first).await;
    assert!(edited.pinned.is_some(), "an edit keeps the pin");
    alice
        .send(&ClientMsg::Delete {
            channel: general.clone(),
            seq: second,
        })
        .await;
    assert!(
        updated(&mut bob, second).await.pinned.is_none(),
        "deleted: unpinned"
    );
    assert_eq!(
        pins(&mut carol, &general).await,
        Ok(vec![(first, "the deploy checklist, v2".to_owned())])
    );
    pin(&mut alice, &general, first, false).await;
    assert!(updated(&mut carol, first).await.pinned.is_none());
    assert_eq!(pins(&mut carol, &general).await, Ok(vec![]));
    // Re-pinning the deleted message is refused like any deleted one.
    pin(&mut alice, &general, second, true).await;
    assert_eq!(alice.next_error().await, ErrorCode::UnknownMessage);
}

#[actix_web::test]
async fn nobody_outside_a_conversation_pins_or_lists_its_pins() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut mallory, _, _) = app.user("Mallory").await;
    let secret = alice.create_channel("secret", true).await;
    let plan = alice.post_to(&secret.id, "the plan").await.unwrap();
    pin(&mut alice, &secret.id, plan, true).await;
    updated(&mut alice, plan).await;
    let ops = alice.create_channel("ops", false).await;
    let notice = alice
        .post_to(&ops.id, "public, but not joined")
        .await
        .unwrap();
    let missing = ChannelId("no-such-channel".into());

    for channel in [&secret.id, &ops.id, &missing] {
        pin(&mut mallory, channel, plan.max(notice), true).await;
        assert_eq!(mallory.next_error().await, ErrorCode::NotAMember);
        pin(&mut mallory, channel, plan, false).await;
        assert_eq!(mallory.next_error().await, ErrorCode::NotAMember);
        assert_eq!(
            pins(&mut mallory, channel).await,
            Err(ErrorCode::NotAMember)
        );
    }
    assert_eq!(
        pins(&mut alice, &secret.id).await,
        Ok(vec![(plan, "the plan".to_owned())]),
        "the attempts changed nothing"
    );
    // Once out of a channel, out of its pins.
    mallory
        .send(&ClientMsg::JoinChannel {
            channel: ops.id.clone(),
        })
        .await;
    mallory.joined().await;
    assert_eq!(pins(&mut mallory, &ops.id).await, Ok(vec![]));
    mallory
        .send(&ClientMsg::LeaveChannel {
            channel: ops.id.clone(),
        })
        .await;
    mallory
        .recv_until(|m| matches!(m, ServerMsg::ChannelLeft { .. }).then_some(()))
        .await;
    pin(&mut mallory, &ops.id, notice, true).await;
    assert_eq!(mallory.next_error().await, ErrorCode::NotAMember);
    assert_eq!(
        pins(&mut mallory, &ops.id).await,
        Err(ErrorCode::NotAMember)
    );
    pin(&mut alice, &ops.id, 10_000, true).await;
    assert_eq!(alice.next_error().await, ErrorCode::UnknownMessage);
}

#[actix_web::test]
async fn a_conversation_holds_a_bounded_number_of_pins() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let general = alice.general();
    let mut seqs = Vec::new();
    for n in 0..=MAX_PINS {
        seqs.push(alice.post_to(&general, &format!("note {n}")).await.unwrap());
    }
    for &seq in &seqs[..MAX_PINS] {
        pin(&mut alice, &general, seq, true).await;
        updated(&mut alice, seq).await;
    }
    let last = seqs[MAX_PINS];
    pin(&mut alice, &general, last, true).await;
    assert_eq!(alice.next_error().await, ErrorCode::TooManyPins);
    assert_eq!(pins(&mut alice, &general).await.unwrap().len(), MAX_PINS);
    pin(&mut alice, &general, seqs[0], false).await;
    updated(&mut alice, seqs[0]).await;
    pin(&mut alice, &general, last, true).await;
    assert!(updated(&mut alice, last).await.pinned.is_some());
    assert_eq!(pins(&mut alice, &general).await.unwrap()[0].0, last);
}
