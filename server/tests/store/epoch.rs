//! The database's epoch: made once, the same at every opening, and new
//! after `new-epoch` (and in a backup copy, SQLite).

use chat_server::store::Store;
use tempfile::TempDir;

/// Opens the database at `url` again and reads its epoch.
async fn epoch_at(url: &str) -> String {
    let store = Store::open(url).await.unwrap();
    let epoch = store.epoch().to_owned();
    store.close().await;
    epoch
}

async fn stays_until_renewed(url: &str) {
    let store = Store::open(url).await.unwrap();
    let first = store.epoch().to_owned();
    assert_eq!(first.len(), 32, "{first:?}");
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()), "{first:?}");
    assert_eq!(epoch_at(url).await, first, "the same at every opening");
    let renewed = store.new_epoch().await.unwrap();
    store.close().await;
    assert_ne!(renewed, first);
    assert_eq!(epoch_at(url).await, renewed);
}

#[actix_web::test]
async fn sqlite_keeps_its_epoch_until_renewed_and_a_backup_gets_its_own() {
    let folder = TempDir::new().unwrap();
    let url = format!("sqlite://{}/chat.db", folder.path().display());
    stays_until_renewed(&url).await;
    let store = Store::open(&url).await.unwrap();
    let live = store.epoch().to_owned();
    let copy = folder.path().join("copy.db");
    store.backup_to(&copy).await.unwrap();
    store.close().await;
    let restored = epoch_at(&format!("sqlite://{}", copy.display())).await;
    assert_ne!(restored, live, "a restored copy is another history");
    assert_eq!(
        epoch_at(&url).await,
        live,
        "the live database keeps its own"
    );
}

#[actix_web::test]
async fn postgres_keeps_its_epoch_until_renewed() {
    stays_until_renewed(&crate::postgres::fresh_database().await).await;
}
