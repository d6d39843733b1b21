//! Mentions over real sockets: the mentions view lists what names you (or
//! calls on everyone) in conversations you are in now, newest first, never
//! deleted messages; `@channel` notifies every member and `@here` the
//! members online, only in conversations up to the size limit; an edit
//! keeps who was called on; and each conversation's notification setting
//! is yours to change, told to all your tabs and kept.

use shared::protocol::{ChannelInfo, NotifyLevel, PresenceStatus};
use shared::{ChannelId, ClientMsg, ErrorCode, ServerMsg};

use crate::helpers::{TestApp, WsClient};

/// The texts of the mentions view, newest first.
async fn mentions(client: &mut WsClient) -> Vec<String> {
    client.send(&ClientMsg::Mentions).await;
    client
        .recv_until(|m| match m {
            ServerMsg::Mentions { messages } => Some(messages),
            ServerMsg::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
            _ => None,
        })
        .await
        .into_iter()
        .map(|m| m.text)
        .collect()
}

/// Connects with `token`; the channels its `welcome` lists.
async fn welcome_channels(app: &TestApp, token: &str) -> (WsClient, Vec<ChannelInfo>) {
    let mut client = app.connect(token).await;
    match client.recv().await {
        ServerMsg::Welcome { channels, .. } => (client, channels),
        other => panic!("expected welcome, got {other:?}"),
    }
}

fn named<'a>(channels: &'a [ChannelInfo], name: &str) -> &'a ChannelInfo {
    channels.iter().find(|c| c.name == name).unwrap()
}

#[actix_web::test]
async fn the_mentions_view_lists_what_calls_on_you_where_you_are_now() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    let (mut carol, _, carol_token) = app.user("Carol").await;
    let general = alice.general();
    let ops = alice.create_channel("ops", false).await;
    bob.send(&ClientMsg::JoinChannel {
        channel: ops.id.clone(),
    })
    .await;
    bob.joined().await;
    let secret = alice.create_channel("secret", true).await;

    let hello = carol.post_to(&general, "hi @bob").await.unwrap();
    alice.post_to(&ops.id, "@Bob deploy?").await.unwrap();
    alice
        .post_to(&secret.id, "@bob is not in here")
        .await
        .unwrap();
    let standup = alice.post_to(&general, "@channel standup").await.unwrap();
    alice.post_to(&general, "nobody named").await.unwrap();

    assert_eq!(
        mentions(&mut bob).await,
        ["@channel standup", "@Bob deploy?", "hi @bob"]
    );
    assert_eq!(mentions(&mut carol).await, ["@channel standup"]);
    assert!(mentions(&mut alice).await.is_empty(), "never your own");
    // The unread mention count counts the call on everyone too.
    let (_again, channels) = welcome_channels(&app, &carol_token).await;
    assert_eq!(named(&channels, "general").unread_mentions, 1);

    // Out of a channel, out of the view; deleted, gone; edited, kept.
    bob.send(&ClientMsg::LeaveChannel {
        channel: ops.id.clone(),
    })
    .await;
    bob.recv_until(|m| matches!(m, ServerMsg::ChannelLeft { .. }).then_some(()))
        .await;
    carol
        .send(&ClientMsg::Delete {
            channel: general.clone(),
            seq: hello,
        })
        .await;
    carol
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == hello => Some(()),
            _ => None,
        })
        .await;
    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq: standup,
            text: "@channel standup moved to 10".into(),
        })
        .await;
    alice
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == standup => Some(()),
            _ => None,
        })
        .await;
    assert_eq!(mentions(&mut bob).await, ["@channel standup moved to 10"]);
    assert_eq!(mentions(&mut carol).await, ["@channel standup moved to 10"]);
    // Invited into the private channel later: what named you there shows.
    alice
        .send(&ClientMsg::Invite {
            channel: secret.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    bob.joined().await;
    assert_eq!(mentions(&mut bob).await.len(), 2);
}

#[actix_web::test]
async fn here_calls_on_who_is_online_and_big_conversations_call_on_nobody() {
    let app = TestApp::spawn_with(|settings| settings.mention_everyone_max_members = 4).await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let (mut carol, carol_user, _) = app.user("Carol").await;
    // Dave has an account but no open tab: offline.
    let (_, dave_token) = app.sign_up("Dave").await;
    let general = alice.general();

    // Carol steps away: online, but not there.
    carol.send(&ClientMsg::SetAway { away: true }).await;
    bob.recv_until(|m| match m {
        ServerMsg::Presence { user, status } if user.id == carol_user.id => {
            (status == PresenceStatus::Away).then_some(())
        }
        _ => None,
    })
    .await;
    alice.post_to(&general, "@here lunch?").await.unwrap();
    assert_eq!(mentions(&mut bob).await, ["@here lunch?"]);
    assert!(mentions(&mut carol).await.is_empty(), "away");
    let (mut dave, _) = welcome_channels(&app, &dave_token).await;
    assert!(mentions(&mut dave).await.is_empty(), "offline");
    alice.post_to(&general, "@channel all four").await.unwrap();
    assert_eq!(mentions(&mut dave).await, ["@channel all four"]);

    // A fifth member: past the limit, calls on everyone notify nobody.
    app.user("Erin").await;
    alice.post_to(&general, "@channel too many").await.unwrap();
    alice.post_to(&general, "@here too many").await.unwrap();
    alice
        .post_to(&general, "@dave still by name")
        .await
        .unwrap();
    assert_eq!(
        mentions(&mut dave).await,
        ["@dave still by name", "@channel all four"]
    );
    assert_eq!(
        mentions(&mut bob).await,
        ["@channel all four", "@here lunch?"]
    );
}

#[actix_web::test]
async fn each_conversation_notifies_as_its_member_chose() {
    let app = TestApp::spawn().await;
    let (mut alice, _, alice_token) = app.user("Alice").await;
    let (_, bob_user, _) = app.user("Bob").await;
    let general = alice.general();
    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![bob_user.id.clone()],
        })
        .await;
    let direct = alice.joined().await;
    assert_eq!(direct.notify_level(), NotifyLevel::All, "direct: all");
    let (mut second_tab, channels) = welcome_channels(&app, &alice_token).await;
    assert_eq!(
        named(&channels, "general").notify_level(),
        NotifyLevel::Mentions,
        "channels: mentions"
    );

    alice
        .send(&ClientMsg::SetNotify {
            channel: general.clone(),
            level: NotifyLevel::None,
        })
        .await;
    for tab in [&mut alice, &mut second_tab] {
        let changed = tab
            .recv_until(|m| match m {
                ServerMsg::NotifyChanged { channel, level } => Some((channel, level)),
                _ => None,
            })
            .await;
        assert_eq!(changed, (general.clone(), NotifyLevel::None));
    }
    let (_, channels) = welcome_channels(&app, &alice_token).await;
    assert_eq!(named(&channels, "general").notify, Some(NotifyLevel::None));

    // Only for conversations you are in; only the three levels.
    let secret = ChannelId("not-mine".into());
    alice
        .send(&ClientMsg::SetNotify {
            channel: secret,
            level: NotifyLevel::All,
        })
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::NotAMember);
    alice
        .send_text(&format!(
            r#"{{"type":"set_notify","channel":"{}","level":"loud"}}"#,
            general.0
        ))
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::InvalidFields);
}
