//! Jobs done once for all nodes: one claim per period.

use std::time::Duration;

use chat_server::store::Store;

#[actix_web::test]
async fn postgres_gives_a_period_of_a_job_to_one_claim() {
    let url = crate::postgres::fresh_database().await;
    let (one, two) = (
        Store::open(&url).await.unwrap(),
        Store::open(&url).await.unwrap(),
    );
    let hour = Duration::from_secs(3600);
    // Two nodes asking at once: one of them runs it.
    let (a, b) = tokio::join!(one.claim_job("sweep", hour), two.claim_job("sweep", hour));
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim");
    assert!(
        !one.claim_job("sweep", hour).await.unwrap(),
        "not again this hour"
    );
    assert!(
        two.claim_job("other", hour).await.unwrap(),
        "jobs are apart"
    );
    // A short period has passed already.
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(
        two.claim_job("sweep", Duration::from_millis(20))
            .await
            .unwrap()
    );
    one.close().await;
    two.close().await;
}

#[actix_web::test]
async fn sqlite_always_runs_its_jobs() {
    let folder = tempfile::TempDir::new().unwrap();
    let store = Store::open(&format!("sqlite://{}/chat.db", folder.path().display()))
        .await
        .unwrap();
    let hour = Duration::from_secs(3600);
    assert!(store.claim_job("sweep", hour).await.unwrap());
    assert!(store.claim_job("sweep", hour).await.unwrap());
}
