//! Unguessable identifiers and tokens from the operating system's CSPRNG.

/// `bytes` random bytes as lowercase hex.
pub fn hex_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // getrandom only fails when the OS has no entropy source at all; a server
    // that cannot make secrets must not run.
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    to_hex(&buf)
}

/// A 128-bit random id for users, channels and sessions.
pub fn new_id() -> String {
    hex_token(16)
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 0xf) as usize] as char);
    }
    out
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
