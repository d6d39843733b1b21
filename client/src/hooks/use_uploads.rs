//! Upload bookkeeping for the chat page: starts an [`XhrUpload`] per file,
//! feeds its progress into the [`Tray`], cancels on request, and hands each
//! message that is due (Send pressed, uploads finished) to `on_post`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use shared::ChannelId;
use web_sys::File;
use yew::prelude::*;

use crate::components::attachments::human_size;
use crate::uploads::{
    Failure, Outgoing, Place, Tray, TrayAction, UploadItem, UploadStatus, XhrUpload,
};

/// The tray and what can be done with it.
#[derive(Clone)]
pub struct Uploads {
    pub tray: UseReducerHandle<Tray>,
    /// Upload these files into this place (a conversation or a thread).
    pub add: Callback<(Place, Vec<File>)>,
    /// Cancel an upload, or drop a ready or failed file from the tray.
    pub remove: Callback<u32>,
    /// Send a failed file again.
    pub retry: Callback<u32>,
    /// Send was pressed in a place with files: post them with this
    /// caption (and, in a thread, maybe to the conversation too).
    pub send: Callback<(Place, String, bool)>,
}

#[hook]
pub fn use_uploads(max_upload_bytes: u64, on_post: Callback<Outgoing>) -> Uploads {
    let tray = use_reducer(Tray::default);
    let running: Rc<RefCell<HashMap<u32, XhrUpload>>> = use_mut_ref(HashMap::new);
    // The files themselves, kept for a retry until posted or removed.
    let sources: Rc<RefCell<HashMap<u32, File>>> = use_mut_ref(HashMap::new);
    let next_id = use_mut_ref(|| 0u32);

    {
        let tray = tray.clone();
        let running = running.clone();
        let sources = sources.clone();
        use_effect_with((*tray).clone(), move |current| {
            for (id, message) in current.due() {
                if let Some(waiting) = current.waiting.iter().find(|w| w.id == id) {
                    for file in &waiting.files {
                        running.borrow_mut().remove(file);
                        if current
                            .items
                            .iter()
                            .any(|i| i.id == *file && matches!(i.status, UploadStatus::Ready(_)))
                        {
                            sources.borrow_mut().remove(file);
                        }
                    }
                }
                tray.dispatch(TrayAction::Posted(id));
                if !message.attachments.is_empty() || !message.caption.trim().is_empty() {
                    on_post.emit(message);
                }
            }
        });
    }

    let add = {
        let tray = tray.clone();
        let running = running.clone();
        let sources = sources.clone();
        Callback::from(move |(place, files): (Place, Vec<File>)| {
            let mut room = tray.room_in(&place);
            for file in files {
                let id = {
                    let mut next = next_id.borrow_mut();
                    *next += 1;
                    *next
                };
                let size = file.size().max(0.0) as u64;
                let mut item = UploadItem {
                    id,
                    place: place.clone(),
                    name: file.name(),
                    size,
                    status: UploadStatus::Uploading(0.0),
                };
                if room == 0 {
                    item.status = UploadStatus::Failed(Failure::refused(format!(
                        "At most {} files go in one message; send these first.",
                        shared::limits::MAX_ATTACHMENTS
                    )));
                    tray.dispatch(TrayAction::Add(item));
                    continue;
                }
                if size > max_upload_bytes {
                    item.status = UploadStatus::Failed(Failure::refused(format!(
                        "Too large: files can be at most {}.",
                        human_size(max_upload_bytes)
                    )));
                    tray.dispatch(TrayAction::Add(item));
                    continue;
                }
                room -= 1;
                tray.dispatch(TrayAction::Add(item));
                start(&tray, &running, id, &place.channel, &file);
                sources.borrow_mut().insert(id, file);
            }
        })
    };

    let retry = {
        let tray = tray.clone();
        let running = running.clone();
        let sources = sources.clone();
        Callback::from(move |id: u32| {
            let Some(channel) = tray
                .items
                .iter()
                .find(|i| i.id == id)
                .map(|i| i.place.channel.clone())
            else {
                return;
            };
            let Some(file) = sources.borrow().get(&id).cloned() else {
                return;
            };
            tray.dispatch(TrayAction::Retry(id));
            start(&tray, &running, id, &channel, &file);
        })
    };

    let remove = {
        let tray = tray.clone();
        let running = running.clone();
        let sources = sources.clone();
        Callback::from(move |id: u32| {
            if let Some(upload) = running.borrow_mut().remove(&id) {
                upload.cancel();
            }
            sources.borrow_mut().remove(&id);
            tray.dispatch(TrayAction::Remove(id));
        })
    };

    let send = {
        let tray = tray.clone();
        Callback::from(move |(place, caption, also): (Place, String, bool)| {
            tray.dispatch(TrayAction::Send(place, caption, also));
        })
    };

    Uploads {
        tray,
        add,
        remove,
        retry,
        send,
    }
}

/// Starts sending `file` as tray item `id`, reporting into the tray.
fn start(
    tray: &UseReducerHandle<Tray>,
    running: &Rc<RefCell<HashMap<u32, XhrUpload>>>,
    id: u32,
    channel: &ChannelId,
    file: &File,
) {
    let progress = {
        let tray = tray.clone();
        Callback::from(move |sent: f64| tray.dispatch(TrayAction::Progress(id, sent)))
    };
    let finish = {
        let tray = tray.clone();
        Callback::from(move |result| tray.dispatch(TrayAction::Finished(id, result)))
    };
    match XhrUpload::start(channel, file, progress, finish) {
        Ok(upload) => {
            // A retry replaces the finished request (its handlers are done).
            running.borrow_mut().insert(id, upload);
        }
        Err(reason) => tray.dispatch(TrayAction::Finished(id, Err(Failure::refused(reason)))),
    }
}
