//! Threads in the browser, with three people: Bob replies in a thread from
//! a message's menu; Alice (who wrote the parent) sees the reply count and
//! an unread thread in her threads view, Carol (who follows nothing) sees
//! none; a reply also sent to the channel shows in the channel too;
//! opening the thread reads it; and the reply kept in the thread never
//! shows in the channel.

use fantoccini::Locator;

use crate::harness::Browser;
use crate::harness::{Driver, TestServer};
use crate::pins::click_in_message;
use crate::signed_in;

/// The texts of the open thread's replies, top to bottom.
async fn thread_replies(browser: &Browser) -> Vec<String> {
    let mut texts = Vec::new();
    for reply in browser.all("thread-message").await {
        texts.push(reply.text().await.unwrap_or_default());
    }
    texts
}

/// The thread items of the threads view: `data-unread` of each.
async fn thread_items(browser: &Browser) -> Vec<String> {
    let mut unread = Vec::new();
    for item in browser.all("thread-item").await {
        unread.push(item.attr("data-unread").await.unwrap().unwrap_or_default());
    }
    unread
}

/// Types a reply into the open thread and sends it with Enter.
async fn reply(browser: &Browser, text: &str) {
    let input = browser.find("thread-reply-input").await;
    input.send_keys(&format!("{text}\u{E007}")).await.unwrap();
}

#[actix_web::test]
async fn a_thread_grows_beside_the_channel_and_only_its_followers_see_it_unread() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    let carol = signed_in(&mut driver, &server, "Carol").await;

    alice.send_with_enter("release on friday?").await;
    bob.wait_for_message("Alice: release on friday?").await;
    carol.wait_for_message("Alice: release on friday?").await;

    // Bob replies in the thread.
    click_in_message(&bob, "release on friday?", "reply-in-thread").await;
    bob.find("thread-panel").await;
    bob.find("thread-parent").await;
    reply(&bob, "yes, after the freeze").await;
    bob.eventually("Bob's reply is in the thread", || async {
        thread_replies(&bob)
            .await
            .iter()
            .any(|t| t.contains("yes, after the freeze"))
    })
    .await;

    // Alice's message counts it; her threads view marks it unread.
    let count = alice.find_with("thread-count", "count", "1").await;
    assert!(count.text().await.unwrap().contains("Bob"));
    alice
        .eventually("Alice has an unread thread", || async {
            alice.exists_with("threads-view", "unread", "1").await
        })
        .await;
    alice.find("threads-view").await.click().await.unwrap();
    alice
        .eventually("the threads view lists it, unread", || async {
            thread_items(&alice).await == ["true"]
        })
        .await;
    alice.screenshot("threads-view").await.unwrap();

    // Carol follows nothing: no unread thread, an empty view.
    carol.find("threads-view").await.click().await.unwrap();
    carol.find("threads-empty").await;
    assert!(thread_items(&carol).await.is_empty());
    assert!(carol.exists_with("threads-view", "unread", "0").await);

    // Carol opens the thread from the count and also sends her reply to the
    // channel.
    carol
        .find_with("thread-count", "count", "1")
        .await
        .click()
        .await
        .unwrap();
    carol
        .eventually("Carol sees Bob's reply", || async {
            thread_replies(&carol).await.len() == 1
        })
        .await;
    carol.find("thread-also-send").await.click().await.unwrap();
    reply(&carol, "+1 from me").await;
    alice.wait_for_message("Carol: +1 from me").await;
    bob.eventually("the reply reaches Bob's open thread", || async {
        thread_replies(&bob).await.len() == 2
    })
    .await;
    alice.find_with("thread-count", "count", "2").await;

    // Bob attaches a file to his next reply, from the thread's composer.
    let folder = tempfile::tempdir().unwrap();
    let notes = folder.path().join("notes.txt");
    std::fs::write(&notes, "freeze starts thursday").unwrap();
    bob.client
        .find(Locator::Css(
            "[data-testid=\"thread-panel\"] [data-testid=\"file-input\"]",
        ))
        .await
        .unwrap()
        .send_keys(&notes.display().to_string())
        .await
        .unwrap();
    bob.eventually("the file is uploaded into the thread's tray", || async {
        bob.client
            .find_all(Locator::Css(
                "[data-testid=\"thread-panel\"] .upload-item[data-state=\"ready\"]",
            ))
            .await
            .is_ok_and(|items| items.len() == 1)
    })
    .await;
    reply(&bob, "the notes").await;
    carol
        .eventually("Carol's thread shows the reply with its file", || async {
            carol
                .client
                .find_all(Locator::Css(
                    "[data-testid=\"thread-message\"] [data-testid=\"message-file\"]",
                ))
                .await
                .is_ok_and(|files| files.len() == 1)
        })
        .await;
    alice.find_with("thread-count", "count", "3").await;

    // Opening the thread from the view reads it.
    alice
        .find_with("thread-item", "unread", "true")
        .await
        .click()
        .await
        .unwrap();
    alice
        .eventually("Alice's thread shows the three replies", || async {
            thread_replies(&alice).await.len() == 3
        })
        .await;
    alice.screenshot("thread-panel").await.unwrap();
    alice
        .eventually("the thread is read", || async {
            alice.exists_with("threads-view", "unread", "0").await
        })
        .await;
    alice.find("close-thread").await.click().await.unwrap();
    alice
        .eventually("the panel closes", || async {
            !alice.exists("thread-panel").await
        })
        .await;
    alice.find("threads-view").await.click().await.unwrap();
    alice
        .eventually("the view shows it read", || async {
            thread_items(&alice).await == ["false"]
        })
        .await;

    // The reply kept in the thread never shows in the channel.
    for browser in [&alice, &bob, &carol] {
        let lines = browser.messages().await;
        assert!(
            !lines.iter().any(|l| l.contains("yes, after the freeze")),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"Carol: +1 from me".to_string()),
            "{lines:?}"
        );
    }
    alice.close().await;
    bob.close().await;
    carol.close().await;
}
