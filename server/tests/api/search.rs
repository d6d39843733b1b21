//! Search and jumps into history over real sockets: a search finds only
//! what the searcher can read at that moment (never a channel they left or
//! were removed from, a private channel or someone else's conversation, or
//! a deleted message; an edited one by its new text), the filters and
//! phrases mean what they say, results page newest first, and a jump loads
//! the messages around one far back in history.

use shared::search::SEARCH_PAGE;
use shared::{ChannelId, ChatMessage, ClientMsg, ErrorCode, ServerMsg};

use crate::helpers::{TestApp, WsClient, new_client_id};

/// One page of results: (channel, seq, text) newest first, and where the next starts.
async fn search_page(
    client: &mut WsClient,
    query: &str,
    before: Option<i64>,
) -> (Vec<ChatMessage>, Option<i64>) {
    client
        .send(&ClientMsg::Search {
            query: query.into(),
            before,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::SearchResults {
                query: answered,
                results,
                next,
                ..
            } if answered == query => Some((results, next)),
            ServerMsg::Error { code, message, .. } => {
                panic!("search {query:?} refused: {code:?} {message}")
            }
            _ => None,
        })
        .await
}

/// The texts a search finds on its first page.
async fn found(client: &mut WsClient, query: &str) -> Vec<String> {
    let (results, _) = search_page(client, query, None).await;
    results.into_iter().map(|m| m.text).collect()
}

/// The page after `after_seq`, and whether more follow.
async fn newer(
    client: &mut WsClient,
    channel: &ChannelId,
    after_seq: i64,
) -> (Vec<ChatMessage>, bool) {
    client
        .send(&ClientMsg::Newer {
            channel: channel.clone(),
            after_seq,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::Newer {
                messages,
                has_newer,
                ..
            } => Some((messages, has_newer)),
            _ => None,
        })
        .await
}

async fn left(client: &mut WsClient, channel: &ChannelId) {
    client
        .recv_until(|m| match m {
            ServerMsg::ChannelLeft { channel: gone, .. } if &gone == channel => Some(()),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn a_search_finds_only_what_the_reader_can_read_at_that_moment() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, bob_user, _) = app.user("Bob").await;
    let (mut carol, carol_user, _) = app.user("Carol").await;
    let general = alice.general();

    alice.post_to(&general, "needle in general").await.unwrap();
    let secret = alice.create_channel("secret", true).await;
    alice.post_to(&secret.id, "needle in secret").await.unwrap();
    let ops = alice.create_channel("ops", false).await;
    alice.post_to(&ops.id, "needle in ops").await.unwrap();
    alice
        .send(&ClientMsg::OpenDirect {
            users: vec![carol_user.id.clone()],
        })
        .await;
    let direct = alice
        .recv_until(|m| match m {
            ServerMsg::ChannelJoined { channel } => Some(channel),
            _ => None,
        })
        .await;
    alice
        .post_to(&direct.id, "needle between us")
        .await
        .unwrap();

    assert_eq!(found(&mut bob, "needle").await, ["needle in general"]);
    let mut carols = found(&mut carol, "needle").await;
    carols.sort();
    assert_eq!(carols, ["needle between us", "needle in general"]);
    assert_eq!(found(&mut alice, "needle").await.len(), 4);

    // Joining a public channel opens its past; leaving closes it again.
    bob.send(&ClientMsg::JoinChannel {
        channel: ops.id.clone(),
    })
    .await;
    bob.joined().await;
    assert_eq!(
        found(&mut bob, "needle").await,
        ["needle in ops", "needle in general"]
    );
    bob.send(&ClientMsg::LeaveChannel {
        channel: ops.id.clone(),
    })
    .await;
    left(&mut bob, &ops.id).await;
    assert_eq!(found(&mut bob, "needle").await, ["needle in general"]);

    // Invited into the private channel, then removed from it.
    alice
        .send(&ClientMsg::Invite {
            channel: secret.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    bob.joined().await;
    assert_eq!(found(&mut bob, "needle secret").await, ["needle in secret"]);
    alice
        .send(&ClientMsg::RemoveMember {
            channel: secret.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    left(&mut bob, &secret.id).await;
    assert!(found(&mut bob, "needle secret").await.is_empty());
    assert!(found(&mut bob, "needle in:#secret").await.is_empty());

    // Deleted: never found. Edited: found by the new text only.
    let gone = alice.post_to(&general, "haystack to delete").await.unwrap();
    let changed = alice.post_to(&general, "haystack before").await.unwrap();
    assert_eq!(found(&mut bob, "haystack").await.len(), 2);
    alice
        .send(&ClientMsg::Delete {
            channel: general.clone(),
            seq: gone,
        })
        .await;
    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq: changed,
            text: "haystack after".into(),
        })
        .await;
    for _ in 0..2 {
        alice
            .recv_until(|m| match m {
                ServerMsg::MessageUpdated { .. } => Some(()),
                _ => None,
            })
            .await;
    }
    assert_eq!(found(&mut bob, "haystack").await, ["haystack after"]);
    assert!(found(&mut bob, "before").await.is_empty());
    assert!(found(&mut bob, "delete").await.is_empty());
    assert_eq!(
        found(&mut bob, "from:@alice").await,
        ["haystack after", "needle in general"]
    );
}

#[actix_web::test]
async fn filters_phrases_and_the_prefix_mean_what_they_say() {
    let app = TestApp::spawn().await;
    let (mut alice, _, alice_token) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let general = alice.general();
    let ops = alice.create_channel("ops", false).await;
    bob.send(&ClientMsg::JoinChannel {
        channel: ops.id.clone(),
    })
    .await;
    bob.joined().await;

    alice
        .post_to(&general, "the quick brown fox")
        .await
        .unwrap();
    alice
        .post_to(&general, "brown and quick, Déjà vu")
        .await
        .unwrap();
    bob.post_to(&ops.id, "deployment of the fox at https://example.test/fox")
        .await
        .unwrap();
    let file = crate::uploads::upload(&app, &alice_token, &ops.id, "fox.txt", b"fox".to_vec())
        .await
        .unwrap();
    let id = new_client_id();
    alice
        .send(&ClientMsg::Send {
            channel: ops.id.clone(),
            client_id: id.clone(),
            text: "the fox file".into(),
            attachments: vec![file.id],
        })
        .await;
    alice.ack_for(&id).await;

    assert_eq!(found(&mut bob, "fox").await.len(), 3);
    assert_eq!(
        found(&mut bob, "\"quick brown\"").await,
        ["the quick brown fox"]
    );
    assert_eq!(found(&mut bob, "quick brown").await.len(), 2);
    assert_eq!(found(&mut bob, "fox in:#ops").await.len(), 2);
    assert_eq!(
        found(&mut bob, "fox in:#general").await,
        ["the quick brown fox"]
    );
    assert_eq!(
        found(&mut bob, "from:@bob").await,
        ["deployment of the fox at https://example.test/fox"]
    );
    assert_eq!(found(&mut bob, "fox from:@Alice").await.len(), 2);
    assert_eq!(found(&mut bob, "has:link").await.len(), 1);
    assert_eq!(found(&mut bob, "fox has:file").await, ["the fox file"]);
    // As you type: the last word is the start of a word.
    assert_eq!(found(&mut bob, "depl").await.len(), 1);
    assert!(
        found(&mut bob, "depl ").await.is_empty(),
        "a finished word is whole"
    );
    assert_eq!(found(&mut bob, "after:2000-01-01 fox").await.len(), 3);
    assert!(found(&mut bob, "before:2000-01-01 fox").await.is_empty());
    assert!(
        found(&mut bob, "fox before:2000-01-01 after:1999-01-01")
            .await
            .is_empty()
    );
    if !app.on_postgres() {
        // SQLite's index folds accents; PostgreSQL's "simple" does not.
        assert_eq!(found(&mut bob, "deja").await.len(), 1);
    }

    // The words to mark come with the results.
    bob.send(&ClientMsg::Search {
        query: "quick bro".into(),
        before: None,
    })
    .await;
    let highlight = bob
        .recv_until(|m| match m {
            ServerMsg::SearchResults { highlight, .. } => Some(highlight),
            _ => None,
        })
        .await;
    assert_eq!(highlight.words, ["quick"]);
    assert_eq!(highlight.prefix.as_deref(), Some("bro"));

    // Refusals say why and search nothing.
    for (query, code) in [
        ("on:monday fox", ErrorCode::InvalidQuery),
        ("fox before:yesterday", ErrorCode::InvalidQuery),
        ("has:cake", ErrorCode::InvalidQuery),
        ("   ", ErrorCode::InvalidQuery),
        (&"x ".repeat(300), ErrorCode::InvalidQuery),
    ] {
        bob.send(&ClientMsg::Search {
            query: query.to_owned(),
            before: None,
        })
        .await;
        assert_eq!(bob.next_error().await, code, "{query:?}");
    }
}

#[actix_web::test]
async fn results_come_newest_first_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let general = alice.general();
    let total = SEARCH_PAGE as usize * 2 + 5;
    for n in 1..=total {
        alice
            .post_to(&general, &format!("page test {n}"))
            .await
            .unwrap();
        alice
            .post_to(&general, &format!("other words {n}"))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let (results, next) = search_page(&mut alice, "page test", before).await;
        assert!(results.len() <= SEARCH_PAGE as usize);
        seen.extend(results.into_iter().map(|m| m.text));
        match next {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (1..=total)
        .rev()
        .map(|n| format!("page test {n}"))
        .collect();
    assert_eq!(seen, expected);
}

#[actix_web::test]
async fn a_jump_loads_the_messages_around_one_far_back() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let general = alice.general();
    for n in 1..=300 {
        alice.say(&format!("message {n}")).await;
    }
    let mut acked = 0;
    while acked < 300 {
        if let ServerMsg::Ack { .. } = alice.recv().await {
            acked += 1;
        }
    }
    let (results, _) = search_page(&mut bob, "message 20", None).await;
    let hit = results.iter().find(|m| m.text == "message 20").unwrap();
    bob.send(&ClientMsg::Around {
        channel: general.clone(),
        seq: hit.seq,
    })
    .await;
    let (seq, messages, has_older, has_newer) = bob
        .recv_until(|m| match m {
            ServerMsg::Around {
                seq,
                messages,
                has_older,
                has_newer,
                ..
            } => Some((seq, messages, has_older, has_newer)),
            _ => None,
        })
        .await;
    assert_eq!(seq, hit.seq);
    let seqs: Vec<i64> = messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (hit.seq - 15..=hit.seq + 50).collect::<Vec<_>>());
    assert!(has_older && has_newer);

    let (page, has_newer) = newer(&mut bob, &general, hit.seq + 50).await;
    assert_eq!(page.first().unwrap().seq, hit.seq + 51);
    assert_eq!(page.len(), 50);
    assert!(has_newer);
    let (page, has_newer) = newer(&mut bob, &general, 280).await;
    assert_eq!(page.len(), 20);
    assert!(!has_newer);

    // A channel one cannot read answers exactly like one that does not exist.
    let secret = alice.create_channel("secret", true).await;
    alice.post_to(&secret.id, "hidden").await.unwrap();
    let mut refusals = Vec::new();
    for channel in [secret.id.clone(), ChannelId("0".repeat(32))] {
        bob.send(&ClientMsg::Around { channel, seq: 1 }).await;
        refusals.push(
            bob.recv_until(|m| match m {
                ServerMsg::Error { code, message, .. } => Some((code, message)),
                _ => None,
            })
            .await,
        );
    }
    assert_eq!(refusals[0], refusals[1]);
    assert_eq!(refusals[0].0, ErrorCode::NotAMember);
}

#[actix_web::test]
async fn with_the_index_off_search_says_so_and_turning_it_on_catches_up() {
    let mut app = TestApp::spawn_with(|settings| settings.search_index = false).await;
    if app.on_postgres() {
        // PostgreSQL keeps its index whatever the flag says.
        return;
    }
    let (mut alice, _, token) = app.user("Alice").await;
    let general = alice.general();
    alice.post_to(&general, "stored unindexed").await.unwrap();
    let deleted = alice
        .post_to(&general, "unindexed and deleted")
        .await
        .unwrap();
    alice
        .send(&ClientMsg::Delete {
            channel: general.clone(),
            seq: deleted,
        })
        .await;
    alice
        .send(&ClientMsg::Search {
            query: "unindexed".into(),
            before: None,
        })
        .await;
    assert_eq!(alice.next_error().await, ErrorCode::NotAllowed);

    app.settings.search_index = true;
    app.restart().await;
    let mut alice = app.connect(&token).await;
    alice.welcome().await;
    assert_eq!(found(&mut alice, "unindexed").await, ["stored unindexed"]);
    alice.post_to(&general, "indexed later").await.unwrap();
    assert_eq!(
        found(&mut alice, "stored OR indexed").await.len(),
        0,
        "OR is a word here, not an operator"
    );
    assert_eq!(found(&mut alice, "indexed").await, ["indexed later"]);
}
