//! Any page a link points to is scanned for its preview without a panic,
//! within its deadline.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("http://page.example/a/b").unwrap();
    let started = Instant::now();
    let meta = chat_server::preview::page::parse(data, &base, started + Duration::from_millis(500));
    assert!(started.elapsed() < Duration::from_secs(2), "the deadline holds");
    if let Some(image) = meta.image {
        assert!(image.starts_with("http://") || image.starts_with("https://"));
    }
});
