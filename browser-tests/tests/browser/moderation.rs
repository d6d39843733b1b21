//! Running the community from the browser: the first account owns the
//! server and makes a moderator in the admin panel; the moderator removes
//! a message (everyone sees it removed by a moderator) and mutes someone,
//! who is told and whose next message is refused; an admin deactivates
//! someone whose open tab goes back to the name prompt at once; the audit
//! log lists it all. An owner makes sign-ups invite only: a stranger is
//! refused, a newcomer with the link joins. A reported message reaches the
//! moderators, who remove it.

use crate::harness::{Browser, Driver, TestServer};
use crate::pins::click_in_message;
use crate::signed_in;

/// Picks `value` in the select with this test id and `data-user`.
async fn choose(browser: &Browser, id: &str, user: &str, value: &str) {
    let select = browser.find_with(id, "user", user).await;
    browser.choose(&select, value).await;
}

/// Opens the admin panel from the sidebar.
async fn open_admin(browser: &Browser) {
    browser.find("open-admin").await.click().await.unwrap();
    browser.find("admin-panel").await;
}

/// The text of every message row, in order (removed ones included).
async fn row_texts(browser: &Browser) -> Vec<String> {
    let mut texts = Vec::new();
    for row in browser.all("message-text").await {
        texts.push(row.text().await.unwrap_or_default());
    }
    texts
}

#[actix_web::test]
async fn a_moderator_removes_a_message_and_mutes_someone_who_then_cannot_post() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let olive = signed_in(&mut driver, &server, "Olive").await;
    let mo = signed_in(&mut driver, &server, "Mo").await;
    let mel = signed_in(&mut driver, &server, "Mel").await;
    assert!(
        !mo.exists("open-admin").await,
        "members have no admin panel"
    );

    // The owner makes Mo a moderator; Mo's sidebar offers the panel at once.
    open_admin(&olive).await;
    choose(&olive, "user-role-select", "Mo", "moderator").await;
    mo.find("open-admin").await;

    mel.send_with_enter("cheap watches at example dot com")
        .await;
    mel.send_with_enter("sorry, wrong chat").await;
    mo.wait_for_message("Mel: sorry, wrong chat").await;
    click_in_message(&mo, "cheap watches at example dot com", "delete-message").await;
    for browser in [&mo, &mel] {
        browser
            .eventually("the message shows as removed", || async {
                row_texts(browser)
                    .await
                    .iter()
                    .any(|t| t == "message removed by a moderator")
            })
            .await;
    }
    assert!(
        row_texts(&mel)
            .await
            .iter()
            .all(|t| !t.contains("cheap watches"))
    );

    // Mo mutes Mel from the panel; she is told, and her message is refused.
    open_admin(&mo).await;
    mo.find_with("mute-user", "user", "Mel")
        .await
        .click()
        .await
        .unwrap();
    let notice = mel.find("muted-notice").await.text().await.unwrap();
    assert!(notice.contains("muted you"), "{notice}");
    mel.send_with_enter("am I muted?").await;
    mel.eventually("the refusal is shown", || async {
        let body = mel
            .find("message-list")
            .await
            .text()
            .await
            .unwrap_or_default();
        body.contains("you can read, but not post")
    })
    .await;
    mel.screenshot("moderation-muted").await.unwrap();

    // The owner's audit log lists the role change, the removal and the mute.
    olive.open(&format!("{}admin", server.url())).await;
    olive.find("admin-panel").await;
    olive
        .eventually("three lines in the audit log", || async {
            olive.all("audit-item").await.len() == 3
        })
        .await;
    let lines = olive.find("admin-panel").await.text().await.unwrap();
    assert!(lines.contains("Mo muted Mel"), "{lines}");
    assert!(lines.contains("Mo removed a message by Mel"), "{lines}");
    olive.screenshot("admin-panel").await.unwrap();
    assert!(
        !olive
            .messages()
            .await
            .iter()
            .any(|m| m.contains("am I muted?"))
    );
}

#[actix_web::test]
async fn an_admin_deactivates_someone_whose_open_tab_is_signed_out_at_once() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let olive = signed_in(&mut driver, &server, "Olive").await;
    let mel = signed_in(&mut driver, &server, "Mel").await;

    olive.open(&format!("{}admin", server.url())).await;
    olive.find("admin-panel").await;
    olive
        .find_with("deactivate-user", "user", "Mel")
        .await
        .click()
        .await
        .unwrap();
    mel.find("username-input").await;
    assert!(!mel.exists("message-input").await);
    olive
        .eventually("Mel is marked deactivated", || async {
            olive
                .find_with("deactivate-user", "user", "Mel")
                .await
                .text()
                .await
                .unwrap_or_default()
                == "Reactivate"
        })
        .await;
}

#[actix_web::test]
async fn an_owner_makes_the_server_invite_only_and_only_invited_people_join() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let olive = signed_in(&mut driver, &server, "Olive").await;
    olive.open(&format!("{}admin", server.url())).await;
    olive.find("admin-panel").await;
    let select = olive.find("signup-mode-select").await;
    olive.choose(&select, "invite").await;
    olive
        .eventually("the audit log has the change", || async {
            !olive.all("audit-item").await.is_empty()
        })
        .await;
    olive
        .find("invite-link-create")
        .await
        .click()
        .await
        .unwrap();
    let link = olive
        .find("invite-link")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(
        link.starts_with(&format!("{}invite/", server.url())),
        "{link}"
    );
    olive.screenshot("admin-invites").await.unwrap();

    // Without a link, picking a name is refused with a clear reason.
    let stranger = driver.browser(1280, 800).await;
    stranger.open(&server.url()).await;
    stranger
        .find("username-input")
        .await
        .send_keys("Stranger")
        .await
        .unwrap();
    stranger
        .find("username-submit")
        .await
        .click()
        .await
        .unwrap();
    let refused = stranger.find("username-error").await.text().await.unwrap();
    assert!(refused.contains("invite only"), "{refused}");

    // With it, a newcomer joins and is seen by the owner.
    let newcomer = driver.browser(1280, 800).await;
    newcomer.open(&link).await;
    newcomer.find("invited-hint").await;
    newcomer.sign_up("Newcomer").await;
    newcomer.send_with_enter("thanks for the invite").await;
    olive.find("close-admin").await.click().await.unwrap();
    olive
        .wait_for_message("Newcomer: thanks for the invite")
        .await;
}

#[actix_web::test]
async fn a_reported_message_reaches_the_moderators_who_remove_it() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let olive = signed_in(&mut driver, &server, "Olive").await;
    let mel = signed_in(&mut driver, &server, "Mel").await;
    let mia = signed_in(&mut driver, &server, "Mia").await;

    mel.send_with_enter("you are all idiots").await;
    mia.wait_for_message("Mel: you are all idiots").await;
    click_in_message(&mia, "you are all idiots", "report-message").await;
    mia.find("report-reason")
        .await
        .send_keys("insulting everyone")
        .await
        .unwrap();
    mia.find("report-submit").await.click().await.unwrap();
    mia.find("report-sent").await;

    // The owner (a moderator and more) sees it in the panel and removes it.
    open_admin(&olive).await;
    let item = olive.find("report-item").await.text().await.unwrap();
    assert!(
        item.contains("you are all idiots") && item.contains("insulting everyone"),
        "{item}"
    );
    assert!(item.contains("Reported by Mia"), "{item}");
    olive.find("report-remove").await.click().await.unwrap();
    olive
        .eventually("the report is closed", || async {
            !olive.exists("report-item").await
        })
        .await;
    mel.eventually("the message shows as removed", || async {
        row_texts(&mel)
            .await
            .iter()
            .any(|t| t == "message removed by a moderator")
    })
    .await;
}

#[actix_web::test]
async fn slow_mode_renaming_and_archiving_are_set_from_the_channel_header() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let olive = signed_in(&mut driver, &server, "Olive").await;
    let mel = signed_in(&mut driver, &server, "Mel").await;
    assert!(
        !mel.exists("slow-mode-select").await,
        "members do not set slow mode"
    );

    let select = olive.find("slow-mode-select").await;
    olive.choose(&select, "300").await;
    let notice = mel.find("slow-mode-notice").await.text().await.unwrap();
    assert!(notice.contains("300 seconds"), "{notice}");
    mel.send_with_enter("first thought").await;
    olive.wait_for_message("Mel: first thought").await;
    mel.send_with_enter("second thought").await;
    mel.eventually("the second is refused", || async {
        let body = mel
            .find("message-list")
            .await
            .text()
            .await
            .unwrap_or_default();
        body.contains("Slow mode is on in this channel")
    })
    .await;
    // The owner is exempt.
    olive.send_with_enter("one").await;
    olive.send_with_enter("two").await;
    mel.wait_for_message("Olive: two").await;

    olive.create_channel("news", "last year", false).await;
    olive.find("rename-channel").await.click().await.unwrap();
    let name = olive.find("rename-channel-input").await;
    name.clear().await.unwrap();
    name.send_keys("old-news").await.unwrap();
    olive
        .find("rename-channel-submit")
        .await
        .click()
        .await
        .unwrap();
    olive.wait_for_header("old-news").await;
    olive.find_with("channel-item", "channel", "old-news").await;
    olive.find("archive-channel").await.click().await.unwrap();
    let archived = olive.find("archived-notice").await.text().await.unwrap();
    assert!(archived.contains("read-only"), "{archived}");
    olive.screenshot("archived-channel").await.unwrap();
    assert_eq!(
        olive.find("archive-channel").await.text().await.unwrap(),
        "Restore"
    );
}
