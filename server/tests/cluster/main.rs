//! Two server nodes on one PostgreSQL database (the throwaway cluster of
//! `CHAT_TEST_POSTGRES_URL`), each a real server on its own loopback port
//! with the same files folder: what happens on one node reaches the people
//! connected to the other, in order, once, and only those allowed. The
//! suite runs once per bus: PostgreSQL's `LISTEN`/`NOTIFY`, and NATS when
//! `CHAT_TEST_NATS_URL` names a server (each pair of nodes on subjects of
//! its own, each node through a link the test can cut).

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
#[path = "../support/nats.rs"]
mod nats;
#[allow(dead_code)]
#[path = "../support/pages.rs"]
mod pages;
#[path = "../support/postgres.rs"]
mod postgres;
#[path = "../support/s3.rs"]
mod s3;
#[path = "../support/text_frames.rs"]
mod text_frames;

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use shared::{ChannelId, ClientMsg, ServerMsg};
use tempfile::TempDir;

use helpers::{TestApp, WsClient, new_client_id, session_cookie};

/// Two nodes sharing a database and a files folder (and, on NATS, a
/// subject prefix, each node through a link of its own).
struct Pair {
    one: TestApp,
    two: TestApp,
    links: Vec<nats::Link>,
    _files: TempDir,
}

impl Pair {
    /// Cuts every node's connection to the bus (they reconnect).
    async fn cut_the_bus(&self) {
        if self.links.is_empty() {
            self.one
                .outside_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = current_database() AND query LIKE 'LISTEN%'",
                )
                .await;
        }
        for link in &self.links {
            link.cut();
        }
    }

    /// A third node of the same cluster.
    async fn third(&self, name: &'static str) -> (TestApp, Option<nats::Link>) {
        let settings = self.one.settings.clone();
        let link = match &settings.nats_url {
            Some(_) => Some(nats::Link::to(&nats::nats_url().unwrap()).await),
            None => None,
        };
        let nats_url = link.as_ref().map(|link| link.url.clone());
        let app = TestApp::spawn_with(move |s| {
            s.database_url = settings.database_url;
            s.files_dir = settings.files_dir;
            s.nats_url = nats_url;
            s.nats_prefix = settings.nats_prefix;
            s.node_id = Some(name.into());
        })
        .await;
        (app, link)
    }
}

async fn two_nodes() -> Pair {
    two_nodes_with(|_| {}).await
}

/// Two nodes, both with `configure` applied to their settings.
async fn two_nodes_with(configure: impl Fn(&mut chat_server::settings::Settings)) -> Pair {
    let database = postgres::fresh_database().await;
    let files = TempDir::new().unwrap();
    let prefix = format!("test-{}", chat_server::random::new_id());
    let mut links = Vec::new();
    if let Some(url) = nats::nats_url() {
        links.push(nats::Link::to(&url).await);
        links.push(nats::Link::to(&url).await);
    }
    let configure = &configure;
    let node = |name: &'static str, link: Option<&nats::Link>| {
        let database = database.clone();
        let files = files.path().to_owned();
        let nats_url = link.map(|link| link.url.clone());
        let prefix = prefix.clone();
        move |settings: &mut chat_server::settings::Settings| {
            settings.database_url = database;
            settings.files_dir = files;
            settings.node_id = Some(name.into());
            settings.nats_url = nats_url;
            settings.nats_prefix = prefix;
            configure(settings);
        }
    };
    let one = TestApp::spawn_with(node("one", links.first())).await;
    let two = TestApp::spawn_with(node("two", links.get(1))).await;
    Pair {
        one,
        two,
        links,
        _files: files,
    }
}

/// The next `Message` frame of `channel`.
async fn next_message(client: &mut WsClient, channel: &ChannelId) -> shared::ChatMessage {
    client
        .recv_until(|m| match m {
            ServerMsg::Message { message } if &message.channel == channel => Some(message),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn a_message_posted_on_one_node_reaches_a_member_on_the_other_in_order() {
    let pair = two_nodes().await;
    let (mut alice, _, _) = pair.one.user("Alice").await;
    let (mut bob, _, _) = pair.two.user("Bob").await;
    let general = alice.general();
    for i in 1..=30 {
        alice.say(&format!("hello {i}")).await;
    }
    for i in 1..=30 {
        let message = next_message(&mut bob, &general).await;
        assert_eq!((message.seq, message.text), (i, format!("hello {i}")));
        assert_eq!(message.author.name, "Alice");
    }
    // And back, with an edit and a reaction seen across too.
    let seq = bob.post_to(&general, "hi from two").await.unwrap();
    let heard = next_message(&mut alice, &general).await;
    assert_eq!((heard.seq, heard.text.as_str()), (seq, "hi from two"));
    bob.send(&ClientMsg::Edit {
        channel: general.clone(),
        seq,
        text: "hi from node two".into(),
    })
    .await;
    let edited = alice
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if message.seq == seq => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(edited.text, "hi from node two");
}

#[actix_web::test]
async fn eight_people_on_two_nodes_see_every_message_once_in_order() {
    const EACH: usize = 60;
    let pair = two_nodes().await;
    let mut people = Vec::new();
    for i in 0..8 {
        let node = if i % 2 == 0 { &pair.one } else { &pair.two };
        let (client, user, _) = node.user(&format!("person{i}")).await;
        people.push((client, user));
    }
    let general = people[0].0.general();
    // Everyone posts at once, each through their own node.
    let posting = people
        .iter_mut()
        .enumerate()
        .map(|(i, (client, _))| async move {
            for n in 0..EACH {
                client.say(&format!("{i}:{n}")).await;
            }
        });
    futures_util::future::join_all(posting).await;
    let total = (8 * EACH) as i64;
    let reading = people.iter_mut().map(|(client, _)| {
        let general = general.clone();
        async move {
            // Own messages come back as acks, the others' as messages.
            let mut seen: BTreeMap<i64, String> = BTreeMap::new();
            let mut last_other = 0;
            while seen.len() < total as usize {
                match client.recv().await {
                    ServerMsg::Message { message } if message.channel == general => {
                        assert!(message.seq > last_other, "messages arrive in order");
                        last_other = message.seq;
                        assert!(
                            seen.insert(message.seq, message.text).is_none(),
                            "each message once"
                        );
                    }
                    ServerMsg::Ack { seq, client_id, .. } => {
                        assert!(
                            seen.insert(seq, client_id.as_str().to_owned()).is_none(),
                            "each message once"
                        );
                    }
                    _ => {}
                }
            }
            seen
        }
    });
    for seen in futures_util::future::join_all(reading).await {
        let seqs: Vec<i64> = seen.keys().copied().collect();
        assert_eq!(seqs, (1..=total).collect::<Vec<_>>(), "contiguous");
    }
}

#[actix_web::test]
async fn one_message_sent_to_both_nodes_at_once_is_stored_once() {
    let pair = two_nodes().await;
    let (mut on_one, _, token) = pair.one.user("Alice").await;
    let mut on_two = pair.two.connect(&token).await;
    on_two.welcome().await;
    let general = on_one.general();
    for _ in 0..10 {
        let send = ClientMsg::Send {
            channel: general.clone(),
            client_id: new_client_id(),
            text: "sent twice".into(),
            attachments: vec![],
        };
        let ClientMsg::Send { client_id, .. } = &send else {
            unreachable!()
        };
        tokio::join!(on_one.send(&send), on_two.send(&send));
        let (one_seq, two_seq) = tokio::join!(on_one.ack_for(client_id), on_two.ack_for(client_id));
        assert_eq!(one_seq, two_seq, "both acks carry the one copy's seq");
    }
    let stored = pair
        .one
        .outside_count("SELECT COUNT(*) FROM messages WHERE body = 'sent twice'")
        .await;
    assert_eq!(stored, 10);
}

#[actix_web::test]
async fn a_member_removed_on_one_node_hears_nothing_more_on_the_other() {
    let pair = two_nodes().await;
    let (mut alice, _, _) = pair.one.user("Alice").await;
    let (mut bob, bob_user, _) = pair.two.user("Bob").await;
    let secret = alice.create_channel("secret", true).await;
    alice
        .send(&ClientMsg::Invite {
            channel: secret.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    bob.recv_until(|m| match m {
        ServerMsg::ChannelJoined { channel } if channel.id == secret.id => Some(()),
        _ => None,
    })
    .await;
    alice.post_to(&secret.id, "before").await.unwrap();
    assert_eq!(next_message(&mut bob, &secret.id).await.text, "before");

    alice
        .send(&ClientMsg::RemoveMember {
            channel: secret.id.clone(),
            user: bob_user.id.clone(),
        })
        .await;
    bob.recv_until(|m| match m {
        ServerMsg::ChannelLeft { channel, .. } if channel == secret.id => Some(()),
        _ => None,
    })
    .await;
    alice.post_to(&secret.id, "after").await.unwrap();
    // Bob still hears #general (posted after the secret one), never "after".
    let general = alice.general();
    alice.post_to(&general, "marker").await.unwrap();
    loop {
        match bob.recv().await {
            ServerMsg::Message { message } if message.channel == secret.id => {
                panic!("a removed member heard {:?}", message.text)
            }
            ServerMsg::Message { message } if message.text == "marker" => break,
            _ => {}
        }
    }
}

#[actix_web::test]
async fn signing_out_everywhere_closes_sockets_on_every_node() {
    let pair = two_nodes().await;
    let (mut on_one, _, token) = pair.one.user("Alice").await;
    let mut on_two = pair.two.connect(&token).await;
    on_two.welcome().await;
    let response = pair
        .one
        .http()
        .delete(pair.one.url("/api/sessions"))
        .insert_header(session_cookie(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for socket in [&mut on_one, &mut on_two] {
        let reason = tokio::time::timeout(Duration::from_secs(5), socket.closed())
            .await
            .expect("every socket of the session is closed");
        assert_eq!(reason.map(|r| u16::from(r.code)), Some(4001));
    }
}

#[actix_web::test]
async fn messages_posted_while_a_nodes_listener_is_cut_off_still_arrive_in_order() {
    let pair = two_nodes().await;
    let (mut alice, _, _) = pair.one.user("Alice").await;
    let (mut bob, _, _) = pair.two.user("Bob").await;
    let general = alice.general();
    for i in 1..=10 {
        alice
            .post_to(&general, &format!("before {i}"))
            .await
            .unwrap();
    }
    for seq in 1..=10 {
        assert_eq!(next_message(&mut bob, &general).await.seq, seq);
    }
    // Cut every node's listening connection, and edit and post while they
    // reconnect.
    pair.cut_the_bus().await;
    alice
        .send(&ClientMsg::Edit {
            channel: general.clone(),
            seq: 3,
            text: "before 3, edited while cut off".into(),
        })
        .await;
    for i in 1..=20 {
        alice
            .post_to(&general, &format!("during {i}"))
            .await
            .unwrap();
    }
    let mut edited = None;
    let mut seqs = Vec::new();
    while seqs.len() < 20 || edited.is_none() {
        match bob.recv().await {
            ServerMsg::Message { message } if message.channel == general => seqs.push(message.seq),
            ServerMsg::MessageUpdated { message } if message.seq == 3 => {
                edited = Some(message.text);
            }
            _ => {}
        }
    }
    assert_eq!(
        seqs,
        (11..=30).collect::<Vec<_>>(),
        "nothing lost, nothing out of order"
    );
    assert_eq!(edited.as_deref(), Some("before 3, edited while cut off"));
}

/// Presence frames about `name` that `client` gets within `wait`.
async fn presence_of(client: &mut WsClient, name: &str, wait: Duration) -> Vec<&'static str> {
    let mut heard = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        loop {
            match client.recv().await {
                ServerMsg::UserJoined { user } if user.name == name => heard.push("joined"),
                ServerMsg::UserLeft { user } if user.name == name => heard.push("left"),
                ServerMsg::Presence { user, status } if user.name == name => {
                    heard.push(match status {
                        shared::protocol::PresenceStatus::Online => "online",
                        shared::protocol::PresenceStatus::Away => "away",
                        shared::protocol::PresenceStatus::Offline => "offline",
                    })
                }
                _ => {}
            }
        }
    })
    .await;
    heard
}

#[actix_web::test]
async fn someone_with_tabs_on_both_nodes_is_online_once_and_offline_after_the_last() {
    let mut pair = two_nodes().await;
    let (mut carol, _, _) = pair.one.user("Carol").await;
    let (alice_on_two, _, token) = pair.two.user("Alice").await;
    let short = Duration::from_millis(700);
    assert_eq!(presence_of(&mut carol, "Alice", short).await, ["joined"]);
    // Someone arriving on node one is shown Alice among those online.
    let (_, late_token) = pair.one.sign_up("Late").await;
    let mut late = pair.one.connect(&late_token).await;
    let (_, online) = late.welcome().await;
    let names: Vec<&str> = online.iter().map(|u| u.name.as_str()).collect();
    assert!(
        names.contains(&"Alice") && names.contains(&"Carol"),
        "{names:?}"
    );

    // A second tab, on the other node: not news.
    let mut alice_on_one = pair.one.connect(&token).await;
    alice_on_one.welcome().await;
    alice_on_two.close().await;
    assert_eq!(
        presence_of(&mut carol, "Alice", short).await,
        Vec::<&str>::new()
    );
    alice_on_one.close().await;
    assert_eq!(presence_of(&mut carol, "Alice", short).await, ["left"]);

    // A node that stops takes its people offline with it.
    let (_bob, _, _) = pair.two.user("Bob").await;
    assert_eq!(presence_of(&mut carol, "Bob", short).await, ["joined"]);
    pair.two.stop().await;
    assert_eq!(
        presence_of(&mut carol, "Bob", Duration::from_secs(3)).await,
        ["left"]
    );
}

#[actix_web::test]
async fn sign_ups_from_one_address_are_counted_once_for_all_nodes() {
    let pair = two_nodes_with(|settings| settings.signups_per_minute = 3).await;
    let mut answers = Vec::new();
    for (node, name) in [
        (&pair.one, "first"),
        (&pair.two, "second"),
        (&pair.one, "third"),
        (&pair.two, "fourth"),
    ] {
        let response = node
            .http()
            .post(node.url("/api/session"))
            .send_json(&serde_json::json!({ "username": name }))
            .await
            .unwrap();
        answers.push(response.status().as_u16());
    }
    // Each node alone would allow three: the fourth is the address's fourth.
    assert_eq!(answers, [201, 201, 201, 429]);
}

/// Uploads `body` as `name` into `channel` through `node`.
async fn upload(
    node: &TestApp,
    token: &str,
    channel: &ChannelId,
    name: &str,
    body: &[u8],
) -> shared::Attachment {
    let mut response = node
        .http()
        .post(node.url(&format!("/api/channels/{}/files", channel.0)))
        .query(&[("name", name)])
        .unwrap()
        .insert_header(session_cookie(token))
        .send_body(body.to_vec())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[actix_web::test]
async fn a_file_uploaded_through_one_node_is_posted_and_downloaded_through_the_other() {
    let pair = two_nodes().await;
    let (mut alice, _, alice_token) = pair.one.user("Alice").await;
    let (mut bob, _, bob_token) = pair.two.user("Bob").await;
    let general = alice.general();
    let body = b"notes from node one\n".to_vec();
    let attachment = upload(&pair.one, &alice_token, &general, "notes.txt", &body).await;
    alice
        .send(&ClientMsg::Send {
            channel: general.clone(),
            client_id: new_client_id(),
            text: "see the notes".into(),
            attachments: vec![attachment.id.clone()],
        })
        .await;
    let posted = next_message(&mut bob, &general).await;
    assert_eq!(posted.attachments.len(), 1, "posted with its file");
    let mut download = pair
        .two
        .http()
        .get(pair.two.url(&posted.attachments[0].url()))
        .insert_header(session_cookie(&bob_token))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.body().await.unwrap().to_vec(), body);
}

#[actix_web::test]
async fn a_sweep_on_one_node_holds_uploads_on_every_node() {
    let pair = two_nodes().await;
    let (alice, _, token) = pair.two.user("Alice").await;
    let general = alice.general();
    // What a sweep holds while it removes bytes nothing refers to.
    let sweeper = chat_server::store::Store::open(&pair.one.settings.database_url)
        .await
        .unwrap();
    let held = sweeper.lock_content(true).await.unwrap();
    let request = pair
        .two
        .http()
        .post(pair.two.url(&format!("/api/channels/{}/files", general.0)))
        .query(&[("name", "same.txt")])
        .unwrap()
        .insert_header(session_cookie(&token))
        .send_body(b"bytes a sweep might be removing".to_vec());
    let mut upload = std::pin::pin!(request);
    tokio::select! {
        response = &mut upload => panic!(
            "stored while another node's sweep held the content: {:?}",
            response.map(|r| r.status())
        ),
        () = tokio::time::sleep(Duration::from_millis(800)) => {}
    }
    drop(held);
    let response = tokio::time::timeout(Duration::from_secs(10), upload)
        .await
        .expect("the upload goes on once the sweep is done")
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    sweeper.close().await;
}

#[actix_web::test]
async fn password_guesses_from_one_address_are_counted_once_for_all_nodes() {
    let pair = two_nodes().await;
    let (third, _link) = pair.third("three").await;
    let (_, token) = pair.one.sign_up("Owner").await;
    let response = pair
        .one
        .http()
        .put(pair.one.url("/api/password"))
        .insert_header(session_cookie(&token))
        .send_json(&serde_json::json!({ "password": "correct horse battery" }))
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let nodes = [&pair.one, &pair.two, &third];
    let mut answers = Vec::new();
    for guess in 0..11 {
        let node = nodes[guess % 3];
        let response = node
            .http()
            .post(node.url("/api/sign-in"))
            .send_json(
                &serde_json::json!({ "username": "Owner", "password": format!("guess {guess}") }),
            )
            .await
            .unwrap();
        answers.push(response.status().as_u16());
    }
    // No node has seen more than four of these (each lets five through
    // before its delays), but together they are eleven.
    assert_eq!(answers[..10], [401; 10]);
    assert_eq!(answers[10], 429);
}

#[actix_web::test]
async fn on_nats_a_node_hears_only_about_the_rooms_it_serves() {
    let pair = two_nodes().await;
    let on_nats = !pair.links.is_empty();
    let (mut alice, _, _) = pair.one.user("Alice").await;
    let (mut bob, _, _) = pair.two.user("Bob").await;
    let general = alice.general();
    let side = alice.create_channel("side", false).await.id;
    // Bob, on node two, is not in `side`: nobody there is.
    let heard = "chat_bus_notices_total";
    let before = pair.two.metric(heard).await;
    for i in 1..=40 {
        alice.post_to(&side, &format!("aside {i}")).await.unwrap();
    }
    // One message where Bob is: it comes after the forty from node one.
    alice.post_to(&general, "to everyone").await.unwrap();
    assert_eq!(next_message(&mut bob, &general).await.text, "to everyone");
    let during = pair.two.metric(heard).await - before;
    if on_nats {
        // The one message, and perhaps a heartbeat or two.
        assert!(during < 10.0, "node two heard {during} notices");
    } else {
        // PostgreSQL's NOTIFY reaches every node.
        assert!(during >= 41.0, "node two heard {during} notices");
    }
    // Once Bob joins `side`, node two hears about it.
    bob.send(&ClientMsg::JoinChannel {
        channel: side.clone(),
    })
    .await;
    bob.joined().await;
    let seq = alice.post_to(&side, "now with Bob").await.unwrap();
    let message = next_message(&mut bob, &side).await;
    assert_eq!((message.seq, message.text.as_str()), (seq, "now with Bob"));
}

/// Every file under `folder`, recursively.
fn files_under(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[actix_web::test]
async fn files_in_a_bucket_are_shared_by_nodes_served_in_ranges_and_swept() {
    let bucket = s3::fresh_bucket().await;
    // Each node with a folder of its own: only the bucket is shared.
    let pair = two_nodes_with(|s| {
        s3::bucket_settings(s, &bucket);
        s.files_dir = s.files_dir.join(s.node_id.clone().unwrap());
    })
    .await;
    let (mut alice, _, alice_token) = pair.one.user("Alice").await;
    let (mut bob, _, bob_token) = pair.two.user("Bob").await;
    let general = alice.general();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let attachment = upload(&pair.one, &alice_token, &general, "data.bin", &body).await;
    assert_eq!(s3::objects_in(&bucket).await, 1);
    for node in [&pair.one.settings, &pair.two.settings] {
        let stored = files_under(&node.files_dir.join("sha256"));
        assert!(stored.is_empty(), "kept in a folder: {stored:?}");
    }
    alice
        .send(&ClientMsg::Send {
            channel: general.clone(),
            client_id: new_client_id(),
            text: "the data".into(),
            attachments: vec![attachment.id.clone()],
        })
        .await;
    let posted = next_message(&mut bob, &general).await;
    let url = pair.two.url(&posted.attachments[0].url());
    let get = |range: Option<&'static str>| {
        let mut request = pair
            .two
            .http()
            .get(&url)
            .insert_header(session_cookie(&bob_token));
        if let Some(range) = range {
            request = request.insert_header(("Range", range));
        }
        request.send()
    };
    let mut whole = get(None).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(
        whole.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert!(whole.headers().contains_key("content-security-policy"));
    assert_eq!(whole.body().limit(1 << 20).await.unwrap().to_vec(), body);
    let mut part = get(Some("bytes=1000-1999")).await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers().get("content-range").unwrap(),
        "bytes 1000-1999/200000"
    );
    assert_eq!(part.body().await.unwrap().to_vec(), body[1000..2000]);
    let beyond = get(Some("bytes=300000-")).await.unwrap();
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    // Deleted with its message, then swept from the bucket.
    alice
        .send(&ClientMsg::Delete {
            channel: general.clone(),
            seq: posted.seq,
        })
        .await;
    next_update(&mut bob, &general).await;
    let store = chat_server::store::Store::open(&pair.one.settings.database_url)
        .await
        .unwrap();
    let removed = chat_server::media::janitor::sweep(&store, &pair.one.file_store(), 0)
        .await
        .unwrap();
    store.close().await;
    assert_eq!(removed, 1);
    assert_eq!(s3::objects_in(&bucket).await, 0);
}

/// The next `MessageUpdated` frame of `channel`.
async fn next_update(client: &mut WsClient, channel: &ChannelId) -> shared::ChatMessage {
    client
        .recv_until(|m| match m {
            ServerMsg::MessageUpdated { message } if &message.channel == channel => Some(message),
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn a_preview_job_left_in_the_database_is_done_by_a_node() {
    let mut answers = std::collections::HashMap::new();
    answers.insert(
        "/article".to_owned(),
        pages::Answer::ok(
            "text/html",
            r#"<html><head><meta property="og:title" content="Left behind"></head></html>"#,
        ),
    );
    let site = pages::PageServer::start("127.0.0.2", answers).await;
    let pages_ip: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let pair = two_nodes_with(|s| {
        s.link_previews = true;
        s.preview_allowed_addresses = vec![pages_ip];
        s.preview_resolve = vec![("pages.test".into(), pages_ip)];
    })
    .await;
    let (mut alice, _, _) = pair.one.user("Alice").await;
    let (mut bob, _, _) = pair.two.user("Bob").await;
    let general = alice.general();
    let seq = alice.post_to(&general, "no link here").await.unwrap();
    next_message(&mut bob, &general).await;
    // As a node that stopped before fetching would have left it: queued,
    // its lease run out, and no node told about it.
    let link = site.url("pages.test", "/article");
    pair.one
        .outside_sql(&format!(
            "INSERT INTO preview_jobs (channel_id, seq, link, due_at, tries)
             VALUES ('{}', {seq}, '{link}', 0, 1)",
            general.0
        ))
        .await;
    let updated = next_update(&mut bob, &general).await;
    assert_eq!(updated.seq, seq);
    let preview = updated.preview.expect("a preview");
    assert_eq!(preview.title.as_deref(), Some("Left behind"));
    assert_eq!(site.hits("/article"), 1, "made once, by one node");
    // And the job is done (deleted just after the preview went out).
    let mut waiting = 1;
    for _ in 0..50 {
        waiting = pair
            .one
            .outside_count("SELECT COUNT(*) FROM preview_jobs")
            .await;
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting, 0, "the job is still waiting");
}

#[actix_web::test]
async fn while_a_nodes_bus_is_down_it_keeps_acknowledging_and_the_others_catch_up() {
    let pair = two_nodes().await;
    let (mut alice, _, _) = pair.one.user("Alice").await;
    let (mut bob, _, _) = pair.two.user("Bob").await;
    let general = alice.general();
    let Some(link) = pair.links.first() else {
        // PostgreSQL's NOTIFY is in the writer's transaction: its bus is
        // down only when its database is.
        return;
    };
    link.down();
    // More than the NATS connection queues while it is away (2,048).
    const POSTED: i64 = 2_500;
    for i in 1..=POSTED {
        assert_eq!(alice.post_to(&general, &format!("m{i}")).await, Ok(i));
    }
    link.restore();
    let mut seqs = Vec::new();
    while seqs.len() < POSTED as usize {
        seqs.push(next_message(&mut bob, &general).await.seq);
    }
    assert_eq!(seqs, (1..=POSTED).collect::<Vec<_>>());
}
