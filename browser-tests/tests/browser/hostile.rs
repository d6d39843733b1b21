//! Messages written to hurt whoever reads them: nesting a thousand levels
//! deep (which used to overflow the renderer's stack and take the page down
//! on every reload), and names in right-to-left script that must not
//! reorder the words around them.

use crate::harness::{Browser, Driver, TestServer};
use crate::signed_in;

/// Puts `text` in the composer at once (typing thousands of characters one
/// by one takes long) and sends it with Enter.
pub(crate) async fn paste_and_send(browser: &Browser, text: &str) {
    let input = browser.find("message-input").await;
    browser
        .client
        .execute(
            "const [text] = arguments;
             const input = document.querySelector('[data-testid=\"message-input\"]');
             input.value = text;
             input.dispatchEvent(new InputEvent('input', { bubbles: true }));",
            vec![text.into()],
        )
        .await
        .unwrap();
    input.send_keys("\u{E007}").await.unwrap();
}

/// Whether the last message's text ends with `words`.
async fn has_message_ending(browser: &Browser, author: &str, words: &str) -> bool {
    browser
        .messages()
        .await
        .iter()
        .any(|m| m.starts_with(&format!("{author}: ")) && m.trim_end().ends_with(words))
}

/// The page is alive: the composer sends, and the other side receives.
async fn still_works(sender: &Browser, receiver: &Browser, text: &str) {
    sender.wait_connected().await;
    sender.send_with_enter(text).await;
    receiver
        .wait_for_message(&format!("{}: {text}", current_user(sender).await))
        .await;
    sender.wait_all_confirmed().await;
}

async fn current_user(browser: &Browser) -> String {
    browser.find("current-user").await.text().await.unwrap()
}

/// How deep elements nest inside the deepest message text.
async fn deepest_message_nesting(browser: &Browser) -> u64 {
    browser
        .client
        .execute(
            "let deepest = 0;
             for (const text of document.querySelectorAll('[data-testid=\"message-text\"]')) {
                 for (const el of text.querySelectorAll('*')) {
                     let depth = 0;
                     for (let e = el; e !== text; e = e.parentElement) depth++;
                     deepest = Math.max(deepest, depth);
                 }
             }
             return deepest;",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[actix_web::test]
async fn messages_nested_a_thousand_levels_deep_do_not_take_the_page_down() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    paste_and_send(&alice, &format!("{}deep quote", ">".repeat(1000))).await;
    paste_and_send(&alice, &format!("{}deep list", "- ".repeat(1000))).await;
    alice.send_with_enter("after the deep ones").await;
    alice.wait_all_confirmed().await;

    // Bob opens #general, where both wait for him.
    let bob = signed_in(&mut driver, &server, "Bob").await;
    for browser in [&bob, &alice] {
        browser
            .eventually("the deep messages show with their words", || async {
                has_message_ending(browser, "Alice", "deep quote").await
                    && has_message_ending(browser, "Alice", "deep list").await
                    && browser
                        .messages()
                        .await
                        .iter()
                        .any(|m| m == "Alice: after the deep ones")
            })
            .await;
    }
    let depth = deepest_message_nesting(&bob).await;
    let limit = shared::limits::MAX_MARKDOWN_DEPTH as u64;
    assert!(depth <= limit, "nested {depth} deep, limit {limit}");
    still_works(&bob, &alice, "Bob is still here").await;
    still_works(&alice, &bob, "so is Alice").await;

    // Every reload renders them again: the page must survive that too.
    bob.client.refresh().await.unwrap();
    bob.wait_connected().await;
    bob.eventually("the deep messages show again", || async {
        has_message_ending(&bob, "Alice", "deep quote").await
            && has_message_ending(&bob, "Alice", "deep list").await
    })
    .await;
    still_works(&bob, &alice, "and after a reload").await;
    bob.screenshot("deep-nesting").await.unwrap();
    alice.close().await;
    bob.close().await;
}

/// Whether the element with this test id (the last one), or the element in
/// it holding exactly `name`, isolates its text from the text around it.
async fn isolates(browser: &Browser, testid: &str, name: &str) -> bool {
    let found = browser
        .client
        .execute(
            "const [testid, name] = arguments;
             const all = document.querySelectorAll(`[data-testid=\"${testid}\"]`);
             const root = all[all.length - 1];
             if (!root) return 'missing';
             const isolating = el => ['isolate', 'plaintext', 'isolate-override']
                 .includes(getComputedStyle(el).unicodeBidi);
             const holders = [root, ...root.querySelectorAll('*')]
                 .filter(el => el.textContent === name);
             return holders.some(isolating) ? 'isolated' : root.outerHTML;",
            vec![testid.into(), name.into()],
        )
        .await
        .unwrap();
    assert_eq!(found, serde_json::json!("isolated"), "{testid} {name}");
    true
}

#[actix_web::test]
async fn right_to_left_names_do_not_reorder_the_text_around_them() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let shalom = "\u{5e9}\u{5dc}\u{5d5}\u{5dd}";
    let other = signed_in(&mut driver, &server, shalom).await;
    alice.wait_for_notice(&format!("{shalom} joined")).await;
    isolates(&alice, "notice", shalom).await;

    other.send_with_enter("hello 123").await;
    alice
        .wait_for_message(&format!("{shalom}: hello 123"))
        .await;
    isolates(&alice, "message-author", shalom).await;
    isolates(&alice, "message-text", "hello 123").await;
    isolates(&alice, "current-user", "Alice").await;

    alice
        .find_with("start-dm", "user", shalom)
        .await
        .click()
        .await
        .unwrap();
    alice.wait_for_header(shalom).await;
    isolates(&alice, "channel-header", shalom).await;
    isolates(&alice, "dm-item", shalom).await;
    isolates(&alice, "user-item", shalom).await;
    isolates(&other, "channel-item", "general").await;
    alice.screenshot("right-to-left-names").await.unwrap();
    alice.close().await;
    other.close().await;
}
