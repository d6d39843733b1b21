//! Properties of the server's readers of untrusted bytes: file sniffing,
//! metadata stripping, image checking and the preview page scanner never
//! panic, whatever they are given (random bytes, and valid files with bytes
//! changed or cut), and the page scanner stays within its deadline.

use std::io::Cursor;
use std::time::{Duration, Instant};

use chat_server::media::image::prepare;
use chat_server::media::sniff::sniff;
use chat_server::media::strip;
use chat_server::preview::page;
use image::{DynamicImage, ImageFormat, RgbImage};
use proptest::prelude::*;

fn encoded(format: ImageFormat) -> Vec<u8> {
    let pixels = RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 9, y as u8 * 13, 77]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut out, format)
        .unwrap();
    out.into_inner()
}

/// A valid file of each kind, with some bytes changed and maybe cut short.
fn damaged_file() -> impl Strategy<Value = Vec<u8>> {
    let base = prop_oneof![
        Just(encoded(ImageFormat::Png)),
        Just(encoded(ImageFormat::Jpeg)),
        Just(encoded(ImageFormat::Gif)),
        Just(encoded(ImageFormat::WebP)),
        Just(b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2\0\0\0\x10moov\0\0\0\x08udta".to_vec()),
    ];
    (
        base,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(mut bytes, changes, cut, shorten)| {
            for (at, value) in changes {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            if shorten {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}

fn read_everything(bytes: &[u8]) {
    let kind = sniff(bytes);
    let _ = strip::png(bytes);
    let _ = strip::jpeg(bytes);
    let _ = strip::gif(bytes);
    let _ = strip::webp(bytes);
    let _ = strip::mp4(&mut bytes.to_vec());
    let _ = prepare(kind, bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_bytes_are_read_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        read_everything(&bytes);
    }

    #[test]
    fn damaged_files_are_read_without_panicking(bytes in damaged_file()) {
        read_everything(&bytes);
    }

    #[test]
    fn any_page_is_scanned_within_its_deadline(html in "(<[a-z]{0,6}[^>]{0,30}>?|&[#a-z0-9]{0,8};?|[^<&]{0,20}){0,400}") {
        let base = url::Url::parse("http://page.example/").unwrap();
        let started = Instant::now();
        let meta = page::parse(html.as_bytes(), &base, started + Duration::from_secs(1));
        prop_assert!(started.elapsed() < Duration::from_secs(3));
        if let Some(image) = meta.image {
            prop_assert!(image.starts_with("http://") || image.starts_with("https://"));
        }
    }
}
