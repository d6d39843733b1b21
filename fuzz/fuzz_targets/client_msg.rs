//! Any text frame a client sends is parsed or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = shared::ClientMsg::parse(&text);
    let _ = shared::validate::Username::parse(&text).map(|name| name.uniqueness_key());
});
