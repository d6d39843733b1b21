//! Small wrappers over browser APIs: time, random ids, the page's address.

use shared::ClientMsgId;
use wasm_bindgen::JsValue;

/// Milliseconds since the Unix epoch, from the browser's clock.
pub fn now_millis() -> i64 {
    js_sys::Date::now() as i64
}

/// A random UUID v4 for a message, from `crypto.getRandomValues` (which, unlike
/// `randomUUID`, also works on plain-HTTP deployments).
pub fn new_client_id() -> ClientMsgId {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok())
        .unwrap_or(false);
    if !filled {
        for byte in bytes.iter_mut() {
            *byte = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    // 36 characters of hex digits and '-' always parse.
    ClientMsgId::parse(&uuid).expect("a UUID is a valid client id")
}

/// `ws://host/ws` or `wss://host/ws` for the page's own host.
pub fn websocket_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let protocol = location
        .as_ref()
        .and_then(|l| l.protocol().ok())
        .unwrap_or_else(|| "http:".into());
    let host = location
        .as_ref()
        .and_then(|l| l.host().ok())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/ws")
}

/// The page's path, percent-decoded (`/c/rust`, `/dm/Zoë`).
pub fn current_path() -> String {
    let raw = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    js_sys::decode_uri_component(&raw)
        .map(String::from)
        .unwrap_or(raw)
}

/// Puts `path` in the address bar as a new history entry (no reload).
pub fn push_path(path: &str) {
    if current_path() == path {
        return;
    }
    let encoded: String = path
        .split('/')
        .map(|part| String::from(js_sys::encode_uri_component(part)))
        .collect::<Vec<_>>()
        .join("/");
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&encoded));
    }
}

/// Whether the tab is in the background.
pub fn page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.hidden())
        .unwrap_or(false)
}

/// Shows a desktop notification if the user allowed them.
pub fn notify(title: &str, body: &str) {
    use web_sys::{Notification, NotificationOptions, NotificationPermission};
    if Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    let _ = Notification::new_with_options(title, &options);
}

/// Asks the browser for permission to show notifications.
pub fn request_notifications() {
    if let Ok(promise) = web_sys::Notification::request_permission() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

/// `HH:MM` in the reader's time zone.
pub fn short_time(millis: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// `HH:MM` today, the date and time before (search results, far back).
pub fn day_and_time(millis: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    let today = js_sys::Date::new_0();
    if date.to_date_string() == today.to_date_string() {
        return short_time(millis);
    }
    format!(
        "{}-{:02}-{:02} {}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        short_time(millis)
    )
}

/// Puts `text` on the clipboard (where the browser allows it).
pub fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// This page's origin: `https://chat.example.com`.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The full local date and time, for a tooltip.
pub fn full_time(millis: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    String::from(date.to_locale_string("default", &JsValue::UNDEFINED))
}

/// ISO 8601, for `<time datetime>`.
pub fn iso_time(millis: i64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(millis as f64));
    String::from(date.to_iso_string())
}
