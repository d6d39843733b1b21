//! Stored files: every stored file is named by the SHA-256 of its bytes
//! (`sha256/ab/abcdef…`), so the same content uploaded twice is kept once and
//! a name can never point outside the store. They live in the files folder,
//! or in an S3-compatible bucket ([`super::objects`]) when the nodes share
//! no folder. Uploads stream into the folder's `tmp/` first and are moved
//! (or sent) into place only when complete.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::objects;
use crate::random::{new_id, to_hex};
use crate::store::dialects::ContentLock;
use crate::store::{Store, StoreError};

/// The stored content held still, in this process and on every node.
pub struct ContentGuard<'a> {
    _local: LocalHold<'a>,
    _shared: ContentLock,
}

/// This process's part of a [`ContentGuard`] (held for its drop).
enum LocalHold<'a> {
    Shared {
        _guard: tokio::sync::RwLockReadGuard<'a, ()>,
    },
    Exclusive {
        _guard: tokio::sync::RwLockWriteGuard<'a, ()>,
    },
}

/// The content-addressed files folder (or bucket).
#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
    /// The bucket the files are in, when not in the folder (whose `tmp/`
    /// still takes uploads as they arrive).
    objects: Option<Arc<dyn ObjectStore>>,
    /// Held shared while content is stored and recorded (uploads do not
    /// wait for each other: the same bytes stored twice are the same
    /// file), and exclusive while unreferenced content is removed, so a
    /// removal never races a new reference.
    content: Arc<tokio::sync::RwLock<()>>,
    /// Content stored for an upload whose database row could not be written:
    /// the janitor removes it unless something refers to it by then.
    suspects: Arc<std::sync::Mutex<Vec<String>>>,
}

impl FileStore {
    /// Creates the folder (and `tmp/`) if missing; clears uploads a crash left in `tmp/`.
    pub fn open(root: &Path) -> io::Result<Self> {
        let store = Self::existing(root);
        std::fs::create_dir_all(store.root.join("sha256"))?;
        let tmp = store.root.join("tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        Ok(store)
    }

    /// The folder as it is, without clearing anything (maintenance and tests).
    pub fn existing(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            objects: None,
            content: Arc::default(),
            suspects: Arc::default(),
        }
    }

    /// Keeps the files in this bucket instead of the folder.
    pub fn in_bucket(mut self, objects: Arc<dyn ObjectStore>) -> Self {
        self.objects = Some(objects);
        self
    }

    /// The bucket and object name of stored content, when the files are
    /// in a bucket (and `sha256` is a well-formed hash).
    pub fn object(&self, sha256: &str) -> Option<(&dyn ObjectStore, object_store::path::Path)> {
        Some((self.objects.as_deref()?, key_of(sha256)?))
    }

    /// Notes content that may have been left without a reference.
    pub fn suspect(&self, hashes: impl IntoIterator<Item = String>) {
        if let Ok(mut suspects) = self.suspects.lock() {
            suspects.extend(hashes);
        }
    }

    /// The content noted by [`FileStore::suspect`] since the last call.
    pub fn take_suspects(&self) -> Vec<String> {
        self.suspects
            .lock()
            .map(|mut suspects| std::mem::take(&mut *suspects))
            .unwrap_or_default()
    }

    /// Holds the stored content still, in this process and, through the
    /// database's content lock, on every node sharing the files: shared
    /// from storing bytes until their database row exists, `exclusive`
    /// while removing unreferenced bytes.
    pub async fn hold(
        &self,
        store: &Store,
        exclusive: bool,
    ) -> Result<ContentGuard<'_>, StoreError> {
        let local = if exclusive {
            LocalHold::Exclusive {
                _guard: self.content.write().await,
            }
        } else {
            LocalHold::Shared {
                _guard: self.content.read().await,
            }
        };
        let shared = store.lock_content(exclusive).await?;
        Ok(ContentGuard {
            _local: local,
            _shared: shared,
        })
    }

    /// Removes stored contents (which no row refers to any more); returns
    /// how many went. Those that could not be removed are suspects again:
    /// the next sweep tries them (unless something refers to them by then).
    pub async fn remove_all(&self, hashes: &[String]) -> usize {
        let hashes: Vec<&String> = hashes.iter().filter(|sha256| well_formed(sha256)).collect();
        let failed: Vec<String> = match &self.objects {
            Some(objects) => {
                let keys = hashes.iter().filter_map(|sha256| key_of(sha256)).collect();
                objects::remove_all(objects.as_ref(), keys)
                    .await
                    .into_iter()
                    .filter_map(|key| key.filename().map(str::to_owned))
                    .collect()
            }
            None => {
                let mut failed = Vec::new();
                for sha256 in &hashes {
                    let Some(path) = self.path_of(sha256) else {
                        continue;
                    };
                    if let Err(error) = tokio::fs::remove_file(&path).await
                        && error.kind() != io::ErrorKind::NotFound
                    {
                        tracing::warn!(%error, path = %path.display(), "removing a stored file failed");
                        failed.push((*sha256).clone());
                    }
                }
                failed
            }
        };
        let removed = hashes.len() - failed.len();
        self.suspect(failed);
        removed
    }

    /// Where in the folder the file with this hash is, if `sha256` is a
    /// well-formed hash.
    pub fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        well_formed(sha256).then(|| self.root.join("sha256").join(&sha256[..2]).join(sha256))
    }

    /// The first `n` bytes of stored content (fewer if it is shorter, none
    /// if it is missing).
    pub async fn head(&self, sha256: &str, n: u64) -> Vec<u8> {
        if let Some(objects) = &self.objects {
            return match key_of(sha256) {
                Some(key) => objects::head(objects.as_ref(), &key, n).await,
                None => Vec::new(),
            };
        }
        let Some(path) = self.path_of(sha256) else {
            return Vec::new();
        };
        let Ok(file) = tokio::fs::File::open(&path).await else {
            return Vec::new();
        };
        let mut head = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(
            &mut tokio::io::AsyncReadExt::take(file, n),
            &mut head,
        )
        .await;
        head
    }

    /// Starts streaming an upload into a temporary file.
    pub async fn begin(&self) -> io::Result<TempUpload> {
        let path = self.root.join("tmp").join(new_id());
        let file = tokio::fs::File::create(&path).await?;
        Ok(TempUpload {
            path,
            file: Some(file),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
        })
    }

    /// Stores `bytes` (hashed and written off the async threads) and
    /// returns their hash.
    pub async fn put(&self, bytes: Vec<u8>) -> io::Result<String> {
        let Some(objects) = &self.objects else {
            let folder = self.clone();
            return tokio::task::spawn_blocking(move || folder.put_in_folder(&bytes))
                .await
                .map_err(io::Error::other)?;
        };
        let (sha256, bytes) =
            tokio::task::spawn_blocking(move || (to_hex(&Sha256::digest(&bytes)), bytes))
                .await
                .map_err(io::Error::other)?;
        let key = key_of(&sha256).ok_or_else(|| io::Error::other("not a sha256 hash"))?;
        if !objects::exists(objects.as_ref(), &key).await? {
            objects::put(objects.as_ref(), &key, bytes).await?;
        }
        Ok(sha256)
    }

    /// Stores `bytes` in the folder (blocking) and returns their hash.
    fn put_in_folder(&self, bytes: &[u8]) -> io::Result<String> {
        let sha256 = to_hex(&Sha256::digest(bytes));
        let target = self.target(&sha256)?;
        if !target.exists() {
            let temp = self.root.join("tmp").join(new_id());
            let mut file = std::fs::File::create(&temp)?;
            io::Write::write_all(&mut file, bytes)?;
            file.sync_all()?;
            std::fs::rename(&temp, &target)?;
        }
        Ok(sha256)
    }

    /// Moves a finished upload into place under its hash (or drops it when
    /// that content is already stored).
    pub async fn adopt(&self, upload: TempUpload) -> io::Result<String> {
        let (path, sha256) = upload.finish().await?;
        if let Some(objects) = &self.objects {
            let key = key_of(&sha256).ok_or_else(|| io::Error::other("not a sha256 hash"))?;
            let sent = match objects::exists(objects.as_ref(), &key).await {
                Ok(true) => Ok(()),
                Ok(false) => objects::put_file(objects, &key, &path).await,
                Err(error) => Err(error),
            };
            let _ = tokio::fs::remove_file(&path).await;
            return sent.map(|()| sha256);
        }
        let target = self.target(&sha256)?;
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(&path).await?;
        } else {
            tokio::fs::rename(&path, &target).await?;
        }
        Ok(sha256)
    }

    fn target(&self, sha256: &str) -> io::Result<PathBuf> {
        let target = self
            .path_of(sha256)
            .ok_or_else(|| io::Error::other("not a sha256 hash"))?;
        if let Some(folder) = target.parent() {
            std::fs::create_dir_all(folder)?;
        }
        Ok(target)
    }
}

/// Whether `sha256` is a hash as stored: 64 lowercase hex digits.
fn well_formed(sha256: &str) -> bool {
    sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The object's name in a bucket: the folder's layout.
fn key_of(sha256: &str) -> Option<object_store::path::Path> {
    well_formed(sha256).then(|| format!("sha256/{}/{sha256}", &sha256[..2]).into())
}

/// An upload being written to `tmp/`; removed on drop unless adopted.
pub struct TempUpload {
    path: PathBuf,
    file: Option<tokio::fs::File>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl TempUpload {
    /// Appends a chunk.
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        if self.head.len() < super::sniff::SNIFF_LEN {
            let wanted = super::sniff::SNIFF_LEN - self.head.len();
            self.head
                .extend_from_slice(&chunk[..wanted.min(chunk.len())]);
        }
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        match &mut self.file {
            Some(file) => file.write_all(chunk).await,
            None => Err(io::Error::other("upload already finished")),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The first bytes, for sniffing.
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The whole upload in memory (for images, which are checked and
    /// rewritten before being stored); the temporary file is removed.
    pub async fn into_bytes(mut self) -> io::Result<Vec<u8>> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
        }
        tokio::fs::read(&self.path).await
    }

    async fn finish(mut self) -> io::Result<(PathBuf, String)> {
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
            file.sync_all().await?;
        }
        let sha256 = to_hex(&std::mem::take(&mut self.hasher).finalize());
        // Adopted: the path now belongs to the store, not to this guard.
        let path = std::mem::take(&mut self.path);
        Ok((path, sha256))
    }
}

impl Drop for TempUpload {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
