//! Threads over real sockets: a reply is a message of its conversation
//! (acked after commit, resent safely, edited and reacted to, seen live by
//! everyone in it) that shows only in its thread unless also sent to the
//! conversation; the parent carries the count, last reply and repliers;
//! the parent's author, repliers and people mentioned follow, and the
//! threads view marks what they have not read; replies shown only in a
//! thread are not unread in the conversation. Nobody outside a
//! conversation can reply, read a thread, follow it or reach a reply by
//! its link, and each refusal is the same as for a conversation or
//! message that does not exist.

use shared::protocol::ChannelInfo;
use shared::{ChannelId, ChatMessage, ClientMsg, ClientMsgId, ErrorCode, Seq, ServerMsg};

use crate::helpers::{TestApp, WsClient, new_client_id};

/// Sends a reply under `id`; its sequence number, or the refusal.
async fn reply_as(
    client: &mut WsClient,
    channel: &ChannelId,
    root: Seq,
    id: &ClientMsgId,
    text: &str,
    also_to_channel: bool,
) -> Result<Seq, ErrorCode> {
    client
        .send(&ClientMsg::Reply {
            channel: channel.clone(),
            root,
            client_id: id.clone(),
            text: text.into(),
            attachments: vec![],
            also_to_channel,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::Ack { client_id, seq, .. } if client_id == *id => Some(Ok(seq)),
            ServerMsg::Error {
                client_id: Some(client_id),
                code,
                ..
            } if client_id == *id => Some(Err(code)),
            _ => None,
        })
        .await
}

async fn reply(
    client: &mut WsClient,
    channel: &ChannelId,
    root: Seq,
    text: &str,
) -> Result<Seq, ErrorCode> {
    reply_as(client, channel, root, &new_client_id(), text, false).await
}

/// The thread as `client` sees it: (parent, reply texts, following), or the refusal.
async fn thread(
    client: &mut WsClient,
    channel: &ChannelId,
    root: Seq,
) -> Result<(ChatMessage, Vec<String>, bool), ErrorCode> {
    client
        .send(&ClientMsg::Thread {
            channel: channel.clone(),
            root,
            before_seq: None,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::Thread {
                root,
                replies,
                following,
                ..
            } => Some(Ok((
                root,
                replies.into_iter().map(|m| m.text).collect(),
                following,
            ))),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

/// The threads view: (parent text, unread) most recently active first.
async fn threads(client: &mut WsClient) -> Vec<(String, bool)> {
    client.send(&ClientMsg::Threads).await;
    client
        .recv_until(|m| match m {
            ServerMsg::Threads { threads } => Some(threads),
            ServerMsg::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
            _ => None,
        })
        .await
        .into_iter()
        .map(|item| (item.root.text, item.unread))
        .collect()
}

/// The next state of message `seq` this client hears.
async fn updated(client: &mut WsClient, seq: Seq) -> ChatMessage {
    client
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == seq => Some(message),
            _ => None,
        })
        .await
}

/// The texts of a conversation's latest page.
async fn channel_texts(client: &mut WsClient, channel: &ChannelId) -> Vec<String> {
    client
        .send(&ClientMsg::Sync {
            channel: channel.clone(),
            after_seq: None,
            after_change: None,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::Synced { messages, .. } => {
                Some(messages.into_iter().map(|m| m.text).collect())
            }
            _ => None,
        })
        .await
}

/// The refusal of a request that names a thread.
async fn refusal(client: &mut WsClient, request: ClientMsg) -> ErrorCode {
    client.send(&request).await;
    client.next_error().await
}

/// A conversation's unread count as the web app shows it.
fn unread(info: &ChannelInfo) -> i64 {
    info.last_seq - info.last_read_seq - i64::from(info.unread_hidden)
}

#[actix_web::test]
async fn replies_grow_a_thread_that_its_parent_counts_and_its_followers_follow() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    let (mut carol, _, carol_token) = app.user("Carol").await;
    let (mut dave, _, _) = app.user("Dave").await;
    let general = alice.general();
    let root = alice.post_to(&general, "release on friday?").await.unwrap();

    // A reply is acked, heard live by everyone in the conversation, and
    // its parent's new state names the count and who replied.
    let id = new_client_id();
    let first = reply_as(
        &mut bob,
        &general,
        root,
        &id,
        "yes, after the freeze",
        false,
    )
    .await
    .unwrap();
    let heard = carol
        .recv_until(|m| match m {
            ServerMsg::Message { message } if message.seq == first => Some(message),
            _ => None,
        })
        .await;
    let place = heard.thread.as_deref().expect("a reply names its thread");
    assert_eq!(place.root, root);
    assert!(!place.also_in_channel);
    let parent = updated(&mut alice, root).await;
    let summary = parent.replies.expect("the parent counts its replies");
    assert_eq!(summary.count, 1);
    assert_eq!(summary.last_seq, first);
    assert_eq!(summary.repliers, vec![bob_user.clone()]);

    // A resend is acked with the same number and counted once.
    assert_eq!(
        reply_as(
            &mut bob,
            &general,
            root,
            &id,
            "yes, after the freeze",
            false
        )
        .await,
        Ok(first)
    );
    let also = reply_as(
        &mut carol,
        &general,
        root,
        &new_client_id(),
        "+1 @Dave",
        true,
    )
    .await
    .unwrap();
    assert_eq!(updated(&mut alice, root).await.replies.unwrap().count, 2);

    // The conversation shows the parent and the reply sent to it too, not
    // the reply kept in the thread.
    let texts = channel_texts(&mut dave, &general).await;
    assert!(texts.contains(&"release on friday?".to_owned()));
    assert!(texts.contains(&"+1 @Dave".to_owned()));
    assert!(!texts.contains(&"yes, after the freeze".to_owned()));
    let (parent, replies, following) = thread(&mut dave, &general, root).await.unwrap();
    assert_eq!(parent.text, "release on friday?");
    assert_eq!(replies, ["yes, after the freeze", "+1 @Dave"]);
    assert!(following, "Dave was mentioned in it");

    // Who follows: the parent's author and Dave (mentioned) have unread
    // replies; Bob and Carol replied, so they have read up to their own
    // replies; Bob has Carol's reply to read.
    assert_eq!(
        threads(&mut alice).await,
        [("release on friday?".into(), true)]
    );
    assert_eq!(
        threads(&mut dave).await,
        [("release on friday?".into(), true)]
    );
    assert_eq!(
        threads(&mut bob).await,
        [("release on friday?".into(), true)]
    );
    assert_eq!(
        threads(&mut carol).await,
        [("release on friday?".into(), false)]
    );
    assert!(thread(&mut carol, &general, root).await.unwrap().2);

    // Reading it (told to every tab) clears the mark; unfollowing drops it
    // from the view.
    alice
        .send(&ClientMsg::ReadThread {
            channel: general.clone(),
            root,
            seq: also,
        })
        .await;
    let read = alice
        .recv_until(|m| match m {
            ServerMsg::ThreadState { read_seq, .. } => Some(read_seq),
            _ => None,
        })
        .await;
    assert_eq!(read, also);
    assert_eq!(
        threads(&mut alice).await,
        [("release on friday?".into(), false)]
    );
    dave.send(&ClientMsg::FollowThread {
        channel: general.clone(),
        root,
        follow: false,
    })
    .await;
    assert!(threads(&mut dave).await.is_empty());

    // Edits and reactions reach replies like any message.
    bob.send(&ClientMsg::Edit {
        channel: general.clone(),
        seq: first,
        text: "yes, right after the freeze".into(),
    })
    .await;
    assert_eq!(
        updated(&mut carol, first).await.text,
        "yes, right after the freeze"
    );

    // For Carol, the reply kept in its thread is not unread in the
    // conversation; the one also sent to it is (she wrote it, but her
    // marks are where she left them: neither of Bob's messages is read).
    alice.post_to(&general, "anything else?").await.unwrap();
    carol
        .send(&ClientMsg::MarkRead {
            channel: general.clone(),
            seq: root,
        })
        .await;
    reply(&mut bob, &general, root, "one more thing")
        .await
        .unwrap();
    carol.close().await;
    let mut carol = app.connect(&carol_token).await;
    let channels = match carol.recv().await {
        ServerMsg::Welcome { channels, .. } => channels,
        other => panic!("expected welcome, got {other:?}"),
    };
    let info = channels.iter().find(|c| c.id == general).unwrap();
    assert_eq!(info.unread_hidden, 2, "two replies kept in the thread");
    // "+1 @Dave" and "anything else?" are unread in the conversation.
    assert_eq!(unread(info), 2);
}

#[actix_web::test]
async fn only_members_reach_a_thread_and_only_messages_that_are_not_replies_grow_one() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    let (mut mallory, _, _) = app.user("Mallory").await;
    let secret = alice.create_channel("secret", true).await.id;
    alice
        .send(&ClientMsg::Invite {
            channel: secret.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    bob.joined().await;
    let root = alice.post_to(&secret, "the plan").await.unwrap();
    let answer = reply(&mut bob, &secret, root, "sounds good").await.unwrap();

    // Mallory is not in the channel: every way in is refused as for a
    // channel that does not exist.
    assert_eq!(
        reply(&mut mallory, &secret, root, "let me in").await,
        Err(ErrorCode::NotAMember)
    );
    assert_eq!(
        thread(&mut mallory, &secret, root).await.unwrap_err(),
        ErrorCode::NotAMember
    );
    for request in [
        ClientMsg::ReadThread {
            channel: secret.clone(),
            root,
            seq: answer,
        },
        ClientMsg::FollowThread {
            channel: secret.clone(),
            root,
            follow: true,
        },
        ClientMsg::Around {
            channel: secret.clone(),
            seq: answer,
        },
    ] {
        assert_eq!(refusal(&mut mallory, request).await, ErrorCode::NotAMember);
    }
    assert!(threads(&mut mallory).await.is_empty());

    // Threads grow from messages that are there and are not replies.
    assert_eq!(
        reply(&mut bob, &secret, answer, "nested?").await,
        Err(ErrorCode::UnknownMessage)
    );
    assert_eq!(
        reply(&mut bob, &secret, 999, "nothing there").await,
        Err(ErrorCode::UnknownMessage)
    );
    assert_eq!(
        thread(&mut bob, &secret, answer).await.unwrap_err(),
        ErrorCode::UnknownMessage
    );
    let gone = alice.post_to(&secret, "never mind").await.unwrap();
    alice
        .send(&ClientMsg::Delete {
            channel: secret.clone(),
            seq: gone,
        })
        .await;
    updated(&mut bob, gone).await;
    assert_eq!(
        reply(&mut bob, &secret, gone, "too late").await,
        Err(ErrorCode::UnknownMessage)
    );

    // Reading a thread one does not follow does not follow it.
    let other = alice.post_to(&secret, "lunch?").await.unwrap();
    reply(&mut alice, &secret, other, "pizza").await.unwrap();
    bob.send(&ClientMsg::ReadThread {
        channel: secret.clone(),
        root: other,
        seq: other + 1,
    })
    .await;
    let following = bob
        .recv_until(|m| match m {
            ServerMsg::ThreadState { following, .. } => Some(following),
            _ => None,
        })
        .await;
    assert!(!following);

    // Whoever leaves the channel stops seeing its threads.
    assert_eq!(threads(&mut bob).await.len(), 1);
    bob.send(&ClientMsg::LeaveChannel {
        channel: secret.clone(),
    })
    .await;
    bob.recv_until(|m| matches!(m, ServerMsg::ChannelLeft { .. }).then_some(()))
        .await;
    assert!(threads(&mut bob).await.is_empty());
    assert_eq!(
        thread(&mut bob, &secret, root).await.unwrap_err(),
        ErrorCode::NotAMember
    );
}

#[actix_web::test]
async fn a_link_to_a_reply_opens_the_conversation_at_its_parent() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let general = alice.general();
    let root = alice
        .post_to(&general, "where are the docs?")
        .await
        .unwrap();
    let answer = reply(&mut bob, &general, root, "in the wiki")
        .await
        .unwrap();
    for _ in 0..3 {
        alice.post_to(&general, "later talk").await.unwrap();
    }
    bob.send(&ClientMsg::Around {
        channel: general.clone(),
        seq: answer,
    })
    .await;
    let (seq, thread, seqs) = bob
        .recv_until(|m| match m {
            ServerMsg::Around {
                seq,
                thread,
                messages,
                ..
            } => Some((
                seq,
                thread,
                messages.iter().map(|m| m.seq).collect::<Vec<_>>(),
            )),
            _ => None,
        })
        .await;
    assert_eq!((seq, thread), (answer, Some(root)));
    assert!(seqs.contains(&root));
    assert!(!seqs.contains(&answer), "the reply stays in its thread");
}
