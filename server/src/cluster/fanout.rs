//! [`ClusterFanOut`]: the `FanOut` of a node in a cluster. Everything is
//! told to this node's hub as on a single node, and to the other nodes
//! through the bus; what other nodes tell arrives here too ([`Node::hear`]).
//! Messages go through the sequencer on both paths, so each channel's
//! messages reach the hub in order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use shared::cluster::About;
use shared::protocol::PresenceStatus;
use shared::{ChannelId, Seq, ServerMsg, UserId};
use tokio::sync::mpsc;

use super::bus::{Bus, Heard};
use super::presence::{Change, Elsewhere};
use super::sequencer::Input;
use crate::metrics::Metrics;
use crate::realtime::fanout::{
    ConnId, Delivery, Event, FanOut, FanOutFuture, OnlinePage, Sessions,
};
use crate::realtime::hub::HubHandle;

/// This node's fan-out in a cluster; cheap to clone.
#[derive(Clone)]
pub struct ClusterFanOut {
    hub: HubHandle,
    bus: Bus,
    sequencer: mpsc::Sender<Input>,
    /// Who is present through the other nodes.
    elsewhere: Arc<Mutex<Elsewhere>>,
    metrics: Metrics,
}

impl ClusterFanOut {
    pub fn new(hub: HubHandle, bus: Bus, sequencer: mpsc::Sender<Input>, metrics: Metrics) -> Self {
        Self {
            hub,
            bus,
            sequencer,
            elsewhere: Arc::default(),
            metrics,
        }
    }

    /// Tells the hub whose presence elsewhere changed.
    async fn tell_presence(&self, changes: Vec<Change>) {
        for (user, status) in changes {
            self.hub.publish(Event::Elsewhere { user, status }).await;
        }
    }

    /// Forgets the nodes that stopped beating (and who was only there).
    pub async fn expire_silent_nodes(&self) {
        let changes = self.lock_elsewhere().expire(Instant::now());
        self.tell_presence(changes).await;
    }

    fn lock_elsewhere(&self) -> std::sync::MutexGuard<'_, Elsewhere> {
        // Pure bookkeeping: a panic inside cannot leave it half changed in
        // a way worse than the next heartbeat corrects.
        self.elsewhere
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the other nodes hear of an event published here (`None`: only
    /// this node's connections are concerned).
    fn notice(event: &Event) -> Option<About> {
        Some(match event.clone() {
            Event::Subscribe {
                user,
                channel,
                announce,
            } => About::Subscribe {
                user,
                channel,
                announce,
            },
            Event::Unsubscribe {
                user,
                channel,
                announce,
            } => About::Unsubscribe {
                user,
                channel,
                announce,
            },
            Event::ToRoom {
                channel,
                message: ServerMsg::MessageUpdated { message },
                ..
            } => About::Changed {
                channel,
                seq: message.seq,
            },
            Event::ToRoom {
                channel,
                message,
                except_user,
            } => About::ToRoom {
                channel,
                message,
                except_user,
            },
            Event::ToUser { user, message, .. } => About::ToUser { user, message },
            Event::MemberJoined { channel, user } => About::MemberJoined { channel, user },
            Event::CloseSessions { user, sessions } => close_notice(user, sessions),
            // The writer's notices go out inside its transactions; being
            // away is told with presence; presence elsewhere came from there.
            Event::Deliver(_) | Event::SetAway { .. } | Event::Elsewhere { .. } => return None,
        })
    }

    /// Acts on what another node told.
    pub async fn hear(&self, heard: Heard) {
        if let Heard::Notice(_) = &heard {
            self.metrics.bus_notices.inc();
        }
        let event = match heard {
            Heard::MaybeMissed => {
                let _ = self.sequencer.send(Input::CatchUp).await;
                return;
            }
            Heard::Followed { channel, after } => {
                let _ = self.sequencer.send(Input::Follow(channel, after)).await;
                return;
            }
            Heard::Unfollowed(channel) => {
                let _ = self.sequencer.send(Input::Forget(channel)).await;
                return;
            }
            Heard::Notice(notice) => match notice.about {
                About::Stored { channels } => {
                    let _ = self.sequencer.send(Input::Stored(channels)).await;
                    return;
                }
                About::Changed { channel, seq } => {
                    let _ = self.sequencer.send(Input::Changed(channel, seq)).await;
                    return;
                }
                About::Subscribe {
                    user,
                    channel,
                    announce,
                } => Event::Subscribe {
                    user,
                    channel,
                    announce,
                },
                About::Unsubscribe {
                    user,
                    channel,
                    announce,
                } => Event::Unsubscribe {
                    user,
                    channel,
                    announce,
                },
                About::ToRoom {
                    channel,
                    message,
                    except_user,
                } => Event::ToRoom {
                    channel,
                    message,
                    except_user,
                },
                // Connection ids are this node's own: another node's
                // "all but that tab" is every tab here.
                About::ToUser { user, message } => Event::ToUser {
                    user,
                    message,
                    except_conn: None,
                },
                About::MemberJoined { channel, user } => Event::MemberJoined { channel, user },
                About::Presence {
                    user,
                    status,
                    version,
                } => {
                    let changes = self.lock_elsewhere().change(
                        &notice.node,
                        user,
                        status,
                        version,
                        Instant::now(),
                    );
                    self.tell_presence(changes).await;
                    return;
                }
                About::Heartbeat {
                    version,
                    users,
                    last,
                } => {
                    let changes = self.lock_elsewhere().heartbeat(
                        &notice.node,
                        version,
                        users,
                        last,
                        Instant::now(),
                    );
                    self.tell_presence(changes).await;
                    return;
                }
                About::Missed => {
                    let _ = self.sequencer.send(Input::CatchUp).await;
                    return;
                }
                About::Left => {
                    let changes = self.lock_elsewhere().left(&notice.node);
                    self.tell_presence(changes).await;
                    return;
                }
                About::CloseSessions { user, only, keep } => {
                    let sessions = match only {
                        Some(one) => Sessions::One(one),
                        None => Sessions::AllBut(keep),
                    };
                    self.hub.close_sessions(user, sessions).await;
                    return;
                }
            },
        };
        self.hub.publish(event).await;
    }
}

/// Per channel, the first and last number of the messages this node's
/// writer acknowledged: the new ones, and resends found stored already
/// (whose first wake-up may have been lost with a node that stopped
/// between commit and publish; hearing one twice is harmless).
fn stored_ranges(deliveries: &[Delivery]) -> Vec<(ChannelId, Seq, Seq)> {
    let mut ranges: Vec<(ChannelId, Seq, Seq)> = Vec::new();
    for delivery in deliveries {
        let ServerMsg::Ack { channel, seq, .. } = &delivery.to_sender else {
            continue;
        };
        match ranges.iter_mut().find(|(c, _, _)| c == channel) {
            Some((_, first, last)) => {
                *first = (*first).min(*seq);
                *last = (*last).max(*seq);
            }
            None => ranges.push((channel.clone(), *seq, *seq)),
        }
    }
    ranges
}

fn close_notice(user: UserId, sessions: Sessions) -> About {
    match sessions {
        Sessions::One(one) => About::CloseSessions {
            user,
            only: Some(one),
            keep: None,
        },
        Sessions::AllBut(keep) => About::CloseSessions {
            user,
            only: None,
            keep,
        },
    }
}

impl FanOut for ClusterFanOut {
    fn publish(&self, event: Event) -> FanOutFuture<'_, ()> {
        Box::pin(async move {
            if let Event::Deliver(deliveries) = event {
                let stored = stored_ranges(&deliveries);
                let _ = self.sequencer.send(Input::Local(deliveries)).await;
                if !stored.is_empty() {
                    self.bus.publish_stored(stored).await;
                }
                return;
            }
            let notice = Self::notice(&event);
            self.hub.publish(event).await;
            if let Some(about) = notice {
                self.bus.publish(about).await;
            }
        })
    }

    fn presence(&self) -> FanOutFuture<'_, HashMap<UserId, PresenceStatus>> {
        self.hub.presence()
    }

    fn online_page(
        &self,
        conn: ConnId,
        query: String,
        after: Option<String>,
    ) -> FanOutFuture<'_, OnlinePage> {
        self.hub.online_page(conn, query, after)
    }

    fn close_sessions(&self, user: UserId, sessions: Sessions) -> FanOutFuture<'_, ()> {
        Box::pin(async move {
            self.bus
                .publish(close_notice(user.clone(), sessions.clone()))
                .await;
            self.hub.close_sessions(user, sessions).await;
        })
    }
}
