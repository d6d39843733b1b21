//! Reports: anyone reports a message they can read, saying why; moderators
//! list the open reports and close them by removing the message or
//! dismissing the report (every open report on that message closes with
//! it). The report keeps the message as it was, so moderators who are not
//! in its conversation can judge it.

use shared::limits::{MAX_REPORT_REASON_CHARS, REPORTS_SHOWN};
use shared::roles::AuditAction;
use shared::{ChannelId, ErrorCode, Seq, ServerMsg};

use super::messages::announce_change;
use super::moderation::role_of;
use super::refusal::{self, refuse};
use super::{Caller, Reply, answer, membership};
use crate::random::{new_id, now_millis};
use crate::store::reports::OPEN_REPORTS_EACH;
use crate::store::{AuditRecord, MessageChange, Messages, Moderation, NewReport, Reports};

pub async fn report(caller: &Caller<'_>, channel: ChannelId, seq: Seq, reason: &str) -> Reply {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REPORT_REASON_CHARS {
        return Err(refuse(
            ErrorCode::InvalidFields,
            format!("Say why you report it, in at most {MAX_REPORT_REASON_CHARS} characters."),
        ));
    }
    membership(caller, &channel).await?;
    let id = new_id();
    let report = NewReport {
        id: &id,
        channel: &channel,
        seq,
        reporter: &caller.user.id,
        reason,
        at: now_millis(),
    };
    let store = caller.store();
    if !store.file_report(&report).await? {
        // Too many open already, reported before by the same person (still
        // fine), or gone.
        if store.open_reports_of(&caller.user.id).await? >= OPEN_REPORTS_EACH {
            return Err(refuse(
                ErrorCode::NotAllowed,
                format!(
                    "You have {OPEN_REPORTS_EACH} reports waiting for the moderators: \
                     report more once they have looked at those."
                ),
            ));
        }
        match store.message(&channel, seq, None).await? {
            Some(message) if !message.deleted => {}
            _ => return Err(refusal::unknown_message()),
        }
    }
    tracing::info!(by = %caller.user.name, channel = %channel.0, seq, "message reported");
    answer(ServerMsg::Reported { channel, seq })
}

pub async fn reports(caller: &Caller<'_>) -> Reply {
    if !role_of(caller).await?.moderates() {
        return Err(refusal::not_your_role());
    }
    let reports = caller.store().open_reports(REPORTS_SHOWN).await?;
    answer(ServerMsg::Reports { reports })
}

pub async fn resolve(caller: &Caller<'_>, id: &str, remove: bool) -> Reply {
    if !role_of(caller).await?.moderates() {
        return Err(refusal::not_your_role());
    }
    let by = &caller.user.id;
    let store = caller.store();
    let (channel, seq) = store
        .resolve_reports(id, by, remove, now_millis())
        .await?
        .ok_or_else(refusal::report_closed)?;
    if remove {
        let outcome = store
            .change_message(&channel, seq, MessageChange::Remove { by })
            .await?;
        if matches!(outcome, crate::store::ChangeOutcome::NoSuchMessage) {
            // Deleted meanwhile by its author: the reports are closed all
            // the same, and the moderator's decision is on record.
            store
                .record_audit(&AuditRecord {
                    actor: by,
                    action: AuditAction::RemoveMessage,
                    target: None,
                    channel: Some(&channel),
                    seq: Some(seq),
                    detail: "already deleted by its author",
                })
                .await?;
        } else {
            announce_change(caller, outcome, None).await?;
        }
    }
    tracing::info!(by = %caller.user.name, remove, "reports closed");
    reports(caller).await
}
