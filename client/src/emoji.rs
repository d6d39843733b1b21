//! Emoji: the table of names, shortcodes and skin tones (a separate asset,
//! `/emoji.json`, fetched once after start-up or when first needed, so the
//! first load stays small), `:shortcode:` replacement, emoji-only detection
//! (from Unicode ranges, no table needed), search, and the recently used list.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

/// Where the table is served (copied into the build by trunk).
pub const TABLE_PATH: &str = "/emoji.json";

/// The picker's categories, in order.
pub const GROUPS: [&str; 9] = [
    "Smileys",
    "People",
    "Nature",
    "Food",
    "Travel",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
];

/// Skin tones, in the order `Entry::tones` lists them (light to dark).
pub const TONES: usize = 5;

/// One emoji: itself, its name, its group (index into [`GROUPS`]), its
/// shortcodes, and its five skin-tone forms when it has them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry(
    pub String,
    pub String,
    pub u8,
    pub Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")] pub Vec<String>,
);

impl Entry {
    pub fn emoji(&self) -> &str {
        &self.0
    }

    pub fn name(&self) -> &str {
        &self.1
    }

    /// The form in skin tone `tone` (0 = default, 1..=5 light to dark).
    pub fn with_tone(&self, tone: usize) -> &str {
        match tone {
            0 => &self.0,
            t => self.4.get(t - 1).map(String::as_str).unwrap_or(&self.0),
        }
    }
}

/// The whole table, with its shortcode index.
#[derive(Debug, Default)]
pub struct Table {
    entries: Vec<Entry>,
    by_shortcode: HashMap<String, usize>,
}

impl Table {
    pub fn new(entries: Vec<Entry>) -> Self {
        let mut by_shortcode = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            for code in &entry.3 {
                by_shortcode.entry(code.clone()).or_insert(index);
            }
        }
        Self {
            entries,
            by_shortcode,
        }
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str::<Vec<Entry>>(json).map(Self::new)
    }

    pub fn by_shortcode(&self, code: &str) -> Option<&Entry> {
        self.by_shortcode.get(code).map(|i| &self.entries[*i])
    }

    /// The emoji of one group, in order.
    pub fn group(&self, group: usize) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(move |e| usize::from(e.2) == group)
    }

    /// Emojis whose name or shortcode contains every word of `query` (at most 200).
    pub fn search(&self, query: &str) -> Vec<&Entry> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.entries
            .iter()
            .filter(|entry| {
                words.iter().all(|word| {
                    entry.1.to_lowercase().contains(word.as_str())
                        || entry.3.iter().any(|code| code.contains(word.as_str()))
                })
            })
            .take(200)
            .collect()
    }

    /// Replaces every `:shortcode:` that names an emoji (e.g. `:smile:`).
    pub fn replace_shortcodes(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(':') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '+' || c == '-'));
            if let Some(end) = end.filter(|end| *end > 0 && after[*end..].starts_with(':'))
                && let Some(entry) = self.by_shortcode(&after[..end])
            {
                out.push_str(entry.emoji());
                rest = &after[end + 1..];
                continue;
            }
            out.push(':');
            rest = after;
        }
        out.push_str(rest);
        out
    }
}

enum Loading {
    Idle,
    Fetching(Vec<Box<dyn FnOnce(Rc<Table>)>>),
    Ready(Rc<Table>),
}

thread_local! {
    static TABLE: RefCell<Loading> = const { RefCell::new(Loading::Idle) };
}

/// The table, if it has arrived.
pub fn table() -> Option<Rc<Table>> {
    TABLE.with(|t| match &*t.borrow() {
        Loading::Ready(table) => Some(table.clone()),
        _ => None,
    })
}

/// Calls `then` with the table, fetching it first if nobody has yet.
pub fn with_table(then: impl FnOnce(Rc<Table>) + 'static) {
    let start = TABLE.with(|t| {
        let mut state = t.borrow_mut();
        match &mut *state {
            Loading::Ready(table) => {
                let table = table.clone();
                drop(state);
                then(table);
                false
            }
            Loading::Fetching(waiting) => {
                waiting.push(Box::new(then));
                false
            }
            Loading::Idle => {
                *state = Loading::Fetching(vec![Box::new(then)]);
                true
            }
        }
    });
    if start {
        wasm_bindgen_futures::spawn_local(fetch());
    }
}

/// Starts fetching the table without waiting for it.
pub fn prefetch() {
    with_table(|_| {});
}

async fn fetch() {
    let result = async {
        let response = gloo_net::http::Request::get(TABLE_PATH).send().await.ok()?;
        let text = response.ok().then_some(response)?.text().await.ok()?;
        Table::from_json(&text).ok()
    }
    .await;
    let waiting = TABLE.with(|t| {
        let mut state = t.borrow_mut();
        let previous = std::mem::replace(
            &mut *state,
            match result {
                Some(table) => Loading::Ready(Rc::new(table)),
                // Try again on the next use.
                None => Loading::Idle,
            },
        );
        match (previous, &*state) {
            (Loading::Fetching(waiting), Loading::Ready(table)) => Some((waiting, table.clone())),
            _ => None,
        }
    });
    if let Some((waiting, table)) = waiting {
        for then in waiting {
            then(table.clone());
        }
    }
}

/// `:shortcode:`s replaced when the table is here; the text as typed otherwise.
pub fn replace_shortcodes(text: &str) -> String {
    match table() {
        Some(table) => table.replace_shortcodes(text),
        None => text.to_owned(),
    }
}

/// Whether a message is only emoji (1 to 8 of them, spaces allowed): shown large.
pub fn is_emoji_only(text: &str) -> bool {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() {
        return false;
    }
    let mut count = 0;
    let mut i = 0;
    while i < chars.len() {
        let Some(len) = emoji_at(&chars[i..]) else {
            return false;
        };
        i += len;
        count += 1;
        if count > 8 {
            return false;
        }
    }
    true
}

/// The length in chars of the emoji starting `chars`, if one does.
fn emoji_at(chars: &[char]) -> Option<usize> {
    let first = *chars.first()?;
    if is_regional_indicator(first) {
        // Flags are pairs of regional indicators.
        return chars
            .get(1)
            .filter(|c| is_regional_indicator(**c))
            .map(|_| 2);
    }
    let mut i = if is_keycap_base(first) {
        // `1️⃣`: a digit, `#` or `*`, an optional VS16, then the keycap mark.
        let mut i = 1;
        if chars.get(i) == Some(&'\u{FE0F}') {
            i += 1;
        }
        if chars.get(i) != Some(&'\u{20E3}') {
            return None;
        }
        i + 1
    } else if is_pictographic(first) {
        1
    } else {
        return None;
    };
    loop {
        match chars.get(i) {
            Some(c) if is_modifier(*c) => i += 1,
            // A zero-width joiner glues the next pictograph into the same emoji.
            Some('\u{200D}') if chars.get(i + 1).is_some_and(|c| is_pictographic(*c)) => i += 2,
            _ => return Some(i),
        }
    }
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_keycap_base(c: char) -> bool {
    c.is_ascii_digit() || c == '#' || c == '*'
}

/// Variation selectors, skin tones, the keycap mark and tag characters
/// (subdivision flags), which extend the emoji before them.
fn is_modifier(c: char) -> bool {
    matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{20E3}')
        || ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
        || ('\u{E0020}'..='\u{E007F}').contains(&c)
}

/// Unicode's Extended_Pictographic characters, in broad ranges.
fn is_pictographic(c: char) -> bool {
    const SINGLES: [char; 15] = [
        '\u{00A9}', '\u{00AE}', '\u{203C}', '\u{2049}', '\u{2122}', '\u{2139}', '\u{2328}',
        '\u{23CF}', '\u{24C2}', '\u{25B6}', '\u{25C0}', '\u{3030}', '\u{303D}', '\u{3297}',
        '\u{3299}',
    ];
    const RANGES: [(char, char); 14] = [
        ('\u{2194}', '\u{2199}'),
        ('\u{21A9}', '\u{21AA}'),
        ('\u{231A}', '\u{231B}'),
        ('\u{23E9}', '\u{23F3}'),
        ('\u{23F8}', '\u{23FA}'),
        ('\u{25AA}', '\u{25AB}'),
        ('\u{25FB}', '\u{25FE}'),
        ('\u{2600}', '\u{27BF}'),
        ('\u{2934}', '\u{2935}'),
        ('\u{2B05}', '\u{2B07}'),
        ('\u{2B1B}', '\u{2B1C}'),
        ('\u{2B50}', '\u{2B55}'),
        ('\u{1F000}', '\u{1FAFF}'),
        ('\u{1FC00}', '\u{1FFFD}'),
    ];
    SINGLES.contains(&c) || RANGES.iter().any(|(low, high)| (*low..=*high).contains(&c))
}

const RECENT_KEY: &str = "chat.recent-emoji";
const RECENT_MAX: usize = 24;

/// Recently used emoji, most recent first (kept in localStorage).
pub fn recent() -> Vec<String> {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(RECENT_KEY).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

pub fn remember(emoji: &str) {
    let mut list = recent();
    list.retain(|e| e != emoji);
    list.insert(0, emoji.to_owned());
    list.truncate(RECENT_MAX);
    if let (Some(storage), Ok(json)) = (
        web_sys::window().and_then(|w| w.local_storage().ok().flatten()),
        serde_json::to_string(&list),
    ) {
        let _ = storage.set_item(RECENT_KEY, &json);
    }
}

/// The table built from the `emojis` data crate: what `client/emoji.json`
/// must hold (a test compares them; `UPDATE_EMOJI_TABLE=1 cargo test -p
/// client` rewrites the file).
#[cfg(all(test, not(target_arch = "wasm32")))]
pub fn generated_entries() -> Vec<Entry> {
    use emojis::{Group, SkinTone};
    let groups = [
        Group::SmileysAndEmotion,
        Group::PeopleAndBody,
        Group::AnimalsAndNature,
        Group::FoodAndDrink,
        Group::TravelAndPlaces,
        Group::Activities,
        Group::Objects,
        Group::Symbols,
        Group::Flags,
    ];
    let tones = [
        SkinTone::Light,
        SkinTone::MediumLight,
        SkinTone::Medium,
        SkinTone::MediumDark,
        SkinTone::Dark,
    ];
    emojis::iter()
        .map(|emoji| {
            let group = groups
                .iter()
                .position(|g| *g == emoji.group())
                .unwrap_or(GROUPS.len() - 1);
            let toned = emoji
                .skin_tones()
                .map(|_| {
                    tones
                        .iter()
                        .map(|tone| {
                            emoji
                                .with_skin_tone(*tone)
                                .map(|e| e.as_str())
                                .unwrap_or(emoji.as_str())
                                .to_owned()
                        })
                        .collect()
                })
                .unwrap_or_default();
            Entry(
                emoji.as_str().to_owned(),
                emoji.name().to_owned(),
                group as u8,
                emoji.shortcodes().map(str::to_owned).collect(),
                toned,
            )
        })
        .collect()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    const TABLE_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/emoji.json");

    fn table() -> Table {
        Table::from_json(&std::fs::read_to_string(TABLE_FILE).unwrap()).unwrap()
    }

    #[test]
    fn the_served_table_is_the_one_the_data_crate_makes() {
        let generated = serde_json::to_string(&generated_entries()).unwrap();
        if std::env::var_os("UPDATE_EMOJI_TABLE").is_some() {
            std::fs::write(TABLE_FILE, &generated).unwrap();
        }
        let served = std::fs::read_to_string(TABLE_FILE).unwrap();
        assert!(
            served == generated,
            "client/emoji.json is out of date: run UPDATE_EMOJI_TABLE=1 cargo test -p client"
        );
    }

    #[test]
    fn shortcodes_become_emoji() {
        let table = table();
        assert_eq!(table.replace_shortcodes("hi :smile:!"), "hi 😄!");
        assert_eq!(table.replace_shortcodes(":+1: :thumbsup:"), "👍 👍");
        assert_eq!(table.replace_shortcodes("time 10:30:00"), "time 10:30:00");
        assert_eq!(
            table.replace_shortcodes(":not_an_emoji_code: ok"),
            ":not_an_emoji_code: ok"
        );
        assert_eq!(table.replace_shortcodes("a::b :"), "a::b :");
        assert_eq!(
            replace_shortcodes("no table yet :smile:"),
            "no table yet :smile:"
        );
    }

    #[test]
    fn emoji_only_messages_are_detected() {
        assert!(is_emoji_only("😄"));
        assert!(is_emoji_only(" 👍🏽 🎉 "));
        assert!(is_emoji_only("👨‍👩‍👧"));
        assert!(is_emoji_only("🇫🇷🇩🇪"));
        assert!(is_emoji_only("1️⃣ ❤️ ☀️"));
        assert!(is_emoji_only("🏴󠁧󠁢󠁳󠁣󠁴󠁿"));
        assert!(!is_emoji_only("hi 😄"));
        assert!(!is_emoji_only("123"));
        assert!(!is_emoji_only("🇫"));
        assert!(!is_emoji_only(""));
        assert!(!is_emoji_only(&"😄".repeat(9)));
    }

    #[test]
    fn every_emoji_in_the_table_counts_as_emoji_only() {
        for entry in &table().entries {
            for form in std::iter::once(entry.emoji()).chain(entry.4.iter().map(String::as_str)) {
                assert!(is_emoji_only(form), "{form} ({})", entry.name());
            }
        }
    }

    #[test]
    fn search_finds_by_name_and_shortcode() {
        let table = table();
        let found: Vec<&str> = table
            .search("thumbs up")
            .iter()
            .map(|e| e.emoji())
            .collect();
        assert!(found.contains(&"👍"), "{found:?}");
        assert!(table.search("smile").iter().any(|e| e.emoji() == "😄"));
        assert!(table.search("zzzz-no-such").is_empty());
        assert_eq!(table.by_shortcode("+1").unwrap().with_tone(5), "👍🏿");
        assert!(table.group(0).any(|e| e.emoji() == "😄"));
        assert!(table.group(8).any(|e| e.emoji() == "🇫🇷"));
        assert!(!table.group(0).any(|e| e.emoji() == "🇫🇷"));
    }
}
