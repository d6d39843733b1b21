//! Search: the aggregate's operation ([`Search`]) and what every dialect
//! builds the same way from a [`SearchQuery`]. A reader finds only messages
//! of channels they are a member of at the moment of searching, never a
//! deleted one, and an edited one by its current text: each dialect keeps
//! its index in the messages' own transactions and checks membership in
//! the search's own query.

use shared::search::SearchQuery;
use shared::{ChannelId, ChatMessage, Seq, UserId};

use super::{Messages, StoreError};

/// A page of results, newest first.
#[derive(Debug, Default)]
pub struct SearchPage {
    pub results: Vec<ChatMessage>,
    /// Where the next (older) page starts, when there is one.
    pub next: Option<i64>,
}

/// Finding messages by their words.
#[allow(async_fn_in_trait)]
pub trait Search {
    /// Up to `limit` messages `reader` can read that match `query`, newest
    /// first, older than the position `before` (a previous page's `next`).
    async fn search(
        &self,
        reader: &UserId,
        query: &SearchQuery,
        before: Option<i64>,
        limit: u32,
    ) -> Result<SearchPage, StoreError>;
}

/// A row a dialect's search found: where the message is, and its
/// position in newest-first order.
pub(crate) struct Hit {
    pub channel: ChannelId,
    pub seq: Seq,
    pub no: i64,
}

/// The page for up to `limit + 1` hits (the extra one only says that more
/// follow): each message as `reader` sees it.
pub(crate) async fn page_of(
    store: &impl Messages,
    reader: &UserId,
    hits: Vec<Hit>,
    limit: u32,
) -> Result<SearchPage, StoreError> {
    let more = hits.len() > limit as usize;
    let mut page = SearchPage::default();
    for hit in hits.into_iter().take(limit as usize) {
        if let Some(message) = store.message(&hit.channel, hit.seq, Some(reader)).await? {
            page.results.push(message);
        }
        page.next = Some(hit.no);
    }
    if !more {
        page.next = None;
    }
    Ok(page)
}

/// The query's words as an FTS5 match expression: each word or phrase
/// quoted (nothing a person types can become FTS5 syntax), the prefix
/// starred, all required. `None` when the query has only filters.
pub(crate) fn fts5_match(query: &SearchQuery) -> Option<String> {
    let quote = |words: &[String]| format!("\"{}\"", words.join(" ").replace('"', "\"\""));
    let mut parts: Vec<String> = query.terms.iter().map(|term| quote(term)).collect();
    if let Some(prefix) = &query.prefix {
        parts.push(format!("{}*", quote(std::slice::from_ref(prefix))));
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_never_become_fts5_syntax() {
        let query = SearchQuery::parse(r#"NEAR "a b" OR* de"#).unwrap();
        assert_eq!(
            fts5_match(&query).unwrap(),
            r#""near" AND "a b" AND "or" AND "de"*"#
        );
        assert_eq!(fts5_match(&SearchQuery::parse("has:file").unwrap()), None);
    }
}
