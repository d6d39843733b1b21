//! Channels, private channels and direct messages with three people.

use crate::harness::{Browser, Driver, TestServer};
use crate::signed_in;

async fn unread(browser: &Browser, id: &str, attribute: &str, value: &str) -> String {
    browser
        .find_with(id, attribute, value)
        .await
        .attr("data-unread")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[actix_web::test]
async fn three_people_use_channels_private_channels_and_direct_messages() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    let carol = signed_in(&mut driver, &server, "Carol").await;

    // Alice creates #rust; a taken or invalid name is explained.
    alice.create_channel("rust", "All things Rust", false).await;
    assert_eq!(
        alice.find("channel-topic").await.text().await.unwrap(),
        "All things Rust"
    );
    alice.find("create-channel").await.click().await.unwrap();
    alice
        .find("channel-name-input")
        .await
        .send_keys("rust")
        .await
        .unwrap();
    alice
        .find("channel-create-submit")
        .await
        .click()
        .await
        .unwrap();
    let error = alice.find("channel-error").await.text().await.unwrap();
    assert!(error.contains("taken"), "{error}");
    let name = alice.find("channel-name-input").await;
    name.clear().await.unwrap();
    name.send_keys("Bad Name").await.unwrap();
    alice
        .find("channel-create-submit")
        .await
        .click()
        .await
        .unwrap();
    alice
        .eventually("the invalid name is explained", || async {
            match alice.all("channel-error").await.first() {
                Some(e) => e.text().await.unwrap_or_default().contains("lowercase"),
                None => false,
            }
        })
        .await;
    alice
        .client
        .execute("document.querySelector('.modal-backdrop').click()", vec![])
        .await
        .unwrap();

    // Bob finds it by searching and joins; Alice sees him arrive.
    bob.find("browse-channels").await.click().await.unwrap();
    bob.find("channel-search")
        .await
        .send_keys("rus")
        .await
        .unwrap();
    bob.find_with("join-channel", "channel", "rust")
        .await
        .click()
        .await
        .unwrap();
    bob.wait_for_header("rust").await;
    alice.wait_for_notice("Bob joined #rust").await;

    alice.send_with_enter("Welcome to #rust, Bob").await;
    bob.wait_for_message("Alice: Welcome to #rust, Bob").await;
    bob.send_with_enter("Thanks!").await;
    alice.wait_for_message("Bob: Thanks!").await;

    // Bob types: Alice sees it.
    bob.find("message-input")
        .await
        .send_keys("I am writing")
        .await
        .unwrap();
    alice
        .eventually("Bob is typing shows", || async {
            alice
                .find("typing-indicator")
                .await
                .text()
                .await
                .unwrap_or_default()
                == "Bob is typing…"
        })
        .await;

    // Carol, in #general only, sees neither #rust nor its messages.
    assert!(!carol.exists_with("channel-item", "channel", "rust").await);
    assert!(carol.messages().await.iter().all(|m| !m.contains("rust")));

    // A message in #rust while Bob looks at #general raises his unread count.
    bob.open_conversation("channel-item", "channel", "general")
        .await;
    alice.send_with_enter("Are you there, @Bob?").await;
    bob.eventually("#rust shows 1 unread", || async {
        unread(&bob, "channel-item", "channel", "rust").await == "1"
    })
    .await;
    let mentions = bob
        .find_with("channel-item", "channel", "rust")
        .await
        .attr("data-mentions")
        .await
        .unwrap();
    assert_eq!(mentions.as_deref(), Some("1"));
    // Bob's draft in #general survives switching away and back.
    bob.find("message-input")
        .await
        .send_keys("half-written")
        .await
        .unwrap();
    bob.open_conversation("channel-item", "channel", "rust")
        .await;
    bob.wait_for_message("Alice: Are you there, @Bob?").await;
    assert_eq!(unread(&bob, "channel-item", "channel", "rust").await, "0");
    bob.open_conversation("channel-item", "channel", "general")
        .await;
    let draft = bob.find("message-input").await.prop("value").await.unwrap();
    assert_eq!(draft.as_deref(), Some("half-written"));

    // The address bar names the conversation; a reload opens it again.
    bob.open_conversation("channel-item", "channel", "rust")
        .await;
    assert!(
        bob.client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/c/rust")
    );
    bob.client.refresh().await.unwrap();
    bob.wait_connected().await;
    bob.wait_for_header("rust").await;
    bob.wait_for_message("Alice: Welcome to #rust, Bob").await;

    // Alice and Carol talk directly; Bob sees nothing of it.
    alice
        .find_with("start-dm", "user", "Carol")
        .await
        .click()
        .await
        .unwrap();
    alice.wait_for_header("Carol").await;
    alice.send_with_enter("Psst, Carol").await;
    alice.wait_for_message("Alice: Psst, Carol").await;
    carol
        .eventually("the DM from Alice shows as unread", || async {
            carol.exists_with("dm-item", "user", "Alice").await
                && unread(&carol, "dm-item", "user", "Alice").await == "1"
        })
        .await;
    carol.open_conversation("dm-item", "user", "Alice").await;
    carol.wait_for_message("Alice: Psst, Carol").await;
    carol.send_with_enter("Hi Alice").await;
    alice.wait_for_message("Carol: Hi Alice").await;
    assert!(!bob.exists("dm-item").await);
    assert!(bob.messages().await.iter().all(|m| !m.contains("Psst")));

    // A private channel: invisible until Alice invites Bob.
    alice.create_channel("secret", "Members only", true).await;
    carol.find("browse-channels").await.click().await.unwrap();
    carol.find("channel-search").await;
    carol
        .eventually("the directory loads", || async {
            carol.exists("join-channel").await
        })
        .await;
    assert!(!carol.exists_with("join-channel", "channel", "secret").await);
    assert!(carol.exists_with("join-channel", "channel", "rust").await);
    alice.find("invite-member").await.click().await.unwrap();
    alice
        .find_with("invite-user", "user", "Bob")
        .await
        .click()
        .await
        .unwrap();
    bob.find_with("channel-item", "channel", "secret").await;
    alice.wait_for_notice("Bob joined #secret").await;
    alice.screenshot("channels-alice").await.unwrap();
    bob.screenshot("channels-bob").await.unwrap();
    assert!(!carol.exists_with("channel-item", "channel", "secret").await);

    // Any member changes the topic; everyone in the channel sees the notice.
    bob.open_conversation("channel-item", "channel", "secret")
        .await;
    bob.find("channel-topic").await.click().await.unwrap();
    let editor = bob.client.active_element().await.unwrap();
    editor.clear().await.unwrap();
    editor.send_keys("Plans for Friday\u{E007}").await.unwrap();
    alice.wait_for_notice("Bob changed the topic to").await;
    alice
        .eventually("the new topic shows", || async {
            alice
                .find("channel-topic")
                .await
                .text()
                .await
                .unwrap_or_default()
                == "Plans for Friday"
        })
        .await;

    // The creator removes Bob: the channel disappears from his sidebar at once.
    alice.find("channel-members").await.click().await.unwrap();
    alice
        .find_with("remove-member", "user", "Bob")
        .await
        .click()
        .await
        .unwrap();
    bob.eventually("#secret is gone for Bob", || async {
        !bob.exists_with("channel-item", "channel", "secret").await
    })
    .await;
    alice.wait_for_notice("Bob left #secret").await;

    alice
        .client
        .execute("document.querySelector('.modal-backdrop').click()", vec![])
        .await
        .unwrap();
    // Invite by typing a name and pressing Enter.
    alice.find("invite-member").await.click().await.unwrap();
    alice
        .find("invite-search")
        .await
        .send_keys("carol\u{E007}")
        .await
        .unwrap();
    carol.find_with("channel-item", "channel", "secret").await;

    // A shared link to a public channel Carol is not in offers to join it.
    let link = format!("{}c/rust", server.url());
    carol.open(&link).await;
    carol.wait_connected().await;
    carol
        .find_with("join-channel", "channel", "rust")
        .await
        .click()
        .await
        .unwrap();
    carol.wait_for_header("rust").await;
    carol.wait_for_message("Alice: Welcome to #rust, Bob").await;
    alice
        .find_with("channel-item", "channel", "rust")
        .await
        .click()
        .await
        .unwrap();
    alice.wait_for_notice("Carol joined #rust").await;

    alice.close().await;
    bob.close().await;
    carol.close().await;
}

#[actix_web::test]
async fn a_hidden_direct_conversation_comes_back_with_the_next_message_and_blocking_stops_it() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;

    alice
        .find_with("start-dm", "user", "Bob")
        .await
        .click()
        .await
        .unwrap();
    alice.wait_for_header("Bob").await;
    // A conversation with one person is hidden, not left.
    assert!(!alice.exists("leave-channel").await);
    alice.send_with_enter("Hi Bob, quick question").await;
    alice.wait_all_confirmed().await;
    bob.find_with("dm-item", "user", "Alice").await;

    alice.find("hide-conversation").await.click().await.unwrap();
    alice
        .eventually("the conversation leaves Alice's list", || async {
            !alice.exists_with("dm-item", "user", "Bob").await
        })
        .await;
    alice.wait_for_header("general").await;
    assert!(!alice.exists("dm-item").await);

    // Bob writes again: it is back in Alice's list, with everything in it.
    bob.open_conversation("dm-item", "user", "Alice").await;
    bob.send_with_enter("Sure, ask away").await;
    alice
        .eventually("the conversation is back and unread", || async {
            alice.exists_with("dm-item", "user", "Bob").await
                && alice
                    .find_with("dm-item", "user", "Bob")
                    .await
                    .attr("data-unread")
                    .await
                    .unwrap()
                    .as_deref()
                    != Some("0")
        })
        .await;
    alice.open_conversation("dm-item", "user", "Bob").await;
    alice
        .eventually("the whole conversation shows", || async {
            alice.messages().await == ["Alice: Hi Bob, quick question", "Bob: Sure, ask away"]
        })
        .await;

    // Alice blocks Bob from the conversation's header: his next message is refused.
    alice.find("block-user").await.click().await.unwrap();
    alice.find("unblock-user").await;
    alice.find_with("unblock-user", "user", "Bob").await;
    bob.send_with_enter("Hello?").await;
    bob.eventually("Bob's message is refused for good", || async {
        match bob
            .client
            .find_all(fantoccini::Locator::Css(".message.failed .failure"))
            .await
            .unwrap()
            .first()
        {
            Some(failure) => failure.text().await.unwrap_or_default().contains("blocked"),
            None => false,
        }
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        alice.messages().await.iter().all(|m| m != "Bob: Hello?"),
        "a blocked message never arrives"
    );
    bob.screenshot("blocked-message").await.unwrap();

    // Unblocked (from the people list this time), Bob gets through again.
    alice
        .find_with("unblock-user", "user", "Bob")
        .await
        .click()
        .await
        .unwrap();
    alice
        .eventually("Bob is unblocked", || async {
            alice.exists_with("block-user", "user", "Bob").await
                && !alice.exists("unblock-user").await
        })
        .await;
    bob.send_with_enter("Now?").await;
    alice.wait_for_message("Bob: Now?").await;
    alice.close().await;
    bob.close().await;
}
