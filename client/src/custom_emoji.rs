//! The server's custom emoji, as this browser knows them: the list
//! (fetched on each connection, after adding one, and again when a message
//! or reaction names one not known yet: once per such name, at most every
//! [`MIN_GAP_MS`]),
//! lookups by name, how one is shown, and adding one. Components that show
//! emoji read the [`EmojiVersion`] context, so they render again when the
//! list changes.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use gloo_net::http::Request;
use shared::api::{ApiError, CustomEmoji};
use shared::validate::EmojiName;
use yew::prelude::*;

/// Names not known make the list be fetched again at most this often.
const MIN_GAP_MS: i64 = 2_000;
/// Unknown names remembered as asked for (then forgotten all at once).
const MAX_ASKED: usize = 1_000;

/// Changes whenever the list does (given as a context by the chat page).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmojiVersion(pub u32);

#[derive(Default)]
struct Known {
    by_name: HashMap<String, CustomEmoji>,
    /// In the order the server lists them (oldest first).
    names: Vec<String>,
    version: u32,
    fetched_at: Option<i64>,
    fetching: bool,
    /// Names looked for and not found (each makes one fetch).
    asked: HashSet<String>,
    /// A fetch is due once the gap has passed.
    scheduled: bool,
    /// A name was looked for during a fetch: fetch once more after it.
    again: bool,
    /// Told the new version when the list changes.
    listener: Option<Callback<EmojiVersion>>,
}

thread_local! {
    static KNOWN: RefCell<Known> = RefCell::new(Known::default());
}

/// Every custom emoji known, oldest first.
pub fn all() -> Vec<CustomEmoji> {
    KNOWN.with(|k| {
        let known = k.borrow();
        known
            .names
            .iter()
            .filter_map(|name| known.by_name.get(name).cloned())
            .collect()
    })
}

/// The image address of custom emoji `name`, if it is known.
pub fn url_of(name: &str) -> Option<String> {
    KNOWN.with(|k| k.borrow().by_name.get(name).map(CustomEmoji::url))
}

/// Where list changes are reported (one listener: the chat page).
pub fn listen(listener: Callback<EmojiVersion>) {
    KNOWN.with(|k| k.borrow_mut().listener = Some(listener));
}

/// Fetches the list now (unless a fetch is under way).
pub fn refresh() {
    let start = KNOWN.with(|k| {
        let mut known = k.borrow_mut();
        !std::mem::replace(&mut known.fetching, true)
    });
    if start {
        wasm_bindgen_futures::spawn_local(fetch());
    }
}

/// `name` was seen in a message or reaction but is not known: fetches the
/// list again (once per name, at most every [`MIN_GAP_MS`]).
pub fn missing(name: &str) {
    let schedule = KNOWN.with(|k| {
        let mut known = k.borrow_mut();
        if known.by_name.contains_key(name) || known.asked.contains(name) {
            return false;
        }
        if known.asked.len() >= MAX_ASKED {
            known.asked.clear();
        }
        known.asked.insert(name.to_owned());
        if known.fetching {
            known.again = true;
            return false;
        }
        !std::mem::replace(&mut known.scheduled, true)
    });
    if schedule {
        fetch_after_gap();
    }
}

/// Fetches once [`MIN_GAP_MS`] have passed since the last fetch.
fn fetch_after_gap() {
    let last = KNOWN.with(|k| k.borrow().fetched_at);
    let wait = last.map_or(0, |at| {
        (at + MIN_GAP_MS - crate::browser::now_millis()).max(0)
    });
    gloo_timers::callback::Timeout::new(wait as u32, || {
        KNOWN.with(|k| k.borrow_mut().scheduled = false);
        refresh();
    })
    .forget();
}

async fn fetch() {
    let list = async {
        let response = Request::get("/api/emoji").send().await.ok()?;
        response
            .ok()
            .then_some(response)?
            .json::<Vec<CustomEmoji>>()
            .await
            .ok()
    }
    .await;
    let again = KNOWN.with(|k| {
        let mut known = k.borrow_mut();
        known.fetching = false;
        known.fetched_at = Some(crate::browser::now_millis());
        std::mem::take(&mut known.again) && !std::mem::replace(&mut known.scheduled, true)
    });
    if again {
        fetch_after_gap();
    }
    let told = KNOWN.with(|k| {
        let mut known = k.borrow_mut();
        let list = list?;
        let names: Vec<String> = list.iter().map(|e| e.name.clone()).collect();
        if names == known.names {
            return None;
        }
        known.names = names;
        known.by_name = list.into_iter().map(|e| (e.name.clone(), e)).collect();
        known.version += 1;
        Some((known.listener.clone()?, EmojiVersion(known.version)))
    });
    if let Some((listener, version)) = told {
        listener.emit(version);
    }
}

/// Uploads `file` as custom emoji `name`; the server's refusal otherwise.
pub async fn add(name: &str, file: web_sys::File) -> Result<CustomEmoji, String> {
    let name = EmojiName::parse(name).map_err(|problem| problem.to_string())?;
    let url = format!(
        "/api/emoji?name={}",
        String::from(js_sys::encode_uri_component(name.as_str()))
    );
    let response = Request::post(&url)
        .body(file)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|_| "The chat server cannot be reached. Please try again.".to_string())?;
    if response.status() != 201 {
        return Err(match response.json::<ApiError>().await {
            Ok(error) => error.message,
            Err(_) => format!("The server answered {}.", response.status()),
        });
    }
    let added = response
        .json::<CustomEmoji>()
        .await
        .map_err(|_| "The server sent an unexpected answer.".to_string())?;
    refresh();
    Ok(added)
}

/// An emoji as shown: a custom one's image when `text` is a known `:name:`,
/// otherwise the text itself (a custom name not known yet is asked for).
pub fn glyph(text: &str) -> Html {
    let Some(name) = EmojiName::from_shortcode(text) else {
        return html! { { text.to_owned() } };
    };
    match url_of(name.as_str()) {
        Some(url) => html! {
            <img class="custom-emoji" src={url} alt={text.to_owned()} title={text.to_owned()}
                 data-testid="custom-emoji" data-emoji={name.as_str().to_owned()}
                 loading="lazy" decoding="async" />
        },
        None => {
            missing(name.as_str());
            html! { { text.to_owned() } }
        }
    }
}
