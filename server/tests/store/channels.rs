//! Channels in every dialect: a user's list with counts and read state,
//! names that clash or stay private, browsing, joining and leaving, direct
//! conversations (found again whatever the order of people, hidden until
//! reopened), topics and member lists.

use crate::dialects::people;
use chat_server::store::{Accounts, Channels, StoreError};
use shared::ChannelId;
use shared::protocol::ChannelKind;
use shared::validate::{ChannelName, Topic};

crate::in_every_dialect!(
    a_users_list_has_their_channels_and_membership_is_checked,
    channel_names_clash_only_where_people_could_see_them,
    direct_conversations_are_found_again_and_can_be_hidden,
    topics_members_and_read_marks,
);

fn name(name: &str) -> ChannelName {
    ChannelName::parse(name).unwrap()
}

fn topic(topic: &str) -> Topic {
    Topic::parse(topic).unwrap()
}

fn names_of(list: &[shared::protocol::ChannelInfo]) -> Vec<(&str, ChannelKind)> {
    list.iter()
        .map(|channel| (channel.name.as_str(), channel.kind))
        .collect()
}

async fn a_users_list_has_their_channels_and_membership_is_checked(
    store: &(impl Accounts + Channels),
) {
    let [alice, bob] = &people(store, &["alice", "bob"]).await[..] else {
        unreachable!()
    };
    let general = store.default_channel().unwrap().clone();
    let list = store.channels_of(alice).await.unwrap();
    assert_eq!(names_of(&list), [("general", ChannelKind::Public)]);
    assert_eq!(list[0].member_count, 2);
    assert_eq!((list[0].last_seq, list[0].last_read_seq), (0, 0));

    let rust = store
        .create_channel(
            &alice.id,
            &name("rust"),
            &topic("crabs"),
            ChannelKind::Public,
        )
        .await
        .unwrap();
    let plans = store
        .create_channel(&alice.id, &name("plans"), &topic(""), ChannelKind::Private)
        .await
        .unwrap();
    let list = store.channels_of(alice).await.unwrap();
    assert_eq!(
        names_of(&list),
        [
            ("plans", ChannelKind::Private),
            ("general", ChannelKind::Public),
            ("rust", ChannelKind::Public),
        ]
    );
    let rust_info = list.iter().find(|c| c.id == rust).unwrap();
    assert_eq!(rust_info.topic, "crabs");
    assert_eq!(rust_info.created_by.as_ref(), Some(&alice.id));
    assert_eq!(rust_info.member_count, 1);
    assert_eq!(
        names_of(&store.channels_of(bob).await.unwrap()),
        [("general", ChannelKind::Public)]
    );

    assert_eq!(
        store.channel_name(&plans).await.unwrap().as_deref(),
        Some("plans")
    );
    assert!(store.in_channel_named(&alice.id, "plans").await.unwrap());
    assert!(!store.in_channel_named(&bob.id, "plans").await.unwrap());
    assert_eq!(
        store.channel_kind(&plans).await.unwrap(),
        Some((ChannelKind::Private, Some(alice.id.clone())))
    );
    assert_eq!(
        store.channel_kind(&ChannelId("nope".into())).await.unwrap(),
        None
    );

    // Joining and leaving, each once.
    assert!(!store.is_member(&bob.id, &rust).await.unwrap());
    assert_eq!(store.membership(&bob.id, &rust).await.unwrap(), None);
    assert!(store.add_member(&rust, &bob.id).await.unwrap());
    assert!(!store.add_member(&rust, &bob.id).await.unwrap());
    assert!(store.is_member(&bob.id, &rust).await.unwrap());
    assert_eq!(
        store.membership(&bob.id, &rust).await.unwrap(),
        Some((ChannelKind::Public, Some(alice.id.clone())))
    );
    let info = store.channel_for(bob, &rust).await.unwrap().unwrap();
    assert_eq!(info.member_count, 2);
    assert!(store.remove_member(&rust, &bob.id).await.unwrap());
    assert!(!store.remove_member(&rust, &bob.id).await.unwrap());
    assert_eq!(store.channel_for(bob, &rust).await.unwrap(), None);
    assert!(store.is_member(&bob.id, &general).await.unwrap());
}

async fn channel_names_clash_only_where_people_could_see_them(store: &(impl Accounts + Channels)) {
    let [alice, bob] = &people(store, &["alice", "bob"]).await[..] else {
        unreachable!()
    };
    store
        .create_channel(
            &alice.id,
            &name("rust"),
            &topic("crabs"),
            ChannelKind::Public,
        )
        .await
        .unwrap();
    for (creator, kind) in [(bob, ChannelKind::Public), (bob, ChannelKind::Private)] {
        let clash = store
            .create_channel(&creator.id, &name("rust"), &topic(""), kind)
            .await;
        assert!(
            matches!(clash, Err(StoreError::ChannelNameTaken)),
            "{kind:?}: {clash:?}"
        );
    }
    // Private names are each group's own, but not twice for one person.
    let secret = store
        .create_channel(&alice.id, &name("secret"), &topic(""), ChannelKind::Private)
        .await
        .unwrap();
    let other = store
        .create_channel(&bob.id, &name("secret"), &topic(""), ChannelKind::Private)
        .await
        .unwrap();
    assert_ne!(secret, other);
    let again = store
        .create_channel(&alice.id, &name("secret"), &topic(""), ChannelKind::Private)
        .await;
    assert!(
        matches!(again, Err(StoreError::ChannelNameTaken)),
        "{again:?}"
    );
    // A public channel may take a name a private group uses.
    let public_secret = store
        .create_channel(
            &bob.id,
            &name("secrets"),
            &topic("not really"),
            ChannelKind::Public,
        )
        .await
        .unwrap();

    // Browsing finds public channels by name or topic, the biggest first,
    // and says which the browser is in; private ones never show.
    store.add_member(&public_secret, &alice.id).await.unwrap();
    let found = store.browse_channels(&bob.id, " R").await.unwrap();
    let found: Vec<(&str, u32, bool)> = found
        .iter()
        .map(|c| (c.name.as_str(), c.member_count, c.joined))
        .collect();
    assert_eq!(
        found,
        [
            ("general", 2, true),
            ("secrets", 2, true),
            ("rust", 1, false)
        ]
    );
    let crabs = store.browse_channels(&bob.id, "CRAB").await.unwrap();
    assert_eq!(crabs.len(), 1);
    assert_eq!(crabs[0].name, "rust");
    assert!(
        store
            .browse_channels(&bob.id, "zzz")
            .await
            .unwrap()
            .is_empty()
    );
}

async fn direct_conversations_are_found_again_and_can_be_hidden(
    store: &(impl Accounts + Channels),
) {
    let [alice, bob, carol] = &people(store, &["alice", "bob", "carol"]).await[..] else {
        unreachable!()
    };
    let (pair, created) = store
        .open_direct(&[alice.id.clone(), bob.id.clone()])
        .await
        .unwrap();
    assert!(created);
    let (again, created) = store
        .open_direct(&[bob.id.clone(), alice.id.clone(), bob.id.clone()])
        .await
        .unwrap();
    assert_eq!((again.clone(), created), (pair.clone(), false));
    let (group, _) = store
        .open_direct(&[carol.id.clone(), alice.id.clone(), bob.id.clone()])
        .await
        .unwrap();
    assert_ne!(group, pair);

    let list = store.channels_of(alice).await.unwrap();
    let direct: Vec<(&str, usize)> = list
        .iter()
        .filter(|c| c.kind == ChannelKind::Direct)
        .map(|c| (c.name.as_str(), c.direct_with.len()))
        .collect();
    assert_eq!(direct.len(), 2);
    assert!(direct.contains(&("bob", 1)));
    assert!(direct.contains(&("bob, carol", 2)));
    assert_eq!(store.channel_name(&pair).await.unwrap(), None);
    assert_eq!(
        store.members(&pair).await.unwrap(),
        [alice.clone(), bob.clone()]
    );

    // Hidden from alice's list (not bob's) until opened again.
    store.hide_direct(&alice.id, &pair).await.unwrap();
    assert!(
        !store
            .channels_of(alice)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == pair)
    );
    assert!(
        store
            .channels_of(bob)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == pair)
    );
    assert!(store.channel_for(alice, &pair).await.unwrap().is_some());
    store
        .open_direct(&[alice.id.clone(), bob.id.clone()])
        .await
        .unwrap();
    assert!(
        store
            .channels_of(alice)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == pair)
    );

    // Only direct conversations hide; someone who left one is back in it.
    let general = store.default_channel().unwrap().clone();
    store.hide_direct(&alice.id, &general).await.unwrap();
    assert!(
        store
            .channels_of(alice)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == general)
    );
    store.remove_member(&pair, &bob.id).await.unwrap();
    let solo = store.channel_for(alice, &pair).await.unwrap().unwrap();
    assert_eq!(solo.name, "alice");
    store
        .open_direct(&[alice.id.clone(), bob.id.clone()])
        .await
        .unwrap();
    assert!(store.is_member(&bob.id, &pair).await.unwrap());
}

async fn topics_members_and_read_marks(store: &(impl Accounts + Channels)) {
    let [zed, amy] = &people(store, &["Zed", "amy"]).await[..] else {
        unreachable!()
    };
    let general = store.default_channel().unwrap().clone();
    store
        .set_topic(&general, &topic("all of us"))
        .await
        .unwrap();
    let info = store.channel_for(zed, &general).await.unwrap().unwrap();
    assert_eq!(info.topic, "all of us");
    assert_eq!(
        store.members(&general).await.unwrap(),
        [amy.clone(), zed.clone()]
    );

    // A read mark never passes the channel's last message (none yet).
    store.mark_read(&zed.id, &general, 5).await.unwrap();
    let info = store.channel_for(zed, &general).await.unwrap().unwrap();
    assert_eq!(info.last_read_seq, 0);
}
