//! Threads: a thread's page (its parent and replies), the threads view,
//! following and read marks. Replies are posted like any message
//! (`messages::post` with the thread they go in); the writer then tells
//! everyone the parent's new summary.

use shared::limits::{THREAD_PAGE, THREADS_SHOWN};
use shared::{ChannelId, Seq, ServerMsg};

use super::messages::{fit_newest, fit_oldest};
use super::refusal::{self, Refusal};
use super::{Caller, Reply, answer, done};
use crate::store::{ThreadLookup, Threads};

/// What a thread lookup that found nothing answers: the same as for a
/// conversation the caller is not in, or a message that is not there.
fn missing<T>(lookup: ThreadLookup<T>) -> Result<T, Refusal> {
    match lookup {
        ThreadLookup::Found(found) => Ok(found),
        ThreadLookup::NotAMember => Err(refusal::not_a_member()),
        ThreadLookup::NoSuchThread => Err(refusal::unknown_message()),
    }
}

/// A thread's parent and its newest replies (or those before `before_seq`).
pub async fn thread(
    caller: &Caller<'_>,
    channel: ChannelId,
    root: Seq,
    before_seq: Option<Seq>,
) -> Reply {
    let page = missing(
        caller
            .store()
            .thread(
                &channel,
                root,
                before_seq.unwrap_or(Seq::MAX),
                THREAD_PAGE,
                &caller.user.id,
            )
            .await?,
    )?;
    let (replies, cut) = fit_newest(page.replies);
    answer(ServerMsg::Thread {
        channel,
        root: page.root,
        replies,
        has_older: page.has_older || cut,
        following: page.following,
    })
}

/// The threads the caller follows, the most recently replied to first.
pub async fn followed(caller: &Caller<'_>) -> Reply {
    let mut threads = caller
        .store()
        .followed_threads(&caller.user.id, THREADS_SHOWN)
        .await?;
    // Each item is about one message: keep as many as fit in one reply.
    let roots: Vec<_> = threads.iter().map(|item| item.root.clone()).collect();
    let (fitting, _) = fit_oldest(roots);
    threads.truncate(fitting.len());
    answer(ServerMsg::Threads { threads })
}

/// Follows or unfollows a thread, or moves the caller's read mark in it;
/// every tab of the caller hears the thread's new state.
pub async fn set_following(
    caller: &Caller<'_>,
    channel: ChannelId,
    root: Seq,
    follow: Option<bool>,
    read: Option<Seq>,
) -> Reply {
    let state = missing(
        caller
            .store()
            .set_following(&channel, root, &caller.user.id, follow, read)
            .await?,
    )?;
    caller
        .fanout()
        .to_user(
            caller.user.id.clone(),
            ServerMsg::ThreadState {
                channel,
                root,
                following: state.following,
                read_seq: state.read_seq,
            },
            None,
        )
        .await;
    done()
}
