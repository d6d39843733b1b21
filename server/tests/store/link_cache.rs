//! Link preview jobs in every dialect: recorded, claimed by one worker
//! until the lease runs out, replaced by an edit's link, and bounded.

use chat_server::store::LinkCache;
use shared::ChannelId;

crate::in_every_dialect!(preview_jobs_are_claimed_by_one_worker_until_their_lease_runs_out);

const MINUTE: i64 = 60_000;

async fn preview_jobs_are_claimed_by_one_worker_until_their_lease_runs_out(store: &impl LinkCache) {
    let channel = ChannelId("c".into());
    for (seq, link) in [
        (1, "https://a.test/"),
        (2, "https://b.test/"),
        (3, "https://c.test/"),
    ] {
        assert!(store.queue_preview(&channel, seq, link, 100).await.unwrap());
    }
    let first = store.claim_previews(2, MINUTE).await.unwrap();
    let second = store.claim_previews(5, MINUTE).await.unwrap();
    let mut seqs: Vec<i64> = first.iter().chain(&second).map(|job| job.seq).collect();
    seqs.sort_unstable();
    assert_eq!((first.len(), seqs), (2, vec![1, 2, 3]), "each job once");
    assert!(first.iter().chain(&second).all(|job| job.tries == 1));
    assert!(
        store.claim_previews(5, MINUTE).await.unwrap().is_empty(),
        "all leased"
    );
    // Done, and edited to another link (due again, tried afresh).
    store.finish_preview(&channel, 1).await.unwrap();
    assert!(
        store
            .queue_preview(&channel, 2, "https://edited.test/", 100)
            .await
            .unwrap()
    );
    let edited = store.claim_previews(5, MINUTE).await.unwrap();
    assert_eq!(edited.len(), 1);
    assert_eq!(
        (edited[0].seq, edited[0].link.as_str(), edited[0].tries),
        (2, "https://edited.test/", 1)
    );
    // A lease that ran out: anyone claims the job again, and it counts.
    assert!(
        store
            .queue_preview(&channel, 4, "https://d.test/", 100)
            .await
            .unwrap()
    );
    let taken = store.claim_previews(1, 0).await.unwrap();
    let again = store.claim_previews(1, 0).await.unwrap();
    assert_eq!((taken[0].seq, taken[0].tries), (4, 1));
    assert_eq!((again[0].seq, again[0].tries), (4, 2));
    // Jobs 2, 3 and 4 wait: a bound of 3 takes no more.
    assert!(
        !store
            .queue_preview(&channel, 5, "https://e.test/", 3)
            .await
            .unwrap()
    );
    for seq in [2, 3, 4] {
        store.finish_preview(&channel, seq).await.unwrap();
    }
    assert!(
        store
            .queue_preview(&channel, 5, "https://e.test/", 3)
            .await
            .unwrap()
    );
}
