//! A client that stops reading is disconnected instead of stalling the room.

use std::time::Duration;

use shared::ServerMsg;
use tokio::io::AsyncReadExt;

use crate::helpers::TestApp;
use crate::raw_socket::stuck_socket;

#[actix_web::test]
async fn a_stuck_client_is_dropped_and_does_not_stall_the_others() {
    let app = TestApp::spawn_with(|settings| settings.outbound_queue = 300).await;
    let (stuck_user, stuck_token) = app.sign_up("Stuck").await;
    let mut stuck = stuck_socket(&app, &stuck_token).await;
    let (mut bob, _, _) = app.user("Bob").await;
    let (mut carol, _, _) = app.user("Carol").await;

    // Rounds of 100 broadcasts of ~4 KB until the server gives up on the stuck
    // client: its queue (300 frames) plus the socket buffers in between hold a
    // few MB at most, so at most 40 rounds (16 MB) are ever sent.
    let max_rounds = 40;
    let text = "z".repeat(3_900);
    // Bob sends in rounds; Bob and Carol read everything each round, as browsers do.
    let per_round = 100;
    let mut saw_stuck_leave = false;
    let mut rounds = 0;
    while !saw_stuck_leave && rounds < max_rounds {
        rounds += 1;
        for _ in 0..per_round {
            bob.say(&text).await;
        }
        let carol_reads = async {
            let mut received = 0;
            let mut saw_leave = false;
            while received < per_round {
                match carol.recv().await {
                    ServerMsg::Message { .. } => received += 1,
                    ServerMsg::UserLeft { user } if user == stuck_user => saw_leave = true,
                    _ => {}
                }
            }
            saw_leave
        };
        let bob_reads = async {
            let mut acks = 0;
            while acks < per_round {
                if let ServerMsg::Ack { .. } = bob.recv().await {
                    acks += 1;
                }
            }
        };
        let (saw_leave, ()) = tokio::join!(carol_reads, bob_reads);
        saw_stuck_leave |= saw_leave;
    }
    assert!(
        saw_stuck_leave,
        "the stuck client was dropped after {rounds} rounds"
    );
    let sent_bytes = rounds * per_round * text.len();

    // The server has let go of the stuck connection: reading it now drains what
    // was buffered and then reaches the end of the stream.
    let drained = tokio::time::timeout(Duration::from_secs(20), async {
        let mut sink = Vec::new();
        stuck.read_to_end(&mut sink).await.map(|_| sink.len())
    })
    .await
    .expect("the server closed the stuck connection");
    let bytes = drained.unwrap_or(0);
    assert!(
        bytes < sent_bytes,
        "the stuck client did not get everything ({bytes} of {sent_bytes} bytes)"
    );
    // Bob and Carol are still connected and chatting.
    let seq = carol.say_acked("still here").await;
    let message = bob
        .recv_until(|m| match m {
            ServerMsg::Message { message } => Some(message),
            _ => None,
        })
        .await;
    assert_eq!(message.seq, seq);
}
