//! Uploads and the link cache in every dialect: who may fetch an upload
//! not posted yet, sweeping old uploads a batch at a time and saying which
//! bytes nobody refers to any more, and cached link fetches that expire.

use chat_server::store::{Accounts, Channels, Files, LinkCache, NewAccount, NewFile};
use shared::protocol::{LinkPreview, PreviewKind};
use shared::validate::Username;
use shared::{AttachmentKind, FileId, UserInfo};

crate::in_every_dialect!(
    an_upload_not_posted_yet_is_its_uploaders_alone,
    the_sweep_goes_a_batch_at_a_time_and_keeps_bytes_still_referred_to,
    the_link_cache_remembers_outcomes_until_they_are_old,
);

async fn two_people(store: &impl Accounts) -> (UserInfo, UserInfo) {
    let batch = ["ann", "ben"].map(|name| NewAccount {
        name: Username::parse(name).unwrap(),
        token_hash: format!("token-{name}"),
    });
    let mut people = store.create_accounts(&batch).await.unwrap().into_iter();
    let mut next = || people.next().unwrap().unwrap().user;
    (next(), next())
}

fn upload(
    store: &impl Channels,
    uploader: &UserInfo,
    sha256: &str,
    thumb: Option<&str>,
) -> NewFile {
    NewFile {
        channel: store.default_channel().unwrap().clone(),
        uploader: uploader.id.clone(),
        name: "cat.png".into(),
        kind: AttachmentKind::Image,
        mime: "image/png".into(),
        size: 123_456,
        width: Some(640),
        height: Some(480),
        sha256: sha256.into(),
        thumb_sha256: thumb.map(Into::into),
    }
}

async fn an_upload_not_posted_yet_is_its_uploaders_alone(
    store: &(impl Accounts + Channels + Files),
) {
    let (ann, ben) = two_people(store).await;
    let new = upload(store, &ann, "content-1", Some("thumb-1"));
    let attachment = store.insert_file(&new).await.unwrap();
    assert_eq!(attachment.name, "cat.png");
    assert_eq!(attachment.kind, AttachmentKind::Image);
    assert_eq!(
        (attachment.size, attachment.width, attachment.height),
        (123_456, Some(640), Some(480))
    );
    assert!(attachment.thumbnail);

    let found = store
        .file_for(&ann.id, &attachment.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.attachment, attachment);
    assert_eq!(found.sha256, "content-1");
    assert_eq!(found.thumb_sha256.as_deref(), Some("thumb-1"));
    // Ben is in the channel, but the upload is not posted: not his to see.
    assert!(
        store
            .file_for(&ben.id, &attachment.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .file_for(&ann.id, &FileId("no-such-file".into()))
            .await
            .unwrap()
            .is_none()
    );
    // Out of the channel, not even one's own upload.
    let general = store.default_channel().unwrap().clone();
    store.remove_member(&general, &ann.id).await.unwrap();
    assert!(
        store
            .file_for(&ann.id, &attachment.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_sweep_goes_a_batch_at_a_time_and_keeps_bytes_still_referred_to(
    store: &(impl Accounts + Channels + Files + LinkCache),
) {
    let (ann, _) = two_people(store).await;
    // Two uploads of the same bytes, one with a thumbnail that a link
    // preview also uses.
    store
        .insert_file(&upload(store, &ann, "shared", None))
        .await
        .unwrap();
    store
        .insert_file(&upload(store, &ann, "shared", Some("thumb")))
        .await
        .unwrap();
    store
        .insert_file(&upload(store, &ann, "alone", None))
        .await
        .unwrap();
    store
        .add_preview_image("thumb", "image/webp")
        .await
        .unwrap();

    // Not old enough: nothing goes.
    assert_eq!(store.sweep_files(0, 10).await.unwrap(), (0, vec![]));

    let later = i64::MAX;
    let (first, mut gone) = store.sweep_files(later, 2).await.unwrap();
    let (second, more) = store.sweep_files(later, 2).await.unwrap();
    assert_eq!((first, second), (2, 1));
    gone.extend(more);
    gone.sort();
    // Each content hash is given once it is unreferenced; the thumbnail
    // stays for the preview that uses it.
    assert_eq!(gone, ["alone", "shared"]);
    assert_eq!(store.sweep_files(later, 2).await.unwrap(), (0, vec![]));

    let asked = [
        "thumb".to_string(),
        "shared".to_string(),
        "unknown".to_string(),
    ];
    let mut unreferenced = store.unreferenced(&asked).await.unwrap();
    unreferenced.sort();
    assert_eq!(unreferenced, ["shared", "unknown"]);
}

async fn the_link_cache_remembers_outcomes_until_they_are_old(store: &impl LinkCache) {
    let preview = LinkPreview {
        url: "https://example.test/page".into(),
        kind: PreviewKind::Page,
        site_name: Some("Example".into()),
        title: Some("A page".into()),
        description: None,
        image: Some("/api/previews/abc".into()),
        width: Some(1200),
        height: Some(630),
    };
    let day = 24 * 60 * 60 * 1000;
    assert_eq!(store.cached_preview(&preview.url, day).await.unwrap(), None);
    store
        .cache_preview(&preview.url, Some(&preview))
        .await
        .unwrap();
    assert_eq!(
        store.cached_preview(&preview.url, day).await.unwrap(),
        Some(Some(preview.clone()))
    );
    // "Nothing to show" is remembered too, and replaces the earlier outcome.
    store.cache_preview(&preview.url, None).await.unwrap();
    assert_eq!(
        store.cached_preview(&preview.url, day).await.unwrap(),
        Some(None)
    );
    // Older than asked for: as if not cached.
    assert_eq!(
        store.cached_preview(&preview.url, -day).await.unwrap(),
        None
    );

    store
        .cache_preview("https://example.test/other", None)
        .await
        .unwrap();
    assert_eq!(store.forget_cached_previews(i64::MAX, 1).await.unwrap(), 1);
    assert_eq!(store.forget_cached_previews(i64::MAX, 1).await.unwrap(), 1);
    assert_eq!(store.forget_cached_previews(i64::MAX, 1).await.unwrap(), 0);

    assert_eq!(store.preview_image_mime("abc").await.unwrap(), None);
    store.add_preview_image("abc", "image/webp").await.unwrap();
    store.add_preview_image("abc", "image/png").await.unwrap();
    assert_eq!(
        store.preview_image_mime("abc").await.unwrap().as_deref(),
        Some("image/webp")
    );
}
