//! Any uploaded bytes are sniffed, stripped and checked without a panic.
#![no_main]

use chat_server::media::{image, sniff, strip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kind = sniff::sniff(data);
    let _ = strip::png(data);
    let _ = strip::jpeg(data);
    let _ = strip::gif(data);
    let _ = strip::webp(data);
    let _ = strip::mp4(&mut data.to_vec());
    let _ = image::prepare(kind, data);
});
