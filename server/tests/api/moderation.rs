//! Roles and moderation over real sockets, each rule tried from every role
//! and with frames the web app would never send: the first account owns
//! the server; owners manage admins, admins manage moderators and members,
//! nobody changes their own standing; moderators remove anyone's message
//! (shown as removed by a moderator), mute people below them (who then
//! cannot post, reply, edit or react), remove them from public channels and
//! deactivate them (every socket of theirs closes at once, signing in is
//! refused, their messages stay); every such action is in the audit log,
//! which admins read and nobody can edit.

use actix_web::http::StatusCode;
use shared::limits::MAX_MUTE_MINUTES;
use shared::protocol::CLOSE_SIGNED_OUT;
use shared::roles::{AdminUser, AuditAction, AuditEntry, Role};
use shared::{ChannelId, ClientMsg, ErrorCode, Seq, ServerMsg, UserId, UserInfo};

use crate::helpers::{TestApp, WsClient, new_client_id, session_cookie};

/// Connects and returns the client with the role and mute its welcome tells.
async fn connect(app: &TestApp, token: &str) -> (WsClient, Role, Option<i64>) {
    let mut client = app.connect(token).await;
    let (role, muted, general) = client
        .recv_until(|m| match m {
            ServerMsg::Welcome {
                role,
                muted_until,
                channels,
                ..
            } => {
                let general = channels.into_iter().find(|c| c.name == "general");
                Some((role, muted_until, general.map(|c| c.id)))
            }
            _ => None,
        })
        .await;
    client.general = general;
    (client, role, muted)
}

/// Sends `request` and waits for its answer: the changed person, or the refusal.
async fn admin(client: &mut WsClient, request: ClientMsg) -> Result<AdminUser, ErrorCode> {
    client.send(&request).await;
    client
        .recv_until(|m| match m {
            ServerMsg::AdminUser { user } => Some(Ok(user)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

async fn set_role(client: &mut WsClient, user: &UserInfo, role: Role) -> Result<Role, ErrorCode> {
    let user = user.id.clone();
    admin(client, ClientMsg::SetRole { user, role })
        .await
        .map(|changed| changed.role)
}

async fn mute(
    client: &mut WsClient,
    user: &UserInfo,
    minutes: u32,
) -> Result<AdminUser, ErrorCode> {
    let user = user.id.clone();
    admin(client, ClientMsg::Mute { user, minutes }).await
}

async fn set_active(
    client: &mut WsClient,
    user: &UserInfo,
    active: bool,
) -> Result<AdminUser, ErrorCode> {
    let user = user.id.clone();
    admin(client, ClientMsg::SetActive { user, active }).await
}

async fn audit_log(client: &mut WsClient) -> Result<Vec<AuditEntry>, ErrorCode> {
    client.send(&ClientMsg::AuditLog { before: None }).await;
    client
        .recv_until(|m| match m {
            ServerMsg::AuditLog { entries, .. } => Some(Ok(entries)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

async fn admin_users(client: &mut WsClient) -> Result<Vec<AdminUser>, ErrorCode> {
    client
        .send(&ClientMsg::AdminUsers {
            query: String::new(),
            after: None,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::AdminUsers { users, .. } => Some(Ok(users)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

/// The answer to a request that answers with a message change or an error.
async fn change(
    client: &mut WsClient,
    request: ClientMsg,
) -> Result<shared::ChatMessage, ErrorCode> {
    let seq = match &request {
        ClientMsg::Delete { seq, .. } | ClientMsg::React { seq, .. } => *seq,
        _ => unreachable!("a change of a message"),
    };
    client.send(&request).await;
    client
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == seq => Some(Ok(message)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

fn delete(channel: &ChannelId, seq: Seq) -> ClientMsg {
    ClientMsg::Delete {
        channel: channel.clone(),
        seq,
    }
}

/// A community: the owner (first account), an admin, a moderator and two
/// members, each connected.
struct Community {
    owner: (WsClient, UserInfo, String),
    admin: (WsClient, UserInfo, String),
    moderator: (WsClient, UserInfo, String),
    mel: (WsClient, UserInfo, String),
    mia: (WsClient, UserInfo, String),
}

async fn community(app: &TestApp) -> Community {
    let mut owner = app.user("Olive").await;
    let admin = app.user("Adam").await;
    let moderator = app.user("Mo").await;
    let mel = app.user("Mel").await;
    let mia = app.user("Mia").await;
    assert_eq!(
        set_role(&mut owner.0, &admin.1, Role::Admin).await,
        Ok(Role::Admin)
    );
    assert_eq!(
        set_role(&mut owner.0, &moderator.1, Role::Moderator).await,
        Ok(Role::Moderator)
    );
    Community {
        owner,
        admin,
        moderator,
        mel,
        mia,
    }
}

#[actix_web::test]
async fn the_first_account_owns_the_server_and_each_role_manages_only_those_below() {
    let app = TestApp::spawn().await;
    let (_, olive_token) = app.sign_up("Olive").await;
    let (adam, adam_token) = app.sign_up("Adam").await;
    let (mo, mo_token) = app.sign_up("Mo").await;
    let (mel, mel_token) = app.sign_up("Mel").await;
    let (mut olive, olive_role, _) = connect(&app, &olive_token).await;
    let (mut adam_ws, adam_role, _) = connect(&app, &adam_token).await;
    let (mut mo_ws, _, _) = connect(&app, &mo_token).await;
    let (mut mel_ws, _, _) = connect(&app, &mel_token).await;
    assert_eq!(olive_role, Role::Owner, "the first account owns the server");
    assert_eq!(adam_role, Role::Member, "later accounts are members");

    // Members and moderators change nobody's role, their own least of all.
    assert_eq!(
        set_role(&mut mel_ws, &adam, Role::Moderator).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        set_role(&mut mel_ws, &mel, Role::Owner).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(admin_users(&mut mel_ws).await, Err(ErrorCode::NotAllowed));
    assert_eq!(audit_log(&mut mel_ws).await, Err(ErrorCode::NotAllowed));

    // The owner makes an admin; the admin's tabs hear it at once.
    assert_eq!(
        set_role(&mut olive, &adam, Role::Admin).await,
        Ok(Role::Admin)
    );
    let told = adam_ws
        .recv_until(|m| match m {
            ServerMsg::Standing { role, .. } => Some(role),
            _ => None,
        })
        .await;
    assert_eq!(told, Role::Admin);

    // Admins manage moderators and members, not admins or owners.
    assert_eq!(
        set_role(&mut adam_ws, &mo, Role::Moderator).await,
        Ok(Role::Moderator)
    );
    assert_eq!(
        set_role(&mut adam_ws, &mel, Role::Admin).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        set_role(&mut adam_ws, &adam, Role::Owner).await,
        Err(ErrorCode::NotAllowed)
    );
    let olive_user = admin_users(&mut adam_ws)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.user.name == "Olive")
        .unwrap();
    assert_eq!(olive_user.role, Role::Owner);
    assert_eq!(
        set_role(&mut adam_ws, &olive_user.user, Role::Member).await,
        Err(ErrorCode::NotAllowed)
    );

    // A moderator cannot promote anyone, themselves included.
    assert_eq!(
        set_role(&mut mo_ws, &mo, Role::Admin).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        set_role(&mut mo_ws, &mel, Role::Moderator).await,
        Err(ErrorCode::NotAllowed)
    );
    // ...but lists people for the admin panel, without the audit log.
    assert!(admin_users(&mut mo_ws).await.unwrap().len() >= 4);
    assert_eq!(audit_log(&mut mo_ws).await, Err(ErrorCode::NotAllowed));

    // An unknown person is told apart from a refusal.
    let nobody = UserInfo {
        id: UserId("no-such-user".into()),
        name: "Nobody".into(),
    };
    assert_eq!(
        set_role(&mut olive, &nobody, Role::Admin).await,
        Err(ErrorCode::UnknownUser)
    );

    // The owner demotes the admin, who then can do no more than a member.
    assert_eq!(
        set_role(&mut olive, &adam, Role::Member).await,
        Ok(Role::Member)
    );
    assert_eq!(
        set_role(&mut adam_ws, &mo, Role::Member).await,
        Err(ErrorCode::NotAllowed)
    );

    // Every change is in the audit log, newest first, with who and whom.
    let log = audit_log(&mut olive).await.unwrap();
    let lines: Vec<(AuditAction, &str, &str, &str)> = log
        .iter()
        .map(|e| {
            let target = e.target.as_ref().map_or("", |t| t.name.as_str());
            (e.action, e.actor.name.as_str(), target, e.detail.as_str())
        })
        .collect();
    assert_eq!(
        lines,
        [
            (AuditAction::SetRole, "Olive", "Adam", "member"),
            (AuditAction::SetRole, "Adam", "Mo", "moderator"),
            (AuditAction::SetRole, "Olive", "Adam", "admin"),
        ]
    );
    // And the database refuses to change or drop it.
    assert!(
        app.try_outside_sql("UPDATE audit_log SET detail = 'owner'")
            .await
            .is_err()
    );
    assert!(app.try_outside_sql("DELETE FROM audit_log").await.is_err());
    assert_eq!(audit_log(&mut olive).await.unwrap().len(), 3);
}

#[actix_web::test]
async fn moderators_remove_messages_and_mute_people_who_then_cannot_post_or_react() {
    let app = TestApp::spawn().await;
    let Community {
        mut owner,
        admin: _admin,
        mut moderator,
        mut mel,
        mut mia,
    } = community(&app).await;
    let general = mel.0.general();
    let first = mel.0.post_to(&general, "first words").await.unwrap();
    let second = mel.0.post_to(&general, "second words").await.unwrap();

    // A member cannot delete another's message, even by a crafted frame.
    assert_eq!(
        change(&mut mia.0, delete(&general, first)).await,
        Err(ErrorCode::NotAllowed)
    );

    // A moderator can; everyone sees it removed by a moderator.
    let removed = change(&mut moderator.0, delete(&general, first))
        .await
        .unwrap();
    assert!(removed.deleted && removed.removed && removed.text.is_empty());
    let seen = mia
        .0
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == first => Some(message),
            _ => None,
        })
        .await;
    assert!(seen.removed);
    // Her own deletion is not a removal.
    let own = change(&mut mel.0, delete(&general, second)).await.unwrap();
    assert!(own.deleted && !own.removed);

    // Muted: she can read but not post, reply, edit or react; she is told.
    let muted = mute(&mut moderator.0, &mel.1, 30).await.unwrap();
    assert!(muted.muted_until.is_some());
    let told = mel
        .0
        .recv_until(|m| match m {
            ServerMsg::Standing { muted_until, .. } => Some(muted_until),
            _ => None,
        })
        .await;
    assert!(told.is_some());
    assert_eq!(
        mel.0.post_to(&general, "can I?").await,
        Err(ErrorCode::Muted)
    );
    let kept = mia.0.post_to(&general, "mia is fine").await.unwrap();
    let react = ClientMsg::React {
        channel: general.clone(),
        seq: kept,
        emoji: "👍".into(),
        add: true,
    };
    assert_eq!(
        change(&mut mel.0, react.clone()).await,
        Err(ErrorCode::Muted)
    );
    mel.0
        .send(&ClientMsg::SetTopic {
            channel: general.clone(),
            topic: "muted people set no topics".into(),
        })
        .await;
    assert_eq!(mel.0.next_error().await, ErrorCode::Muted);
    mel.0
        .send(&ClientMsg::Pin {
            channel: general.clone(),
            seq: kept,
            pinned: true,
        })
        .await;
    assert_eq!(mel.0.next_error().await, ErrorCode::Muted);
    let reply = new_client_id();
    mel.0
        .send(&ClientMsg::Reply {
            channel: general.clone(),
            root: kept,
            client_id: reply.clone(),
            text: "in a thread then".into(),
            attachments: vec![],
            also_to_channel: false,
        })
        .await;
    let refused = mel
        .0
        .recv_until(|m| match m {
            ServerMsg::Error {
                code,
                client_id: Some(id),
                ..
            } if id == reply => Some(code),
            _ => None,
        })
        .await;
    assert_eq!(refused, ErrorCode::Muted);
    // A reconnect tells the mute in the welcome.
    let (_, _, muted_at_welcome) = connect(&app, &mel.2).await;
    assert!(muted_at_welcome.is_some());

    // Nobody mutes someone of their own role or above, or themselves.
    assert_eq!(
        mute(&mut moderator.0, &owner.1, 30).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        mute(&mut moderator.0, &moderator.1, 30).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        mute(&mut mia.0, &mel.1, 30).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        mute(&mut moderator.0, &mia.1, MAX_MUTE_MINUTES + 1).await,
        Err(ErrorCode::InvalidFields)
    );

    // Unmuted, she posts and reacts again.
    assert!(
        mute(&mut moderator.0, &mel.1, 0)
            .await
            .unwrap()
            .muted_until
            .is_none()
    );
    assert!(mel.0.post_to(&general, "back").await.is_ok());
    assert!(change(&mut mel.0, react).await.is_ok());

    // Moderators remove people below them from public channels; members cannot.
    let remove = |user: &UserInfo| ClientMsg::RemoveMember {
        channel: general.clone(),
        user: user.id.clone(),
    };
    mia.0.send(&remove(&mel.1)).await;
    assert_eq!(mia.0.next_error().await, ErrorCode::NotAllowed);
    moderator.0.send(&remove(&owner.1)).await;
    assert_eq!(moderator.0.next_error().await, ErrorCode::NotAllowed);
    moderator.0.send(&remove(&mel.1)).await;
    let reason = mel
        .0
        .recv_until(|m| match m {
            ServerMsg::ChannelLeft { channel, reason } if channel == general => Some(reason),
            _ => None,
        })
        .await;
    assert!(reason.contains("Mo"), "{reason}");

    // The audit log has each action, with the channel and message.
    let log = audit_log(&mut owner.0).await.unwrap();
    let actions: Vec<AuditAction> = log.iter().map(|e| e.action).collect();
    assert_eq!(
        &actions[..4],
        [
            AuditAction::RemoveMember,
            AuditAction::Unmute,
            AuditAction::Mute,
            AuditAction::RemoveMessage,
        ]
    );
    let removal = &log[3];
    assert_eq!(removal.actor.name, "Mo");
    assert_eq!(removal.target.as_ref().unwrap().name, "Mel");
    assert_eq!(
        (removal.channel.as_ref(), removal.seq),
        (Some(&general), Some(first))
    );
}

#[actix_web::test]
async fn a_deactivated_account_loses_every_socket_at_once_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let Community {
        mut owner,
        mut admin,
        mut moderator,
        mut mel,
        mut mia,
    } = community(&app).await;
    let general = mel.0.general();
    let kept = mel.0.post_to(&general, "words that stay").await.unwrap();
    let response = app
        .http()
        .put(app.url("/api/password"))
        .insert_header(session_cookie(&mel.2))
        .send_json(&serde_json::json!({ "password": "mel's long password" }))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (mut second_tab, _, _) = connect(&app, &mel.2).await;

    // Nobody deactivates themselves or someone of their role or above.
    assert_eq!(
        set_active(&mut mia.0, &mel.1, false).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        set_active(&mut moderator.0, &admin.1, false).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(
        set_active(&mut admin.0, &admin.1, false).await,
        Err(ErrorCode::NotAllowed)
    );

    let done = set_active(&mut moderator.0, &mel.1, false).await.unwrap();
    assert!(done.deactivated);
    for tab in [&mut mel.0, &mut second_tab] {
        let reason = tab.closed().await.expect("a close reason");
        assert_eq!(u16::from(reason.code), CLOSE_SIGNED_OUT);
    }
    // Her cookie and her password no longer let her in.
    assert_eq!(
        app.try_connect(Some(&app.origin()), Some(&mel.2))
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let sign_in = |password: &'static str| {
        app.http()
            .post(app.url("/api/sign-in"))
            .send_json(&serde_json::json!({ "username": "Mel", "password": password }))
    };
    assert_eq!(
        sign_in("mel's long password").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Her messages stay.
    mia.0
        .send(&ClientMsg::History {
            channel: general.clone(),
            before_seq: Seq::MAX,
            limit: None,
        })
        .await;
    let texts = mia
        .0
        .recv_until(|m| match m {
            ServerMsg::History { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert!(
        texts
            .iter()
            .any(|m| m.seq == kept && m.text == "words that stay")
    );
    let listed = admin_users(&mut admin.0).await.unwrap();
    assert!(listed.iter().any(|u| u.user.name == "Mel" && u.deactivated));

    // Reactivated, she signs in again with her password.
    assert!(
        !set_active(&mut owner.0, &mel.1, true)
            .await
            .unwrap()
            .deactivated
    );
    assert_eq!(
        sign_in("mel's long password").await.unwrap().status(),
        StatusCode::OK
    );
    let log = audit_log(&mut admin.0).await.unwrap();
    assert_eq!(log[0].action, AuditAction::Reactivate);
    assert_eq!(log[1].action, AuditAction::Deactivate);
    assert_eq!(log[1].actor.name, "Mo");
}

async fn reports(client: &mut WsClient) -> Result<Vec<shared::roles::Report>, ErrorCode> {
    client.send(&ClientMsg::Reports).await;
    client
        .recv_until(|m| match m {
            ServerMsg::Reports { reports } => Some(Ok(reports)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

async fn report(
    client: &mut WsClient,
    channel: &ChannelId,
    seq: Seq,
    reason: &str,
) -> Result<(), ErrorCode> {
    client
        .send(&ClientMsg::Report {
            channel: channel.clone(),
            seq,
            reason: reason.into(),
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::Reported { .. } => Some(Ok(())),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn reports_reach_moderators_who_remove_the_message_or_dismiss_them() {
    let app = TestApp::spawn().await;
    let Community {
        mut owner,
        admin: _admin,
        mut moderator,
        mut mel,
        mut mia,
    } = community(&app).await;
    // A private conversation the moderator is not in.
    let side = mia.0.create_channel("side", true).await.id;
    mia.0
        .send(&ClientMsg::Invite {
            channel: side.clone(),
            user: mel.1.id.clone(),
        })
        .await;
    mel.0
        .recv_until(|m| match m {
            ServerMsg::ChannelJoined { channel } if channel.id == side => Some(()),
            _ => None,
        })
        .await;
    let rude = mel.0.post_to(&side, "rude words").await.unwrap();

    // Only those who can read a message report it, with a reason.
    assert_eq!(
        report(&mut moderator.0, &side, rude, "spam").await,
        Err(ErrorCode::NotAMember)
    );
    assert_eq!(
        report(&mut mia.0, &side, rude, "   ").await,
        Err(ErrorCode::InvalidFields)
    );
    let long = "x".repeat(shared::limits::MAX_REPORT_REASON_CHARS + 1);
    assert_eq!(
        report(&mut mia.0, &side, rude, &long).await,
        Err(ErrorCode::InvalidFields)
    );
    assert_eq!(
        report(&mut mia.0, &side, 999, "gone").await,
        Err(ErrorCode::UnknownMessage)
    );
    assert_eq!(report(&mut mia.0, &side, rude, "insulting").await, Ok(()));
    assert_eq!(
        report(&mut mia.0, &side, rude, "still insulting").await,
        Ok(()),
        "once is kept"
    );

    // Members do not see reports; moderators do, with the message as it was.
    assert_eq!(reports(&mut mia.0).await, Err(ErrorCode::NotAllowed));
    let open = reports(&mut moderator.0).await.unwrap();
    assert_eq!(open.len(), 1);
    let filed = &open[0];
    assert_eq!(
        (
            filed.text.as_str(),
            filed.channel_name.as_str(),
            filed.reason.as_str()
        ),
        ("rude words", "#side", "insulting")
    );
    assert_eq!(
        (filed.author.name.as_str(), filed.reporter.name.as_str()),
        ("Mel", "Mia")
    );
    // Members cannot close reports by crafted frames either.
    mia.0
        .send(&ClientMsg::ResolveReport {
            id: filed.id.clone(),
            remove: true,
        })
        .await;
    assert_eq!(mia.0.next_error().await, ErrorCode::NotAllowed);

    // Removing closes it; those in the conversation see the message removed.
    moderator
        .0
        .send(&ClientMsg::ResolveReport {
            id: filed.id.clone(),
            remove: true,
        })
        .await;
    let left = moderator
        .0
        .recv_until(|m| match m {
            ServerMsg::Reports { reports } => Some(reports),
            _ => None,
        })
        .await;
    assert!(left.is_empty());
    let seen = mia
        .0
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message }
                if message.seq == rude && message.channel == side =>
            {
                Some(message)
            }
            _ => None,
        })
        .await;
    assert!(seen.removed && seen.text.is_empty());
    // Closed is closed.
    moderator
        .0
        .send(&ClientMsg::ResolveReport {
            id: filed.id.clone(),
            remove: false,
        })
        .await;
    assert_eq!(moderator.0.next_error().await, ErrorCode::UnknownMessage);

    // A dismissed report leaves the message as it is.
    let general = mel.0.general();
    let borderline = mel.0.post_to(&general, "borderline joke").await.unwrap();
    report(&mut mia.0, &general, borderline, "not funny")
        .await
        .unwrap();
    let id = reports(&mut moderator.0).await.unwrap()[0].id.clone();
    moderator
        .0
        .send(&ClientMsg::ResolveReport { id, remove: false })
        .await;
    moderator
        .0
        .recv_until(|m| match m {
            ServerMsg::Reports { reports } if reports.is_empty() => Some(()),
            _ => None,
        })
        .await;
    mia.0
        .send(&ClientMsg::History {
            channel: general.clone(),
            before_seq: Seq::MAX,
            limit: None,
        })
        .await;
    let history = mia
        .0
        .recv_until(|m| match m {
            ServerMsg::History { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert!(history.iter().any(|m| m.seq == borderline && !m.deleted));

    // One person cannot bury the queue: ten open reports at most.
    let mut spam = Vec::new();
    for n in 0..11 {
        spam.push(mel.0.post_to(&general, &format!("spam {n}")).await.unwrap());
    }
    for &seq in &spam[..10] {
        assert_eq!(report(&mut mia.0, &general, seq, "spam").await, Ok(()));
    }
    assert_eq!(
        report(&mut mia.0, &general, spam[10], "spam").await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(reports(&mut moderator.0).await.unwrap().len(), 10);

    let log = audit_log(&mut owner.0).await.unwrap();
    assert_eq!(log[0].action, AuditAction::DismissReport);
    assert_eq!(log[0].target.as_ref().unwrap().name, "Mel");
    assert_eq!(log[1].action, AuditAction::RemoveMessage);
    assert_eq!(log[1].channel.as_ref(), Some(&side));
}

async fn rule(client: &mut WsClient, request: ClientMsg) -> Result<(u32, bool), ErrorCode> {
    client.send(&request).await;
    client
        .recv_until(|m| match m {
            ServerMsg::ChannelRules {
                slow_mode_seconds,
                archived,
                ..
            } => Some(Ok((slow_mode_seconds, archived))),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn slow_mode_paces_members_but_not_moderators_and_archived_channels_are_read_only() {
    let app = TestApp::spawn().await;
    let Community {
        mut owner,
        mut admin,
        mut moderator,
        mut mel,
        mut mia,
    } = community(&app).await;
    let town = mel.0.create_channel("town", false).await.id;
    for client in [&mut mia.0, &mut moderator.0] {
        client
            .send(&ClientMsg::JoinChannel {
                channel: town.clone(),
            })
            .await;
        client
            .recv_until(|m| match m {
                ServerMsg::ChannelJoined { channel } if channel.id == town => Some(()),
                _ => None,
            })
            .await;
    }
    let slow = |seconds| ClientMsg::SetSlowMode {
        channel: town.clone(),
        seconds,
    };
    // Members (the channel's creator included) do not set slow mode.
    assert_eq!(rule(&mut mel.0, slow(30)).await, Err(ErrorCode::NotAllowed));
    assert_eq!(
        rule(&mut moderator.0, slow(7)).await,
        Err(ErrorCode::InvalidFields)
    );
    assert_eq!(rule(&mut moderator.0, slow(30)).await, Ok((30, false)));
    // Everyone in it is told.
    let told = mia
        .0
        .recv_until(|m| match m {
            ServerMsg::ChannelRules {
                slow_mode_seconds, ..
            } => Some(slow_mode_seconds),
            _ => None,
        })
        .await;
    assert_eq!(told, 30);

    assert!(mel.0.post_to(&town, "first").await.is_ok());
    assert_eq!(
        mel.0.post_to(&town, "second").await,
        Err(ErrorCode::SlowMode)
    );
    // Slow mode lets no outsider in: they are refused as before.
    let (mut nia, _, _) = app.user("Nia").await;
    assert_eq!(
        nia.post_to(&town, "from outside").await,
        Err(ErrorCode::NotAMember)
    );
    assert_eq!(
        nia.post_to(&town, "again").await,
        Err(ErrorCode::NotAMember)
    );
    assert!(
        mia.0.post_to(&town, "mia's own pace").await.is_ok(),
        "each member has their own pace"
    );
    assert!(moderator.0.post_to(&town, "one").await.is_ok());
    assert!(
        moderator.0.post_to(&town, "two").await.is_ok(),
        "moderators are exempt"
    );
    // Once the time has passed, she posts again.
    app.outside_sql("UPDATE memberships SET last_posted_at = last_posted_at - 31000")
        .await;
    assert!(mel.0.post_to(&town, "after a while").await.is_ok());
    assert_eq!(rule(&mut moderator.0, slow(0)).await, Ok((0, false)));
    assert!(mel.0.post_to(&town, "free again").await.is_ok());

    // Only admins archive; then nobody posts, reacts or joins, and browsing hides it.
    let archive = |archived| ClientMsg::ArchiveChannel {
        channel: town.clone(),
        archived,
    };
    assert_eq!(
        rule(&mut moderator.0, archive(true)).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(rule(&mut admin.0, archive(true)).await, Ok((0, true)));
    assert_eq!(
        mel.0.post_to(&town, "hello?").await,
        Err(ErrorCode::Archived)
    );
    assert_eq!(
        moderator.0.post_to(&town, "hello?").await,
        Err(ErrorCode::Archived)
    );
    let react = ClientMsg::React {
        channel: town.clone(),
        seq: 1,
        emoji: "👍".into(),
        add: true,
    };
    assert_eq!(change(&mut mia.0, react).await, Err(ErrorCode::Archived));
    mia.0
        .send(&ClientMsg::SetTopic {
            channel: town.clone(),
            topic: "still here".into(),
        })
        .await;
    assert_eq!(mia.0.next_error().await, ErrorCode::Archived);
    owner
        .0
        .send(&ClientMsg::BrowseChannels {
            query: "town".into(),
        })
        .await;
    let found = owner
        .0
        .recv_until(|m| match m {
            ServerMsg::ChannelDirectory { channels, .. } => Some(channels),
            _ => None,
        })
        .await;
    assert!(found.is_empty(), "archived channels are not browsed");
    owner
        .0
        .send(&ClientMsg::JoinChannel {
            channel: town.clone(),
        })
        .await;
    assert_eq!(owner.0.next_error().await, ErrorCode::Archived);
    let general = mel.0.general();
    assert_eq!(
        rule(
            &mut owner.0,
            ClientMsg::ArchiveChannel {
                channel: general,
                archived: true
            }
        )
        .await,
        Err(ErrorCode::NotAllowed)
    );

    // Restored, it is as before; the history stayed.
    assert_eq!(rule(&mut admin.0, archive(false)).await, Ok((0, false)));
    assert!(mel.0.post_to(&town, "we are back").await.is_ok());
    // Admins rename channels (not the default one, not to a name in use).
    let rename = |channel: &ChannelId, name: &str| ClientMsg::RenameChannel {
        channel: channel.clone(),
        name: name.into(),
    };
    moderator.0.send(&rename(&town, "plaza")).await;
    assert_eq!(moderator.0.next_error().await, ErrorCode::NotAllowed);
    admin.0.send(&rename(&town, "general")).await;
    assert_eq!(admin.0.next_error().await, ErrorCode::ChannelNameTaken);
    admin.0.send(&rename(&mel.0.general(), "lobby")).await;
    assert_eq!(admin.0.next_error().await, ErrorCode::NotAllowed);
    admin.0.send(&rename(&town, "plaza")).await;
    let renamed = mel
        .0
        .recv_until(|m| match m {
            ServerMsg::ChannelRenamed { channel, name } if channel == town => Some(name),
            _ => None,
        })
        .await;
    assert_eq!(renamed, "plaza");
    assert!(mel.0.post_to(&town, "same place, new name").await.is_ok());
    let renamed_line = audit_log(&mut owner.0).await.unwrap().remove(0);
    assert_eq!(renamed_line.action, AuditAction::RenameChannel);
    assert_eq!(renamed_line.detail, "#town to #plaza");

    let log = audit_log(&mut owner.0).await.unwrap();
    let actions: Vec<AuditAction> = log.iter().skip(1).take(4).map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::RestoreChannel,
            AuditAction::ArchiveChannel,
            AuditAction::SetSlowMode,
            AuditAction::SetSlowMode
        ]
    );
    assert_eq!(log[2].detail, "#town");
}
