//! Reported messages in PostgreSQL.

use shared::roles::Report;
use shared::{ChannelId, Seq, UserId};

use super::PgStore;
use super::moderation::audit;
use crate::store::StoreError;
use crate::store::reports::{
    NewReport, OPEN_REPORTS_EACH, ReportRow, Reports, dismissal, report_from, resolution,
};

impl Reports for PgStore {
    async fn file_report(&self, report: &NewReport<'_>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO reports (id, channel_id, seq, author_id, body, reporter_id, reason, created_at)
             SELECT $1, channel_id, seq, author_id, body, $2, $3, $4
             FROM messages WHERE channel_id = $5 AND seq = $6
               AND (SELECT COUNT(*) FROM reports
                    WHERE reporter_id = $2 AND resolved_at IS NULL) < $7
               AND NOT deleted
             ON CONFLICT (channel_id, seq, reporter_id) DO NOTHING",
        )
        .bind(report.id)
        .bind(&report.reporter.0)
        .bind(report.reason)
        .bind(report.at)
        .bind(&report.channel.0)
        .bind(report.seq)
        .bind(OPEN_REPORTS_EACH)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn open_reports_of(&self, reporter: &UserId) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM reports WHERE reporter_id = $1 AND resolved_at IS NULL",
        )
        .bind(&reporter.0)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn open_reports(&self, limit: u32) -> Result<Vec<Report>, StoreError> {
        let rows: Vec<ReportRow> = sqlx::query_as(
            "SELECT r.id, r.channel_id,
                    CASE WHEN c.kind = 'direct' THEN 'a direct conversation'
                         ELSE '#' || COALESCE(c.display_name, c.name) END,
                    r.seq, a.id, a.name, r.body, p.id, p.name,
                    r.reason, r.created_at
             FROM reports r JOIN channels c ON c.id = r.channel_id
                  JOIN users a ON a.id = r.author_id JOIN users p ON p.id = r.reporter_id
             WHERE r.resolved_at IS NULL ORDER BY r.created_at DESC, r.id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(report_from).collect())
    }

    async fn resolve_reports(
        &self,
        id: &str,
        by: &UserId,
        remove: bool,
        at: i64,
    ) -> Result<Option<(ChannelId, Seq)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let found: Option<(String, Seq, String)> = sqlx::query_as(
            "SELECT channel_id, seq, author_id FROM reports WHERE id = $1 AND resolved_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((channel, seq, author)) = found else {
            return Ok(None);
        };
        sqlx::query(
            "UPDATE reports SET resolved_at = $1, resolved_by = $2, resolution = $3
             WHERE channel_id = $4 AND seq = $5 AND resolved_at IS NULL",
        )
        .bind(at)
        .bind(&by.0)
        .bind(resolution(remove))
        .bind(&channel)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
        let (channel, author) = (ChannelId(channel), UserId(author));
        if !remove {
            audit(&mut tx, &dismissal(by, &author, &channel, seq)).await?;
        }
        tx.commit().await?;
        Ok(Some((channel, seq)))
    }
}
