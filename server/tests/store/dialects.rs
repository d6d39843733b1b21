//! A fresh store of each dialect, and the macro that runs a check against
//! every dialect.

use chat_server::random::new_id;
use chat_server::store::Store;
use chat_server::store::postgres::PgStore;
use sqlx::Connection;
use tempfile::TempDir;

/// Where the PostgreSQL cluster for tests is.
const POSTGRES_URL: &str = "CHAT_TEST_POSTGRES_URL";

/// A SQLite store in a temporary folder (kept alive by the `TempDir`).
pub async fn sqlite() -> (TempDir, Store) {
    let folder = TempDir::new().unwrap();
    let url = format!("sqlite://{}/chat.db", folder.path().display());
    let store = Store::open(&url).await.unwrap();
    (folder, store)
}

/// A PostgreSQL store in a database of its own.
pub async fn postgres() -> PgStore {
    let cluster = std::env::var(POSTGRES_URL).unwrap_or_else(|_| {
        panic!(
            "the PostgreSQL conformance tests need a cluster: run them through \
             `cargo xtask test`, or set {POSTGRES_URL} to a postgres:// URL of a \
             throwaway cluster on loopback"
        )
    });
    let database = format!("test_{}", new_id());
    let mut admin = sqlx::PgConnection::connect(&cluster).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let (server, _) = cluster.rsplit_once('/').unwrap();
    PgStore::open(&format!("{server}/{database}"))
        .await
        .unwrap()
}

/// Runs each named check (an `async fn(&impl Trait)`) against a fresh
/// store of every dialect, as the tests `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! in_every_dialect {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $check() {
                    let (_folder, store) = $crate::dialects::sqlite().await;
                    super::$check(&store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $check() {
                    let store = $crate::dialects::postgres().await;
                    super::$check(&store).await;
                    store.close().await;
                }
            )*
        }
    };
}
