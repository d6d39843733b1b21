//! The keyboard and the look: Ctrl+K opens the quick switcher, typing
//! narrows it, Up/Down and Enter open a conversation (or start one with a
//! person); Alt+Down and Alt+Up move between conversations; `?` shows the
//! shortcut sheet and Esc closes it; the theme chosen in the account panel
//! is applied at once and kept after a reload.

use crate::harness::{Driver, TestServer};
use crate::signed_in;

/// WebDriver key codes.
const CONTROL: &str = "\u{E009}";
const ALT: &str = "\u{E00A}";
const RELEASE: &str = "\u{E000}";
const ENTER: &str = "\u{E007}";
const DOWN: &str = "\u{E015}";
const ESCAPE: &str = "\u{E00C}";

#[actix_web::test]
async fn the_quick_switcher_and_shortcuts_move_between_conversations() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let _bob = signed_in(&mut driver, &server, "Bob").await;
    alice.create_channel("random", "anything goes", false).await;
    alice.create_channel("rust", "the language", false).await;
    alice
        .open_conversation("channel-item", "channel", "general")
        .await;

    let input = alice.find("message-input").await;
    input
        .send_keys(&format!("{CONTROL}k{RELEASE}"))
        .await
        .unwrap();
    let search = alice.find("quick-switcher-input").await;
    search.send_keys("r").await.unwrap();
    alice
        .eventually("three channels match", || async {
            alice.all("quick-switcher-item").await.len() == 3
        })
        .await;
    let mut names = Vec::new();
    for item in alice.all("quick-switcher-item").await {
        names.push(item.attr("data-name").await.unwrap().unwrap_or_default());
    }
    assert_eq!(
        names,
        ["#random", "#rust", "#general"],
        "names starting so come first"
    );
    // Down to the second match, Enter opens it.
    search.send_keys(&format!("{DOWN}{ENTER}")).await.unwrap();
    alice.wait_for_header("rust").await;
    assert!(!alice.exists("quick-switcher").await, "it closes");

    // A person without a conversation yet: picking starts one.
    alice
        .find("message-input")
        .await
        .send_keys(&format!("{CONTROL}k{RELEASE}"))
        .await
        .unwrap();
    alice
        .find("quick-switcher-input")
        .await
        .send_keys("bo")
        .await
        .unwrap();
    alice.find_with("quick-switcher-item", "name", "Bob").await;
    alice
        .find("quick-switcher-input")
        .await
        .send_keys(ENTER)
        .await
        .unwrap();
    alice.wait_for_header("Bob").await;

    // Alt+Up and Alt+Down go through the list in order.
    alice
        .open_conversation("channel-item", "channel", "general")
        .await;
    let input = alice.find("message-input").await;
    input
        .send_keys(&format!("{ALT}{DOWN}{RELEASE}"))
        .await
        .unwrap();
    alice.wait_for_header("random").await;

    // `?` outside a text field: the sheet; Esc closes it.
    alice
        .client
        .execute("document.activeElement.blur();", vec![])
        .await
        .unwrap();
    alice
        .client
        .execute(
            "document.body.dispatchEvent(new KeyboardEvent('keydown', { key: '?', bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    alice.find("shortcut-sheet").await;
    alice.screenshot("shortcut-sheet").await.unwrap();
    alice
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(ESCAPE)
        .await
        .unwrap();
    alice
        .eventually("the sheet closes", || async {
            !alice.exists("shortcut-sheet").await
        })
        .await;
}

#[actix_web::test]
async fn the_theme_chosen_applies_at_once_and_stays_after_a_reload() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let theme = || async {
        alice
            .client
            .execute(
                "return [document.documentElement.dataset.theme || 'system',
                         getComputedStyle(document.documentElement).backgroundColor];",
                vec![],
            )
            .await
            .unwrap()
    };
    let light = theme().await;
    assert_eq!(light[0], "system");
    let select = alice.find("theme-select").await;
    alice.choose(&select, "dark").await;
    let dark = theme().await;
    assert_eq!(dark[0], "dark");
    assert_ne!(dark[1], light[1], "the colours change");
    alice.screenshot("theme-dark").await.unwrap();
    alice.open(&server.url()).await;
    alice.wait_connected().await;
    assert_eq!(theme().await[0], "dark");
    assert_eq!(
        alice
            .find("theme-select")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("dark")
    );
}
