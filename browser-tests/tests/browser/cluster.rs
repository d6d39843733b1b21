//! Two browsers on two nodes of one PostgreSQL cluster (the throwaway
//! cluster of `CHAT_TEST_POSTGRES_URL` that `cargo xtask test` starts):
//! they chat, see each other online, and talk in a direct conversation.

use std::path::PathBuf;

use tempfile::TempDir;

use crate::harness::{Driver, TestServer};
use crate::signed_in;

#[path = "../../../server/tests/support/postgres.rs"]
mod postgres;

/// A node of the cluster on `database`, sharing the files folder `files`.
async fn node(database: &str, files: PathBuf, name: &str) -> TestServer {
    let (database, name) = (database.to_owned(), name.to_owned());
    TestServer::start_with(move |settings| {
        settings.database_url = database;
        settings.files_dir = files;
        settings.node_id = Some(name);
    })
    .await
}

#[actix_web::test]
async fn two_browsers_on_two_nodes_chat_see_each_other_online_and_talk_directly() {
    let database = postgres::fresh_database().await;
    let files = TempDir::new().unwrap();
    let one = node(&database, files.path().to_owned(), "one").await;
    let two = node(&database, files.path().to_owned(), "two").await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &one, "Alice").await;
    let bob = signed_in(&mut driver, &two, "Bob").await;

    for browser in [&alice, &bob] {
        browser
            .eventually(
                "both are listed online, each through the other node",
                || async {
                    let mut names = browser.online_users().await;
                    names.sort();
                    names == ["Alice", "Bob"]
                },
            )
            .await;
    }
    alice.send_with_enter("Hello from node one").await;
    bob.wait_for_message("Alice: Hello from node one").await;
    bob.send_with_enter("Hello back from node two").await;
    alice
        .wait_for_message("Bob: Hello back from node two")
        .await;

    alice
        .find_with("start-dm", "user", "Bob")
        .await
        .click()
        .await
        .unwrap();
    alice.wait_for_header("Bob").await;
    alice.send_with_enter("Just between us").await;
    alice.wait_all_confirmed().await;
    bob.open_conversation("dm-item", "user", "Alice").await;
    bob.wait_for_message("Alice: Just between us").await;
    bob.send_with_enter("Agreed").await;
    alice.wait_for_message("Bob: Agreed").await;
    alice.screenshot("two-nodes-alice").await.unwrap();
    bob.screenshot("two-nodes-bob").await.unwrap();
}
