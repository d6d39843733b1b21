//! File types from file contents. The name a file was uploaded with and the
//! type the browser claimed are never trusted: only these magic numbers decide
//! whether a file is shown inline. Everything else is a download.

use shared::AttachmentKind;

/// Bytes of a file's start that [`sniff`] needs.
pub const SNIFF_LEN: usize = 64;

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Png,
    Jpeg,
    Gif,
    Webp,
    Mp4,
    Webm,
    Pdf,
    /// Anything else, including HTML, SVG and scripts: served only as a download.
    Other,
}

impl FileType {
    /// The `Content-Type` it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Mp4 => "video/mp4",
            Self::Webm => "video/webm",
            Self::Pdf => "application/pdf",
            Self::Other => "application/octet-stream",
        }
    }

    pub fn kind(self) -> AttachmentKind {
        match self {
            Self::Png | Self::Jpeg | Self::Gif | Self::Webp => AttachmentKind::Image,
            Self::Mp4 | Self::Webm => AttachmentKind::Video,
            Self::Pdf | Self::Other => AttachmentKind::File,
        }
    }
}

/// MP4 brands browsers play (ISO base media, MPEG-4, H.264); HEIF/HEIC
/// images and QuickTime share the container but are not among them.
const MP4_BRANDS: &[&[u8; 4]] = &[
    b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"M4VH", b"M4VP", b"dash", b"mmp4", b"MSNV", b"f4v ",
];

/// Decides a file's type from its first bytes (at least [`SNIFF_LEN`] if the file is that long).
pub fn sniff(head: &[u8]) -> FileType {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        FileType::Png
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        FileType::Jpeg
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        FileType::Gif
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        FileType::Webp
    } else if head.len() >= 12
        && &head[4..8] == b"ftyp"
        && MP4_BRANDS.iter().any(|brand| &head[8..12] == *brand)
    {
        FileType::Mp4
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) && contains(head, b"webm") {
        FileType::Webm
    } else if head.starts_with(b"%PDF-") {
        FileType::Pdf
    } else {
        FileType::Other
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_bytes_only() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), FileType::Png);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), FileType::Jpeg);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), FileType::Gif);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), FileType::Webp);
        assert_eq!(sniff(b"\0\0\0\x20ftypisom\0\0\x02\0"), FileType::Mp4);
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), FileType::Other);
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
            FileType::Webm
        );
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x42\x82\x88matroska"),
            FileType::Other
        );
        assert_eq!(
            sniff(b"<!doctype html><script>alert(1)</script>"),
            FileType::Other
        );
        assert_eq!(
            sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script/></svg>"),
            FileType::Other
        );
        assert_eq!(sniff(b""), FileType::Other);
        assert_eq!(FileType::Other.mime(), "application/octet-stream");
    }
}
