//! Mentions and notification settings in the browser: messages that name
//! Carol or call on everyone appear in her mentions view, newest first and
//! marked unread until she reads them; one opens its conversation at the
//! message; and a muted channel shows only a quiet count, a setting kept
//! across reloads.

use crate::harness::{Browser, Driver, TestServer};
use crate::signed_in;

/// `(text, unread)` of each item of the mentions view, top to bottom.
async fn listed(browser: &Browser) -> Vec<(String, bool)> {
    let mut items = Vec::new();
    for item in browser.all("mention-item").await {
        let unread = item.attr("data-unread").await.unwrap().as_deref() == Some("true");
        items.push((item.text().await.unwrap_or_default(), unread));
    }
    items
}

/// The `#general` item of the sidebar: its classes and whether it shows a
/// badge and a quiet count.
async fn general_item(browser: &Browser) -> serde_json::Value {
    browser
        .client
        .execute(
            "const item = document.querySelector('[data-testid=\"channel-item\"][data-channel=\"general\"]');
             return [item.classList.contains('muted'), !!item.querySelector('.badge'),
                     item.querySelector('[data-testid=\"quiet-count\"]')?.textContent ?? null];",
            vec![],
        )
        .await
        .unwrap()
}

#[actix_web::test]
async fn mentions_are_listed_and_a_muted_channel_stays_quiet() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let carol = signed_in(&mut driver, &server, "Carol").await;
    let mut bob = server.speaker("Bob").await;

    // Carol is elsewhere while #general calls on her.
    carol.create_channel("ops", "", false).await;
    bob.say(["@carol can you review the deploy?".to_owned()])
        .await;
    alice.send_with_enter("@channel standup in five").await;
    alice.send_with_enter("nothing for Carol here").await;
    carol
        .eventually("the mentions entry counts two", || async {
            carol
                .find("mentions-view")
                .await
                .text()
                .await
                .unwrap_or_default()
                .contains('2')
        })
        .await;
    carol.find("mentions-view").await.click().await.unwrap();
    carol
        .eventually("both mentions are listed, unread", || async {
            let items = listed(&carol).await;
            items.len() == 2 && items.iter().all(|(_, unread)| *unread)
        })
        .await;
    let items = listed(&carol).await;
    assert!(items[0].0.contains("@channel standup in five"), "{items:?}");
    assert!(
        items[1].0.contains("can you review the deploy?"),
        "{items:?}"
    );
    carol.screenshot("mentions").await.unwrap();

    // Opening one shows it in #general; read, both are no longer unread.
    carol.all("mention-item").await[1].click().await.unwrap();
    carol.wait_for_header("general").await;
    let target = carol.find_with("message", "highlighted", "true").await;
    let text = target
        .find(fantoccini::Locator::Css("[data-testid=\"message-text\"]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        text.split_whitespace().collect::<Vec<_>>().join(" "),
        "@carol can you review the deploy?"
    );
    carol
        .eventually("read mentions are not unread", || async {
            listed(&carol).await.iter().all(|(_, unread)| !*unread)
        })
        .await;

    // Muted: no badge, only a quiet count; the choice is kept.
    let setting = carol.find("notification-setting").await;
    assert_eq!(
        setting.prop("value").await.unwrap().as_deref(),
        Some("mentions")
    );
    carol
        .client
        .execute(
            "const s = document.querySelector('[data-testid=\"notification-setting\"]');
             s.value = 'none'; s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    carol
        .eventually("#general is muted", || async {
            general_item(&carol).await[0] == serde_json::json!(true)
        })
        .await;
    carol
        .open_conversation("channel-item", "channel", "ops")
        .await;
    bob.say(["@carol one more".to_owned(), "and another".to_owned()])
        .await;
    carol
        .eventually("a quiet count, no badge", || async {
            general_item(&carol).await == serde_json::json!([true, false, "2"])
        })
        .await;
    carol.open(&format!("{}c/general", server.url())).await;
    carol.wait_connected().await;
    let setting = carol.find("notification-setting").await;
    carol
        .eventually("the setting is kept", || async {
            setting.prop("value").await.unwrap().as_deref() == Some("none")
        })
        .await;
    // Alice's own setting is her own.
    let hers = alice.find("notification-setting").await;
    assert_eq!(
        hers.prop("value").await.unwrap().as_deref(),
        Some("mentions")
    );
}
