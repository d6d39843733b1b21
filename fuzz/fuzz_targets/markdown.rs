//! Any message text formats into a tree no deeper than the renderer allows,
//! without a panic.
#![no_main]

use client::markdown::{depth, parse};
use libfuzzer_sys::fuzz_target;
use shared::limits::MAX_MARKDOWN_DEPTH;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    assert!(depth(&parse(&text)) <= MAX_MARKDOWN_DEPTH);
});
