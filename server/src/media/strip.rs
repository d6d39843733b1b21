//! Metadata removal by rewriting an image's container, not its pixels: EXIF
//! (camera, GPS position, time), XMP, IPTC, comments and text chunks go; the
//! compressed image data is copied unchanged, so nothing is re-encoded and
//! quality is untouched. Colour profiles and animation control stay.

/// The container is not what its signature promised (cut short or corrupt).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the image file is damaged or incomplete")]
pub struct Malformed;

/// PNG: drop `eXIf`, `tEXt`, `zTXt`, `iTXt` and `tIME` chunks.
pub fn png(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    const SIGNATURE: usize = 8;
    const DROPPED: &[&[u8; 4]] = &[b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"];
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..SIGNATURE).ok_or(Malformed)?);
    let mut at = SIGNATURE;
    loop {
        let length = read_u32_be(bytes, at)? as usize;
        let kind = bytes.get(at + 4..at + 8).ok_or(Malformed)?;
        let end = at
            .checked_add(12)
            .and_then(|n| n.checked_add(length))
            .ok_or(Malformed)?;
        let chunk = bytes.get(at..end).ok_or(Malformed)?;
        if !DROPPED.iter().any(|dropped| kind == *dropped) {
            out.extend_from_slice(chunk);
        }
        at = end;
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

/// JPEG: keep only the segments needed to show the image right (JFIF,
/// colour profile, Adobe colour transform and the coding segments); drop
/// EXIF/XMP (APP1), IPTC (APP13), comments and other application segments,
/// also between the scans of a progressive image, and everything after the
/// image's end marker (an appended second image with its own EXIF, a
/// "motion photo" video).
pub fn jpeg(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    const KEPT_APP: &[u8] = &[0xE0, 0xE2, 0xEE];
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(Malformed);
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    loop {
        // Markers may be padded with extra 0xFF bytes.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if bytes.get(at) != Some(&0xFF) {
            return Err(Malformed);
        }
        let marker = *bytes.get(at + 1).ok_or(Malformed)?;
        match marker {
            // End of image: anything after it is not part of this image.
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, marker]);
                at += 2;
            }
            _ => {
                let length = usize::from(read_u16_be(bytes, at + 2)?);
                if length < 2 {
                    return Err(Malformed);
                }
                let end = at + 2 + length;
                let segment = bytes.get(at..end).ok_or(Malformed)?;
                let is_app = (0xE0..=0xEF).contains(&marker);
                let dropped = marker == 0xFE || (is_app && !KEPT_APP.contains(&marker));
                if !dropped {
                    out.extend_from_slice(segment);
                }
                at = end;
                if marker == 0xDA {
                    // Start of scan: the entropy-coded data runs to the next
                    // marker that is not a stuffed 0xFF or a restart marker.
                    let data_end = entropy_coded_end(bytes, at)?;
                    out.extend_from_slice(&bytes[at..data_end]);
                    at = data_end;
                }
            }
        }
    }
}

/// Where the entropy-coded data starting at `start` ends: the position of
/// the next real marker.
fn entropy_coded_end(bytes: &[u8], start: usize) -> Result<usize, Malformed> {
    let mut at = start;
    loop {
        let next = bytes[at..]
            .iter()
            .position(|&b| b == 0xFF)
            .map(|offset| at + offset)
            .ok_or(Malformed)?;
        match bytes.get(next + 1) {
            // A stuffed 0xFF data byte, or a restart marker inside the data.
            Some(0x00 | 0xD0..=0xD7) => at = next + 2,
            // Fill bytes before a marker.
            Some(0xFF) => at = next + 1,
            Some(_) => return Ok(next),
            None => return Err(Malformed),
        }
    }
}

/// WebP: drop the `EXIF` and `XMP ` chunks and clear their flags in `VP8X`.
pub fn webp(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Err(Malformed);
    }
    let riff_end = (read_u32_le(bytes, 4)? as usize)
        .checked_add(8)
        .ok_or(Malformed)?;
    if riff_end > bytes.len() {
        return Err(Malformed);
    }
    let mut body = Vec::with_capacity(riff_end);
    let mut at = 12;
    while at < riff_end {
        let kind: [u8; 4] = bytes
            .get(at..at + 4)
            .ok_or(Malformed)?
            .try_into()
            .map_err(|_| Malformed)?;
        let size = read_u32_le(bytes, at + 4)? as usize;
        let end = (at + 8)
            .checked_add(size + (size & 1))
            .ok_or(Malformed)?
            .min(riff_end);
        let chunk = bytes.get(at..end).ok_or(Malformed)?;
        if at + 8 + size > riff_end {
            return Err(Malformed);
        }
        match &kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut chunk = chunk.to_vec();
                if let Some(flags) = chunk.get_mut(8) {
                    *flags &= !(0x08 | 0x04);
                }
                body.extend_from_slice(&chunk);
            }
            _ => body.extend_from_slice(chunk),
        }
        at = end;
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(
        &u32::try_from(body.len() + 4)
            .map_err(|_| Malformed)?
            .to_le_bytes(),
    );
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Ok(out)
}

/// GIF: drop comment blocks and application blocks other than the looping
/// ones (`NETSCAPE2.0`, `ANIMEXTS1.0`); XMP hides in the others.
pub fn gif(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    const HEADER: usize = 13;
    let header = bytes.get(..HEADER).ok_or(Malformed)?;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(header);
    let mut at = HEADER + color_table_len(header[10]);
    out.extend_from_slice(bytes.get(HEADER..at).ok_or(Malformed)?);
    loop {
        match *bytes.get(at).ok_or(Malformed)? {
            0x3B => {
                out.push(0x3B);
                return Ok(out);
            }
            0x21 => {
                let label = *bytes.get(at + 1).ok_or(Malformed)?;
                let end = skip_sub_blocks(bytes, at + 2)?;
                let keep = match label {
                    0xFE => false,
                    0xFF => {
                        let identifier = bytes.get(at + 3..at + 14).ok_or(Malformed)?;
                        identifier == b"NETSCAPE2.0" || identifier == b"ANIMEXTS1.0"
                    }
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(&bytes[at..end]);
                }
                at = end;
            }
            0x2C => {
                let descriptor = bytes.get(at..at + 10).ok_or(Malformed)?;
                let data_start = at + 10 + color_table_len(descriptor[9]) + 1;
                let end = skip_sub_blocks(bytes, data_start)?;
                out.extend_from_slice(&bytes[at..end]);
                at = end;
            }
            _ => return Err(Malformed),
        }
    }
}

/// MP4: the user-data and metadata boxes (`udta`, `meta`, where phones put
/// the GPS position, e.g. `©xyz`) of the movie and of each track, and
/// top-level `uuid` boxes (XMP), become `free` boxes of the same size with
/// zeroed contents. Nothing moves, so the sample offsets stay right.
/// Returns how many boxes were blanked.
pub fn mp4(bytes: &mut [u8]) -> Result<usize, Malformed> {
    blank_boxes(bytes, 0, bytes.len(), 0)
}

fn blank_boxes(
    bytes: &mut [u8],
    start: usize,
    end: usize,
    depth: usize,
) -> Result<usize, Malformed> {
    let mut blanked = 0;
    let mut at = start;
    while at + 8 <= end {
        let size32 = read_u32_be(bytes, at)? as usize;
        let (header, size) = match size32 {
            0 => (8, end - at),
            1 => {
                let raw = bytes.get(at + 8..at + 16).ok_or(Malformed)?;
                let large = u64::from_be_bytes(raw.try_into().map_err(|_| Malformed)?);
                (16, usize::try_from(large).map_err(|_| Malformed)?)
            }
            n => (8, n),
        };
        let box_end = at.checked_add(size).ok_or(Malformed)?;
        if size < header || box_end > end {
            return Err(Malformed);
        }
        let kind: [u8; 4] = bytes[at + 4..at + 8].try_into().map_err(|_| Malformed)?;
        let metadata = match &kind {
            b"udta" | b"meta" => depth > 0,
            b"uuid" => depth == 0,
            _ => false,
        };
        if metadata {
            bytes[at + 4..at + 8].copy_from_slice(b"free");
            bytes[at + header..box_end].fill(0);
            blanked += 1;
        } else if matches!(&kind, b"moov" | b"trak") && depth < 2 {
            blanked += blank_boxes(bytes, at + header, box_end, depth + 1)?;
        }
        at = box_end;
    }
    if at != end {
        return Err(Malformed);
    }
    Ok(blanked)
}

/// Size of a GIF colour table from its packed flags byte.
fn color_table_len(flags: u8) -> usize {
    if flags & 0x80 == 0 {
        0
    } else {
        3 * (1 << ((flags & 0x07) + 1))
    }
}

/// The position after a chain of GIF data sub-blocks starting at `at`.
fn skip_sub_blocks(bytes: &[u8], mut at: usize) -> Result<usize, Malformed> {
    loop {
        let size = usize::from(*bytes.get(at).ok_or(Malformed)?);
        at += 1;
        if size == 0 {
            return Ok(at);
        }
        at += size;
        if at > bytes.len() {
            return Err(Malformed);
        }
    }
}

fn read_u16_be(bytes: &[u8], at: usize) -> Result<u16, Malformed> {
    let raw = bytes.get(at..at + 2).ok_or(Malformed)?;
    Ok(u16::from_be_bytes([raw[0], raw[1]]))
}

fn read_u32_be(bytes: &[u8], at: usize) -> Result<u32, Malformed> {
    let raw = bytes.get(at..at + 4).ok_or(Malformed)?;
    Ok(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]))
}

fn read_u32_le(bytes: &[u8], at: usize) -> Result<u32, Malformed> {
    let raw = bytes.get(at..at + 4).ok_or(Malformed)?;
    Ok(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(&[0, 0, 0, 0]);
        chunk
    }

    #[test]
    fn png_text_and_exif_chunks_go_and_the_rest_stays() {
        let mut file = b"\x89PNG\r\n\x1a\n".to_vec();
        file.extend(png_chunk(b"IHDR", &[0; 13]));
        file.extend(png_chunk(b"eXIf", b"GPS 51.5N"));
        file.extend(png_chunk(b"tEXt", b"Author\0me"));
        file.extend(png_chunk(b"IDAT", b"pixels"));
        file.extend(png_chunk(b"IEND", b""));
        let stripped = png(&file).unwrap();
        assert!(!stripped.windows(3).any(|w| w == b"GPS"));
        assert!(!stripped.windows(6).any(|w| w == b"Author"));
        assert!(stripped.windows(6).any(|w| w == b"pixels"));
        assert!(stripped.ends_with(&png_chunk(b"IEND", b"")));
        assert_eq!(png(&file[..file.len() - 6]), Err(Malformed));
    }

    fn mp4_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
        let mut b = ((content.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(content);
        b
    }

    #[test]
    fn mp4_location_boxes_become_free_space_in_place() {
        let xyz = mp4_box(b"\xa9xyz", b"+51.5007-000.1246/");
        let track = [
            mp4_box(b"tkhd", &[1; 20]),
            mp4_box(b"meta", b"camera: Pixel"),
        ]
        .concat();
        let movie = [
            mp4_box(b"mvhd", &[2; 20]),
            mp4_box(b"udta", &xyz),
            mp4_box(b"trak", &track),
        ]
        .concat();
        let mut file = [
            mp4_box(b"ftyp", b"isom\0\0\x02\0isomavc1"),
            mp4_box(b"moov", &movie),
            mp4_box(b"mdat", b"frames"),
        ]
        .concat();
        let before = file.len();
        assert_eq!(mp4(&mut file), Ok(2));
        assert_eq!(file.len(), before);
        assert!(!file.windows(5).any(|w| w == b"+51.5"));
        assert!(!file.windows(5).any(|w| w == b"Pixel"));
        assert!(file.windows(6).any(|w| w == b"frames"));
        assert_eq!(file.windows(4).filter(|w| *w == b"free").count(), 2);
        let mut cut = file[..30].to_vec();
        assert_eq!(mp4(&mut cut), Err(Malformed));
    }

    #[test]
    fn jpeg_app1_and_comments_go_and_scan_data_stays() {
        let mut file = vec![0xFF, 0xD8];
        file.extend([0xFF, 0xE0, 0, 6, b'J', b'F', b'I', b'F']);
        file.extend([0xFF, 0xE1, 0, 8, b'E', b'x', b'i', b'f', b'G', b'P']);
        file.extend([0xFF, 0xFE, 0, 5, b'h', b'i', b'!']);
        file.extend([0xFF, 0xDA, 0, 2, 1, 2, 3, 0xFF, 0xD9]);
        let stripped = jpeg(&file).unwrap();
        assert_eq!(
            stripped,
            vec![
                0xFF, 0xD8, 0xFF, 0xE0, 0, 6, b'J', b'F', b'I', b'F', 0xFF, 0xDA, 0, 2, 1, 2, 3,
                0xFF, 0xD9
            ]
        );
        assert_eq!(jpeg(&file[..12]), Err(Malformed));
    }

    #[test]
    fn jpeg_data_after_the_end_and_metadata_between_scans_go() {
        let mut file = vec![0xFF, 0xD8];
        file.extend([0xFF, 0xDA, 0, 2, 1, 0xFF, 0x00, 2, 0xFF, 0xD0, 3]);
        // Between the scans of a progressive image.
        file.extend([0xFF, 0xE1, 0, 7, b'E', b'x', b'i', b'f', b'A']);
        file.extend([0xFF, 0xC4, 0, 3, 9]);
        file.extend([0xFF, 0xDA, 0, 2, 4, 5, 0xFF, 0xFF, 0xD9]);
        let image_end = file.len();
        // A second image appended after the end, with its own location.
        file.extend([
            0xFF, 0xD8, 0xFF, 0xE1, 0, 9, b'E', b'x', b'i', b'f', b'G', b'P', b'S',
        ]);
        file.extend(b"ftypmp42 motion photo");
        let stripped = jpeg(&file).unwrap();
        assert!(!stripped.windows(4).any(|w| w == b"Exif"));
        assert!(!stripped.windows(3).any(|w| w == b"GPS"));
        assert!(!stripped.windows(4).any(|w| w == b"ftyp"));
        assert!(stripped.ends_with(&[0xFF, 0xD9]));
        assert!(stripped.len() < image_end);
        assert!(
            stripped.windows(3).any(|w| w == [0xFF, 0xC4, 0]),
            "coding segments stay"
        );
        assert!(
            stripped.windows(2).any(|w| w == [0xFF, 0xD0]),
            "restart markers stay"
        );
        // Cut inside the scan data: refused.
        assert_eq!(jpeg(&file[..10]), Err(Malformed));
    }
}
