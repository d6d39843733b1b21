//! WebSocket framing, done once. Outgoing: a message becomes a complete
//! frame, and since a server's frames are not masked, the same bytes go to
//! every recipient (a broadcast is encoded once, not once per socket).
//! Incoming: the bytes a client sends become whole messages (continuations
//! joined, at most [`MAX_FRAME_BYTES`], text checked to be UTF-8), decoded
//! by actix-http's codec.

use actix_http::ws::{CloseCode, CloseReason, Codec, Frame, Item, Message, ProtocolError};
use actix_web::web::{Bytes, BytesMut};
use bytestring::ByteString;
use futures_util::StreamExt;
use shared::ServerMsg;
use shared::limits::MAX_FRAME_BYTES;
use tokio_util::codec::{Decoder, Encoder};

fn encode(message: Message) -> Bytes {
    let mut buffer = BytesMut::new();
    // Encoding a server frame cannot fail: there is no size limit on writing.
    let _ = Codec::new().encode(message, &mut buffer);
    buffer.freeze()
}

/// `message` as a complete text frame.
pub fn text(message: &ServerMsg) -> Bytes {
    encode(Message::Text(ByteString::from(message.to_json())))
}

/// A ping frame (the heartbeat).
pub fn ping() -> Bytes {
    encode(Message::Ping(Bytes::new()))
}

/// The answer to a client's ping (control payloads are at most 125 bytes).
pub fn pong(payload: &[u8]) -> Bytes {
    let payload = &payload[..payload.len().min(125)];
    encode(Message::Pong(Bytes::copy_from_slice(payload)))
}

/// A close frame; the description is cut to fit a control frame.
pub fn close(reason: CloseReason) -> Bytes {
    let CloseReason { code, description } = reason;
    let description = description.map(|mut text| {
        let mut end = text.len().min(120);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text
    });
    encode(Message::Close(Some(CloseReason { code, description })))
}

/// One whole message from a client.
#[derive(Debug)]
pub enum Incoming {
    Text(ByteString),
    Binary,
    Ping(Bytes),
    Pong,
    Close,
}

/// Why a client's bytes are not a WebSocket conversation we keep.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frames are limited to {} KiB", MAX_FRAME_BYTES / 1024)]
    TooLarge,
    #[error("websocket protocol error: {0}")]
    Protocol(String),
}

impl From<ProtocolError> for FrameError {
    fn from(error: ProtocolError) -> Self {
        match error {
            ProtocolError::Overflow => Self::TooLarge,
            other => Self::Protocol(other.to_string()),
        }
    }
}

/// The longest WebSocket frame header (2 bytes, 8 of length, 4 of mask).
const MAX_HEADER_BYTES: usize = 14;

/// The messages a client sends, read from the upgraded request's body.
pub struct ClientFrames {
    payload: actix_web::web::Payload,
    codec: Codec,
    buffer: BytesMut,
    /// A message arriving in continuation frames: its kind (text?) and parts so far.
    partial: Option<(bool, BytesMut)>,
}

impl ClientFrames {
    pub fn new(payload: actix_web::web::Payload) -> Self {
        Self {
            payload,
            codec: Codec::new().max_size(MAX_FRAME_BYTES),
            buffer: BytesMut::new(),
            partial: None,
        }
    }

    /// The next whole message; `None` when the client's side has ended.
    pub async fn next(&mut self) -> Option<Result<Incoming, FrameError>> {
        loop {
            match self.codec.decode(&mut self.buffer) {
                Ok(Some(frame)) => match self.take(frame) {
                    Ok(Some(message)) => return Some(Ok(message)),
                    Ok(None) => continue,
                    Err(error) => return Some(Err(error)),
                },
                // The codec looks at a frame's length only once all of it has
                // arrived: an unfinished frame already longer than the limit
                // is refused now, so a header announcing exabytes cannot make
                // the buffer grow with whatever follows.
                Ok(None) if self.buffer.len() > MAX_FRAME_BYTES + MAX_HEADER_BYTES => {
                    return Some(Err(FrameError::TooLarge));
                }
                Ok(None) => {}
                Err(error) => return Some(Err(error.into())),
            }
            match self.payload.next().await? {
                Ok(bytes) => self.buffer.extend_from_slice(&bytes),
                Err(error) => return Some(Err(FrameError::Protocol(error.to_string()))),
            }
        }
    }

    /// A decoded frame as a whole message, or `None` while a message is
    /// still arriving in parts.
    fn take(&mut self, frame: Frame) -> Result<Option<Incoming>, FrameError> {
        let whole = match frame {
            Frame::Text(bytes) => return utf8_text(bytes).map(Some),
            Frame::Binary(_) => return Ok(Some(Incoming::Binary)),
            Frame::Ping(payload) => return Ok(Some(Incoming::Ping(payload))),
            Frame::Pong(_) => return Ok(Some(Incoming::Pong)),
            Frame::Close(_) => return Ok(Some(Incoming::Close)),
            Frame::Continuation(item) => item,
        };
        let (first, part, last) = match whole {
            Item::FirstText(part) => (Some(true), part, false),
            Item::FirstBinary(part) => (Some(false), part, false),
            Item::Continue(part) => (None, part, false),
            Item::Last(part) => (None, part, true),
        };
        match (first, &mut self.partial) {
            (Some(is_text), None) => self.partial = Some((is_text, BytesMut::from(&part[..]))),
            (None, Some((_, parts))) => parts.extend_from_slice(&part),
            _ => return Err(FrameError::Protocol("unexpected continuation frame".into())),
        }
        if self
            .partial
            .as_ref()
            .is_some_and(|(_, parts)| parts.len() > MAX_FRAME_BYTES)
        {
            return Err(FrameError::TooLarge);
        }
        if !last {
            return Ok(None);
        }
        match self.partial.take() {
            Some((true, parts)) => utf8_text(parts.freeze()).map(Some),
            Some((false, _)) => Ok(Some(Incoming::Binary)),
            None => Ok(None),
        }
    }
}

fn utf8_text(bytes: Bytes) -> Result<Incoming, FrameError> {
    ByteString::try_from(bytes)
        .map(Incoming::Text)
        .map_err(|_| FrameError::Protocol("text frame is not UTF-8".into()))
}

/// The close reason for a protocol error: 1009 for size, 1002 otherwise
/// (in our words, not the parser's).
pub fn close_reason(error: &FrameError) -> CloseReason {
    let (code, description) = match error {
        FrameError::TooLarge => (CloseCode::Size, error.to_string()),
        FrameError::Protocol(_) => (CloseCode::Protocol, "websocket protocol error".to_owned()),
    };
    CloseReason {
        code,
        description: Some(description),
    }
}

/// The payload of a complete unmasked frame, for tests that read queues.
#[cfg(test)]
pub fn payload_of(frame: &[u8]) -> &[u8] {
    let short = usize::from(frame[1] & 0x7f);
    let start = match short {
        126 => 4,
        127 => 10,
        _ => 2,
    };
    &frame[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_frame_is_the_json_behind_a_header() {
        let message = ServerMsg::Blocked { users: Vec::new() };
        let frame = text(&message);
        assert_eq!(frame[0], 0x81, "final text frame");
        assert_eq!(payload_of(&frame), message.to_json().as_bytes());
        let long = ServerMsg::Error {
            code: shared::ErrorCode::InvalidFields,
            message: "x".repeat(70_000),
            client_id: None,
        };
        assert_eq!(payload_of(&text(&long)), long.to_json().as_bytes());
    }

    #[test]
    fn close_descriptions_fit_a_control_frame() {
        let frame = close(CloseReason {
            code: CloseCode::Away,
            description: Some("é".repeat(200)),
        });
        assert!(frame.len() <= 2 + 125);
    }
}
