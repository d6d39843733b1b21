//! Budgets: how often one key (a user, an address) may do one kind of thing.
//! Built on governor's keyed GCRA limiters. Connections *wait* for their
//! budget (the reader stops reading, so a flood slows only its sender and
//! nothing is lost or reordered); HTTP requests over budget are *refused*
//! with a retry time. [`RequestBudgets`] holds one budget per kind of
//! WebSocket request, keyed by user, so opening more sockets buys no more.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

/// At most `burst` events at once per key, refilled one every `period`.
pub struct Budget {
    limiter: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
    clock: DefaultClock,
}

impl Budget {
    /// `burst` at once, then `per_second` sustained (both at least 1).
    pub fn per_second(burst: u32, per_second: u32) -> Self {
        Self::every(
            burst,
            Duration::from_secs(1) / per_second.clamp(1, 1_000_000),
        )
    }

    /// `burst` at once, then one every `period`.
    pub fn every(burst: u32, period: Duration) -> Self {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        // `with_period` is `None` only for a zero period.
        let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = DefaultClock::default();
        Self {
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
        }
    }

    /// Spends one unit for `key` now, or says how long until one is available.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Spends `units` for `key` now, or says how long until they are
    /// available (`None`: more than the budget ever holds at once).
    pub fn check_n(&self, key: &str, units: u32) -> Result<(), Option<Duration>> {
        let Some(units) = NonZeroU32::new(units) else {
            return Ok(());
        };
        match self.limiter.check_key_n(&key.to_owned(), units) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(Some(not_until.wait_time_from(self.clock.now()))),
            Err(_insufficient) => Err(None),
        }
    }

    /// Waits until `key` may spend one unit, and spends it.
    pub async fn wait(&self, key: &str) {
        while let Err(wait) = self.check(key) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Forgets keys whose budget is full again (memory stays bounded by
    /// the keys active recently).
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// The kinds of WebSocket request a user's budget is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `send`.
    Post,
    /// `edit`, `delete`, `react`.
    Change,
    /// `mark_read`.
    ReadMark,
    /// `set_away`.
    Presence,
    /// `typing` (over budget: dropped, it is only a hint).
    Typing,
    /// Join, leave, invite, remove, topic, direct conversations, blocking.
    Membership,
    /// `create_channel`.
    CreateChannel,
    /// `sync`, `history`.
    Read,
    /// `members`, `browse_channels`, `list_users`: whole lists, dearer to make.
    Directory,
    /// `search`: a full-text query over everything the user can read.
    Search,
}

/// Budgets per user for each kind of request (defaults in [`RequestLimits`]).
pub struct RequestBudgets {
    post: Budget,
    change: Budget,
    read_mark: Budget,
    presence: Budget,
    typing: Budget,
    membership: Budget,
    create_channel: Budget,
    read: Budget,
    directory: Budget,
    search: Budget,
}

/// A burst and a sustained rate: `burst` at once, then one every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub every: Duration,
}

impl Rate {
    pub const fn per_second(burst: u32, per_second: u32) -> Self {
        Self {
            burst,
            every: Duration::from_nanos(1_000_000_000 / per_second as u64),
        }
    }

    pub const fn every(burst: u32, every: Duration) -> Self {
        Self { burst, every }
    }

    pub fn budget(self) -> Budget {
        Budget::every(self.burst, self.every)
    }
}

/// The numbers behind [`RequestBudgets`], per user. Posts come from flags;
/// the rest are fixed (listed in SECURITY.md); tests raise them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLimits {
    pub post: Rate,
    pub change: Rate,
    pub read_mark: Rate,
    pub presence: Rate,
    pub typing: Rate,
    pub membership: Rate,
    pub create_channel: Rate,
    pub read: Rate,
    pub directory: Rate,
    /// Searches (a search box asks as the person types, a few a second).
    pub search: Rate,
    /// Links previewed per author (over budget: no preview, the message stays).
    pub previews: Rate,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            post: Rate::per_second(30, 10),
            change: Rate::per_second(20, 5),
            read_mark: Rate::per_second(30, 5),
            presence: Rate::every(6, Duration::from_secs(5)),
            typing: Rate::per_second(10, 2),
            membership: Rate::per_second(20, 2),
            create_channel: Rate::every(5, Duration::from_secs(30)),
            // A reconnect syncs every conversation at once.
            read: Rate::per_second(300, 50),
            directory: Rate::per_second(10, 1),
            search: Rate::per_second(20, 4),
            previews: Rate::every(10, Duration::from_secs(6)),
        }
    }
}

impl RequestLimits {
    /// Limits so high that only a test about limits would notice them.
    pub fn generous() -> Self {
        let lots = Rate::per_second(100_000, 100_000);
        Self {
            post: lots,
            change: lots,
            read_mark: lots,
            presence: lots,
            typing: lots,
            membership: lots,
            create_channel: lots,
            read: lots,
            directory: lots,
            search: lots,
            previews: lots,
        }
    }
}

impl RequestBudgets {
    pub fn new(limits: &RequestLimits) -> Self {
        Self {
            post: limits.post.budget(),
            change: limits.change.budget(),
            read_mark: limits.read_mark.budget(),
            presence: limits.presence.budget(),
            typing: limits.typing.budget(),
            membership: limits.membership.budget(),
            create_channel: limits.create_channel.budget(),
            read: limits.read.budget(),
            directory: limits.directory.budget(),
            search: limits.search.budget(),
        }
    }

    fn budget(&self, kind: RequestKind) -> &Budget {
        match kind {
            RequestKind::Post => &self.post,
            RequestKind::Change => &self.change,
            RequestKind::ReadMark => &self.read_mark,
            RequestKind::Presence => &self.presence,
            RequestKind::Typing => &self.typing,
            RequestKind::Membership => &self.membership,
            RequestKind::CreateChannel => &self.create_channel,
            RequestKind::Read => &self.read,
            RequestKind::Directory => &self.directory,
            RequestKind::Search => &self.search,
        }
    }

    /// Waits for `user`'s budget of `kind`.
    pub async fn wait(&self, kind: RequestKind, user: &str) {
        self.budget(kind).wait(user).await;
    }

    /// Spends from `user`'s budget of `kind` if there is some left now.
    pub fn try_spend(&self, kind: RequestKind, user: &str) -> bool {
        self.budget(kind).check(user).is_ok()
    }

    pub fn sweep(&self) {
        for budget in [
            &self.post,
            &self.change,
            &self.read_mark,
            &self.presence,
            &self.typing,
            &self.membership,
            &self.create_channel,
            &self.read,
            &self.directory,
        ] {
            budget.sweep();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_allows_a_burst_then_says_when_to_retry() {
        let budget = Budget::per_second(3, 10);
        for _ in 0..3 {
            assert!(budget.check("a").is_ok());
        }
        let wait = budget.check("a").unwrap_err();
        assert!(
            wait <= Duration::from_millis(100) && wait > Duration::ZERO,
            "{wait:?}"
        );
        assert!(budget.check("b").is_ok(), "other keys are independent");
    }

    #[tokio::test]
    async fn waiting_paces_to_the_sustained_rate() {
        let budget = Budget::per_second(1, 20);
        let started = std::time::Instant::now();
        for _ in 0..5 {
            budget.wait("a").await;
        }
        // One at once, then four at 50 ms each.
        assert!(started.elapsed() >= Duration::from_millis(150));
    }
}
