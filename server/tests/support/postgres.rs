//! A database of its own in the throwaway PostgreSQL cluster that `cargo
//! xtask test` starts on loopback and names in `CHAT_TEST_POSTGRES_URL`.

use sqlx::Connection;

/// Where the PostgreSQL cluster for tests is.
pub const CLUSTER_URL: &str = "CHAT_TEST_POSTGRES_URL";

/// The cluster's URL; a clear failure when no cluster was given.
pub fn cluster_url() -> String {
    std::env::var(CLUSTER_URL).unwrap_or_else(|_| {
        panic!(
            "this test needs a PostgreSQL cluster: run it through `cargo xtask test`, \
             or set {CLUSTER_URL} to a postgres:// URL of a throwaway cluster on loopback"
        )
    })
}

/// Creates an empty database in the cluster and returns its URL.
pub async fn fresh_database() -> String {
    let cluster = cluster_url();
    let database = format!("test_{}", chat_server::random::new_id());
    let mut admin = sqlx::PgConnection::connect(&cluster).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let (server, _) = cluster.rsplit_once('/').unwrap();
    format!("{server}/{database}")
}
