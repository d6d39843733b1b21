//! Join and leave notices and the online list.

use std::time::Duration;

use shared::ServerMsg;

use crate::helpers::TestApp;

#[actix_web::test]
async fn others_see_a_user_come_online_and_leave() {
    let app = TestApp::spawn().await;
    let (mut alice, alice_user, _) = app.user("Alice").await;
    let (bob_user, bob_token) = app.sign_up("Bob").await;

    let mut bob_tab1 = app.connect(&bob_token).await;
    let (_, online) = bob_tab1.welcome().await;
    let names: Vec<&str> = online.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["Alice", "Bob"]);
    // Signing up made Bob a member of #general; connecting brought him online.
    let general = alice.general();
    assert_eq!(
        alice.recv().await,
        ServerMsg::MemberJoined {
            channel: general,
            user: bob_user.clone()
        }
    );
    assert_eq!(
        alice.recv().await,
        ServerMsg::UserJoined {
            user: bob_user.clone()
        }
    );

    // A second tab of Bob is still one Bob: no second notice.
    let mut bob_tab2 = app.connect(&bob_token).await;
    bob_tab2.welcome().await;
    alice.expect_silence(Duration::from_millis(300)).await;

    // Closing one of two tabs: Bob is still online.
    bob_tab1.close().await;
    alice.expect_silence(Duration::from_millis(300)).await;

    bob_tab2.close().await;
    assert_eq!(alice.recv().await, ServerMsg::UserLeft { user: bob_user });

    // Bob's own connections never got a notice about Alice joining (she was there first).
    drop(alice_user);
}

#[actix_web::test]
async fn a_dropped_connection_counts_as_leaving() {
    let app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (bob, bob_user, _) = app.user("Bob").await;
    assert_eq!(alice.online_notice().await, bob_user);
    drop(bob); // no close frame: the TCP connection just goes away
    assert_eq!(alice.recv().await, ServerMsg::UserLeft { user: bob_user });
}

#[actix_web::test]
async fn shutdown_sends_going_away_to_every_socket() {
    let mut app = TestApp::spawn().await;
    let (mut alice, _, _) = app.user("Alice").await;
    let (mut bob, _, _) = app.user("Bob").await;
    let stop = tokio::spawn(async move {
        app.stop().await;
    });
    for client in [&mut alice, &mut bob] {
        let reason = client.closed().await.expect("a close reason");
        assert_eq!(u16::from(reason.code), 1001);
    }
    stop.await.unwrap();
}
