//! The S3-compatible server (moto) that `cargo xtask test` starts on
//! loopback and names in `CHAT_TEST_S3_URL`: a bucket of its own per test,
//! and what is in it.

/// Where the tests find the S3-compatible server.
pub const S3_URL: &str = "CHAT_TEST_S3_URL";

/// The server's address; a clear failure when none was given.
pub fn endpoint() -> String {
    std::env::var(S3_URL).unwrap_or_else(|_| {
        panic!(
            "this test needs an S3-compatible server: run it through `cargo xtask test`, \
             or set {S3_URL} to the http:// address of one on loopback (e.g. `moto_server`)"
        )
    })
}

/// Creates an empty bucket; its name.
pub async fn fresh_bucket() -> String {
    let name = format!("test-{}", chat_server::random::new_id());
    let response = awc::Client::default()
        .put(format!("{}/{name}", endpoint()))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    name
}

/// How many objects the bucket holds.
pub async fn objects_in(bucket: &str) -> usize {
    let mut response = awc::Client::default()
        .get(format!("{}/{bucket}?list-type=2", endpoint()))
        .send()
        .await
        .unwrap();
    let body = response.body().await.unwrap();
    String::from_utf8_lossy(&body).matches("<Key>").count()
}

/// The settings of a bucket on that server (any keys will do).
pub fn bucket_settings(settings: &mut chat_server::settings::Settings, bucket: &str) {
    settings.files_bucket = Some(bucket.to_owned());
    settings.files_endpoint = Some(endpoint());
    settings.files_access_key_id = Some("test-key".into());
    settings.files_secret_access_key = Some("test-secret".into());
}
