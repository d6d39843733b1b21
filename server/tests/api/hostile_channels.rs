//! Conversations under attack: reactions are capped per message and per
//! person, private channel names reveal and reserve nothing, people can be
//! blocked, and direct conversations can be hidden or left.

use shared::limits::{MAX_REACTION_EMOJI, MAX_REACTIONS_PER_USER};
use shared::{ClientMsg, ErrorCode, ServerMsg, UserId};

use crate::helpers::{TestApp, WsClient};

/// Emoji the server accepts as reactions, all different.
const EMOJI: &[&str] = &[
    "😀", "😃", "😄", "😁", "😆", "😅", "😂", "🤣", "😊", "😇", "🙂", "🙃", "😉", "😌", "😍", "🥰",
    "😘", "😗", "😙", "😚", "😋", "😛", "😝", "😜", "🤪", "🤨", "🧐", "🤓", "😎", "🤩",
];

/// Adds `me`'s reaction; the number of different emoji on the message
/// after it, or the refusal.
async fn react(
    client: &mut WsClient,
    me: &UserId,
    seq: i64,
    emoji: &str,
) -> Result<usize, ErrorCode> {
    client
        .send(&ClientMsg::React {
            channel: client.general(),
            seq,
            emoji: emoji.into(),
            add: true,
        })
        .await;
    // Updates of other people's reactions may be queued before the answer.
    client
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message }
                if message
                    .reactions
                    .iter()
                    .any(|r| r.emoji == emoji && r.by(me)) =>
            {
                Some(Ok(message.reactions.len()))
            }
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn reactions_are_capped_per_message_and_per_person() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let seq = alice.say_acked("react to me").await;
    let mut others = Vec::new();
    for name in ["Bob", "Carol", "Dave"] {
        let (client, user, _) = app.user(name).await;
        others.push((client, user.id));
    }
    // One person: at most MAX_REACTIONS_PER_USER.
    for emoji in &EMOJI[..MAX_REACTIONS_PER_USER] {
        react(&mut alice, &alice_user.id, seq, emoji).await.unwrap();
    }
    assert_eq!(
        react(
            &mut alice,
            &alice_user.id,
            seq,
            EMOJI[MAX_REACTIONS_PER_USER]
        )
        .await,
        Err(ErrorCode::TooManyReactions)
    );
    // Everyone together: at most MAX_REACTION_EMOJI different emoji.
    let mut next = MAX_REACTIONS_PER_USER;
    let mut refused = None;
    'people: for (other, id) in &mut others {
        for _ in 0..MAX_REACTIONS_PER_USER {
            match react(other, id, seq, EMOJI[next]).await {
                Ok(distinct) => assert!(distinct <= MAX_REACTION_EMOJI),
                Err(code) => {
                    refused = Some((next, code));
                    break 'people;
                }
            }
            next += 1;
        }
    }
    assert_eq!(
        refused,
        Some((MAX_REACTION_EMOJI, ErrorCode::TooManyReactions))
    );
    // An emoji already there can still be added to by others.
    let (dave, dave_id) = &mut others[2];
    assert_eq!(
        react(dave, dave_id, seq, EMOJI[0]).await,
        Ok(MAX_REACTION_EMOJI)
    );
}

#[actix_web::test]
async fn private_channel_names_reveal_and_reserve_nothing() {
    let app = TestApp::spawn().await;
    let (mut bob, _, _) = app.user("Bob").await;
    let (mut alice, _, _) = app.user("Alice").await;
    let secret = bob.create_channel("secret", true).await;
    // Alice cannot tell it exists: her own private "secret" is created...
    let hers = alice.create_channel("secret", true).await;
    assert_ne!(hers.id, secret.id);
    assert_eq!(hers.name, "secret");
    // ...and so is a public one of that name, by someone in neither.
    let (mut carol, _, _) = app.user("Carol").await;
    let public = carol.create_channel("secret", false).await;
    assert_ne!(public.id, secret.id);
    // Public names are unique (they are visible anyway).
    let (mut dave, _, _) = app.user("Dave").await;
    dave.send(&ClientMsg::CreateChannel {
        name: "secret".into(),
        topic: String::new(),
        private: false,
    })
    .await;
    assert_eq!(dave.next_error().await, ErrorCode::ChannelNameTaken);
    // Nobody can be in two channels of one name (names are how people tell them apart).
    bob.send(&ClientMsg::JoinChannel {
        channel: public.id.clone(),
    })
    .await;
    assert_eq!(bob.next_error().await, ErrorCode::ChannelNameTaken);
}

#[actix_web::test]
async fn a_blocked_user_cannot_start_conversations_invite_or_write_directly() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let (mut bob, bob_user, bob_token) = app.user("Bob").await;
    // An existing conversation.
    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![bob_user.id.clone()],
        })
        .await;
    let dm = alice.joined().await;
    bob.joined().await;
    alice.post_to(&dm.id, "hi Bob").await.unwrap();

    bob.send(&ClientMsg::Block {
        user: alice_user.id.clone(),
        blocked: true,
    })
    .await;
    let blocked = bob
        .recv_until(|m| match m {
            ServerMsg::Blocked { users } => Some(users),
            _ => None,
        })
        .await;
    assert_eq!(blocked, vec![alice_user.id.clone()]);

    assert_eq!(
        alice.post_to(&dm.id, "hello?").await,
        Err(ErrorCode::Blocked)
    );
    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![bob_user.id.clone()],
        })
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::Blocked);
    let private = alice.create_channel("lair", true).await;
    alice
        .send(&ClientMsg::Invite {
            channel: private.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::Blocked);
    // Bob can still write to Alice; and after unblocking, Alice can answer.
    bob.post_to(&dm.id, "I can still talk").await.unwrap();
    bob.send(&ClientMsg::Block {
        user: alice_user.id.clone(),
        blocked: false,
    })
    .await;
    bob.recv_until(|m| matches!(m, ServerMsg::Blocked { users } if users.is_empty()).then_some(()))
        .await;
    alice.post_to(&dm.id, "thanks").await.unwrap();
    // A reconnecting client learns whom it blocked from `welcome`.
    bob.send(&ClientMsg::Block {
        user: alice_user.id.clone(),
        blocked: true,
    })
    .await;
    bob.recv_until(|m| matches!(m, ServerMsg::Blocked { .. }).then_some(()))
        .await;
    let mut second_tab = app.connect(&bob_token).await;
    match second_tab.recv().await {
        ServerMsg::Welcome { blocked, .. } => assert_eq!(blocked, vec![alice_user.id]),
        other => panic!("expected welcome, got {other:?}"),
    }
}

#[actix_web::test]
async fn a_direct_conversation_can_be_hidden_until_its_next_message() {
    let app = TestApp::spawn().await;
    let (mut alice, _, alice_token) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![bob_user.id.clone()],
        })
        .await;
    let dm = alice.joined().await;
    bob.joined().await;
    bob.post_to(&dm.id, "first").await.unwrap();
    alice
        .send(&ClientMsg::LeaveChannel {
            channel: dm.id.clone(),
        })
        .await;
    let left = alice
        .recv_until(|m| match m {
            ServerMsg::ChannelLeft { channel, .. } => Some(channel),
            _ => None,
        })
        .await;
    assert_eq!(left, dm.id);
    // Hidden: not in Alice's list when she comes back.
    let mut again = app.connect(&alice_token).await;
    let hidden_list = match again.recv().await {
        ServerMsg::Welcome { channels, .. } => channels,
        other => panic!("expected welcome, got {other:?}"),
    };
    assert!(hidden_list.iter().all(|c| c.id != dm.id));
    // Bob writes again: it is back, before the message.
    bob.post_to(&dm.id, "are you there?").await.unwrap();
    let back = alice.joined().await;
    assert_eq!(back.id, dm.id);
    let text = alice
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message.text),
            _ => None,
        })
        .await;
    assert_eq!(text, "are you there?");
}

#[actix_web::test]
async fn a_message_s_state_stays_small_however_many_react() {
    use shared::limits::REACTION_NAMES_SHOWN;

    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let seq = alice.say_acked("react to me").await;
    let mut reactors = Vec::new();
    for n in 0..25 {
        let (client, user, _) = app.user(&format!("fan{n}")).await;
        reactors.push((client, user));
    }
    let mut largest = 0;
    for (client, user) in &mut reactors {
        react(client, &user.id, seq, "👍").await.unwrap();
    }
    // Everyone's copy: a count and the first few names, nobody's marks.
    let last = alice
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.reactions[0].total() == 25 => {
                Some(message)
            }
            ServerMsg::MessageUpdated { message } => {
                largest = largest.max(serde_json::to_string(&message).unwrap().len());
                None
            }
            _ => None,
        })
        .await;
    let thumbs = &last.reactions[0];
    assert_eq!(thumbs.count, 25);
    assert_eq!(thumbs.users.len(), REACTION_NAMES_SHOWN);
    assert_eq!(thumbs.mine, None);
    assert!(!thumbs.by(&alice_user.id));
    assert!(largest < 2_000, "{largest} bytes for one reaction change");
    // A reactor's own copy says it reacted, though not among the names shown.
    let (last_client, last_user) = reactors.last_mut().unwrap();
    last_client
        .send(&ClientMsg::Sync {
            channel: last_client.general(),
            after_seq: None,
            after_change: None,
        })
        .await;
    let held = last_client
        .recv_until(|m| match m {
            ServerMsg::Synced { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    let message = held.iter().find(|m| m.seq == seq).unwrap();
    assert_eq!(message.reactions[0].mine, Some(true));
    assert!(
        message.reactions[0]
            .users
            .iter()
            .all(|u| u.id != last_user.id)
    );
    assert!(message.reactions[0].by(&last_user.id));
}
