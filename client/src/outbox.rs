//! Messages typed but not yet acknowledged survive a reload: they are kept in
//! this browser's localStorage, per user, and sent again on the next connect.

use crate::state::Pending;

fn key(user_id: &str) -> String {
    format!("chat.outbox.{user_id}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn load(user_id: &str) -> Vec<Pending> {
    storage()
        .and_then(|s| s.get_item(&key(user_id)).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

pub fn save(user_id: &str, pending: &[Pending]) {
    let Some(storage) = storage() else { return };
    let sendable: Vec<&Pending> = pending.iter().filter(|p| p.failed.is_none()).collect();
    if sendable.is_empty() {
        let _ = storage.remove_item(&key(user_id));
    } else if let Ok(json) = serde_json::to_string(&sendable) {
        let _ = storage.set_item(&key(user_id), &json);
    }
}

pub fn clear(user_id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key(user_id));
    }
}
