//! Slash commands in the message box: typing `/` suggests the commands,
//! picking one completes it; `/shrug`, `/me`, `/topic`, `/join #…`,
//! `/invite @…` and `/help` do what they say; an unknown command is
//! explained and nothing is posted.

use crate::harness::{Driver, TestServer};
use crate::signed_in;

#[actix_web::test]
async fn slash_commands_are_suggested_and_do_what_they_say() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    bob.create_channel("random", "anything", false).await;
    bob.open_conversation("channel-item", "channel", "general")
        .await;

    let input = alice.find("message-input").await;
    input.send_keys("/").await.unwrap();
    alice.find("command-suggestions").await;
    assert_eq!(alice.all("command-option").await.len(), 9);
    input.send_keys("sh").await.unwrap();
    alice
        .eventually("only /shrug is suggested", || async {
            alice.all("command-option").await.len() == 1
        })
        .await;
    alice.screenshot("command-suggestions").await.unwrap();
    alice
        .find_with("command-option", "command", "shrug")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        input.prop("value").await.unwrap().as_deref(),
        Some("/shrug ")
    );
    input.send_keys("fine\u{E007}").await.unwrap();
    bob.wait_for_message("Alice: fine ¯\\_(ツ)_/¯").await;

    alice.send_with_enter("/me waves").await;
    bob.wait_for_message("Alice: waves").await;
    let italic = bob
        .client
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=\"message-text\"] em'))
                 .some(e => e.textContent === 'waves');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(italic, serde_json::json!(true));

    // Unknown: explained, nothing posted.
    alice.send_with_enter("/frobnicate now").await;
    alice
        .eventually("the unknown command is explained", || async {
            let text = alice.find("message-list").await;
            let _ = text;
            alice
                .client
                .execute(
                    "return document.body.innerText.includes('There is no command /frobnicate');",
                    vec![],
                )
                .await
                .unwrap()
                == serde_json::json!(true)
        })
        .await;

    alice.send_with_enter("/topic Everyone says hi").await;
    bob.eventually("the topic changed", || async {
        bob.client
            .execute(
                "return document.body.innerText.includes('Everyone says hi');",
                vec![],
            )
            .await
            .unwrap()
            == serde_json::json!(true)
    })
    .await;

    alice.send_with_enter("/join #random").await;
    alice.wait_for_header("random").await;
    alice.send_with_enter("/help").await;
    let help = alice.find("command-help").await.text().await.unwrap();
    assert!(help.contains("/invite") && help.contains("/away"), "{help}");
    assert!(
        !bob.messages()
            .await
            .iter()
            .any(|m| m.contains("frobnicate") || m.contains("/topic")),
        "commands are not posted"
    );
}
