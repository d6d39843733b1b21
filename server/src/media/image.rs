//! Checking and preparing an uploaded image: it must decode completely
//! (a damaged or cut-off file is refused), within pixel and memory limits
//! (no decompression bombs); its metadata is removed; a photo turned by an
//! EXIF orientation is turned for real; large images get a thumbnail.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPDecoder;
use image::metadata::Orientation;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::sniff::FileType;
use super::strip;

/// Longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 480;
/// Largest image side accepted.
const MAX_SIDE: u32 = 16_384;
/// Most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// Most frames an animated GIF may have.
const MAX_FRAMES: usize = 2_000;

/// Images prepared at once, whoever asks (uploads, previews): each may take
/// up to `MAX_DECODE_BYTES` and a core for a while.
const CONCURRENT_PREPARES: usize = 2;
/// Requests that may wait for a slot; more are told to retry at once.
const MAX_WAITING: usize = 8;
/// How long a request waits for a slot before it is told to retry.
const MAX_WAIT: Duration = Duration::from_secs(10);
/// Pixels decoded at most for one image, all frames of an animation together.
pub const MAX_TOTAL_PIXELS: u64 = 100_000_000;
/// Time one image may take to check; an animation past it is refused.
const MAX_PREPARE_TIME: Duration = Duration::from_secs(10);

/// Why an image was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("The image is damaged or incomplete.")]
    Damaged,
    #[error("The image is too large: at most {MAX_SIDE} pixels on a side.")]
    TooLarge,
    #[error(
        "The animation is too large: at most {} million pixels over all its frames.",
        MAX_TOTAL_PIXELS / 1_000_000
    )]
    TooManyPixels,
    #[error("The server could not process the image right now. Please try again.")]
    Busy,
}

/// This server's image preparations (uploads and previews share them): a few
/// at once, a few more waiting; cheap to clone.
#[derive(Clone)]
pub struct ImageSlots {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: Arc<AtomicUsize>,
}

impl Default for ImageSlots {
    fn default() -> Self {
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_PREPARES)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl ImageSlots {
    /// Waits (briefly, and only when few others wait) for a preparation slot.
    pub async fn reserve(&self) -> Result<PrepareSlot, ImageError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ImageError::Busy);
        }
        let permit = tokio::time::timeout(MAX_WAIT, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match permit {
            Ok(Ok(permit)) => Ok(PrepareSlot { _permit: permit }),
            _ => Err(ImageError::Busy),
        }
    }
}

/// The right to prepare one image (or video) now. Taken *before* the file is
/// read into memory, so uploads waiting for their turn hold no memory.
pub struct PrepareSlot {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl PrepareSlot {
    /// Runs CPU-bound `work` on a blocking thread. The slot stays taken
    /// until it is dropped: keep it while the result is in memory.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ImageError> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| ImageError::Busy)
    }

    /// [`prepare`] on a blocking thread.
    pub async fn prepare(
        &self,
        file_type: FileType,
        bytes: Vec<u8>,
    ) -> Result<PreparedImage, ImageError> {
        self.run(move || prepare(file_type, &bytes)).await?
    }
}

/// A checked image, ready to store.
#[derive(Debug)]
pub struct PreparedImage {
    /// The file without metadata.
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// A JPEG or PNG at most [`THUMBNAIL_SIDE`] on a side, when the image is larger
    /// and not animated (animations are shown as they are).
    pub thumbnail: Option<Vec<u8>>,
}

/// Checks and prepares an image of `file_type` (blocking: CPU-bound).
pub fn prepare(file_type: FileType, bytes: &[u8]) -> Result<PreparedImage, ImageError> {
    let stripped = match file_type {
        FileType::Png => strip::png(bytes),
        FileType::Jpeg => strip::jpeg(bytes).and_then(|stripped| {
            ends_after_scan(&stripped)
                .then_some(stripped)
                .ok_or(strip::Malformed)
        }),
        FileType::Gif => strip::gif(bytes),
        FileType::Webp => strip::webp(bytes),
        _ => return Err(ImageError::Damaged),
    }
    .map_err(|_| ImageError::Damaged)?;

    if file_type == FileType::Gif {
        let (width, height) = check_gif(&stripped)?;
        return Ok(PreparedImage {
            bytes: stripped,
            width,
            height,
            thumbnail: None,
        });
    }
    let animated = file_type == FileType::Webp
        && WebPDecoder::new(Cursor::new(&stripped))
            .map(|decoder| decoder.has_animation())
            .unwrap_or(false);

    // The orientation lives in the EXIF that stripping removed: read it from the original.
    let format = match file_type {
        FileType::Png => ImageFormat::Png,
        FileType::Jpeg => ImageFormat::Jpeg,
        _ => ImageFormat::WebP,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(classify)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(classify)?;

    let bytes = if orientation == Orientation::NoTransforms || animated {
        stripped
    } else {
        decoded.apply_orientation(orientation);
        encode(&decoded, format)?
    };
    let (width, height) = (decoded.width(), decoded.height());
    let thumbnail = if !animated && width.max(height) > THUMBNAIL_SIDE {
        Some(thumbnail(&decoded)?)
    } else {
        None
    };
    Ok(PreparedImage {
        bytes,
        width,
        height,
        thumbnail,
    })
}

/// Longest side a custom emoji's image is kept at (it is shown smaller).
pub const EMOJI_SIDE: u32 = 128;

/// A custom emoji's image (PNG, GIF or WebP only): checked like any image
/// by [`prepare`], then, when it is larger than [`EMOJI_SIDE`] and still,
/// scaled down into a PNG (animations are kept as they are: the browser
/// scales them). Answers the bytes and their type.
pub fn emoji(file_type: FileType, bytes: &[u8]) -> Result<(Vec<u8>, &'static str), ImageError> {
    if !matches!(file_type, FileType::Png | FileType::Gif | FileType::Webp) {
        return Err(ImageError::Damaged);
    }
    let prepared = prepare(file_type, bytes)?;
    let small = prepared.width.max(prepared.height) <= EMOJI_SIDE;
    let animated = file_type == FileType::Gif
        || (file_type == FileType::Webp
            && WebPDecoder::new(Cursor::new(&prepared.bytes))
                .map(|decoder| decoder.has_animation())
                .unwrap_or(true));
    if small || animated {
        return Ok((prepared.bytes, file_type.mime()));
    }
    let format = if file_type == FileType::Png {
        ImageFormat::Png
    } else {
        ImageFormat::WebP
    };
    let mut reader = ImageReader::with_format(Cursor::new(&prepared.bytes), format);
    reader.limits(limits());
    let decoded = reader.decode().map_err(classify)?;
    let scaled = decoded.thumbnail(EMOJI_SIDE, EMOJI_SIDE);
    Ok((encode(&scaled, ImageFormat::Png)?, "image/png"))
}

/// The MIME type of a thumbnail made by [`prepare`].
pub fn thumbnail_mime(thumbnail: &[u8]) -> &'static str {
    if thumbnail.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    }
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

fn classify(error: image::ImageError) -> ImageError {
    match error {
        image::ImageError::Limits(_) => ImageError::TooLarge,
        _ => ImageError::Damaged,
    }
}

/// Decodes every frame, so a GIF cut off in its last frame is caught too,
/// within [`MAX_TOTAL_PIXELS`] over all frames and [`MAX_PREPARE_TIME`].
fn check_gif(bytes: &[u8]) -> Result<(u32, u32), ImageError> {
    let started = Instant::now();
    let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(classify)?;
    decoder.set_limits(limits()).map_err(classify)?;
    let (width, height) = decoder.dimensions();
    // Every frame is composed onto a canvas of the full size.
    let per_frame = u64::from(width) * u64::from(height);
    let mut frames = 0;
    let mut pixels = 0u64;
    for frame in decoder.into_frames() {
        pixels += per_frame;
        if pixels > MAX_TOTAL_PIXELS || started.elapsed() > MAX_PREPARE_TIME {
            return Err(ImageError::TooManyPixels);
        }
        frame.map_err(classify)?;
        frames += 1;
        if frames > MAX_FRAMES {
            return Err(ImageError::TooLarge);
        }
    }
    if frames == 0 {
        return Err(ImageError::Damaged);
    }
    Ok((width, height))
}

/// A JPEG's entropy-coded data cannot contain `FF D9` (stuffing makes it
/// `FF 00`), so a file without an end marker after its scan was cut short.
fn ends_after_scan(jpeg: &[u8]) -> bool {
    let scan = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]);
    scan.is_some_and(|start| jpeg[start..].windows(2).any(|w| w == [0xFF, 0xD9]))
}

fn thumbnail(image: &DynamicImage) -> Result<Vec<u8>, ImageError> {
    let small = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    if small.color().has_alpha() {
        encode(&small, ImageFormat::Png)
    } else {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 82)
            .encode_image(&DynamicImage::ImageRgb8(small.to_rgb8()))
            .map_err(|_| ImageError::Damaged)?;
        Ok(out)
    }
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Vec<u8>, ImageError> {
    let mut out = Cursor::new(Vec::new());
    let result = match format {
        ImageFormat::Jpeg => JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&DynamicImage::ImageRgb8(image.to_rgb8())),
        // The WebP encoder here is lossless only; PNG is as good and smaller to make.
        ImageFormat::WebP => {
            DynamicImage::ImageRgba8(image.to_rgba8()).write_to(&mut out, ImageFormat::WebP)
        }
        other => image.write_to(&mut out, other),
    };
    result.map_err(|_| ImageError::Damaged)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(format: ImageFormat) -> Vec<u8> {
        let pixels = image::RgbImage::from_fn(1000, 600, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 9])
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(pixels)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn an_emoji_image_is_scaled_down_to_a_png_and_only_images_are_taken() {
        let png = picture(ImageFormat::Png);
        let (bytes, mime) = emoji(FileType::Png, &png).unwrap();
        assert_eq!(mime, "image/png");
        let scaled = image::load_from_memory(&bytes).unwrap();
        assert_eq!((scaled.width(), scaled.height()), (EMOJI_SIDE, 77));
        assert_eq!(
            emoji(FileType::Jpeg, &picture(ImageFormat::Jpeg)).unwrap_err(),
            ImageError::Damaged
        );
        assert_eq!(
            emoji(FileType::Png, &png[..png.len() / 2]).unwrap_err(),
            ImageError::Damaged
        );
    }

    #[test]
    fn a_large_jpeg_is_checked_and_thumbnailed() {
        let jpeg = picture(ImageFormat::Jpeg);
        let prepared = prepare(FileType::Jpeg, &jpeg).unwrap();
        assert_eq!((prepared.width, prepared.height), (1000, 600));
        let thumbnail = prepared.thumbnail.unwrap();
        assert_eq!(thumbnail_mime(&thumbnail), "image/jpeg");
        let cut = &jpeg[..jpeg.len() / 2];
        assert_eq!(
            prepare(FileType::Jpeg, cut).unwrap_err(),
            ImageError::Damaged
        );
    }
}

#[cfg(test)]
mod stripping_tests {
    use super::*;

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let pixels =
            image::RgbaImage::from_fn(40, 30, |x, y| image::Rgba([x as u8, y as u8, 90, 255]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(pixels)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    fn contains(bytes: &[u8], needle: &[u8]) -> bool {
        bytes.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn gif_comments_and_foreign_application_blocks_go() {
        let gif = encoded(ImageFormat::Gif);
        // After the header, screen descriptor and global colour table.
        let flags = gif[10];
        let at = 13
            + if flags & 0x80 != 0 {
                3 * (1 << ((flags & 7) + 1))
            } else {
                0
            };
        let mut tagged = gif[..at].to_vec();
        tagged.extend_from_slice(&[0x21, 0xFE, 12]);
        tagged.extend_from_slice(b"GPS 51.5N 0W");
        tagged.push(0);
        tagged.extend_from_slice(&[0x21, 0xFF, 11]);
        tagged.extend_from_slice(b"XMP DataXMP");
        tagged.extend_from_slice(&[6]);
        tagged.extend_from_slice(b"secret");
        tagged.push(0);
        tagged.extend_from_slice(&gif[at..]);
        let prepared = prepare(FileType::Gif, &tagged).unwrap();
        assert!(!contains(&prepared.bytes, b"GPS"));
        assert!(!contains(&prepared.bytes, b"secret"));
        assert_eq!((prepared.width, prepared.height), (40, 30));
        image::load_from_memory(&prepared.bytes).unwrap();
        // Cut short: refused.
        assert_eq!(
            prepare(FileType::Gif, &tagged[..tagged.len() - 20]).unwrap_err(),
            ImageError::Damaged
        );
    }

    #[test]
    fn webp_exif_and_xmp_chunks_go_and_the_riff_size_follows() {
        let webp = encoded(ImageFormat::WebP);
        let mut tagged = webp.clone();
        for (kind, data) in [(b"EXIF", &b"GPS 51.5N"[..]), (b"XMP ", &b"<x:secret/>"[..])] {
            tagged.extend_from_slice(kind);
            tagged.extend_from_slice(&(data.len() as u32).to_le_bytes());
            tagged.extend_from_slice(data);
            if data.len() % 2 == 1 {
                tagged.push(0);
            }
        }
        let riff = (tagged.len() - 8) as u32;
        tagged[4..8].copy_from_slice(&riff.to_le_bytes());
        let prepared = prepare(FileType::Webp, &tagged).unwrap();
        assert!(!contains(&prepared.bytes, b"GPS"));
        assert!(!contains(&prepared.bytes, b"secret"));
        assert_eq!(prepared.bytes, webp, "only the metadata chunks went");
        image::load_from_memory(&prepared.bytes).unwrap();
    }
}
