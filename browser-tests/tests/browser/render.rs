//! What a frame from the server costs the browser's main thread once the
//! conversation on screen holds a full window (600 entries) of history. The
//! figures are printed, not asserted: they are a benchmark
//! (`cargo xtask bench render` runs this test in a release build), and a
//! timed assertion would fail on a slow machine for no fault of the code.
//! What the test does assert is that the instrument saw every frame it
//! measured, that the page showed each message, and that a new message left
//! the rows already shown in place instead of building them again.

use crate::harness::{Driver, TestServer};

/// Wraps every WebSocket `onmessage` handler the page installs so that each
/// frame records how long its handling took: the handler itself, and the
/// rendering it schedules (the client renders in a microtask queued by the
/// handler; the one queued here runs after it, and reading the list's
/// scroll height inside the render forces layout, so that is counted too).
const MEASURE_FRAMES: &str = r#"
    const original = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
    window.frameCosts = [];
    Object.defineProperty(WebSocket.prototype, 'onmessage', {
        configurable: true,
        get() { return original.get.call(this); },
        set(handler) {
            if (!handler) { return original.set.call(this, handler); }
            original.set.call(this, function (event) {
                const started = performance.now();
                handler.call(this, event);
                Promise.resolve().then(() => {
                    const ms = performance.now() - started;
                    window.frameCosts.push({ type: JSON.parse(event.data).type, ms });
                });
            });
        },
    });
"#;

/// How many frames of each kind are measured.
const PROBES: usize = 30;

#[actix_web::test]
async fn the_cost_of_one_frame_with_600_messages_loaded() {
    let server = TestServer::start_with(|settings| settings.message_burst = 1_000).await;
    let mut driver = Driver::start().await;
    let bob = driver.browser(1280, 800).await;
    bob.open(&server.url()).await;
    bob.client.execute(MEASURE_FRAMES, vec![]).await.unwrap();
    bob.sign_up("Bob").await;

    let mut alice = server.speaker("Alice").await;
    alice
        .say((1..=600).map(|n| format!("m{n} with **some** _markdown_ and a 😄")))
        .await;
    bob.wait_for_message("Alice: m600 with some markdown and a 😄")
        .await;
    bob.eventually("a full window of messages shows", || async {
        bob.messages().await.len() >= 590
    })
    .await;

    // A row on screen before the probes is the same element after them: a
    // new message adds its row and leaves the others be (rebuilt rows would
    // also lose the reader's text selection and the hovered menu).
    bob.client
        .execute(
            "window.frameCosts.length = 0;
             const rows = document.querySelectorAll('[data-testid=\"message\"]');
             window.keptRow = rows[rows.length - 10];",
            vec![],
        )
        .await
        .unwrap();
    for n in 1..=PROBES {
        alice.typing().await;
        let line = format!("probe {n}");
        alice.say([line.clone()]).await;
        bob.wait_for_message(&format!("Alice: {line}")).await;
    }
    let costs = bob
        .client
        .execute("return window.frameCosts;", vec![])
        .await
        .unwrap();
    let of = |kind: &str| -> Vec<f64> {
        let mut ms: Vec<f64> = costs
            .as_array()
            .unwrap()
            .iter()
            .filter(|cost| cost["type"] == kind)
            .map(|cost| cost["ms"].as_f64().unwrap())
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let (messages, typing) = (of("message"), of("typing"));
    assert_eq!(
        messages.len(),
        PROBES,
        "every message was measured: {costs}"
    );
    // The server passes a burst of typing notices, then two a second.
    assert!(typing.len() >= 10, "typing notices were measured: {costs}");
    let shown = bob.messages().await.len();
    assert!(shown >= 590, "the window stayed full: {shown}");
    let median = |ms: &[f64]| ms[ms.len() / 2];
    let p90 = |ms: &[f64]| ms[ms.len() * 9 / 10];
    println!(
        "frame cost with {shown} messages shown: message median {:.2} ms, p90 {:.2} ms; \
         typing median {:.2} ms, p90 {:.2} ms",
        median(&messages),
        p90(&messages),
        median(&typing),
        p90(&typing),
    );
    let kept = bob
        .client
        .execute("return window.keptRow.isConnected;", vec![])
        .await
        .unwrap();
    assert_eq!(
        kept,
        serde_json::json!(true),
        "existing rows were not rebuilt"
    );
    bob.close().await;
}
