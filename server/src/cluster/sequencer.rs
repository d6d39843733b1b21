//! Hands each channel's messages to this node's hub in sequence order, from
//! both sources: this node's writer (after its commits, messages in hand)
//! and wake-ups from other nodes (sequence numbers; the messages are read
//! from the database). It remembers, per channel, the last number handed
//! on; a number above the next one means a gap, filled from the database
//! first (a wake-up showing a gap waits a moment once, as the gap may be
//! this node's own commit on its way from the writer); a number already
//! handed on is not handed on again (the sender's ack still goes out). It also remembers the highest change number handed
//! on, so that after lost wake-ups it reads the changes made meanwhile
//! (edits, deletes, reactions, previews) as well as the new messages. One
//! task, so the order is one order.

use std::collections::HashMap;

use shared::{ChangeNo, ChannelId, Seq, ServerMsg};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::realtime::fanout::{Delivery, Event, FanOut};
use crate::realtime::hub::HubHandle;
use crate::store::{Messages, Store};

/// Messages read per query when filling a gap or catching up.
const PAGE: u32 = 500;

/// Channels' wake-ups read together, at most.
const COALESCED: usize = 256;

/// Adds `more` wake-ups to `batch` unless one names a channel the batch
/// (or `more` itself) names already; gives `more` back then.
fn coalesce(
    batch: &mut Vec<(ChannelId, Seq, Seq)>,
    more: Vec<(ChannelId, Seq, Seq)>,
) -> Result<(), Vec<(ChannelId, Seq, Seq)>> {
    let mut named: std::collections::HashSet<&ChannelId> =
        batch.iter().map(|(c, _, _)| c).collect();
    if !more.iter().all(|(channel, _, _)| named.insert(channel)) {
        return Err(more);
    }
    batch.extend(more);
    Ok(())
}

/// What the sequencer is told.
#[derive(Debug)]
pub enum Input {
    /// This node's writer committed these (acks and messages in hand).
    Local(Vec<Delivery>),
    /// Another node committed messages: per channel, first and last number.
    Stored(Vec<(ChannelId, Seq, Seq)>),
    /// Wake-ups that showed a gap, [`GAP_GRACE`] later: the gap is filled
    /// from the database now.
    StoredAfterGap(Vec<(ChannelId, Seq, Seq)>),
    /// A message changed on another node.
    Changed(ChannelId, Seq),
    /// Wake-ups may have been lost: read every followed channel again.
    CatchUp,
    /// The bus brings this channel's wake-ups from now on; its messages
    /// after `after` (if known) are this node's to hand on.
    Follow(ChannelId, Option<Seq>),
    /// The bus no longer brings this channel's wake-ups: forget where it
    /// was (a later follow starts afresh).
    Forget(ChannelId),
    /// A while after following: read what the bus could not bring.
    Recheck(ChannelId),
}

/// How long after following a channel its messages are read from the
/// database: by then this node's own commits of the moment have come
/// through [`Input::Local`] (with their acks), so what the read finds is
/// other nodes' messages committed before the bus brought their wake-ups.
const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// How long a wake-up showing a gap waits before the gap is read from the
/// database. A gap is most often this node's own message, committed and on
/// its way through [`Input::Local`] with its ack: read from the database
/// first, it would reach its author twice (as a message, then acked).
const GAP_GRACE: std::time::Duration = std::time::Duration::from_millis(50);

/// Starts the sequencer; it ends when every sender of `inputs` is gone
/// (`own`, for its own later inputs, is not counted).
pub fn start(
    store: Store,
    hub: HubHandle,
    own: mpsc::WeakSender<Input>,
    inputs: mpsc::Receiver<Input>,
) -> JoinHandle<()> {
    let sequencer = Sequencer {
        store,
        hub,
        own,
        delivered: HashMap::new(),
        first_local: HashMap::new(),
        changes_seen: HashMap::new(),
        followed_after: HashMap::new(),
    };
    tokio::spawn(sequencer.run(inputs))
}

struct Sequencer {
    store: Store,
    hub: HubHandle,
    own: mpsc::WeakSender<Input>,
    /// Per channel, the last sequence number handed to the hub.
    delivered: HashMap<ChannelId, Seq>,
    /// Channels first seen through this node's writer, with that number:
    /// another node's messages just below it may still be on their way.
    first_local: HashMap<ChannelId, Seq>,
    /// Per channel, the highest change number among the messages handed
    /// on: after lost wake-ups, changes are read again from there.
    changes_seen: HashMap<ChannelId, i64>,
    /// Channels followed just now, and the number their room opened at,
    /// until their recheck.
    followed_after: HashMap<ChannelId, Seq>,
}

impl Sequencer {
    async fn run(mut self, mut inputs: mpsc::Receiver<Input>) {
        let mut next = None;
        loop {
            let input = match next.take() {
                Some(input) => input,
                None => match inputs.recv().await {
                    Some(input) => input,
                    None => return,
                },
            };
            match input {
                Input::Local(deliveries) => self.local(deliveries).await,
                Input::Stored(mut channels) => {
                    // Wake-ups waiting already are read in the same query
                    // (a routing bus brings one per channel), as long as
                    // each names channels not named yet: a channel's
                    // wake-ups are handled one at a time, in order.
                    while channels.len() < COALESCED {
                        match inputs.try_recv() {
                            Ok(Input::Stored(more)) => {
                                if let Err(more) = coalesce(&mut channels, more) {
                                    next = Some(Input::Stored(more));
                                    break;
                                }
                            }
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.stored_many(channels, true).await
                }
                Input::StoredAfterGap(channels) => self.stored_many(channels, false).await,
                Input::Changed(channel, seq) => self.changed(channel, seq).await,
                Input::CatchUp => {
                    // One reading covers every loss reported so far.
                    loop {
                        match inputs.try_recv() {
                            Ok(Input::CatchUp) => {}
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    self.catch_up().await
                }
                Input::Follow(channel, after) => self.follow(channel, after),
                Input::Forget(channel) => self.forget(&channel),
                Input::Recheck(channel) => self.recheck(channel).await,
            }
        }
    }

    /// After wake-ups may have been lost: every followed channel's changes
    /// to messages already handed on (read from the change number seen
    /// before), then its new messages.
    async fn catch_up(&mut self) {
        let followed: Vec<(ChannelId, Seq)> = self
            .delivered
            .iter()
            .map(|(channel, seq)| (channel.clone(), *seq))
            .collect();
        for (channel, delivered) in followed {
            let mut after = self.changes_seen.get(&channel).copied().unwrap_or(0);
            loop {
                let changed = match self
                    .store
                    .messages_changed(&channel, delivered, ChangeNo(after), PAGE, None)
                    .await
                {
                    Ok(changed) => changed,
                    Err(error) => {
                        tracing::warn!(%error, channel = %channel.0, "could not read changes made meanwhile");
                        break;
                    }
                };
                let full = changed.len() == PAGE as usize;
                for message in changed {
                    after = after.max(message.change.0);
                    self.saw_change(&message);
                    self.to_room(&channel, ServerMsg::MessageUpdated { message })
                        .await;
                }
                if !full {
                    break;
                }
            }
            self.fill(&channel, delivered, Seq::MAX).await;
        }
    }

    /// Starts following a channel whose room just opened here: what was
    /// committed after `after` and before the bus brought the channel's
    /// wake-ups is read a moment later ([`RECHECK_AFTER`]); what was
    /// committed before, the connections that opened the room loaded
    /// themselves. Without `after` (a room opened by someone joining), the
    /// next wake-up starts it.
    fn follow(&mut self, channel: ChannelId, after: Option<Seq>) {
        let Some(after) = after else { return };
        let from = self
            .delivered
            .get(&channel)
            .map_or(after, |&delivered| delivered.max(after));
        self.delivered.insert(channel.clone(), from);
        self.followed_after.insert(channel.clone(), after);
        let own = self.own.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RECHECK_AFTER).await;
            if let Some(own) = own.upgrade() {
                let _ = own.send(Input::Recheck(channel)).await;
            }
        });
    }

    /// Reads what a followed channel has beyond what was handed on. When
    /// this node's own commits came before the follow, numbers below them
    /// may be other nodes' that no wake-up brought: read from where the
    /// room opened then (clients keep one copy of a number seen twice).
    async fn recheck(&mut self, channel: ChannelId) {
        let after = self.followed_after.remove(&channel);
        let Some(&delivered) = self.delivered.get(&channel) else {
            return;
        };
        let from = match (after, self.first_local.get(&channel)) {
            (Some(after), Some(&first)) if first > after + 1 => after,
            _ => delivered,
        };
        self.fill(&channel, from, Seq::MAX).await;
    }

    fn forget(&mut self, channel: &ChannelId) {
        self.delivered.remove(channel);
        self.first_local.remove(channel);
        self.changes_seen.remove(channel);
        self.followed_after.remove(channel);
    }

    /// Remembers the change number of a message handed on.
    fn saw_change(&mut self, message: &shared::ChatMessage) {
        let seen = self
            .changes_seen
            .entry(message.channel.clone())
            .or_insert(0);
        *seen = (*seen).max(message.change.0);
    }

    /// Hands on what another node's batch stored: the ranges not handed on
    /// yet, read in one query; a channel far behind (more than a page) or
    /// one first seen here just now is read on its own. With `may_wait`, a
    /// channel whose wake-up shows a gap waits [`GAP_GRACE`] first.
    async fn stored_many(&mut self, channels: Vec<(ChannelId, Seq, Seq)>, may_wait: bool) {
        let mut ranges = Vec::new();
        let mut waiting = Vec::new();
        for (channel, first, last) in channels {
            match self.delivered.get(&channel).copied() {
                Some(delivered) if may_wait && first > delivered + 1 => {
                    waiting.push((channel, first, last));
                }
                Some(delivered) if last > delivered && last - delivered <= Seq::from(PAGE) => {
                    ranges.push((channel, delivered, last));
                }
                None if last - (first - 1) <= Seq::from(PAGE) => {
                    ranges.push((channel, first - 1, last));
                }
                _ => self.stored(channel, first, last).await,
            }
        }
        if !waiting.is_empty() {
            let own = self.own.clone();
            tokio::spawn(async move {
                tokio::time::sleep(GAP_GRACE).await;
                if let Some(own) = own.upgrade() {
                    let _ = own.send(Input::StoredAfterGap(waiting)).await;
                }
            });
        }
        if ranges.is_empty() {
            return;
        }
        let messages = match self.store.messages_in_ranges(&ranges).await {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(%error, "could not read messages another node stored");
                return;
            }
        };
        for message in messages {
            let channel = message.channel.clone();
            self.delivered.insert(channel.clone(), message.seq);
            self.saw_change(&message);
            self.to_room(&channel, ServerMsg::Message { message }).await;
        }
    }

    /// Hands on what another node stored, from the first number not handed
    /// on yet.
    async fn stored(&mut self, channel: ChannelId, first: Seq, last: Seq) {
        match self.delivered.get(&channel).copied() {
            None => self.fill(&channel, first - 1, last).await,
            Some(delivered) if last > delivered => self.fill(&channel, delivered, last).await,
            Some(_) => {
                // Committed before this node's first message in the
                // channel, heard after it: late, but not lost.
                if self.first_local.get(&channel).is_some_and(|&f| last < f) {
                    let delivered = self.delivered.get(&channel).copied();
                    self.fill(&channel, first - 1, last).await;
                    if let Some(delivered) = delivered {
                        self.delivered.insert(channel, delivered);
                    }
                }
            }
        }
    }

    /// Hands on this node's commits: each message after any gap before it
    /// is filled, and without the message when it was handed on already.
    async fn local(&mut self, deliveries: Vec<Delivery>) {
        let mut ready = Vec::with_capacity(deliveries.len());
        for mut delivery in deliveries {
            if let Some(ServerMsg::Message { message }) = &delivery.to_others {
                let (channel, seq) = (message.channel.clone(), message.seq);
                match self.delivered.get(&channel).copied() {
                    None => {
                        self.first_local.insert(channel.clone(), seq);
                    }
                    Some(last) if seq <= last => delivery.to_others = None,
                    Some(last) if seq > last + 1 => {
                        // Earlier numbers (another node's) come first.
                        self.flush(&mut ready).await;
                        self.fill(&channel, last, seq - 1).await;
                    }
                    _ => {}
                }
                if let Some(ServerMsg::Message { message }) = &delivery.to_others {
                    self.delivered.insert(channel, seq);
                    self.saw_change(message);
                }
            }
            ready.push(delivery);
        }
        self.flush(&mut ready).await;
    }

    async fn flush(&self, ready: &mut Vec<Delivery>) {
        if !ready.is_empty() {
            self.hub
                .publish(Event::Deliver(std::mem::take(ready)))
                .await;
        }
    }

    /// Reads and hands on the messages numbered after `after` up to
    /// `up_to`. A failed read leaves the channel where it was: the next
    /// wake-up reads the range again.
    async fn fill(&mut self, channel: &ChannelId, mut after: Seq, up_to: Seq) {
        while after < up_to {
            let page = match self
                .store
                .messages_between(channel, after, up_to, PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => {
                    tracing::warn!(%error, channel = %channel.0, "could not read messages another node stored");
                    return;
                }
            };
            let Some(last) = page.last().map(|m| m.seq) else {
                break;
            };
            for message in page {
                self.saw_change(&message);
                self.to_room(channel, ServerMsg::Message { message }).await;
            }
            after = last;
            self.delivered.insert(channel.clone(), last);
        }
    }

    async fn changed(&mut self, channel: ChannelId, seq: Seq) {
        match self.store.message(&channel, seq, None).await {
            Ok(Some(message)) => {
                self.saw_change(&message);
                self.to_room(&channel, ServerMsg::MessageUpdated { message })
                    .await
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, channel = %channel.0, "could not read a message another node changed")
            }
        }
    }

    async fn to_room(&self, channel: &ChannelId, message: ServerMsg) {
        self.hub
            .publish(Event::ToRoom {
                channel: channel.clone(),
                message,
                except_user: None,
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_ups_are_read_together_only_for_channels_not_named_yet() {
        let (a, b, c) = (
            ChannelId("a".into()),
            ChannelId("b".into()),
            ChannelId("c".into()),
        );
        let mut batch = vec![(a.clone(), 3, 4)];
        assert_eq!(coalesce(&mut batch, vec![(b.clone(), 1, 1)]), Ok(()));
        // A's later wake-up waits for the next reading, whole.
        let later = vec![(c.clone(), 2, 2), (a.clone(), 5, 9)];
        assert_eq!(coalesce(&mut batch, later.clone()), Err(later));
        let twice = vec![(c.clone(), 1, 1), (c.clone(), 2, 2)];
        assert_eq!(coalesce(&mut batch, twice.clone()), Err(twice));
        assert_eq!(batch, vec![(a, 3, 4), (b, 1, 1)]);
    }
}
