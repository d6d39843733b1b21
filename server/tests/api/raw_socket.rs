//! WebSockets opened by hand, for clients that misbehave on purpose: they
//! never read (a tiny receive buffer and no reads), and send frames written
//! byte by byte.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::TestApp;

/// Opens a WebSocket by hand with a tiny receive buffer, and never reads from it.
pub async fn stuck_socket(app: &TestApp, token: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(app.addr).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Origin: http://{addr}\r\nCookie: chat_session={token}\r\n\r\n",
        addr = app.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    stream
}

/// One masked text frame, as a client must send it.
pub fn text_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mask = [0x12, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81];
    match payload.len() {
        len @ 0..=125 => frame.push(0x80 | len as u8),
        len @ 126..=65535 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Sends `text` frames without reading anything back; gives up (returning
/// how many went out) once the socket stops taking them for `patience`,
/// which is what a server that stopped reading looks like.
pub async fn send_frames(
    stream: &mut (impl AsyncWrite + Unpin),
    frames: impl IntoIterator<Item = String>,
    patience: std::time::Duration,
) -> usize {
    let mut sent = 0;
    for frame in frames {
        match tokio::time::timeout(patience, stream.write_all(&text_frame(&frame))).await {
            Ok(Ok(())) => sent += 1,
            _ => break,
        }
    }
    sent
}

/// Whether the server has closed the socket (reading hits the end or an
/// error) within `wait`; frames still buffered are skipped.
pub async fn closed_within(
    stream: &mut (impl AsyncRead + Unpin),
    wait: std::time::Duration,
) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// Whether the kernel still holds an established connection from `server`
/// to `client` (read from /proc/net/tcp, without touching the socket).
pub fn established(server: std::net::SocketAddr, client: std::net::SocketAddr) -> bool {
    fn hex(addr: std::net::SocketAddr) -> String {
        match addr {
            std::net::SocketAddr::V4(v4) => {
                format!(
                    "{:08X}:{:04X}",
                    u32::from_le_bytes(v4.ip().octets()),
                    v4.port()
                )
            }
            std::net::SocketAddr::V6(_) => String::new(),
        }
    }
    let (local, remote) = (hex(server), hex(client));
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some((*fields.get(1)?, *fields.get(2)?, *fields.get(3)?))
        })
        .any(|(l, r, state)| l == local && r == remote && state == "01")
}
