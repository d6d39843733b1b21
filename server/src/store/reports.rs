//! Messages reported to the moderators: filing a report (once per person
//! and message, keeping the message as it was), the open ones, and closing
//! every open report on a message at once (the dismissal audited in the
//! same transaction; a removal is audited by the message's change).

use shared::roles::Report;
use shared::{ChannelId, Seq, UserId, UserInfo};

use super::{AuditRecord, Moderation, StoreError};
use shared::roles::AuditAction;

/// Open reports one person may have at once (so nobody buries the queue).
pub const OPEN_REPORTS_EACH: i64 = 10;
/// The reported text kept in the list, at most (characters).
const LISTED_TEXT_CHARS: usize = 1_000;

/// A report to file.
#[derive(Debug, Clone)]
pub struct NewReport<'a> {
    pub id: &'a str,
    pub channel: &'a ChannelId,
    pub seq: Seq,
    pub reporter: &'a UserId,
    pub reason: &'a str,
    pub at: i64,
}

/// A report row as both dialects read it: id, channel, its name, seq,
/// author id and name, text, reporter id and name, reason, at.
pub(crate) type ReportRow = (
    String,
    String,
    String,
    Seq,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
);

pub(crate) fn report_from(row: ReportRow) -> Report {
    let (
        id,
        channel,
        name,
        seq,
        author_id,
        author_name,
        text,
        reporter_id,
        reporter_name,
        reason,
        at,
    ) = row;
    Report {
        id,
        channel: ChannelId(channel),
        channel_name: name,
        seq,
        author: UserInfo {
            id: UserId(author_id),
            name: author_name,
        },
        text: text.chars().take(LISTED_TEXT_CHARS).collect(),
        reporter: UserInfo {
            id: UserId(reporter_id),
            name: reporter_name,
        },
        reason,
        at,
    }
}

/// The reports aggregate. Implemented by each dialect's store.
#[allow(async_fn_in_trait)]
pub trait Reports: Moderation {
    /// Files a report on a message that exists and is not deleted, unless
    /// the reporter has [`OPEN_REPORTS_EACH`] open already; whether it was
    /// filed now (not when reported before, gone, or too many).
    async fn file_report(&self, report: &NewReport<'_>) -> Result<bool, StoreError>;

    /// How many open reports `reporter` has filed.
    async fn open_reports_of(&self, reporter: &UserId) -> Result<i64, StoreError>;

    /// Up to `limit` open reports, newest first.
    async fn open_reports(&self, limit: u32) -> Result<Vec<Report>, StoreError>;

    /// Closes the open report `id` and every other open one on its message,
    /// by `by`, as removed (the caller removes the message, which audits
    /// it) or dismissed (audited here, in the same transaction). The
    /// message, if the report was open.
    async fn resolve_reports(
        &self,
        id: &str,
        by: &UserId,
        remove: bool,
        at: i64,
    ) -> Result<Option<(ChannelId, Seq)>, StoreError>;
}

/// The audit line of a dismissed report on `author`'s message.
pub(crate) fn dismissal<'a>(
    by: &'a UserId,
    author: &'a UserId,
    channel: &'a ChannelId,
    seq: Seq,
) -> AuditRecord<'a> {
    AuditRecord {
        actor: by,
        action: AuditAction::DismissReport,
        target: Some(author),
        channel: Some(channel),
        seq: Some(seq),
        detail: "",
    }
}

/// How a closed report is stored.
pub(crate) fn resolution(remove: bool) -> &'static str {
    if remove { "removed" } else { "dismissed" }
}
