//! Finding messages: the query is parsed here (on the caller's connection
//! task, at most [`MAX_QUERY_CHARS`](shared::search::MAX_QUERY_CHARS)
//! characters), then the store searches only what the caller can read at
//! this moment.

use shared::ServerMsg;
use shared::search::{SEARCH_PAGE, SearchQuery};

use super::{Caller, Reply, answer, refusal};
use crate::store::Search;

pub async fn search(caller: &Caller<'_>, query: String, before: Option<i64>) -> Reply {
    let parsed = SearchQuery::parse(&query).map_err(|error| refusal::bad_query(&error))?;
    if !caller.store().keeps_search_index() {
        return Err(refusal::search_off());
    }
    let page = caller
        .store()
        .search(&caller.user.id, &parsed, before, SEARCH_PAGE)
        .await?;
    answer(ServerMsg::SearchResults {
        query,
        before,
        results: page.results,
        highlight: parsed.highlighter(),
        next: page.next,
    })
}
