//! Messages in every dialect: a batch numbered without gaps per channel,
//! with resends answered by what was stored first and every refusal told
//! apart; pages and catch-up; edits, deletes, reactions, mentions and
//! previews as numbered changes; and two batches racing into the same
//! channels (on PostgreSQL, two nodes' writers) staying gapless with one
//! copy of a message sent to both.

use crate::dialects::people;
use chat_server::store::{
    Accounts, ChangeOutcome, Channels, Files, MessageChange, Messages, NewFile, NewMessage, Stored,
};
use shared::protocol::{ChannelInfo, ChannelKind, LinkPreview, PreviewKind};
use shared::validate::{ChannelName, Topic};
use shared::{AttachmentKind, ChangeNo, ChannelId, ClientMsgId, UserInfo};

crate::in_every_dialect!(
    a_batch_is_numbered_per_channel_and_refusals_store_nothing,
    pages_and_catch_up_see_what_a_member_may_see,
    changes_are_numbered_and_refused_changes_write_nothing,
    racing_batches_stay_gapless_and_store_a_message_once,
);

fn post(channel: &ChannelId, author: &UserInfo, id: &str, text: &str) -> NewMessage {
    NewMessage {
        channel: channel.clone(),
        author: author.clone(),
        client_id: ClientMsgId::parse(id).unwrap(),
        text: text.into(),
        attachments: Vec::new(),
        everyone: None,
        thread: None,
    }
}

fn outcome(stored: &Stored) -> String {
    match stored {
        Stored::New(m) => format!("new {}", m.seq),
        Stored::Duplicate(m) => format!("duplicate of {}", m.seq),
        Stored::NotAMember(_) => "not a member".into(),
        Stored::InvalidAttachments(_) => "invalid attachments".into(),
        Stored::ClientIdReused(_) => "id reused".into(),
        Stored::Blocked(_) => "blocked".into(),
        Stored::NoSuchThread(_) => "no such thread".into(),
        Stored::Muted(_) => "muted".into(),
        Stored::SlowMode(_) => "slow mode".into(),
        Stored::Archived(_) => "archived".into(),
    }
}

/// A channel as it shows in `user`'s list.
async fn info(store: &impl Channels, user: &UserInfo, channel: &ChannelId) -> ChannelInfo {
    let list = store.channels_of(user).await.unwrap();
    list.into_iter().find(|c| &c.id == channel).unwrap()
}

async fn private_channel(store: &impl Channels, creator: &UserInfo, name: &str) -> ChannelId {
    store
        .create_channel(
            &creator.id,
            &ChannelName::parse(name).unwrap(),
            &Topic::parse("").unwrap(),
            ChannelKind::Private,
        )
        .await
        .unwrap()
}

async fn a_batch_is_numbered_per_channel_and_refusals_store_nothing(
    store: &(impl Accounts + Channels + Files + Messages),
) {
    let [ann, ben, cat] = &people(store, &["ann", "ben", "cat"]).await[..] else {
        unreachable!()
    };
    let general = store.default_channel().unwrap().clone();
    let secret = private_channel(store, ann, "secret").await;
    let (direct, _) = store
        .open_direct(&[ann.id.clone(), cat.id.clone()])
        .await
        .unwrap();
    store.hide_direct(&cat.id, &direct).await.unwrap();
    store.set_blocked(&cat.id, &ben.id, true).await.unwrap();
    let upload = store
        .insert_file(&NewFile {
            channel: general.clone(),
            uploader: ann.id.clone(),
            name: "cat.png".into(),
            kind: AttachmentKind::Image,
            mime: "image/png".into(),
            size: 10,
            width: Some(1),
            height: Some(1),
            sha256: "content".into(),
            thumb_sha256: None,
        })
        .await
        .unwrap();
    let mut with_file = post(&general, ann, "m4", "a picture");
    with_file.attachments = vec![upload.id.clone()];
    let mut stolen = post(&general, ben, "m5", "not mine");
    stolen.attachments = vec![upload.id.clone()];
    let (cat_direct, _) = store
        .open_direct(&[ben.id.clone(), cat.id.clone()])
        .await
        .unwrap();

    let batch = [
        post(&general, ann, "m1", "hello @BEN"),
        post(&secret, ann, "m2", "just me"),
        post(&general, ben, "m1", "same id, another author"),
        post(&secret, ben, "m3", "let me in"),
        with_file,
        stolen,
        post(&direct, ann, "m6", "hi cat"),
        post(&cat_direct, ben, "m7", "hi cat, it's ben"),
        post(&secret, ann, "m1", "id reused elsewhere"),
        post(&general, ann, "m1", "sent twice"),
    ];
    let inserted = store.insert_messages(&batch).await.unwrap();
    let outcomes: Vec<String> = inserted.stored.iter().map(outcome).collect();
    assert_eq!(
        outcomes,
        [
            "new 1",
            "new 1",
            "new 2",
            "not a member",
            "new 3",
            "invalid attachments",
            "new 1",
            "blocked",
            "id reused",
            "duplicate of 1",
        ]
    );
    assert_eq!(inserted.unhidden, [(direct.clone(), cat.id.clone())]);
    let Stored::New(pictured) = &inserted.stored[4] else {
        unreachable!()
    };
    assert_eq!(pictured.attachments.len(), 1);
    assert_eq!(pictured.attachments[0].id, upload.id);
    let sent = |i: usize| match &inserted.stored[i] {
        Stored::New(m) => m.sent_at,
        _ => unreachable!(),
    };
    assert!(sent(0) > 0 && sent(0) == sent(2), "one batch, one time");

    // Counters and mentions went in with the batch.
    let list = store.channels_of(ben).await.unwrap();
    let general_info = list.iter().find(|c| c.id == general).unwrap();
    assert_eq!(general_info.last_seq, 3);
    assert_eq!(general_info.unread_mentions, 1, "ann mentioned @BEN");
    assert_eq!(general_info.last_change, ChangeNo(3));
    // Sent again in a later batch: the first copy answers.
    let again = store
        .insert_messages(&[post(&general, ann, "m1", "retry")])
        .await
        .unwrap();
    assert_eq!(outcome(&again.stored[0]), "duplicate of 1");
    let Stored::Duplicate(first) = &again.stored[0] else {
        unreachable!()
    };
    assert_eq!(first.text, "hello @BEN");
    let page = store.latest_messages(&general, 10, &ann.id).await.unwrap();
    let texts: Vec<&str> = page
        .as_ref()
        .unwrap()
        .messages
        .iter()
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        texts,
        ["hello @BEN", "same id, another author", "a picture"]
    );
    assert_eq!(page.unwrap().messages[2].attachments.len(), 1);
}

async fn pages_and_catch_up_see_what_a_member_may_see(
    store: &(impl Accounts + Channels + Messages),
) {
    let [ann, ben] = &people(store, &["ann", "ben"]).await[..] else {
        unreachable!()
    };
    let secret = private_channel(store, ann, "secret").await;
    let batch: Vec<NewMessage> = (1..=25)
        .map(|i| post(&secret, ann, &format!("m{i}"), &format!("message {i}")))
        .collect();
    store.insert_messages(&batch).await.unwrap();

    let latest = store
        .latest_messages(&secret, 10, &ann.id)
        .await
        .unwrap()
        .unwrap();
    let seqs: Vec<i64> = latest.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (16..=25).collect::<Vec<_>>());
    assert!(latest.has_older);
    let older = store
        .messages_before(&secret, 16, 10, &ann.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(older.messages.first().unwrap().seq, 6);
    assert!(older.has_older);
    let oldest = store
        .messages_before(&secret, 6, 10, &ann.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(oldest.messages.len(), 5);
    assert!(!oldest.has_older);
    let newer = store
        .messages_after(&secret, 20, 3, &ann.id)
        .await
        .unwrap()
        .unwrap();
    let seqs: Vec<i64> = newer.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [21, 22, 23]);
    assert_eq!(
        store.messages_after(&secret, 25, 3, &ann.id).await.unwrap(),
        Some(Vec::new()),
        "nothing new is not the same as not a member"
    );

    // Several channels' ranges at once (what a node reads for a batch
    // another node stored), as everyone sees them.
    let general = store.default_channel().unwrap().clone();
    store
        .insert_messages(&[
            post(&general, ann, "g1", "one"),
            post(&general, ann, "g2", "two"),
            post(&general, ann, "g3", "three"),
        ])
        .await
        .unwrap();
    let ranges = [(general.clone(), 1, 3), (secret.clone(), 22, 24)];
    let mut read: Vec<(bool, i64)> = store
        .messages_in_ranges(&ranges)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.channel == general, m.seq))
        .collect();
    read.sort();
    assert_eq!(read, [(false, 23), (false, 24), (true, 2), (true, 3)]);

    // Ben is not a member: no page, however asked.
    assert!(
        store
            .latest_messages(&secret, 10, &ben.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .messages_before(&secret, 10, 10, &ben.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .messages_after(&secret, 0, 10, &ben.id)
            .await
            .unwrap()
            .is_none()
    );
    store.add_member(&secret, &ben.id).await.unwrap();
    assert_eq!(
        store
            .messages_after(&secret, 0, 100, &ben.id)
            .await
            .unwrap()
            .unwrap()
            .len(),
        25
    );

    // Catch-up on changes: only changed messages the reader already holds.
    let edit = |seq| {
        store.change_message(
            &secret,
            seq,
            MessageChange::Edit {
                by: &ann.id,
                text: "edited",
            },
        )
    };
    edit(3).await.unwrap();
    edit(24).await.unwrap();
    let changed = store
        .messages_changed(&secret, 20, ChangeNo(25), 100, Some(&ben.id))
        .await
        .unwrap();
    let seqs: Vec<i64> = changed.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [3]);
    assert_eq!(changed[0].change, ChangeNo(26));
    assert!(changed[0].edited_at.is_some());
}

async fn changes_are_numbered_and_refused_changes_write_nothing(
    store: &(impl Accounts + Channels + Messages),
) {
    let [ann, ben] = &people(store, &["ann", "ben"]).await[..] else {
        unreachable!()
    };
    let general = store.default_channel().unwrap().clone();
    store
        .insert_messages(&[
            post(&general, ann, "m1", "first"),
            post(&general, ann, "m2", "hello @ben"),
        ])
        .await
        .unwrap();
    let before = info(store, ann, &general).await.last_change;
    assert_eq!(before, ChangeNo(2));

    // Refusals write nothing, not even a change number.
    let by_ben = MessageChange::Edit {
        by: &ben.id,
        text: "mine now",
    };
    assert!(matches!(
        store.change_message(&general, 1, by_ben).await.unwrap(),
        ChangeOutcome::NotAllowed
    ));
    let missing = MessageChange::Edit {
        by: &ann.id,
        text: "?",
    };
    assert!(matches!(
        store.change_message(&general, 99, missing).await.unwrap(),
        ChangeOutcome::NoSuchMessage
    ));
    let unreact = MessageChange::React {
        by: &ben.id,
        emoji: "👍",
        add: false,
    };
    assert!(matches!(
        store.change_message(&general, 1, unreact).await.unwrap(),
        ChangeOutcome::Unchanged
    ));
    assert_eq!(info(store, ann, &general).await.last_change, before);

    // Reactions, counted per emoji, the reader's own marked.
    for (who, emoji) in [(ben, "👍"), (ann, "👍"), (ben, "🎉")] {
        let react = MessageChange::React {
            by: &who.id,
            emoji,
            add: true,
        };
        assert!(matches!(
            store.change_message(&general, 1, react).await.unwrap(),
            ChangeOutcome::Changed(_)
        ));
        // Reactions are ordered by time (in milliseconds).
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let twice = MessageChange::React {
        by: &ben.id,
        emoji: "👍",
        add: true,
    };
    assert!(matches!(
        store.change_message(&general, 1, twice).await.unwrap(),
        ChangeOutcome::Unchanged
    ));
    let seen = store
        .message(&general, 1, Some(&ann.id))
        .await
        .unwrap()
        .unwrap();
    let reactions: Vec<(&str, u32, Option<bool>, usize)> = seen
        .reactions
        .iter()
        .map(|r| (r.emoji.as_str(), r.count, r.mine, r.users.len()))
        .collect();
    assert_eq!(
        reactions,
        [("👍", 2, Some(true), 2), ("🎉", 1, Some(false), 1)]
    );
    assert_eq!(
        seen.reactions[0].users[0].name, "ben",
        "in the order they reacted"
    );
    assert_eq!(seen.change, ChangeNo(5));
    let anonymous = store.message(&general, 1, None).await.unwrap().unwrap();
    assert_eq!(anonymous.reactions[0].mine, None);

    // A preview is a change too; an edit drops it and recounts mentions.
    let preview = LinkPreview {
        url: "https://example.test/".into(),
        kind: PreviewKind::Page,
        title: Some("Example".into()),
        description: None,
        site_name: None,
        image: None,
        width: None,
        height: None,
    };
    let previewed = store
        .set_preview(&general, 2, &preview)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(previewed.preview.as_deref(), Some(&preview));
    assert_eq!(previewed.change, ChangeNo(6));
    assert_eq!(info(store, ben, &general).await.unread_mentions, 1);
    let edited = MessageChange::Edit {
        by: &ann.id,
        text: "hello everyone",
    };
    let ChangeOutcome::Changed(edited) = store.change_message(&general, 2, edited).await.unwrap()
    else {
        panic!("the author may edit")
    };
    assert_eq!(
        (edited.text.as_str(), edited.preview, edited.change),
        ("hello everyone", None, ChangeNo(7))
    );
    assert_eq!(info(store, ben, &general).await.unread_mentions, 0);

    // Deleting empties the message, drops its reactions, and ends changes.
    let delete = MessageChange::Delete {
        by: &ann.id,
        text: "",
    };
    let ChangeOutcome::Changed(deleted) = store.change_message(&general, 1, delete).await.unwrap()
    else {
        panic!("the author may delete")
    };
    assert!(deleted.deleted && deleted.text.is_empty() && deleted.reactions.is_empty());
    let react = MessageChange::React {
        by: &ben.id,
        emoji: "👍",
        add: true,
    };
    assert!(matches!(
        store.change_message(&general, 1, react).await.unwrap(),
        ChangeOutcome::NoSuchMessage
    ));
    assert!(
        store
            .set_preview(&general, 1, &preview)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(info(store, ann, &general).await.last_change, ChangeNo(8));
}

async fn racing_batches_stay_gapless_and_store_a_message_once(
    store: &(impl Accounts + Channels + Messages),
) {
    let [ann, ben] = &people(store, &["ann", "ben"]).await[..] else {
        unreachable!()
    };
    let general = store.default_channel().unwrap().clone();
    let second = private_channel(store, ann, "second").await;
    store.add_member(&second, &ben.id).await.unwrap();
    let channels = [&general, &second];
    // Two writers, each alternating between the channels (so each batch
    // locks both), each sending ann's "shared-i" too, as a client sending
    // to two nodes at once would.
    let batches = |author: &UserInfo, round: usize| -> Vec<NewMessage> {
        let mut batch: Vec<NewMessage> = (0..20)
            .map(|i| {
                post(
                    channels[i % 2],
                    author,
                    &format!("r{round}-{i}"),
                    &format!("round {round}, {i}"),
                )
            })
            .collect();
        batch.push(post(&general, ann, &format!("shared-{round}"), "once"));
        batch
    };
    let mut shared_seqs = Vec::new();
    for round in 0..10 {
        let (first, second_writer) = (batches(ann, round), batches(ben, round));
        let (a, b) = tokio::join!(
            store.insert_messages(&first),
            store.insert_messages(&second_writer)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let seq_of = |stored: &Stored| match stored {
            Stored::New(m) | Stored::Duplicate(m) => m.seq,
            other => panic!("unexpected {}", outcome(other)),
        };
        let (a_shared, b_shared) = (seq_of(&a.stored[20]), seq_of(&b.stored[20]));
        assert_eq!(a_shared, b_shared, "both acks carry the one copy's seq");
        shared_seqs.push(a_shared);
    }
    for channel in channels {
        let all = store
            .messages_after(channel, 0, 1000, &ann.id)
            .await
            .unwrap()
            .unwrap();
        let expected = if channel == &general { 210 } else { 200 };
        let seqs: Vec<i64> = all.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=expected).collect::<Vec<_>>(), "gapless");
        let changes: Vec<i64> = all.iter().map(|m| m.change.0).collect();
        assert_eq!(changes, seqs, "a new message's change number follows");
        assert!(
            all.windows(2).all(|w| w[0].sent_at <= w[1].sent_at),
            "times follow the numbers"
        );
    }
    let mut distinct = shared_seqs.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);

    // One id sent into two channels at once: batches that lock different
    // channels, so neither sees the other before inserting. One is stored;
    // the other is refused, not lost silently nor failing its whole batch.
    let (here, there) = (
        [post(&general, ann, "both-ways", "here")],
        [post(&second, ann, "both-ways", "there")],
    );
    let (a, b) = tokio::join!(store.insert_messages(&here), store.insert_messages(&there));
    let mut outcomes = [
        outcome(&a.unwrap().stored[0]),
        outcome(&b.unwrap().stored[0]),
    ];
    outcomes.sort();
    assert_eq!(outcomes[0], "id reused");
    assert!(outcomes[1].starts_with("new "), "{outcomes:?}");
}
