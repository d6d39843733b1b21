//! Finding what was said, in the browser: three people search with filters,
//! jump to a message far back in history (only a window around it loads),
//! scroll on from there, and open links to messages, including ones they
//! may not read.

use crate::harness::{Browser, Driver, TestServer};
use crate::signed_in;

/// Types a query into the search box, presses Enter and waits until it is
/// answered (results or "no messages found").
async fn search(browser: &Browser, query: &str) {
    // Enter asks at once, for the words as typed (the last one whole).
    ask(browser, &format!("{query}\u{E007}"), &format!("{query} ")).await;
}

/// Types `keys` into the search box and waits until `asked` is answered.
async fn ask(browser: &Browser, keys: &str, asked: &str) {
    let input = browser.find("search-input").await;
    input.clear().await.unwrap();
    input.send_keys(keys).await.unwrap();
    browser
        .eventually(&format!("{asked:?} is answered"), || async {
            let answered = browser
                .client
                .execute(
                    "const p = document.querySelector('[data-testid=\"search-panel\"]');
                     return p ? [p.dataset.query, p.getAttribute('aria-busy')] : null;",
                    vec![],
                )
                .await
                .unwrap();
            answered == serde_json::json!([asked, "false"])
        })
        .await;
}

/// `(channel, seq, text)` of every result shown.
async fn results(browser: &Browser) -> Vec<(String, i64, String)> {
    let mut found = Vec::new();
    for result in browser.all("search-result").await {
        let channel = result
            .attr("data-channel")
            .await
            .unwrap()
            .unwrap_or_default();
        let seq = result.attr("data-seq").await.unwrap().unwrap_or_default();
        let text = result.text().await.unwrap_or_default();
        found.push((channel, seq.parse().unwrap(), text));
    }
    found
}

/// The sequence numbers of the messages shown, in order.
async fn shown_seqs(browser: &Browser) -> Vec<i64> {
    let value = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=\"message\"][data-seq]'))
                 .map(m => Number(m.dataset.seq));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(value).unwrap()
}

#[actix_web::test]
async fn three_people_search_with_filters_and_jump_far_back() {
    let server = TestServer::start().await;
    let mut driver = Driver::start().await;
    let alice = signed_in(&mut driver, &server, "Alice").await;
    let bob = signed_in(&mut driver, &server, "Bob").await;
    let carol = signed_in(&mut driver, &server, "Carol").await;

    // Long history in #general, with a needle far back.
    let mut dave = server.speaker("Dave").await;
    dave.say((1..=20).map(|n| format!("filler before {n}")))
        .await;
    dave.say(["the zebra crossing is <b>closed</b>".to_owned()])
        .await;
    dave.say((1..=300).map(|n| format!("filler after {n}")))
        .await;
    carol.send_with_enter("a zebra from Carol").await;
    carol.wait_all_confirmed().await;
    alice.create_channel("secret", "Alice only", true).await;
    alice.send_with_enter("zebra secrets").await;
    alice.wait_all_confirmed().await;

    // Bob finds what he can read, newest first, and nothing of #secret.
    search(&bob, "zebra").await;
    let found = results(&bob).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].2.contains("a zebra from Carol"), "{found:?}");
    assert_eq!(found[1].0, "general");
    assert!(
        found[1].2.contains("the zebra crossing is <b>closed</b>"),
        "{found:?}"
    );
    let far = found[1].1;
    // The matched word is marked, and the markup typed stays text.
    let marked = bob
        .client
        .execute(
            "return Array.from(document.querySelectorAll('[data-testid=\"search-result\"] mark'))
                 .map(m => m.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(marked, serde_json::json!(["zebra", "zebra"]));
    assert!(!bob.exists_with("search-result", "seq", "0").await);
    let bold = bob
        .client
        .execute(
            "return document.querySelectorAll('[data-testid=\"search-result\"] b').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bold, serde_json::json!(0));

    // Filters.
    search(&bob, "zebra from:@carol").await;
    assert_eq!(results(&bob).await.len(), 1);
    search(&bob, "zebra in:#general before:2000-01-01").await;
    assert!(bob.exists("search-empty").await);
    search(&bob, "\"zebra crossing\"").await;
    assert_eq!(results(&bob).await.len(), 1);
    // While typing (no Enter), the last word is the start of a word.
    ask(&bob, "zeb", "zeb").await;
    assert_eq!(results(&bob).await.len(), 2, "the last word is a prefix");
    search(&alice, "zebra in:#secret").await;
    assert_eq!(results(&alice).await.len(), 1);
    assert_eq!(results(&alice).await[0].0, "secret");

    // Jump far back from a fresh page (only the latest page loaded): the
    // message is there, highlighted, with a window around it rather than
    // the whole history.
    bob.open(&server.url()).await;
    bob.wait_connected().await;
    search(&bob, "zebra").await;
    bob.find_with("search-result", "seq", &far.to_string())
        .await
        .click()
        .await
        .unwrap();
    let target = bob.find_with("message", "highlighted", "true").await;
    assert_eq!(
        target.attr("data-seq").await.unwrap(),
        Some(far.to_string())
    );
    let seqs = shown_seqs(&bob).await;
    assert!(
        seqs.contains(&(far - 5)) && seqs.contains(&(far + 5)),
        "{seqs:?}"
    );
    assert!(
        seqs.len() < 200,
        "a window, not all history: {} {:?}",
        seqs.len(),
        (seqs.first(), seqs.last())
    );
    assert!(!seqs.contains(&(far + 250)));
    bob.eventually("the message jumped to is in view", || async {
        let in_view = bob
            .client
            .execute(
                "const m = document.querySelector('[data-highlighted=\"true\"]').getBoundingClientRect();
                 const l = document.querySelector('[data-testid=\"message-list\"]').getBoundingClientRect();
                 return m.top >= l.top && m.bottom <= l.bottom;",
                vec![],
            )
            .await
            .unwrap();
        in_view == serde_json::json!(true)
    })
    .await;
    bob.screenshot("search-jump").await.unwrap();

    // Scrolling down from there loads newer pages, up to the newest.
    bob.eventually("the newest message loads while scrolling down", || async {
        bob.client
            .execute(
                "const l = document.querySelector('[data-testid=\"message-list\"]');
                 l.scrollTop = l.scrollHeight;
                 l.dispatchEvent(new Event('scroll'));",
                vec![],
            )
            .await
            .unwrap();
        bob.messages()
            .await
            .iter()
            .any(|m| m == "Carol: a zebra from Carol")
    })
    .await;
    assert!(shown_seqs(&bob).await.windows(2).all(|w| w[1] == w[0] + 1));

    // A link to a message opens it the same way, in a new page.
    let link = format!("{}c/general/{far}", server.url());
    carol.open(&link).await;
    carol.wait_connected().await;
    let target = carol.find_with("message", "highlighted", "true").await;
    assert_eq!(
        target.attr("data-seq").await.unwrap(),
        Some(far.to_string())
    );
    // Someone's private channel answers exactly like one that does not exist.
    carol.open(&format!("{}c/secret/1", server.url())).await;
    let private = carol.find("not-found").await.text().await.unwrap();
    carol.open(&format!("{}c/nowhere/1", server.url())).await;
    let missing = carol.find("not-found").await.text().await.unwrap();
    assert_eq!(
        private.replace("#secret", "#X"),
        missing.replace("#nowhere", "#X")
    );
    assert!(!carol.messages().await.iter().any(|m| m.contains("secrets")));

    // Every message offers its link.
    alice
        .open_conversation("channel-item", "channel", "general")
        .await;
    alice.find("copy-link").await;
    alice
        .client
        .execute(
            "document.querySelector('[data-testid=\"copy-link\"]').click()",
            vec![],
        )
        .await
        .unwrap();
    alice
        .eventually("the link is copied", || async {
            let copy = alice.find("copy-link").await;
            copy.attr("title").await.unwrap().as_deref() == Some("Link copied")
        })
        .await;
}
