//! Moderation in every dialect: the first account owns the server (and
//! only the first), standing changes come with their audit line in one
//! transaction, deactivating ends every session and closes the door to
//! signing in, and the audit log pages newest first.

use chat_server::store::{Accounts, AuditRecord, Moderation, StandingChange};
use shared::roles::{AuditAction, Role};
use shared::validate::Username;

crate::in_every_dialect!(
    the_first_account_owns_and_standing_changes_are_audited,
    a_deactivated_account_has_no_session_and_no_credentials,
);

async fn sign_up(store: &impl Accounts, name: &str) -> chat_server::store::SessionUser {
    store
        .create_user_with_session(&Username::parse(name).unwrap(), &format!("token-{name}"))
        .await
        .unwrap()
}

async fn the_first_account_owns_and_standing_changes_are_audited(store: &impl Moderation) {
    let olive = sign_up(store, "olive").await.user.id;
    let mel = sign_up(store, "mel").await.user.id;
    assert_eq!(
        store.standing(&olive).await.unwrap().unwrap().role,
        Role::Owner
    );
    assert_eq!(
        store.standing(&mel).await.unwrap().unwrap().role,
        Role::Member
    );

    let record = |action, detail| AuditRecord {
        actor: &olive,
        action,
        target: Some(&mel),
        channel: None,
        seq: None,
        detail,
    };
    store
        .change_standing(
            &record(AuditAction::SetRole, "moderator"),
            StandingChange::Role(Role::Moderator),
        )
        .await
        .unwrap();
    store
        .change_standing(
            &record(AuditAction::Mute, "5 minutes"),
            StandingChange::Muted(Some(i64::MAX)),
        )
        .await
        .unwrap();
    let standing = store.standing(&mel).await.unwrap().unwrap();
    assert_eq!(standing.role, Role::Moderator);
    assert_eq!(standing.muted_at(0), Some(i64::MAX));
    // A later account never becomes an owner, not even when the owner is demoted.
    let olive_as_mel = AuditRecord {
        actor: &mel,
        target: Some(&olive),
        ..record(AuditAction::SetRole, "member")
    };
    store
        .change_standing(&olive_as_mel, StandingChange::Role(Role::Member))
        .await
        .unwrap();
    let ned = sign_up(store, "ned").await.user.id;
    assert_eq!(
        store.standing(&ned).await.unwrap().unwrap().role,
        Role::Member
    );

    let (log, more) = store.audit_log(None, 2).await.unwrap();
    assert!(more);
    let actions: Vec<_> = log.iter().map(|e| (e.action, e.detail.as_str())).collect();
    assert_eq!(
        actions,
        [
            (AuditAction::SetRole, "member"),
            (AuditAction::Mute, "5 minutes")
        ]
    );
    assert_eq!(log[0].actor.name, "mel");
    assert_eq!(log[0].target.as_ref().unwrap().name, "olive");
    let (older, more) = store.audit_log(Some(log[1].id), 2).await.unwrap();
    assert!(!more);
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].detail, "moderator");
    let standings = store
        .standings(&[olive.clone(), ned.clone()])
        .await
        .unwrap();
    assert_eq!(standings.len(), 2);
}

async fn a_deactivated_account_has_no_session_and_no_credentials(store: &impl Moderation) {
    let olive = sign_up(store, "olive").await.user.id;
    let mel = sign_up(store, "mel").await;
    let name = Username::parse("mel").unwrap();
    assert!(store.credentials(&name).await.unwrap().is_some());
    let record = AuditRecord {
        actor: &olive,
        action: AuditAction::Deactivate,
        target: Some(&mel.user.id),
        channel: None,
        seq: None,
        detail: "",
    };
    store
        .change_standing(&record, StandingChange::Active(false))
        .await
        .unwrap();
    assert!(!store.session_exists(&mel.session_id).await.unwrap());
    assert!(store.credentials(&name).await.unwrap().is_none());
    // A session made in the moment between is not let in either.
    store.create_session(&mel.user, "late").await.unwrap();
    assert!(
        store
            .session_by_token_hash("late", 0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!store.standing(&mel.user.id).await.unwrap().unwrap().active);

    let back = AuditRecord {
        action: AuditAction::Reactivate,
        ..record
    };
    store
        .change_standing(&back, StandingChange::Active(true))
        .await
        .unwrap();
    assert!(store.credentials(&name).await.unwrap().is_some());
    assert!(
        store
            .session_by_token_hash("late", 0)
            .await
            .unwrap()
            .is_some()
    );
}
