//! Who may join, over real HTTP and sockets: sign-ups are open on a fresh
//! install; an admin makes them invite only (a sign-up then needs a valid
//! invite link: missing, unknown, expired or used-up codes are refused, and
//! a sign-up refused for its name does not spend the link) or closed
//! (nobody new, existing people still sign in). Members create links only
//! when the settings allow, and see only their own; every change is in the
//! audit log.

use actix_web::http::StatusCode;
use shared::api::{ApiError, ApiErrorCode};
use shared::community::{Invite, ServerSettings, SignupMode};
use shared::limits::MAX_INVITE_USES;
use shared::roles::AuditAction;
use shared::{ClientMsg, ErrorCode, ServerMsg};

use crate::helpers::{TestApp, WsClient, session_cookie};

/// Tries to sign up; the status and, when refused, the error code.
async fn sign_up(
    app: &TestApp,
    name: &str,
    invite: Option<&str>,
) -> (StatusCode, Option<ApiErrorCode>) {
    let mut response = app
        .http()
        .post(app.url("/api/session"))
        .send_json(&serde_json::json!({ "username": name, "invite": invite }))
        .await
        .unwrap();
    let status = response.status();
    let code = if status.is_success() {
        None
    } else {
        response.json::<ApiError>().await.ok().map(|e| e.code)
    };
    (status, code)
}

async fn set_settings(
    client: &mut WsClient,
    settings: ServerSettings,
) -> Result<ServerSettings, ErrorCode> {
    client
        .send(&ClientMsg::SetServerSettings { settings })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::ServerSettings { settings } => Some(Ok(settings)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

async fn create_invite(
    client: &mut WsClient,
    hours: u32,
    uses: u32,
) -> Result<(Invite, String), ErrorCode> {
    client.send(&ClientMsg::CreateInvite { hours, uses }).await;
    client
        .recv_until(|m| match m {
            ServerMsg::InviteCreated { invite, code } => Some(Ok((invite, code))),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

async fn invites(client: &mut WsClient) -> Result<Vec<Invite>, ErrorCode> {
    client.send(&ClientMsg::Invites).await;
    client
        .recv_until(|m| match m {
            ServerMsg::Invites { invites } => Some(Ok(invites)),
            ServerMsg::Error { code, .. } => Some(Err(code)),
            _ => None,
        })
        .await
}

fn mode(signup_mode: SignupMode, members_invite: bool) -> ServerSettings {
    ServerSettings {
        signup_mode,
        members_invite,
        admins_create_channels: false,
    }
}

#[actix_web::test]
async fn an_invite_only_server_lets_in_only_people_with_a_valid_link() {
    let app = TestApp::spawn().await;
    let (mut olive, _, _) = app.user("Olive").await;
    let (mut mel, mel_user, _) = app.user("Mel").await;

    // Open by default; members change nothing, whatever they send.
    olive.send(&ClientMsg::ServerSettings).await;
    let settings = olive
        .recv_until(|m| match m {
            ServerMsg::ServerSettings { settings } => Some(settings),
            _ => None,
        })
        .await;
    assert_eq!(settings, ServerSettings::default());
    assert_eq!(
        set_settings(&mut mel, mode(SignupMode::Closed, false)).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(sign_up(&app, "Early", None).await.0, StatusCode::CREATED);

    assert!(
        set_settings(&mut olive, mode(SignupMode::Invite, false))
            .await
            .is_ok()
    );
    assert_eq!(
        sign_up(&app, "Nobody", None).await,
        (StatusCode::FORBIDDEN, Some(ApiErrorCode::InviteRequired))
    );
    assert_eq!(
        sign_up(&app, "Guesser", Some("0123456789abcdef")).await,
        (StatusCode::FORBIDDEN, Some(ApiErrorCode::InviteRequired))
    );

    // Members cannot make links unless the settings say so.
    assert_eq!(
        create_invite(&mut mel, 24, 1).await.err(),
        Some(ErrorCode::NotAllowed)
    );
    assert_eq!(invites(&mut mel).await.err(), Some(ErrorCode::NotAllowed));
    assert_eq!(
        create_invite(&mut olive, 0, 1).await.err(),
        Some(ErrorCode::InvalidFields)
    );
    assert_eq!(
        create_invite(&mut olive, 1, MAX_INVITE_USES + 1)
            .await
            .err(),
        Some(ErrorCode::InvalidFields)
    );

    let (invite, code) = create_invite(&mut olive, 24, 1).await.unwrap();
    assert_eq!((invite.max_uses, invite.uses), (1, 0));
    // A sign-up refused for its name does not spend the link.
    assert_eq!(
        sign_up(&app, "Mel", Some(&code)).await,
        (StatusCode::CONFLICT, Some(ApiErrorCode::UsernameTaken))
    );
    assert_eq!(
        sign_up(&app, "Newcomer", Some(&code)).await.0,
        StatusCode::CREATED
    );
    // Used up.
    assert_eq!(
        sign_up(&app, "Second", Some(&code)).await,
        (StatusCode::FORBIDDEN, Some(ApiErrorCode::InviteRequired))
    );
    assert!(
        invites(&mut olive).await.unwrap().is_empty(),
        "a used-up link is not listed"
    );

    // Expired.
    let (_, late) = create_invite(&mut olive, 1, 5).await.unwrap();
    app.outside_sql("UPDATE invites SET expires_at = 0").await;
    assert_eq!(
        sign_up(&app, "Latecomer", Some(&late)).await,
        (StatusCode::FORBIDDEN, Some(ApiErrorCode::InviteRequired))
    );

    // Members may invite once allowed, and see only their own links.
    assert!(
        set_settings(&mut olive, mode(SignupMode::Invite, true))
            .await
            .is_ok()
    );
    let (_, mel_code) = create_invite(&mut mel, 2, 3).await.unwrap();
    let (_, _) = create_invite(&mut olive, 2, 3).await.unwrap();
    let mine = invites(&mut mel).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].created_by.name, "Mel");
    assert_eq!(invites(&mut olive).await.unwrap().len(), 2);
    assert_eq!(
        sign_up(&app, "Friend", Some(&mel_code)).await.0,
        StatusCode::CREATED
    );
    // A deactivated member's links stop working.
    olive
        .send(&ClientMsg::SetActive {
            user: mel_user.id.clone(),
            active: false,
        })
        .await;
    olive
        .recv_until(|m| match m {
            ServerMsg::AdminUser { user } if user.deactivated => Some(()),
            _ => None,
        })
        .await;
    assert_eq!(
        sign_up(&app, "Friend2", Some(&mel_code)).await,
        (StatusCode::FORBIDDEN, Some(ApiErrorCode::InviteRequired))
    );

    let log = {
        olive.send(&ClientMsg::AuditLog { before: None }).await;
        olive
            .recv_until(|m| match m {
                ServerMsg::AuditLog { entries, .. } => Some(entries),
                _ => None,
            })
            .await
    };
    let actions: Vec<AuditAction> = log.iter().map(|e| e.action).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::CreateInvite)
            .count(),
        4
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::ChangeSettings)
            .count(),
        2
    );
}

#[actix_web::test]
async fn admins_can_keep_channel_creation_to_themselves() {
    let app = TestApp::spawn().await;
    let (mut olive, _, _) = app.user("Olive").await;
    let (mut mel, _, _) = app.user("Mel").await;
    let create = |name: &str| ClientMsg::CreateChannel {
        name: name.into(),
        topic: String::new(),
        private: false,
    };
    let only_admins = ServerSettings {
        admins_create_channels: true,
        ..ServerSettings::default()
    };
    assert_eq!(
        set_settings(&mut mel, only_admins).await,
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(set_settings(&mut olive, only_admins).await, Ok(only_admins));
    mel.send(&create("mels-corner")).await;
    assert_eq!(mel.next_error().await, ErrorCode::NotAllowed);
    assert_eq!(
        olive.create_channel("announcements", false).await.name,
        "announcements"
    );
    assert!(
        set_settings(&mut olive, ServerSettings::default())
            .await
            .is_ok()
    );
    assert_eq!(
        mel.create_channel("mels-corner", false).await.name,
        "mels-corner"
    );
}

#[actix_web::test]
async fn a_closed_server_takes_nobody_new_but_its_people_still_sign_in() {
    let app = TestApp::spawn().await;
    let (mut olive, _, _) = app.user("Olive").await;
    let (_, mel_token) = app.sign_up("Mel").await;
    let response = app
        .http()
        .put(app.url("/api/password"))
        .insert_header(session_cookie(&mel_token))
        .send_json(&serde_json::json!({ "password": "mel's long password" }))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, code) = create_invite(&mut olive, 24, 10).await.unwrap();

    assert!(
        set_settings(&mut olive, mode(SignupMode::Closed, false))
            .await
            .is_ok()
    );
    assert_eq!(
        sign_up(&app, "Nobody", None).await,
        (StatusCode::FORBIDDEN, Some(ApiErrorCode::SignupsClosed))
    );
    assert_eq!(
        sign_up(&app, "Invited", Some(&code)).await,
        (StatusCode::FORBIDDEN, Some(ApiErrorCode::SignupsClosed)),
        "closed means closed, links or not"
    );
    let signed_in = app
        .http()
        .post(app.url("/api/sign-in"))
        .send_json(&serde_json::json!({ "username": "Mel", "password": "mel's long password" }))
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);

    assert!(
        set_settings(&mut olive, mode(SignupMode::Open, false))
            .await
            .is_ok()
    );
    assert_eq!(sign_up(&app, "Welcome", None).await.0, StatusCode::CREATED);
}
