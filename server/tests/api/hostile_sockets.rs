//! One hostile user over the WebSocket must not freeze, flood or crash anyone
//! else: replies are bounded in bytes, every kind of request is paced per
//! user (not per socket), connections per user and address are capped, and
//! floods of cheap requests never make other people's messages fail.

use std::time::Duration;

use actix_web::http::StatusCode;
use shared::{ClientMsg, ErrorCode, ServerMsg};
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;

use crate::helpers::{TestApp, WsClient, new_client_id};
use crate::raw_socket::{closed_within, established, send_frames, stuck_socket};

const MIB: usize = 1024 * 1024;

/// Posts `count` messages of `text` and waits for every ack.
async fn seed(client: &mut WsClient, count: usize, text: &str) {
    let ids: Vec<_> = {
        let mut ids = Vec::new();
        for _ in 0..count {
            ids.push(client.say(text).await);
        }
        ids
    };
    for id in &ids {
        client.ack_for(id).await;
    }
}

/// Reads and throws away everything the server sends, in the background
/// (a client that keeps up, but is not looked at).
fn drain(mut stream: OwnedReadHalf) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_secs(20), stream.read(&mut buffer)).await
        {
            if n == 0 {
                break;
            }
        }
    })
}

#[actix_web::test]
async fn a_client_asking_without_reading_is_held_to_its_byte_budget_and_closed() {
    let budget = 4 * MIB;
    let app = TestApp::spawn_with(|settings| {
        settings.outbound_bytes = budget;
        settings.stalled_client_timeout = 2;
    })
    .await;
    let (mut alice, _, _) = app.user("Alice").await;
    // 200 messages of ~8 KB: one history page of them is 1.6 MB of JSON.
    seed(&mut alice, 200, &"é".repeat(3_999)).await;
    let general = alice.general();
    let (_, token) = app.sign_up("Mallory").await;
    let mut mallory = stuck_socket(&app, &token).await;
    // The upgrade answers before the connection is counted: wait for it, or
    // the count below could read 1 before Mallory is in and 2 just after.
    for _ in 0..100 {
        if app.metric("chat_connections_opened_total").await >= 2.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.metric("chat_connections").await, 2.0, "Mallory is in");
    let ask = serde_json::to_string(&ClientMsg::History {
        channel: general,
        before_seq: i64::MAX,
        limit: Some(200),
    })
    .unwrap();
    // 400 requests would be ~640 MB of replies if they were all queued.
    let sending = tokio::spawn(async move {
        let sent = send_frames(
            &mut mallory,
            std::iter::repeat_n(ask, 400),
            Duration::from_secs(3),
        )
        .await;
        (mallory, sent)
    });
    // Closed either by the server (its replies waited too long) or by the
    // kernel (TCP_USER_TIMEOUT: nothing acknowledged for as long), whichever
    // comes first; either way only Alice stays connected.
    // Generous (up to 60 s): each reply is a 1 MiB page to read and encode,
    // and a debug build sharing two cores with the whole parallel suite
    // makes several before the loopback buffers fill (alone: about 2.6 s).
    let mut most_queued = 0.0f64;
    for _ in 0..300 {
        most_queued = most_queued.max(app.metric("chat_outbound_queued_bytes").await);
        if app.metric("chat_connections").await <= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        app.metric("chat_connections").await,
        1.0,
        "the stalled client was closed"
    );
    // At most the budget's reply share plus one reply of at most 1 MiB.
    assert!(
        most_queued <= (budget / 8 + 2 * MIB) as f64,
        "{most_queued} bytes were queued"
    );
    let (mut mallory, _) = sending.await.unwrap();
    // Reading through what the kernels still buffer takes a while for a
    // debug build on a machine busy with the other tests (it failed at 10 s).
    assert!(closed_within(&mut mallory, Duration::from_secs(30)).await);
    // Everyone else carries on.
    alice.say_acked("still here").await;
}

#[actix_web::test]
async fn a_client_that_never_reads_is_cut_off_by_the_kernel_too() {
    let app = TestApp::spawn_with(|settings| settings.stalled_client_timeout = 2).await;
    let (mut alice, _, _) = app.user("Alice").await;
    seed(&mut alice, 100, &"é".repeat(3_999)).await;
    let (_, token) = app.sign_up("Mallory").await;
    let mut mallory = stuck_socket(&app, &token).await;
    let client = mallory.local_addr().unwrap();
    let ask = serde_json::to_string(&ClientMsg::History {
        channel: alice.general(),
        before_seq: i64::MAX,
        limit: Some(100),
    })
    .unwrap();
    send_frames(
        &mut mallory,
        std::iter::repeat_n(ask, 50),
        Duration::from_secs(2),
    )
    .await;
    assert!(established(app.addr, client), "connected at first");
    // Mallory never reads. Closing the WebSocket is not enough (its last
    // frames could sit in the socket forever): the connection must go.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while established(app.addr, client) {
        assert!(
            std::time::Instant::now() < deadline,
            "the server still holds the connection of a client that never reads"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(mallory);
}

#[actix_web::test]
async fn a_presence_flood_reaches_others_as_a_few_frames() {
    let app = TestApp::spawn_with(|settings| {
        settings.request_limits = Default::default();
        settings.outbound_queue = 256;
    })
    .await;
    let (mut victim, _, _) = app.user("Victim").await;
    let (_, mallory_token) = app.sign_up("Mallory").await;
    let mallory = stuck_socket(&app, &mallory_token).await;
    let mallory = {
        let mut mallory = mallory;
        let toggles = (0..20_000)
            .map(|n| serde_json::to_string(&ClientMsg::SetAway { away: n % 2 == 0 }).unwrap());
        send_frames(&mut mallory, toggles, Duration::from_secs(2)).await;
        mallory
    };
    // The victim was not reading meanwhile (a busy tab); now it does.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut presence = 0;
    while let Ok(frame) = tokio::time::timeout(Duration::from_millis(500), victim.recv()).await {
        if matches!(frame, ServerMsg::Presence { .. }) {
            presence += 1;
        }
    }
    // A burst of 6, then one every 5 s.
    assert!(presence <= 8, "{presence} presence frames");
    victim.say_acked("not dropped").await;
    drop(mallory);
}

#[actix_web::test]
async fn floods_of_edits_reactions_read_marks_and_channels_do_not_fail_anyone_s_messages() {
    let app = TestApp::spawn().await;
    let (mut victim, _, _) = app.user("Victim").await;
    let (mut mallory, _, mallory_token) = app.user("Mallory").await;
    let spam = mallory.create_channel("spam", false).await;
    let target = {
        let id = new_client_id();
        mallory
            .send(&ClientMsg::Send {
                channel: spam.id.clone(),
                client_id: id.clone(),
                text: "edit me".into(),
                attachments: vec![],
            })
            .await;
        mallory.ack_for(&id).await
    };
    mallory.close().await;
    let mut flooders = Vec::new();
    for socket in 0..4 {
        let (reading, mut stream) = stuck_socket(&app, &mallory_token).await.into_split();
        let channel = spam.id.clone();
        let requests = (0..600).map(move |n| {
            let message = match n % 4 {
                0 => ClientMsg::Edit {
                    channel: channel.clone(),
                    seq: target,
                    text: format!("edit {socket} {n}"),
                },
                1 => ClientMsg::React {
                    channel: channel.clone(),
                    seq: target,
                    emoji: "👍".into(),
                    add: n % 8 == 1,
                },
                2 => ClientMsg::MarkRead {
                    channel: channel.clone(),
                    seq: target,
                },
                _ => ClientMsg::CreateChannel {
                    name: format!("spam-{socket}-{n}"),
                    topic: String::new(),
                    private: n % 2 == 0,
                },
            };
            serde_json::to_string(&message).unwrap()
        });
        // The replies are read (and dropped) so the flood runs at full speed.
        let draining = drain(reading);
        let sending = tokio::spawn(async move {
            send_frames(&mut stream, requests, Duration::from_secs(10)).await
        });
        flooders.push((draining, sending));
    }
    let mut refused = 0;
    for n in 0..200 {
        let id = victim.say(&format!("message {n}")).await;
        loop {
            match victim.recv().await {
                ServerMsg::Ack { client_id, .. } if client_id == id => break,
                ServerMsg::Error {
                    client_id: Some(client_id),
                    code,
                    ..
                } if client_id == id => {
                    assert_eq!(code, ErrorCode::StoreUnavailable);
                    refused += 1;
                    break;
                }
                _ => {}
            }
        }
    }
    assert_eq!(refused, 0, "messages refused during the flood");
    for (_, sender) in flooders {
        assert!(sender.await.unwrap() > 0);
    }
}

#[actix_web::test]
async fn posting_is_paced_per_user_however_many_sockets_they_open() {
    let app = TestApp::spawn_with(|settings| {
        settings.message_burst = 5;
        settings.messages_per_second = 10;
    })
    .await;
    let (first, _, token) = app.user("Alice").await;
    let mut sockets = vec![];
    for _ in 0..3 {
        let mut socket = app.connect(&token).await;
        socket.welcome().await;
        sockets.push(socket);
    }
    sockets.push(first);
    let started = std::time::Instant::now();
    let mut ids = Vec::new();
    for socket in &mut sockets {
        for n in 0..10 {
            ids.push(socket.say(&format!("from many sockets {n}")).await);
        }
    }
    let mut sent_at = Vec::new();
    for socket in &mut sockets {
        for _ in 0..10 {
            let at = socket
                .recv_until(|m| match m {
                    ServerMsg::Ack { sent_at, .. } => Some(sent_at),
                    _ => None,
                })
                .await;
            sent_at.push(at);
        }
    }
    sent_at.sort_unstable();
    // 40 messages at 5 at once then 10 per second take at least 3.5 s
    // (paced per socket they would take 0.5 s).
    let spread = sent_at.last().unwrap() - sent_at.first().unwrap();
    assert!(spread >= 3_000, "40 messages stored within {spread} ms");
    assert!(started.elapsed() >= Duration::from_secs(3));
}

#[actix_web::test]
async fn connections_are_capped_per_user_and_per_address() {
    let app = TestApp::spawn_with(|settings| {
        settings.max_connections_per_user = 3;
        settings.max_connections_per_address = 5;
    })
    .await;
    let (_, alice) = app.sign_up("Alice").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(app.connect(&alice).await);
    }
    let refused = app.try_connect(Some(&app.origin()), Some(&alice)).await;
    assert_eq!(refused.err(), Some(StatusCode::TOO_MANY_REQUESTS));
    // One closes: there is room again.
    open.pop().unwrap().close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    open.push(app.connect(&alice).await);

    let (_, bob) = app.sign_up("Bob").await;
    open.push(app.connect(&bob).await);
    open.push(app.connect(&bob).await);
    // Five from this address now: Carol is refused although she has none.
    let (_, carol) = app.sign_up("Carol").await;
    let refused = app.try_connect(Some(&app.origin()), Some(&carol)).await;
    assert_eq!(refused.err(), Some(StatusCode::TOO_MANY_REQUESTS));
}

#[actix_web::test]
async fn a_client_id_used_in_another_conversation_is_refused_not_acknowledged() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let rust = alice.create_channel("rust", false).await;
    let id = new_client_id();
    alice
        .send(&ClientMsg::Send {
            channel: alice.general(),
            client_id: id.clone(),
            text: "in general".into(),
            attachments: vec![],
        })
        .await;
    alice.ack_for(&id).await;
    alice
        .send(&ClientMsg::Send {
            channel: rust.id.clone(),
            client_id: id.clone(),
            text: "in rust".into(),
            attachments: vec![],
        })
        .await;
    let code = alice
        .recv_until(|m| match m {
            ServerMsg::Ack { client_id, .. } if client_id == id => Some(None),
            ServerMsg::Error {
                code,
                client_id: Some(client_id),
                ..
            } if client_id == id => Some(Some(code)),
            _ => None,
        })
        .await;
    assert_eq!(code, Some(ErrorCode::InvalidFields), "not a false ack");
    alice
        .send(&ClientMsg::Sync {
            channel: rust.id.clone(),
            after_seq: None,
            after_change: None,
        })
        .await;
    let messages = alice
        .recv_until(|m| match m {
            ServerMsg::Synced { messages, .. } => Some(messages),
            _ => None,
        })
        .await;
    assert!(messages.is_empty(), "{messages:?}");
}

#[actix_web::test]
async fn a_frame_announcing_a_huge_length_is_refused_before_it_is_buffered() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (_, token) = app.sign_up("Mallory").await;
    let mut socket = stuck_socket(&app, &token).await;
    // A masked text frame announcing 2^40 bytes, then bytes that never end.
    let mut header = vec![0x81, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 40).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    socket.write_all(&header).await.unwrap();
    // A server that buffers the frame keeps all of this (its only limit is
    // a client silent for 45 s) and says nothing; one that refuses it stops
    // at 64 KiB, says why and closes the socket.
    let chunk = vec![b'x'; 16 * 1024];
    for _ in 0..64 {
        if tokio::time::timeout(Duration::from_secs(2), socket.write_all(&chunk))
            .await
            .map_or(true, |written| written.is_err())
        {
            break;
        }
    }
    let refused = "chat_refusals_total{reason=\"frame_too_large\"}";
    for _ in 0..50 {
        if app.metric(refused).await >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.metric(refused).await, 1.0);
    assert!(closed_within(&mut socket, Duration::from_secs(10)).await);
    alice.say_acked("still here").await;
}
