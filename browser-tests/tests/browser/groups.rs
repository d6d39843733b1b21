//! Group conversations from the browser: Alice picks Bob and Carol, the
//! conversation is named by its members for each of them and carries
//! messages live; adding Dave later starts a new conversation of four while
//! the first one keeps its people and history.

use crate::harness::{Browser, Driver};
use crate::signed_in;

/// Picks the people named in the open new-conversation dialog and submits.
async fn start_with(browser: &Browser, names: &[&str]) {
    for name in names {
        browser
            .find_with("conversation-user-option", "user", name)
            .await
            .click()
            .await
            .unwrap();
        browser
            .eventually(&format!("{name} is picked"), || async {
                browser
                    .find_with("conversation-user-option", "user", name)
                    .await
                    .attr("data-selected")
                    .await
                    .unwrap()
                    .as_deref()
                    == Some("true")
            })
            .await;
    }
    browser
        .find("conversation-create-submit")
        .await
        .click()
        .await
        .unwrap();
}

#[actix_web::test]
async fn three_people_talk_in_a_group_and_adding_someone_starts_a_new_one() {
    let server = crate::harness::TestServer::start().await;
    let mut driver = Driver::start().await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    let carol = signed_in(&mut driver, &server, "Carol").await;
    let _dave = server.speaker("Dave").await;
    let alice = signed_in(&mut driver, &server, "Alice").await;

    alice.find("new-conversation").await.click().await.unwrap();
    start_with(&alice, &["Bob", "Carol"]).await;
    alice.wait_for_header("Bob, Carol").await;
    alice.send_with_enter("Plans for Friday?").await;
    alice.wait_all_confirmed().await;

    bob.open_conversation("dm-item", "user", "Alice, Carol")
        .await;
    bob.wait_for_message("Alice: Plans for Friday?").await;
    carol
        .open_conversation("dm-item", "user", "Alice, Bob")
        .await;
    carol.wait_for_message("Alice: Plans for Friday?").await;
    carol.send_with_enter("Lunch at noon").await;
    alice.wait_for_message("Carol: Lunch at noon").await;
    bob.wait_for_message("Carol: Lunch at noon").await;
    assert_eq!(
        bob.find("channel-members").await.text().await.unwrap(),
        "3 members"
    );
    alice.screenshot("group-conversation").await.unwrap();

    // Adding Dave: the dialog starts with Bob and Carol picked.
    alice.find("add-people").await.click().await.unwrap();
    for name in ["Bob", "Carol"] {
        let option = alice
            .find_with("conversation-user-option", "user", name)
            .await;
        assert_eq!(
            option.attr("data-selected").await.unwrap().as_deref(),
            Some("true")
        );
    }
    alice.screenshot("group-add-people").await.unwrap();
    start_with(&alice, &["Dave"]).await;
    alice.wait_for_header("Bob, Carol, Dave").await;
    assert!(
        alice.messages().await.is_empty(),
        "a new conversation starts empty"
    );
    alice.send_with_enter("Dave joins the plan").await;
    bob.eventually("the group of four appears for Bob", || async {
        bob.exists_with("dm-item", "user", "Alice, Carol, Dave")
            .await
    })
    .await;
    // The first conversation keeps its three people and its history.
    alice
        .open_conversation("dm-item", "user", "Bob, Carol")
        .await;
    alice.wait_for_message("Carol: Lunch at noon").await;
    assert_eq!(
        alice.find("channel-members").await.text().await.unwrap(),
        "3 members"
    );
}
