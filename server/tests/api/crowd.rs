//! A crowd: more people online than one page. Welcomes stay bounded, the
//! online list comes page by page, and comings and goings reach those who do
//! not see everyone as coalesced summaries, not one frame per person.

use shared::protocol::{ONLINE_PAGE, PresenceStatus};
use shared::{ClientMsg, ServerMsg, UserInfo};

use crate::helpers::{TestApp, WsClient};

async fn page(
    client: &mut WsClient,
    query: &str,
    after: Option<String>,
) -> (Vec<UserInfo>, Option<String>) {
    client
        .send(&ClientMsg::OnlineMembers {
            query: query.into(),
            after,
        })
        .await;
    client
        .recv_until(|m| match m {
            ServerMsg::OnlineMembers { users, next, .. } => {
                Some((users.into_iter().map(|u| u.user).collect(), next))
            }
            _ => None,
        })
        .await
}

#[actix_web::test]
async fn a_crowd_gets_bounded_welcomes_pages_and_coalesced_notices() {
    let app = TestApp::spawn_with(|settings| settings.signups_per_minute = 10_000).await;
    let crowd = ONLINE_PAGE + 20;
    let (mut first, _, _) = app.user("first").await;
    let mut people = Vec::new();
    for n in 1..crowd {
        people.push(app.user(&format!("person{n:03}")).await);
    }

    // A newcomer hears of a page of people and the count, not of everyone.
    let (late_user, token) = app.sign_up("late").await;
    let mut late = app.connect(&token).await;
    let ServerMsg::Welcome {
        online,
        online_count,
        ..
    } = late.recv().await
    else {
        panic!("welcome first");
    };
    assert_eq!(online.len(), ONLINE_PAGE);
    assert_eq!(online_count as usize, crowd + 1);
    let newest = &people.last().unwrap().1;
    assert!(online.contains(newest), "the recently active are in it");

    // Someone who saw everyone come one by one while the room was small now
    // gets summaries, and joins to the big #general come coalesced: counted
    // up, they make everyone.
    let mut one_by_one = 0;
    let mut summary_count = None;
    let mut members = 1;
    while summary_count.is_none() || members < crowd + 1 {
        match first.recv().await {
            ServerMsg::UserJoined { .. } => one_by_one += 1,
            ServerMsg::MemberJoined { .. } => members += 1,
            ServerMsg::PresenceSummary { online_count, .. } => summary_count = Some(online_count),
            ServerMsg::MembersJoined { users, others, .. } => {
                assert!(users.len() <= 3);
                members += users.len() + others as usize;
            }
            _ => {}
        }
    }
    assert_eq!(members, crowd + 1);
    assert!(one_by_one < ONLINE_PAGE, "{one_by_one} one-by-one notices");
    assert!(summary_count.unwrap() as usize > ONLINE_PAGE);

    // The whole list, a page at a time, in name order; and a search.
    let (first_page, next) = page(&mut late, "", None).await;
    assert_eq!(first_page.len(), ONLINE_PAGE);
    assert_eq!(first_page[0].name, "first");
    let (second_page, next) = page(&mut late, "", next).await;
    assert_eq!(next, None);
    assert_eq!(first_page.len() + second_page.len(), crowd + 1);
    assert!(
        first_page
            .iter()
            .chain(&second_page)
            .any(|u| u.id == late_user.id)
    );
    let (found, next) = page(&mut late, "PERSON01", None).await;
    let names: Vec<&str> = found.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        (10..20)
            .map(|n| format!("person{n:03}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(next, None);

    // Someone the newcomer was shown goes: it hears so by name; the one who
    // does not see everyone hears it in the next summary.
    let (gone, gone_user, _) = people.pop().unwrap();
    gone.close().await;
    late.recv_until(|m| match m {
        ServerMsg::Presence { user, status } if user.id == gone_user.id => {
            assert_eq!(status, PresenceStatus::Offline);
            Some(())
        }
        ServerMsg::UserLeft { .. } => panic!("not one by one in a crowd"),
        _ => None,
    })
    .await;
    first
        .recv_until(|m| match m {
            ServerMsg::PresenceSummary {
                left, online_count, ..
            } => (left.iter().any(|u| u.id == gone_user.id) && online_count as usize == crowd)
                .then_some(()),
            ServerMsg::UserLeft { .. } => panic!("not one by one in a crowd"),
            _ => None,
        })
        .await;
}

#[actix_web::test]
async fn people_come_a_page_at_a_time_and_the_server_searches_them_all() {
    use shared::protocol::USERS_PAGE;
    let app = TestApp::spawn_with(|settings| settings.signups_per_minute = 10_000).await;
    let total = USERS_PAGE + 10;
    for n in 0..total - 1 {
        app.sign_up(&format!("member{n:03}")).await;
    }
    let (mut zed, _, _) = app.user("zed").await;
    let mut ask = async |query: &str, after: Option<String>| {
        zed.send(&ClientMsg::ListUsers {
            query: query.into(),
            after,
        })
        .await;
        zed.recv_until(|m| match m {
            ServerMsg::Users { users, next, .. } => Some((users, next)),
            _ => None,
        })
        .await
    };
    let (first, next) = ask("", None).await;
    assert_eq!(first.len(), USERS_PAGE);
    assert_eq!(first[0].user.name, "member000");
    let (second, next) = ask("", next).await;
    assert_eq!(next, None);
    assert_eq!(first.len() + second.len(), total);
    assert_eq!(second.last().unwrap().user.name, "zed");
    assert_eq!(second.last().unwrap().status, PresenceStatus::Online);
    // Beyond the first page too: the server searches everyone.
    let (found, next) = ask("MEMBER20", None).await;
    let names: Vec<&str> = found.iter().map(|p| p.user.name.as_str()).collect();
    assert_eq!(
        names,
        (200..209)
            .map(|n| format!("member{n:03}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(next, None);
}
