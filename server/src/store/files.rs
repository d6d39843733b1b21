//! Uploaded files: what every dialect of the store does the same way, and
//! how a file row reads back (as an attachment, with where its bytes are).

use shared::{Attachment, AttachmentKind, FileId, Seq, UserId};

use super::{NewFile, StoreError, StoredFile};

/// The files aggregate (the part apart from posting a message, which
/// attaches files inside the message's own transaction). Implemented by
/// each dialect's store.
#[allow(async_fn_in_trait)]
pub trait Files {
    /// Records an upload (not yet posted with a message).
    async fn insert_file(&self, file: &NewFile) -> Result<Attachment, StoreError>;

    /// A file `user` may fetch: posted in a channel they are a member of now,
    /// with a message that is not deleted, or their own upload not posted yet.
    /// Anything else (unknown id, not a member, deleted) is `None` alike.
    async fn file_for(
        &self,
        user: &UserId,
        file: &FileId,
    ) -> Result<Option<StoredFile>, StoreError>;

    /// One batch of the sweep: forgets up to `limit` uploads never posted
    /// that are older than `unposted_before` (ms) and up to `limit` files of
    /// deleted messages. Returns how many rows went and the content hashes
    /// no row refers to any more (their bytes can go). Each batch is a short
    /// transaction found through indexes, so messages keep flowing meanwhile.
    async fn sweep_files(
        &self,
        unposted_before: i64,
        limit: u32,
    ) -> Result<(usize, Vec<String>), StoreError>;

    /// Of these content hashes, the ones no file or preview image refers to.
    async fn unreferenced(&self, hashes: &[String]) -> Result<Vec<String>, StoreError>;
}

/// A file query in any dialect: the columns of a [`FileRow`] from `files
/// f`, then `$rest`.
macro_rules! select_files {
    ($rest:literal) => {
        concat!(
            "SELECT f.id, f.name, f.kind, f.mime, f.size, f.width, f.height, f.thumb_sha256,
                    f.sha256, f.seq
             FROM files f ",
            $rest
        )
    };
}
pub(crate) use select_files;

/// A file row as [`select_files`] reads it: id, name, kind, type, size,
/// width, height, thumbnail hash, content hash, the message it is in.
pub(crate) type FileRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    Option<Seq>,
);

/// A file row as an attachment, where its bytes are, and its message.
pub(crate) fn stored_file(row: FileRow) -> (StoredFile, Option<Seq>) {
    let (id, name, kind, mime, size, width, height, thumb_sha256, sha256, seq) = row;
    let attachment = Attachment {
        id: FileId(id),
        name,
        kind: AttachmentKind::parse(&kind),
        mime,
        size: u64::try_from(size).unwrap_or(0),
        width: width.and_then(|w| u32::try_from(w).ok()),
        height: height.and_then(|h| u32::try_from(h).ok()),
        thumbnail: thumb_sha256.is_some(),
    };
    let file = StoredFile {
        attachment,
        sha256,
        thumb_sha256,
    };
    (file, seq)
}

/// The attachment a just-recorded upload is.
pub(crate) fn uploaded(id: String, file: &NewFile) -> Attachment {
    Attachment {
        id: FileId(id),
        name: file.name.clone(),
        kind: file.kind,
        mime: file.mime.clone(),
        size: file.size,
        width: file.width,
        height: file.height,
        thumbnail: file.thumb_sha256.is_some(),
    }
}

/// The content hashes of swept rows `(id, content hash, thumbnail hash)`,
/// each once: the candidates for deleting bytes.
pub(crate) fn swept_hashes(rows: &[(String, String, Option<String>)]) -> Vec<String> {
    let mut hashes: Vec<String> = rows
        .iter()
        .flat_map(|(_, sha256, thumb)| [Some(sha256.clone()), thumb.clone()])
        .flatten()
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}
