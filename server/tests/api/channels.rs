//! Channels, private channels, direct conversations, typing, presence and read
//! state, and the authorization rules: nobody reads, receives or posts in a
//! conversation they are not in, whatever frames they craft.

use std::time::Duration;

use shared::protocol::{ChannelInfo, ChannelKind, PresenceStatus};
use shared::{ChannelId, ClientMsg, ErrorCode, ServerMsg, UserId};

use crate::helpers::{TestApp, WsClient, new_client_id};

async fn create(client: &mut WsClient, name: &str, private: bool) -> ChannelInfo {
    client.create_channel(name, private).await
}

async fn next_message(client: &mut WsClient) -> shared::ChatMessage {
    client
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await
}

/// Every read and write a non-member could try on `channel`: all refused.
async fn assert_locked_out(client: &mut WsClient, channel: &ChannelId, someone: &UserId) {
    let attempts = vec![
        ClientMsg::Send {
            channel: channel.clone(),
            client_id: new_client_id(),
            text: "let me in".into(),
            attachments: vec![],
        },
        ClientMsg::Sync {
            channel: channel.clone(),
            after_seq: None,
            after_change: None,
        },
        ClientMsg::Sync {
            channel: channel.clone(),
            after_seq: Some(0),
            after_change: None,
        },
        ClientMsg::History {
            channel: channel.clone(),
            before_seq: 1000,
            limit: None,
        },
        ClientMsg::Around {
            channel: channel.clone(),
            seq: 1,
        },
        ClientMsg::Newer {
            channel: channel.clone(),
            after_seq: 0,
        },
        ClientMsg::Members {
            channel: channel.clone(),
        },
        ClientMsg::SetTopic {
            channel: channel.clone(),
            topic: "hijacked".into(),
        },
        ClientMsg::Invite {
            channel: channel.clone(),
            user: someone.clone(),
        },
        ClientMsg::RemoveMember {
            channel: channel.clone(),
            user: someone.clone(),
        },
        ClientMsg::Typing {
            channel: channel.clone(),
        },
        ClientMsg::MarkRead {
            channel: channel.clone(),
            seq: 1,
        },
        ClientMsg::LeaveChannel {
            channel: channel.clone(),
        },
        ClientMsg::JoinChannel {
            channel: channel.clone(),
        },
    ];
    for attempt in attempts {
        client.send(&attempt).await;
        match client.recv().await {
            ServerMsg::Error { code, .. } => {
                assert_eq!(code, ErrorCode::NotAMember, "{attempt:?}")
            }
            other => panic!("{attempt:?} was answered with {other:?}"),
        }
    }
}

#[actix_web::test]
async fn channel_names_are_validated_and_unique() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let rust = create(&mut alice, "rust", false).await;
    assert_eq!(rust.name, "rust");
    assert_eq!(rust.topic, "all about rust");
    assert_eq!(rust.kind, ChannelKind::Public);
    assert_eq!(rust.member_count, 1);
    assert_eq!(rust.created_by, Some(alice_user.id));
    for bad in [
        "Rust",
        "has space",
        "",
        &"x".repeat(41),
        "émoji",
        "general!",
    ] {
        alice
            .send(&ClientMsg::CreateChannel {
                name: bad.into(),
                topic: String::new(),
                private: false,
            })
            .await;
        assert_eq!(
            alice.next_error().await,
            ErrorCode::InvalidChannelName,
            "{bad:?}"
        );
    }
    for taken in ["rust", "general", "#rust"] {
        alice
            .send(&ClientMsg::CreateChannel {
                name: taken.into(),
                topic: String::new(),
                private: true,
            })
            .await;
        assert_eq!(
            alice.next_error().await,
            ErrorCode::ChannelNameTaken,
            "{taken}"
        );
    }
    alice
        .send(&ClientMsg::CreateChannel {
            name: "long-topic".into(),
            topic: "t".repeat(251),
            private: false,
        })
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::InvalidTopic);
}

#[actix_web::test]
async fn public_channels_are_found_joined_and_kept_to_their_members() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, bob_user, bob_token) = app.user("Bob").await;
    let (mut carol, _, _) = app.user("Carol").await;
    let rust = create(&mut alice, "rust", false).await;

    bob.send(&ClientMsg::BrowseChannels { query: "RU".into() })
        .await;
    let found = bob
        .recv_until(|m| match m {
            ServerMsg::ChannelDirectory { channels, .. } => Some(channels),
            _ => None,
        })
        .await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        (
            found[0].name.as_str(),
            found[0].member_count,
            found[0].joined
        ),
        ("rust", 1, false)
    );

    bob.send(&ClientMsg::JoinChannel {
        channel: rust.id.clone(),
    })
    .await;
    let bobs_rust = bob.joined().await;
    assert_eq!(bobs_rust.member_count, 2);
    let joined_notice = alice
        .recv_until(|m| match m {
            ServerMsg::MemberJoined { channel, user } => Some((channel, user)),
            _ => None,
        })
        .await;
    assert_eq!(joined_notice, (rust.id.clone(), bob_user.clone()));

    // Each channel numbers its own messages.
    assert_eq!(
        alice.post_to(&rust.id, "hello rustaceans").await.unwrap(),
        1
    );
    let message = next_message(&mut bob).await;
    assert_eq!(
        (message.channel.clone(), message.text.as_str()),
        (rust.id.clone(), "hello rustaceans")
    );
    // Carol, in general only, hears nothing of #rust.
    carol.expect_silence(Duration::from_millis(300)).await;

    // A reconnecting Bob is in #rust and catches up there.
    bob.close().await;
    let mut bob = app.connect(&bob_token).await;
    bob.welcome().await;
    bob.send(&ClientMsg::Sync {
        channel: rust.id.clone(),
        after_seq: Some(0),
        after_change: None,
    })
    .await;
    let synced = bob
        .recv_until(|m| match m {
            ServerMsg::Synced { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert_eq!(synced.len(), 1);

    // Leaving: Bob's events stop, the others are told.
    bob.send(&ClientMsg::LeaveChannel {
        channel: rust.id.clone(),
    })
    .await;
    let left = bob
        .recv_until(|m| match m {
            ServerMsg::ChannelLeft { channel, .. } => Some(channel),
            _ => None,
        })
        .await;
    assert_eq!(left, rust.id);
    let left_notice = alice
        .recv_until(|m| match m {
            ServerMsg::MemberLeft { user, .. } => Some(user),
            _ => None,
        })
        .await;
    assert_eq!(left_notice, bob_user);
    alice.post_to(&rust.id, "after bob left").await.unwrap();
    bob.expect_silence(Duration::from_millis(300)).await;
}

#[actix_web::test]
async fn private_channels_admit_only_invited_members_and_removal_cuts_off_at_once() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    let secret = create(&mut alice, "secret", true).await;
    assert_eq!(secret.kind, ChannelKind::Private);
    alice.post_to(&secret.id, "the plan").await.unwrap();

    // Invisible when browsing, and every crafted frame is refused without data.
    bob.send(&ClientMsg::BrowseChannels {
        query: String::new(),
    })
    .await;
    let listed = bob
        .recv_until(|m| match m {
            ServerMsg::ChannelDirectory { channels, .. } => Some(channels),
            _ => None,
        })
        .await;
    assert!(listed.iter().all(|c| c.name != "secret"), "{listed:?}");
    assert_locked_out(&mut bob, &secret.id, &alice_user.id).await;
    // A guessed id that does not exist looks exactly the same.
    assert_locked_out(&mut bob, &ChannelId("0".repeat(32)), &alice_user.id).await;

    // Invited, Bob can read and post.
    alice
        .send(&ClientMsg::Invite {
            channel: secret.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    let bobs_secret = bob.joined().await;
    assert_eq!(bobs_secret.id, secret.id);
    bob.send(&ClientMsg::History {
        channel: secret.id.clone(),
        before_seq: 100,
        limit: None,
    })
    .await;
    let history = bob
        .recv_until(|m| match m {
            ServerMsg::History { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert_eq!(history[0].text, "the plan");

    // Only the creator removes members.
    bob.send(&ClientMsg::RemoveMember {
        channel: secret.id.clone(),
        user: alice_user.id.clone(),
    })
    .await;
    assert_eq!(bob.next_error().await, ErrorCode::NotAllowed);

    alice
        .send(&ClientMsg::RemoveMember {
            channel: secret.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    let (channel, reason) = bob
        .recv_until(|m| match m {
            ServerMsg::ChannelLeft { channel, reason } => Some((channel, reason)),
            _ => None,
        })
        .await;
    assert_eq!(channel, secret.id);
    assert!(reason.contains("Alice"), "{reason}");
    alice
        .post_to(&secret.id, "after the removal")
        .await
        .unwrap();
    bob.expect_silence(Duration::from_millis(300)).await;
    assert_locked_out(&mut bob, &secret.id, &alice_user.id).await;
}

#[actix_web::test]
async fn direct_conversations_are_for_their_participants_only() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    let (mut carol, _, _) = app.user("Carol").await;

    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![bob_user.id.clone()],
        })
        .await;
    let alices_view = alice.joined().await;
    let bobs_view = bob.joined().await;
    assert_eq!(alices_view.id, bobs_view.id);
    assert_eq!(alices_view.kind, ChannelKind::Direct);
    assert_eq!(alices_view.name, "Bob");
    assert_eq!(bobs_view.name, "Alice");
    assert_eq!(bobs_view.direct_with, vec![alice_user.clone()]);

    alice
        .post_to(&alices_view.id, "just between us")
        .await
        .unwrap();
    assert_eq!(next_message(&mut bob).await.text, "just between us");
    carol.expect_silence(Duration::from_millis(300)).await;
    assert_locked_out(&mut carol, &alices_view.id, &bob_user.id).await;

    // Opening it again finds the same conversation.
    bob.send(&ClientMsg::OpenDirect {
        users: vec![alice_user.id.clone()],
    })
    .await;
    assert_eq!(bob.joined().await.id, alices_view.id);
    // Nobody else can be added.
    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![UserId("no-such-user".into())],
        })
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::UnknownUser);
    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![alice_user.id.clone()],
        })
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::NotAllowed);
}

#[actix_web::test]
async fn topics_typing_and_presence_reach_the_right_people() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let (mut carol, _, _) = app.user("Carol").await;
    let rust = create(&mut alice, "rust", false).await;
    bob.send(&ClientMsg::JoinChannel {
        channel: rust.id.clone(),
    })
    .await;
    bob.joined().await;

    bob.send(&ClientMsg::SetTopic {
        channel: rust.id.clone(),
        topic: "  Rust 2024,   async  ".into(),
    })
    .await;
    for client in [&mut alice, &mut bob] {
        let topic = client
            .recv_until(|m| match m {
                ServerMsg::TopicChanged { topic, by, .. } => Some((topic, by.name)),
                _ => None,
            })
            .await;
        assert_eq!(topic, ("Rust 2024, async".to_string(), "Bob".to_string()));
    }

    alice
        .send(&ClientMsg::Typing {
            channel: rust.id.clone(),
        })
        .await;
    let typing = bob
        .recv_until(|m| match m {
            ServerMsg::Typing { channel, user } => Some((channel, user)),
            _ => None,
        })
        .await;
    assert_eq!(typing, (rust.id.clone(), alice_user.clone()));
    // A second notice right away is throttled; Carol never hears any.
    alice
        .send(&ClientMsg::Typing {
            channel: rust.id.clone(),
        })
        .await;
    bob.expect_silence(Duration::from_millis(300)).await;

    alice.send(&ClientMsg::SetAway { away: true }).await;
    for client in [&mut bob, &mut carol] {
        let presence = client
            .recv_until(|m| match m {
                ServerMsg::Presence { user, status } => Some((user, status)),
                _ => None,
            })
            .await;
        assert_eq!(presence, (alice_user.clone(), PresenceStatus::Away));
    }
    carol
        .send(&ClientMsg::ListUsers {
            query: String::new(),
            after: None,
        })
        .await;
    let users = carol
        .recv_until(|m| match m {
            ServerMsg::Users { users, .. } => Some(users),
            _ => None,
        })
        .await;
    let alice_status = users.iter().find(|u| u.user == alice_user).unwrap().status;
    assert_eq!(alice_status, PresenceStatus::Away);
    alice.send(&ClientMsg::SetAway { away: false }).await;
    let back = bob
        .recv_until(|m| match m {
            ServerMsg::Presence { status, .. } => Some(status),
            _ => None,
        })
        .await;
    assert_eq!(back, PresenceStatus::Online);
}

#[actix_web::test]
async fn unread_counts_and_mentions_survive_reconnects_until_read() {
    let app = TestApp::spawn().await;
    let (alice_user, alice_token) = app.sign_up("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let general = bob.general();
    bob.post_to(&general, "hello everyone").await.unwrap();
    let seq = bob
        .post_to(&general, "@alice are you there?")
        .await
        .unwrap();

    let mut alice = app.connect(&alice_token).await;
    let general = match alice.recv().await {
        ServerMsg::Welcome { channels, user, .. } => {
            assert_eq!(user, alice_user);
            channels.into_iter().find(|c| c.name == "general").unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (
            general.last_seq,
            general.last_read_seq,
            general.unread_mentions
        ),
        (2, 0, 1)
    );

    alice
        .send(&ClientMsg::MarkRead {
            channel: general.id.clone(),
            seq,
        })
        .await;
    alice.expect_silence(Duration::from_millis(200)).await;
    alice.close().await;
    let mut alice = app.connect(&alice_token).await;
    let general = match alice.recv().await {
        ServerMsg::Welcome { channels, .. } => {
            channels.into_iter().find(|c| c.name == "general").unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!((general.last_read_seq, general.unread_mentions), (2, 0));
}

#[actix_web::test]
async fn member_counts_follow_joins_and_leaves() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("alice").await;
    let (mut bob, _, bob_token) = app.user("bob").await;
    let rust = create(&mut alice, "rust", false).await;
    bob.send(&ClientMsg::JoinChannel {
        channel: rust.id.clone(),
    })
    .await;
    assert_eq!(bob.joined().await.member_count, 2);
    bob.send(&ClientMsg::LeaveChannel {
        channel: rust.id.clone(),
    })
    .await;
    bob.recv_until(|m| matches!(m, ServerMsg::ChannelLeft { .. }).then_some(()))
        .await;
    bob.send(&ClientMsg::BrowseChannels {
        query: "rust".into(),
    })
    .await;
    let found = bob
        .recv_until(|m| match m {
            ServerMsg::ChannelDirectory { channels, .. } => Some(channels),
            _ => None,
        })
        .await;
    assert_eq!(found[0].member_count, 1);
    // Everyone is in #general, and a new connection is told so.
    let mut again = app.connect(&bob_token).await;
    let ServerMsg::Welcome { channels, .. } = again.recv().await else {
        panic!("welcome first");
    };
    let general = channels.iter().find(|c| c.name == "general").unwrap();
    assert_eq!(general.member_count, 2);
}
