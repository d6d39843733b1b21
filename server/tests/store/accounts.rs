//! Accounts in every dialect: sign-ups in batches with look-alike names,
//! sessions (idle expiry, sign-out, sign-out everywhere), passwords, the
//! people directory's pages, and blocks.

use chat_server::store::{Accounts, NewAccount, StoreError};
use shared::UserId;
use shared::validate::Username;

crate::in_every_dialect!(
    a_batch_of_sign_ups_gives_each_name_and_its_look_alikes_to_one_person,
    sessions_are_found_by_token_until_idle_or_ended,
    a_password_ends_the_other_sessions,
    the_directory_comes_in_pages_by_name,
    blocks_are_kept_per_person,
);

fn account(name: &str, token_hash: &str) -> NewAccount {
    NewAccount {
        name: Username::parse(name).unwrap(),
        token_hash: token_hash.into(),
    }
}

async fn a_batch_of_sign_ups_gives_each_name_and_its_look_alikes_to_one_person(
    store: &impl Accounts,
) {
    store
        .create_user_with_session(&Username::parse("dave").unwrap(), "dave-token")
        .await
        .unwrap();
    let batch = [
        account("alice", "t1"),
        account("bob", "t2"),
        account("ALICE", "t3"),
        account("\u{0430}lice", "t4"),
        account("Dave", "t5"),
        account("carol", "t6"),
    ];
    let answers = store.create_accounts(&batch).await.unwrap();
    let created: Vec<bool> = answers.iter().map(Result::is_ok).collect();
    assert_eq!(created, [true, true, false, false, false, true]);
    for answer in &answers[2..5] {
        assert!(matches!(answer, Err(StoreError::NameTaken)), "{answer:?}");
    }

    // Each new person has a working session under their own token.
    for (sent, answer) in batch.iter().zip(&answers) {
        let Ok(session) = answer else { continue };
        let found = store
            .session_by_token_hash(&sent.token_hash, 0)
            .await
            .unwrap()
            .expect("a session");
        assert_eq!(found.user, session.user);
        assert_eq!(found.session_id, session.session_id);
        assert!(!found.has_password);
        assert_eq!(
            store.user(&session.user.id).await.unwrap(),
            Some(session.user.clone())
        );
    }
    // A refused look-alike got no session, and the name still stands for alice.
    assert!(
        store
            .session_by_token_hash("t3", 0)
            .await
            .unwrap()
            .is_none()
    );
    let (alice, hash) = store
        .credentials(&Username::parse("Alice").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alice.name, "alice");
    assert_eq!(hash, None);
    // An empty batch is no error.
    assert!(store.create_accounts(&[]).await.unwrap().is_empty());
}

async fn sessions_are_found_by_token_until_idle_or_ended(store: &impl Accounts) {
    let first = store
        .create_user_with_session(&Username::parse("erin").unwrap(), "first")
        .await
        .unwrap();
    let second = store.create_session(&first.user, "second").await.unwrap();
    assert!(store.session_exists(&first.session_id).await.unwrap());
    assert!(store.session_exists(&second.session_id).await.unwrap());

    // Unused since before the cutoff: not found (and not touched).
    let future = i64::MAX;
    assert!(
        store
            .session_by_token_hash("first", future)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_by_token_hash("first", 0)
            .await
            .unwrap()
            .is_some()
    );

    // Signing out ends one session, once.
    assert!(store.delete_session(&first.session_id).await.unwrap());
    assert!(!store.delete_session(&first.session_id).await.unwrap());
    assert!(
        store
            .session_by_token_hash("first", 0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .session_by_token_hash("second", 0)
            .await
            .unwrap()
            .is_some()
    );

    // Sweeping idle sessions goes a batch at a time.
    for n in 0..5 {
        store
            .create_session(&first.user, &format!("idle-{n}"))
            .await
            .unwrap();
    }
    assert_eq!(store.delete_idle_sessions(future, 4).await.unwrap(), 4);
    assert_eq!(store.delete_idle_sessions(future, 4).await.unwrap(), 2);
    assert_eq!(store.delete_idle_sessions(future, 4).await.unwrap(), 0);

    // Signing out everywhere.
    store.create_session(&first.user, "a").await.unwrap();
    store.create_session(&first.user, "b").await.unwrap();
    assert_eq!(store.delete_user_sessions(&first.user.id).await.unwrap(), 2);
    assert!(store.session_by_token_hash("a", 0).await.unwrap().is_none());
}

async fn a_password_ends_the_other_sessions(store: &impl Accounts) {
    let here = store
        .create_user_with_session(&Username::parse("frank").unwrap(), "here")
        .await
        .unwrap();
    store.create_session(&here.user, "there").await.unwrap();
    assert_eq!(store.password_hash(&here.user.id).await.unwrap(), None);

    store
        .set_password_hash(&here.user.id, "argon2-hash", &here.session_id)
        .await
        .unwrap();
    assert_eq!(
        store.password_hash(&here.user.id).await.unwrap().as_deref(),
        Some("argon2-hash")
    );
    let kept = store
        .session_by_token_hash("here", 0)
        .await
        .unwrap()
        .unwrap();
    assert!(kept.has_password);
    assert!(
        store
            .session_by_token_hash("there", 0)
            .await
            .unwrap()
            .is_none()
    );
    let (_, hash) = store
        .credentials(&Username::parse("FRANK").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash.as_deref(), Some("argon2-hash"));
    assert!(
        store
            .credentials(&Username::parse("nobody").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_directory_comes_in_pages_by_name(store: &impl Accounts) {
    let names = ["Zoe", "amy", "Bea", "abe", "Cal", "bo"];
    let batch: Vec<NewAccount> = names
        .iter()
        .map(|name| account(name, &format!("token-{name}")))
        .collect();
    assert!(
        store
            .create_accounts(&batch)
            .await
            .unwrap()
            .iter()
            .all(Result::is_ok)
    );

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = store.users_page("", after.as_deref(), 4).await.unwrap();
        seen.extend(page.into_iter().map(|user| user.name));
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["abe", "amy", "Bea", "bo", "Cal", "Zoe"]);

    let (found, next) = store.users_page(" B", None, 10).await.unwrap();
    let found: Vec<_> = found.into_iter().map(|user| user.name).collect();
    assert_eq!(found, ["abe", "Bea", "bo"]);
    assert_eq!(next, None);
}

async fn blocks_are_kept_per_person(store: &impl Accounts) {
    let batch = [
        account("gus", "g"),
        account("hal", "h"),
        account("ivy", "i"),
    ];
    let people: Vec<UserId> = store
        .create_accounts(&batch)
        .await
        .unwrap()
        .into_iter()
        .map(|answer| answer.unwrap().user.id)
        .collect();
    let [gus, hal, ivy] = [&people[0], &people[1], &people[2]];

    store.set_blocked(gus, hal, true).await.unwrap();
    // Blocking twice is one block.
    store.set_blocked(gus, hal, true).await.unwrap();
    assert_eq!(
        store.blocked_by(gus).await.unwrap(),
        std::slice::from_ref(hal)
    );
    assert!(store.blocked_by(hal).await.unwrap().is_empty());

    assert!(
        store
            .blocked_by_any(hal, &[ivy.clone(), gus.clone()])
            .await
            .unwrap()
    );
    assert!(
        !store
            .blocked_by_any(gus, &[hal.clone(), ivy.clone()])
            .await
            .unwrap()
    );
    assert!(!store.blocked_by_any(hal, &[]).await.unwrap());

    store.set_blocked(gus, hal, false).await.unwrap();
    assert!(store.blocked_by(gus).await.unwrap().is_empty());
    assert!(
        !store
            .blocked_by_any(hal, std::slice::from_ref(gus))
            .await
            .unwrap()
    );
}
