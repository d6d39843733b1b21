//! Search in PostgreSQL: the `search` tsvector the database computes from
//! each message's text, its GIN index, and the search query over it.

use shared::search::SearchQuery;
use shared::{ChannelId, UserId};
use sqlx::Row;

use super::PgStore;
use crate::store::search::{Hit, page_of};
use crate::store::{Search, SearchPage, StoreError};

impl Search for PgStore {
    async fn search(
        &self,
        reader: &UserId,
        query: &SearchQuery,
        before: Option<i64>,
        limit: u32,
    ) -> Result<SearchPage, StoreError> {
        // Every typed value is a bound parameter; only the shape is built.
        let mut params = Params::default();
        let reader_param = params.text(&reader.0);
        let mut sql = format!(
            "SELECT m.search_no AS no, m.channel_id, m.seq FROM messages m
             WHERE NOT m.deleted AND m.channel_id IN (
                 SELECT ms.channel_id FROM memberships ms{}
                 WHERE ms.user_id = {reader_param})",
            match &query.channel {
                Some(channel) => {
                    let name = params.text(channel);
                    format!(
                        " JOIN channels c ON c.id = ms.channel_id
                          AND (lower(c.name) = {name} OR lower(c.display_name) = {name})"
                    )
                }
                None => String::new(),
            }
        );
        let mut matches = Vec::new();
        for term in &query.terms {
            matches.push(format!(
                "phraseto_tsquery('simple', {})",
                params.text(&term.join(" "))
            ));
        }
        if let Some(prefix) = &query.prefix {
            // The prefix is letters and digits only (`shared::search::words`),
            // so `:*` after it is the only operator in the text.
            matches.push(format!(
                "to_tsquery('simple', {} || ':*')",
                params.text(prefix)
            ));
        }
        if !matches.is_empty() {
            sql.push_str(&format!(" AND m.search @@ ({})", matches.join(" && ")));
        }
        if let Some(from) = &query.from {
            let from = params.text(from);
            sql.push_str(&format!(
                " AND m.author_id IN (SELECT id FROM users WHERE mention_key = {from})"
            ));
        }
        if query.has_file {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM files f WHERE f.channel_id = m.channel_id AND f.seq = m.seq)",
            );
        }
        if query.has_link {
            sql.push_str(" AND m.body ~* 'https?://'");
        }
        if let Some(at) = query.before {
            sql.push_str(&format!(" AND m.sent_at < {}", params.number(at)));
        }
        if let Some(at) = query.after {
            sql.push_str(&format!(" AND m.sent_at >= {}", params.number(at)));
        }
        if let Some(no) = before {
            sql.push_str(&format!(" AND m.search_no < {}", params.number(no)));
        }
        let limit_param = params.number(i64::from(limit) + 1);
        sql.push_str(&format!(" ORDER BY m.search_no DESC LIMIT {limit_param}"));
        let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in params.values {
            statement = match value {
                Value::Text(text) => statement.bind(text),
                Value::Number(number) => statement.bind(number),
            };
        }
        let rows = statement.fetch_all(&self.pool).await?;
        let hits = rows
            .iter()
            .map(|row| Hit {
                channel: ChannelId(row.get("channel_id")),
                seq: row.get("seq"),
                no: row.get("no"),
            })
            .collect();
        page_of(self, reader, hits, limit).await
    }
}

/// The values of a statement built piece by piece, numbered as added.
#[derive(Default)]
struct Params {
    values: Vec<Value>,
}

enum Value {
    Text(String),
    Number(i64),
}

impl Params {
    fn text(&mut self, text: &str) -> String {
        self.values.push(Value::Text(text.to_owned()));
        format!("${}", self.values.len())
    }

    fn number(&mut self, number: i64) -> String {
        self.values.push(Value::Number(number));
        format!("${}", self.values.len())
    }
}
