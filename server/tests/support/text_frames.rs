//! Whole text messages from WebSocket frames: the server sends long
//! messages as fragments (a first frame, continuations, a last one).

use actix_http::ws::Item;
use actix_web::web::Bytes;
use awc::ws::Frame;

/// Feeds frames in, gives whole text messages out.
#[derive(Default)]
pub struct TextFrames {
    partial: Option<Vec<u8>>,
}

/// What one frame amounted to.
pub enum Whole {
    /// A complete text message.
    Text(Bytes),
    /// A fragment of one; more are coming.
    Partial,
    /// Any other frame, as it came.
    Other(Frame),
}

impl TextFrames {
    pub fn feed(&mut self, frame: Frame) -> Whole {
        match frame {
            Frame::Text(bytes) => Whole::Text(bytes),
            Frame::Continuation(Item::FirstText(bytes)) => {
                self.partial = Some(bytes.to_vec());
                Whole::Partial
            }
            Frame::Continuation(Item::Continue(bytes)) => {
                if let Some(partial) = &mut self.partial {
                    partial.extend_from_slice(&bytes);
                }
                Whole::Partial
            }
            Frame::Continuation(Item::Last(bytes)) => {
                let mut whole = self.partial.take().unwrap_or_default();
                whole.extend_from_slice(&bytes);
                Whole::Text(Bytes::from(whole))
            }
            other => Whole::Other(other),
        }
    }
}
