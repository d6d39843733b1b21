//! A fresh store of each dialect, and the macro that runs a check against
//! every dialect.

use chat_server::store::{Accounts, NewAccount, Store};
use shared::UserInfo;
use shared::validate::Username;
use tempfile::TempDir;

/// A SQLite store in a temporary folder (kept alive by the `TempDir`).
pub async fn sqlite() -> (TempDir, Store) {
    let folder = TempDir::new().unwrap();
    let url = format!("sqlite://{}/chat.db", folder.path().display());
    let store = Store::open(&url).await.unwrap();
    (folder, store)
}

/// A PostgreSQL store in a database of its own.
pub async fn postgres() -> Store {
    let store = Store::open(&crate::postgres::fresh_database().await)
        .await
        .unwrap();
    assert!(store.is_shared(), "a postgres:// URL opens PostgreSQL");
    store
}

/// Signs up people with these names (in one batch).
pub async fn people(store: &impl Accounts, names: &[&str]) -> Vec<UserInfo> {
    let batch: Vec<NewAccount> = names
        .iter()
        .map(|name| NewAccount {
            name: Username::parse(name).unwrap(),
            token_hash: format!("token-{name}"),
        })
        .collect();
    store
        .create_accounts(&batch)
        .await
        .unwrap()
        .into_iter()
        .map(|answer| answer.unwrap().user)
        .collect()
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
