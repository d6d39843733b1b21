//! How many WebSocket connections one user and one address may hold open.
//! A connection takes a [`ConnectionSlot`] before it is upgraded and gives it
//! back when it ends (the slot is dropped), so the counts cannot drift.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Open connections per user and per address, and their limits.
pub struct ConnectionLimits {
    per_user: usize,
    per_address: usize,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    users: HashMap<String, usize>,
    addresses: HashMap<String, usize>,
}

/// Which limit a new connection would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverLimit {
    User(usize),
    Address(usize),
}

/// One open connection, counted until dropped.
pub struct ConnectionSlot {
    limits: Arc<ConnectionLimits>,
    user: String,
    address: String,
}

impl ConnectionLimits {
    pub fn new(per_user: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            per_user: per_user.max(1),
            per_address: per_address.max(1),
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Counts a new connection of `user` from `address`, unless either is at its limit.
    pub fn take(self: &Arc<Self>, user: &str, address: &str) -> Result<ConnectionSlot, OverLimit> {
        let mut counts = self.lock();
        if counts.users.get(user).copied().unwrap_or(0) >= self.per_user {
            return Err(OverLimit::User(self.per_user));
        }
        if counts.addresses.get(address).copied().unwrap_or(0) >= self.per_address {
            return Err(OverLimit::Address(self.per_address));
        }
        *counts.users.entry(user.to_owned()).or_default() += 1;
        *counts.addresses.entry(address.to_owned()).or_default() += 1;
        Ok(ConnectionSlot {
            limits: self.clone(),
            user: user.to_owned(),
            address: address.to_owned(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        // A poisoned lock only means a panic mid-update of a count.
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut counts = self.limits.lock();
        release(&mut counts.users, &self.user);
        release(&mut counts.addresses, &self.address);
    }
}

fn release(counts: &mut HashMap<String, usize>, key: &str) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_user_and_address_and_given_back() {
        let limits = ConnectionLimits::new(2, 3);
        let a = limits.take("alice", "x").unwrap();
        let _b = limits.take("alice", "x").unwrap();
        assert_eq!(limits.take("alice", "y").err(), Some(OverLimit::User(2)));
        let _c = limits.take("bob", "x").unwrap();
        assert_eq!(limits.take("carol", "x").err(), Some(OverLimit::Address(3)));
        drop(a);
        assert!(limits.take("alice", "y").is_ok());
    }
}
