//! Who may join: reading and changing the server's settings (admins), and
//! invite links (admins; members too when the settings allow). A link's
//! code is made here, answered once, and only its hash is stored.

use shared::ServerMsg;
use shared::community::ServerSettings;
use shared::limits::{INVITES_SHOWN, MAX_INVITE_HOURS, MAX_INVITE_USES};
use shared::roles::{AuditAction, Role};

use super::moderation::role_of;
use super::refusal;
use super::{Caller, Reply, answer};
use crate::auth::{hash_token, new_session_token};
use crate::random::{new_id, now_millis};
use crate::store::{AuditRecord, Community, NewInvite};

pub async fn settings(caller: &Caller<'_>) -> Reply {
    let settings = caller.store().settings().await?;
    answer(ServerMsg::ServerSettings { settings })
}

pub async fn set_settings(caller: &Caller<'_>, settings: ServerSettings) -> Reply {
    if !role_of(caller).await?.administers() {
        return Err(refusal::not_your_role());
    }
    let detail = format!(
        "sign-ups {}, members {} invite, {} create channels",
        settings.signup_mode.as_str(),
        if settings.members_invite {
            "may"
        } else {
            "may not"
        },
        if settings.admins_create_channels {
            "only admins"
        } else {
            "everyone may"
        },
    );
    let record = AuditRecord {
        actor: &caller.user.id,
        action: AuditAction::ChangeSettings,
        target: None,
        channel: None,
        seq: None,
        detail: &detail,
    };
    caller.store().set_settings(&record, &settings).await?;
    tracing::info!(by = %caller.user.name, %detail, "server settings changed");
    answer(ServerMsg::ServerSettings { settings })
}

/// Whether the caller may create invite links now; admins see every link.
async fn inviter(caller: &Caller<'_>) -> Result<Role, refusal::Refusal> {
    let role = role_of(caller).await?;
    if role.administers() || caller.store().settings().await?.members_invite {
        Ok(role)
    } else {
        Err(refusal::not_your_role())
    }
}

pub async fn create_invite(caller: &Caller<'_>, hours: u32, uses: u32) -> Reply {
    if !(1..=MAX_INVITE_HOURS).contains(&hours) || !(1..=MAX_INVITE_USES).contains(&uses) {
        return Err(refusal::refuse(
            shared::ErrorCode::InvalidFields,
            format!(
                "An invite lasts 1 to {MAX_INVITE_HOURS} hours and allows 1 to {MAX_INVITE_USES} sign-ups."
            ),
        ));
    }
    inviter(caller).await?;
    let code = new_session_token();
    let code_hash = hash_token(&code);
    let id = new_id();
    let now = now_millis();
    let invite = NewInvite {
        id: &id,
        code_hash: &code_hash,
        by: caller.user,
        created_at: now,
        expires_at: now + i64::from(hours) * 3_600_000,
        max_uses: uses,
    };
    let plural = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let detail = format!(
        "{}, {}",
        plural(uses, "sign-up", "sign-ups"),
        plural(hours, "hour", "hours")
    );
    let record = AuditRecord {
        actor: &caller.user.id,
        action: AuditAction::CreateInvite,
        target: None,
        channel: None,
        seq: None,
        detail: &detail,
    };
    caller.store().create_invite(&record, &invite).await?;
    answer(ServerMsg::InviteCreated {
        invite: invite.listed(),
        code,
    })
}

pub async fn invites(caller: &Caller<'_>) -> Reply {
    let role = inviter(caller).await?;
    let by = (!role.administers()).then_some(&caller.user.id);
    let invites = caller
        .store()
        .invites(by, now_millis(), INVITES_SHOWN)
        .await?;
    answer(ServerMsg::Invites { invites })
}
