//! Housekeeping of the files folder: uploads nobody posted within a day and
//! the files of deleted messages are forgotten, and bytes no row refers to
//! any more are removed from disk (also bytes an upload stored just before
//! its database row failed). Runs shortly after start and then hourly; on
//! several nodes, the rows are swept by one node an hour (the one that
//! claims the job), and each node checks the bytes its own failed uploads
//! left.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::storage::FileStore;
use crate::random::now_millis;
use crate::store::{Files, Store, StoreError};

/// How long an upload may wait to be posted.
pub const UNPOSTED_GRACE: Duration = Duration::from_secs(24 * 60 * 60);
const FIRST_SWEEP: Duration = Duration::from_secs(60);
/// Rows forgotten per transaction.
const BATCH: u32 = 500;
/// Pause between batches.
const PAUSE: Duration = Duration::from_millis(20);
const EVERY: Duration = Duration::from_secs(60 * 60);
/// The sweep's name among the jobs run once for all nodes.
const JOB: &str = "file sweep";

/// Starts the hourly sweep.
pub fn start(store: Store, files: FileStore) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_SWEEP).await;
        let mut every = tokio::time::interval(EVERY);
        loop {
            every.tick().await;
            let cutoff = now_millis() - UNPOSTED_GRACE.as_millis() as i64;
            let swept = match store.claim_job(JOB, EVERY).await {
                Ok(true) => sweep(&store, &files, cutoff).await,
                Ok(false) => sweep_suspects(&store, &files).await,
                Err(error) => Err(error),
            };
            match swept {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "removed unused files"),
                Err(error) => tracing::warn!(%error, "sweeping the files folder failed"),
            }
        }
    })
}

/// One sweep: unposted uploads older than `unposted_before` (ms since the
/// epoch) and files of deleted messages go, a batch at a time; returns how
/// many stored contents were removed from disk.
pub async fn sweep(
    store: &Store,
    files: &FileStore,
    unposted_before: i64,
) -> Result<usize, StoreError> {
    let mut removed = 0;
    loop {
        let _content = files.hold(store, true).await?;
        let (rows, unreferenced) = store.sweep_files(unposted_before, BATCH).await?;
        removed += files.remove_all(&unreferenced).await;
        if rows < BATCH as usize {
            break;
        }
        drop(_content);
        // Let everyone else's writes through between batches.
        tokio::time::sleep(PAUSE).await;
    }
    Ok(removed + sweep_suspects(store, files).await?)
}

/// Removes the bytes this node's failed uploads left, unless something
/// refers to them now; returns how many went.
async fn sweep_suspects(store: &Store, files: &FileStore) -> Result<usize, StoreError> {
    let _content = files.hold(store, true).await?;
    let suspects = files.take_suspects();
    let orphans = match store.unreferenced(&suspects).await {
        Ok(orphans) => orphans,
        Err(error) => {
            files.suspect(suspects);
            return Err(error);
        }
    };
    Ok(files.remove_all(&orphans).await)
}

#[cfg(test)]
mod tests {
    use shared::{AttachmentKind, ChannelId, UserId};

    use super::*;
    use crate::store::{Accounts, Channels, NewFile};

    #[actix_web::test]
    async fn bytes_left_by_a_failed_upload_go_unless_something_refers_to_them() {
        let folder = tempfile::TempDir::new().unwrap();
        let url = format!("sqlite://{}/chat.db", folder.path().display());
        let store = Store::open(&url).await.unwrap();
        let files = FileStore::open(&folder.path().join("files")).unwrap();
        let orphan = files
            .put(b"stored, then the row failed".to_vec())
            .await
            .unwrap();
        let adopted = files
            .put(b"stored, row failed, uploaded again".to_vec())
            .await
            .unwrap();
        let user = store
            .create_user_with_session(
                &shared::validate::Username::parse("Alice").unwrap(),
                "token-hash",
            )
            .await
            .unwrap()
            .user;
        let general = store.default_channel().unwrap().clone();
        store
            .insert_file(&NewFile {
                channel: ChannelId(general.0.clone()),
                uploader: UserId(user.id.0.clone()),
                name: "again.txt".into(),
                kind: AttachmentKind::File,
                mime: "application/octet-stream".into(),
                size: 1,
                width: None,
                height: None,
                sha256: adopted.clone(),
                thumb_sha256: None,
            })
            .await
            .unwrap();
        files.suspect([orphan.clone(), adopted.clone()]);
        assert_eq!(sweep(&store, &files, 0).await.unwrap(), 1);
        assert!(!files.path_of(&orphan).unwrap().exists());
        assert!(files.path_of(&adopted).unwrap().exists());
        assert!(files.take_suspects().is_empty());
        store.close().await;
    }
}
