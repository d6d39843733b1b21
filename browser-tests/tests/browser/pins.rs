//! Pins in the browser: one person pins a message from its menu, the other
//! sees it marked at once, the pinned list shows it and jumps to it, a pin
//! made while the list is open appears in it, and unpinning takes it out
//! everywhere.

use crate::harness::Browser;
use crate::harness::{Driver, TestServer};
use crate::signed_in;

/// Clicks `button` (a test id) in the menu of the message whose text is `text`.
pub(crate) async fn click_in_message(browser: &Browser, text: &str, button: &str) {
    let clicked = browser
        .client
        .execute(
            "const [text, button] = arguments;
             const row = Array.from(document.querySelectorAll('[data-testid=\"message\"]'))
                 .find(m => m.querySelector('[data-testid=\"message-text\"]')?.textContent === text);
             const target = row?.querySelector(`[data-testid=\"${button}\"]`);
             if (target) target.click();
             return !!target;",
            vec![text.into(), button.into()],
        )
        .await
        .unwrap();
    assert_eq!(clicked, serde_json::json!(true), "{button} on {text:?}");
}

/// The texts of the pinned list, top to bottom.
async fn pinned_texts(browser: &Browser) -> Vec<String> {
    let mut texts = Vec::new();
    for item in browser.all("pinned-item").await {
        texts.push(item.text().await.unwrap_or_default());
    }
    texts
}

/// Whether the message with this text is marked pinned.
async fn marked_pinned(browser: &Browser, text: &str) -> bool {
    let marked = browser
        .client
        .execute(
            "const row = Array.from(document.querySelectorAll('[data-testid=\"message\"]'))
                 .find(m => m.querySelector('[data-testid=\"message-text\"]')?.textContent === arguments[0]);
             return !!row && row.dataset.pinned === 'true'
                 && !!row.querySelector('[data-testid=\"pinned-marker\"]');",
            vec![text.into()],
        )
        .await
        .unwrap();
    marked == serde_json::json!(true)
}

#[actix_web::test]
async fn a_pinned_message_is_marked_for_everyone_and_listed() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;

    alice.send_with_enter("release notes are in the wiki").await;
    alice.send_with_enter("lunch at noon?").await;
    bob.wait_for_message("Alice: lunch at noon?").await;

    click_in_message(&bob, "release notes are in the wiki", "pin-message").await;
    alice
        .eventually("Alice sees the pin", || async {
            marked_pinned(&alice, "release notes are in the wiki").await
        })
        .await;
    let marker = alice.find("pinned-marker").await.text().await.unwrap();
    assert!(marker.contains("Pinned by Bob"), "{marker}");
    assert!(!marked_pinned(&alice, "lunch at noon?").await);

    // The list: what is pinned, and a pin made while it is open.
    alice.find("show-pins").await.click().await.unwrap();
    alice
        .eventually("the list shows the pin", || async {
            pinned_texts(&alice).await.len() == 1
        })
        .await;
    assert!(pinned_texts(&alice).await[0].contains("release notes are in the wiki"));
    click_in_message(&bob, "lunch at noon?", "pin-message").await;
    alice
        .eventually("a new pin joins the top of the open list", || async {
            let texts = pinned_texts(&alice).await;
            texts.len() == 2 && texts[0].contains("lunch at noon?")
        })
        .await;
    alice.screenshot("pins").await.unwrap();

    // An item opens its message, highlighted.
    alice.all("pinned-item").await[1].click().await.unwrap();
    let target = alice.find_with("message", "highlighted", "true").await;
    assert_eq!(
        target.attr("data-pinned").await.unwrap().as_deref(),
        Some("true")
    );

    // Unpinned from the message's menu: out of the list and unmarked for both.
    click_in_message(&alice, "lunch at noon?", "unpin-message").await;
    alice
        .eventually("the unpinned message leaves the list", || async {
            pinned_texts(&alice).await.len() == 1
        })
        .await;
    bob.eventually("Bob sees it unpinned", || async {
        !marked_pinned(&bob, "lunch at noon?").await
            && marked_pinned(&bob, "release notes are in the wiki").await
    })
    .await;
}
