//! Custom emoji in the browser: Alice adds one from the emoji picker, uses
//! it in a message that Bob (who never opened the list) sees as the image,
//! and Bob reacts with it from the picker; a bad upload gets the server's
//! words.

use std::io::Cursor;

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgba};

use crate::harness::{Browser, Driver, TestServer};
use crate::signed_in;

fn parrot() -> Vec<u8> {
    let pixels = ImageBuffer::from_fn(200, 200, |x, y| {
        Rgba([(x % 256) as u8, 90, (y % 256) as u8, 255])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgba8(pixels)
        .write_to(&mut out, ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Whether the message whose text contains `words` shows custom emoji
/// `name` as a loaded image.
async fn shows_image(browser: &Browser, words: &str, name: &str) -> bool {
    browser
        .client
        .execute(
            "const [words, name] = arguments;
             return Array.from(document.querySelectorAll('[data-testid=\"message\"]'))
               .filter(m => m.textContent.includes(words))
               .some(m => { const img = m.querySelector(`img[data-testid=\"custom-emoji\"][data-emoji=\"${name}\"]`);
                            return !!img && img.complete && img.naturalWidth > 0; });",
            vec![words.into(), name.into()],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

async fn add_emoji(browser: &Browser, name: &str, file: &std::path::Path) {
    let input = browser.find("custom-emoji-name").await;
    input.clear().await.unwrap();
    input.send_keys(name).await.unwrap();
    browser
        .find("custom-emoji-file")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    browser
        .find("custom-emoji-submit")
        .await
        .click()
        .await
        .unwrap();
}

#[actix_web::test]
async fn a_custom_emoji_is_added_used_in_a_message_and_as_a_reaction() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    let folder = tempfile::tempdir().unwrap();
    let image = folder.path().join("parrot.png");
    std::fs::write(&image, parrot()).unwrap();
    let text_file = folder.path().join("notes.png");
    std::fs::write(&text_file, b"not a picture at all").unwrap();

    // A file that is no image is refused with the server's words.
    alice.find("emoji-button").await.click().await.unwrap();
    add_emoji(&alice, "notreally", &text_file).await;
    let error = alice.find("custom-emoji-error").await;
    assert!(
        error.text().await.unwrap().contains("PNG, GIF or WebP"),
        "{:?}",
        error.text().await
    );
    add_emoji(&alice, "partyparrot", &image).await;
    alice.find("custom-emoji-added").await;
    alice
        .find_with("emoji-option", "emoji", ":partyparrot:")
        .await;
    alice.screenshot("custom-emoji-picker").await.unwrap();
    alice
        .find_with("emoji-option", "emoji", ":partyparrot:")
        .await
        .click()
        .await
        .unwrap();
    alice.send_with_enter(" shipped it").await;
    bob.eventually("Bob sees the parrot in the message", || async {
        shows_image(&bob, "shipped it", "partyparrot").await
    })
    .await;
    assert!(shows_image(&alice, "shipped it", "partyparrot").await);

    // Bob reacts with it from the picker.
    bob.find("add-reaction").await.click().await.unwrap();
    bob.find("emoji-search")
        .await
        .send_keys("parrot")
        .await
        .unwrap();
    bob.find_with("emoji-option", "emoji", ":partyparrot:")
        .await
        .click()
        .await
        .unwrap();
    alice
        .eventually("Alice sees Bob's parrot reaction", || async {
            alice
                .exists_with("reaction", "emoji", ":partyparrot:")
                .await
        })
        .await;
    let reaction = alice.find_with("reaction", "emoji", ":partyparrot:").await;
    assert_eq!(
        reaction.attr("data-count").await.unwrap().as_deref(),
        Some("1")
    );
    assert!(
        reaction
            .find(fantoccini::Locator::Css(
                "img[data-testid=\"custom-emoji\"]"
            ))
            .await
            .is_ok()
    );
    alice.screenshot("custom-emoji-message").await.unwrap();
}
