//! Files on their way into a message. Each chosen, dropped or pasted file is
//! uploaded at once (XHR rather than fetch, for upload progress) into the
//! conversation it was added in, and waits in the tray above the composer
//! it was added from (the conversation's, or a thread's: a [`Place`]).
//! Send (with the composer's text as an optional caption) takes every file
//! of that place not taken yet into one message, which goes out as
//! soon as its uploads finish; Sends pressed meanwhile queue behind it, so
//! messages keep their order. The tray is a small reducer, unit-tested
//! natively; [`XhrUpload`] is the browser part.

use std::rc::Rc;

use shared::api::ApiError;
use shared::limits::MAX_ATTACHMENTS;
use shared::{Attachment, ChannelId, Seq};
use yew::Reducible;

/// Where files are added and messages sent: a conversation, or the thread
/// of one of its messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    pub channel: ChannelId,
    pub thread: Option<Seq>,
}

impl Place {
    pub fn conversation(channel: ChannelId) -> Self {
        Self {
            channel,
            thread: None,
        }
    }

    pub fn thread(channel: ChannelId, root: Seq) -> Self {
        Self {
            channel,
            thread: Some(root),
        }
    }
}

/// Where one file is.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadStatus {
    /// Sent so far, 0.0 to 1.0.
    Uploading(f64),
    Ready(Attachment),
    Failed(Failure),
}

/// Why a file did not upload, and whether trying again may work (the
/// connection dropped, the server was busy or down).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    pub retryable: bool,
}

impl Failure {
    /// A refusal that trying again will not change.
    pub fn refused(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct UploadItem {
    pub id: u32,
    pub place: Place,
    pub name: String,
    pub size: u64,
    pub status: UploadStatus,
}

/// A Send pressed while files were still uploading: its caption and the
/// files it takes (those in the tray, not taken by an earlier Send, when it
/// was pressed).
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: u32,
    pub place: Place,
    pub caption: String,
    /// A thread's reply that shows in the conversation too.
    pub also_to_channel: bool,
    pub files: Vec<u32>,
}

/// Every file in flight or ready, in every conversation, and the messages
/// waiting for them, in the order Send was pressed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tray {
    pub items: Vec<UploadItem>,
    pub waiting: Vec<Waiting>,
    next_waiting: u32,
}

pub enum TrayAction {
    Add(UploadItem),
    Progress(u32, f64),
    Finished(u32, Result<Attachment, Failure>),
    /// A failed file is being sent again.
    Retry(u32),
    /// Cancelled or dismissed.
    Remove(u32),
    /// Send was pressed in a place, with this caption (and, in a thread,
    /// whether the reply also goes to the conversation).
    Send(Place, String, bool),
    /// This waiting message was posted.
    Posted(u32),
}

/// A message to post now: a caption and files.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub place: Place,
    pub also_to_channel: bool,
    pub caption: String,
    pub attachments: Vec<Attachment>,
}

impl Tray {
    pub fn in_place<'a>(&'a self, place: &'a Place) -> impl Iterator<Item = &'a UploadItem> {
        self.items.iter().filter(move |item| &item.place == place)
    }

    /// Files of this conversation no Send has taken yet (failed ones aside).
    fn unclaimed<'a>(&'a self, place: &'a Place) -> impl Iterator<Item = &'a UploadItem> {
        self.in_place(place).filter(|item| {
            !matches!(item.status, UploadStatus::Failed(_))
                && !self.waiting.iter().any(|w| w.files.contains(&item.id))
        })
    }

    /// Whether Send in this conversation goes through the tray: there are
    /// files to take, or earlier messages wait (a text must not overtake them).
    pub fn takes_send(&self, place: &Place) -> bool {
        self.unclaimed(place).next().is_some() || self.is_waiting(place)
    }

    /// Texts sent in this conversation behind a message still uploading.
    pub fn queued_texts(&self, place: &Place) -> Vec<String> {
        self.waiting
            .iter()
            .filter(|w| &w.place == place && w.files.is_empty())
            .map(|w| w.caption.clone())
            .collect()
    }

    pub fn is_waiting(&self, place: &Place) -> bool {
        self.waiting.iter().any(|w| &w.place == place)
    }

    fn uploading(&self, files: &[u32]) -> bool {
        self.items.iter().any(|item| {
            files.contains(&item.id) && matches!(item.status, UploadStatus::Uploading(_))
        })
    }

    /// Waiting messages that can go now (with their [`Waiting`] ids), in
    /// order: per conversation, each one whose files are all done, up to the
    /// first that still uploads.
    pub fn due(&self) -> Vec<(u32, Outgoing)> {
        let mut blocked: Vec<&Place> = Vec::new();
        let mut due = Vec::new();
        for waiting in &self.waiting {
            if blocked.contains(&&waiting.place) {
                continue;
            }
            if self.uploading(&waiting.files) {
                blocked.push(&waiting.place);
                continue;
            }
            due.push((
                waiting.id,
                Outgoing {
                    place: waiting.place.clone(),
                    also_to_channel: waiting.also_to_channel,
                    caption: waiting.caption.clone(),
                    attachments: self
                        .items
                        .iter()
                        .filter(|item| waiting.files.contains(&item.id))
                        .filter_map(|item| match &item.status {
                            UploadStatus::Ready(attachment) => Some(attachment.clone()),
                            _ => None,
                        })
                        .collect(),
                },
            ));
        }
        due
    }

    /// How many more files this conversation's next message can take.
    pub fn room_in(&self, place: &Place) -> usize {
        MAX_ATTACHMENTS.saturating_sub(self.unclaimed(place).count())
    }

    pub fn apply(&mut self, action: TrayAction) {
        match action {
            TrayAction::Add(item) => self.items.push(item),
            TrayAction::Progress(id, sent) => {
                if let Some(item) = self.items.iter_mut().find(|i| i.id == id)
                    && matches!(item.status, UploadStatus::Uploading(_))
                {
                    item.status = UploadStatus::Uploading(sent.clamp(0.0, 1.0));
                }
            }
            TrayAction::Finished(id, result) => {
                if let Some(item) = self.items.iter_mut().find(|i| i.id == id) {
                    item.status = match result {
                        Ok(attachment) => UploadStatus::Ready(attachment),
                        Err(failure) => UploadStatus::Failed(failure),
                    };
                }
            }
            TrayAction::Retry(id) => {
                if let Some(item) = self.items.iter_mut().find(|i| i.id == id)
                    && matches!(item.status, UploadStatus::Failed(_))
                {
                    item.status = UploadStatus::Uploading(0.0);
                }
            }
            TrayAction::Remove(id) => self.items.retain(|i| i.id != id),
            TrayAction::Send(place, caption, also_to_channel) => {
                let files: Vec<u32> = self.unclaimed(&place).map(|item| item.id).collect();
                if files.is_empty() && caption.trim().is_empty() {
                    return;
                }
                self.next_waiting += 1;
                self.waiting.push(Waiting {
                    id: self.next_waiting,
                    place,
                    caption,
                    also_to_channel,
                    files,
                });
            }
            TrayAction::Posted(id) => {
                let Some(index) = self.waiting.iter().position(|w| w.id == id) else {
                    return;
                };
                let posted = self.waiting.remove(index);
                // Posted files leave the tray; failures stay until dismissed.
                self.items.retain(|item| {
                    !posted.files.contains(&item.id)
                        || matches!(item.status, UploadStatus::Failed(_))
                });
            }
        }
    }
}

impl Reducible for Tray {
    type Action = TrayAction;

    fn reduce(self: Rc<Self>, action: TrayAction) -> Rc<Self> {
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

/// The files of a file list, in order.
pub fn files_of(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// A refused upload: the server's own sentence (or a fallback), retryable
/// when the server was busy or down.
pub fn failure(status: u16, body: &str) -> Failure {
    let message = match serde_json::from_str::<ApiError>(body) {
        Ok(error) => error.message,
        Err(_) if status == 413 => "The file is too large.".into(),
        Err(_) => format!("The upload failed (HTTP {status}). Please try again."),
    };
    Failure {
        message,
        retryable: status == 429 || status >= 500,
    }
}

pub use browser::XhrUpload;

mod browser {
    use shared::{Attachment, ChannelId};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{File, ProgressEvent, XmlHttpRequest};
    use yew::Callback;

    use super::{Failure, failure};

    /// One file being sent; keeps the request's event handlers alive.
    pub struct XhrUpload {
        xhr: XmlHttpRequest,
        _handlers: Vec<Closure<dyn FnMut(ProgressEvent)>>,
    }

    impl XhrUpload {
        /// Starts sending `file` into `channel`; `on_progress` gets 0.0 to
        /// 1.0, `on_finish` the attachment or a sentence saying why not.
        pub fn start(
            channel: &ChannelId,
            file: &File,
            on_progress: Callback<f64>,
            on_finish: Callback<Result<Attachment, Failure>>,
        ) -> Result<Self, String> {
            let fail = |_| "The upload could not start.".to_string();
            let xhr = XmlHttpRequest::new().map_err(fail)?;
            let url = format!(
                "/api/channels/{}/files?name={}",
                js_sys::encode_uri_component(&channel.0),
                js_sys::encode_uri_component(&file.name())
            );
            xhr.open("POST", &url).map_err(fail)?;
            let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
                if event.length_computable() && event.total() > 0.0 {
                    on_progress.emit(event.loaded() / event.total());
                }
            });
            xhr.upload()
                .map_err(fail)?
                .set_onprogress(Some(progress.as_ref().unchecked_ref()));
            let load = {
                let xhr = xhr.clone();
                let on_finish = on_finish.clone();
                Closure::<dyn FnMut(ProgressEvent)>::new(move |_| {
                    let status = xhr.status().unwrap_or(0);
                    let body = xhr.response_text().ok().flatten().unwrap_or_default();
                    let result = if status == 201 {
                        serde_json::from_str::<Attachment>(&body).map_err(|_| {
                            Failure::refused("The server's answer was not understood.")
                        })
                    } else {
                        Err(failure(status, &body))
                    };
                    on_finish.emit(result);
                })
            };
            xhr.set_onload(Some(load.as_ref().unchecked_ref()));
            let error = Closure::<dyn FnMut(ProgressEvent)>::new(move |_| {
                on_finish.emit(Err(Failure {
                    message: "The upload failed: the connection was lost.".into(),
                    retryable: true,
                }));
            });
            xhr.set_onerror(Some(error.as_ref().unchecked_ref()));
            xhr.send_with_opt_blob(Some(file)).map_err(fail)?;
            Ok(Self {
                xhr,
                _handlers: vec![progress, load, error],
            })
        }

        /// Stops sending; no handler runs afterwards.
        pub fn cancel(&self) {
            self.xhr.set_onload(None);
            self.xhr.set_onerror(None);
            if let Ok(upload) = self.xhr.upload() {
                upload.set_onprogress(None);
            }
            let _ = self.xhr.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{AttachmentKind, FileId};

    fn item(id: u32, channel: &str) -> UploadItem {
        UploadItem {
            id,
            place: Place::conversation(ChannelId(channel.into())),
            name: format!("f{id}.png"),
            size: 10,
            status: UploadStatus::Uploading(0.0),
        }
    }

    fn attachment(id: u32) -> Attachment {
        Attachment {
            id: FileId(format!("file{id}")),
            name: format!("f{id}.png"),
            kind: AttachmentKind::Image,
            mime: "image/png".into(),
            size: 10,
            width: None,
            height: None,
            thumbnail: false,
        }
    }

    #[test]
    fn send_waits_for_its_uploads_then_posts_the_ready_ones() {
        let general = Place::conversation(ChannelId("general".into()));
        let mut tray = Tray::default();
        tray.apply(TrayAction::Add(item(1, "general")));
        tray.apply(TrayAction::Add(item(2, "general")));
        tray.apply(TrayAction::Add(item(3, "other")));
        assert!(tray.takes_send(&general));
        tray.apply(TrayAction::Send(general.clone(), "look".into(), false));
        tray.apply(TrayAction::Progress(1, 0.5));
        assert!(tray.due().is_empty(), "still uploading");
        tray.apply(TrayAction::Finished(1, Ok(attachment(1))));
        tray.apply(TrayAction::Finished(2, Err(Failure::refused("too big"))));
        let due = tray.due();
        assert_eq!(due.len(), 1);
        let (id, outgoing) = &due[0];
        assert_eq!(outgoing.caption, "look");
        assert_eq!(outgoing.attachments, vec![attachment(1)]);
        tray.apply(TrayAction::Posted(*id));
        assert!(tray.due().is_empty());
        let left: Vec<u32> = tray.items.iter().map(|i| i.id).collect();
        assert_eq!(
            left,
            vec![2, 3],
            "the failure stays visible, other conversations untouched"
        );
        assert!(!tray.takes_send(&general));
        assert_eq!(tray.room_in(&general), MAX_ATTACHMENTS);
    }

    #[test]
    fn each_send_is_its_own_message_and_none_overtakes_another() {
        let general = Place::conversation(ChannelId("general".into()));
        let mut tray = Tray::default();
        tray.apply(TrayAction::Add(item(1, "general")));
        tray.apply(TrayAction::Send(general.clone(), "the photo".into(), false));
        // Typed and sent while the photo uploads: waits behind it.
        assert!(tray.takes_send(&general));
        tray.apply(TrayAction::Send(
            general.clone(),
            "and a remark".into(),
            false,
        ));
        assert_eq!(
            tray.queued_texts(&general),
            vec!["and a remark".to_string()]
        );
        // Another file, added after: belongs to the next Send, not the first.
        tray.apply(TrayAction::Add(item(2, "general")));
        tray.apply(TrayAction::Send(general.clone(), String::new(), false));
        tray.apply(TrayAction::Finished(2, Ok(attachment(2))));
        assert!(tray.due().is_empty(), "the first message still uploads");
        tray.apply(TrayAction::Finished(1, Ok(attachment(1))));
        let due = tray.due();
        let shape: Vec<(&str, usize)> = due
            .iter()
            .map(|(_, o)| (o.caption.as_str(), o.attachments.len()))
            .collect();
        assert_eq!(shape, vec![("the photo", 1), ("and a remark", 0), ("", 1)]);
        assert_eq!(due[2].1.attachments, vec![attachment(2)]);
        // An empty Send with nothing to take is no message.
        for (id, _) in &due {
            tray.apply(TrayAction::Posted(*id));
        }
        tray.apply(TrayAction::Send(general.clone(), "  ".into(), false));
        assert!(tray.waiting.is_empty() && tray.items.is_empty());
    }

    #[test]
    fn a_threads_files_go_with_its_reply_not_with_the_conversations_messages() {
        let general = Place::conversation(ChannelId("general".into()));
        let thread = Place::thread(ChannelId("general".into()), 7);
        let mut tray = Tray::default();
        tray.apply(TrayAction::Add(UploadItem {
            place: thread.clone(),
            ..item(1, "general")
        }));
        assert!(tray.takes_send(&thread) && !tray.takes_send(&general));
        tray.apply(TrayAction::Send(
            general.clone(),
            "in the channel".into(),
            false,
        ));
        tray.apply(TrayAction::Send(thread.clone(), "the log".into(), true));
        tray.apply(TrayAction::Finished(1, Ok(attachment(1))));
        let due = tray.due();
        let shape: Vec<(&Place, &str, usize, bool)> = due
            .iter()
            .map(|(_, o)| {
                (
                    &o.place,
                    o.caption.as_str(),
                    o.attachments.len(),
                    o.also_to_channel,
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                (&general, "in the channel", 0, false),
                (&thread, "the log", 1, true)
            ]
        );
    }

    #[test]
    fn server_refusals_read_as_sentences_and_only_outages_are_retried() {
        let body = r#"{"code":"too_large","message":"The file is too large: at most 25 MiB."}"#;
        assert_eq!(
            failure(413, body),
            Failure::refused("The file is too large: at most 25 MiB.")
        );
        assert_eq!(failure(413, "<html>").message, "The file is too large.");
        let outage = failure(502, "");
        assert!(outage.message.contains("502") && outage.retryable);
        assert!(failure(429, "").retryable);
        assert!(!failure(422, "").retryable);
    }

    #[test]
    fn a_failed_file_can_be_sent_again() {
        let general = Place::conversation(ChannelId("general".into()));
        let mut tray = Tray::default();
        tray.apply(TrayAction::Add(item(1, "general")));
        let lost = Failure {
            message: "lost".into(),
            retryable: true,
        };
        tray.apply(TrayAction::Finished(1, Err(lost)));
        assert!(!tray.takes_send(&general));
        tray.apply(TrayAction::Retry(1));
        assert_eq!(tray.items[0].status, UploadStatus::Uploading(0.0));
        tray.apply(TrayAction::Finished(1, Ok(attachment(1))));
        assert!(tray.takes_send(&general));
    }
}
