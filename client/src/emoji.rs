//! Emoji helpers over the `emojis` data crate: `:shortcode:` replacement,
//! emoji-only detection, search, and the recently used list.

/// Replaces every `:shortcode:` that names an emoji (e.g. `:smile:`).
pub fn replace_shortcodes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(':') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end =
            after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '+' || c == '-'));
        match end {
            Some(end) if end > 0 && after[end..].starts_with(':') => {
                let code = &after[..end];
                if let Some(emoji) = emojis::get_by_shortcode(code) {
                    out.push_str(emoji.as_str());
                    rest = &after[end + 1..];
                    continue;
                }
                out.push(':');
                rest = after;
            }
            _ => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a message is only emoji (1 to 8 of them, spaces allowed): shown large.
pub fn is_emoji_only(text: &str) -> bool {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return false;
    }
    let mut rest = compact.as_str();
    let mut count = 0;
    while !rest.is_empty() {
        // The longest prefix that is an emoji (sequences can be long).
        let mut boundaries: Vec<usize> = rest.char_indices().map(|(i, _)| i).skip(1).collect();
        boundaries.push(rest.len());
        let Some(len) = boundaries
            .iter()
            .rev()
            .copied()
            .filter(|len| *len <= 40)
            .find(|len| emojis::get(&rest[..*len]).is_some())
        else {
            return false;
        };
        rest = &rest[len..];
        count += 1;
        if count > 8 {
            return false;
        }
    }
    true
}

/// The picker's categories, in order, with a label.
pub fn groups() -> Vec<(emojis::Group, &'static str)> {
    use emojis::Group::*;
    vec![
        (SmileysAndEmotion, "Smileys"),
        (PeopleAndBody, "People"),
        (AnimalsAndNature, "Nature"),
        (FoodAndDrink, "Food"),
        (TravelAndPlaces, "Travel"),
        (Activities, "Activities"),
        (Objects, "Objects"),
        (Symbols, "Symbols"),
        (Flags, "Flags"),
    ]
}

/// Emojis whose name or shortcode contains every word of `query`.
pub fn search(query: &str) -> Vec<&'static emojis::Emoji> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    emojis::iter()
        .filter(|emoji| {
            words.iter().all(|word| {
                emoji.name().to_lowercase().contains(word.as_str())
                    || emoji.shortcodes().any(|code| code.contains(word.as_str()))
            })
        })
        .take(200)
        .collect()
}

/// The emoji in the chosen skin tone, when it has tones.
pub fn with_tone(emoji: &'static emojis::Emoji, tone: emojis::SkinTone) -> &'static str {
    if tone == emojis::SkinTone::Default {
        return emoji.as_str();
    }
    emoji
        .with_skin_tone(tone)
        .map(|e| e.as_str())
        .unwrap_or(emoji.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_become_emoji() {
        assert_eq!(replace_shortcodes("hi :smile:!"), "hi 😄!");
        assert_eq!(replace_shortcodes(":+1: :thumbsup:"), "👍 👍");
        assert_eq!(replace_shortcodes("time 10:30:00"), "time 10:30:00");
        assert_eq!(
            replace_shortcodes(":not_an_emoji_code: ok"),
            ":not_an_emoji_code: ok"
        );
        assert_eq!(replace_shortcodes("a::b :"), "a::b :");
    }

    #[test]
    fn emoji_only_messages_are_detected() {
        assert!(is_emoji_only("😄"));
        assert!(is_emoji_only(" 👍🏽 🎉 "));
        assert!(is_emoji_only("👨‍👩‍👧"));
        assert!(!is_emoji_only("hi 😄"));
        assert!(!is_emoji_only(""));
        assert!(!is_emoji_only(&"😄".repeat(9)));
    }

    #[test]
    fn search_finds_by_name_and_shortcode() {
        let found: Vec<&str> = search("thumbs up").iter().map(|e| e.as_str()).collect();
        assert!(found.contains(&"👍"), "{found:?}");
        assert!(search("smile").iter().any(|e| e.as_str() == "😄"));
        assert!(search("zzzz-no-such").is_empty());
        assert_eq!(
            with_tone(emojis::get("👍").unwrap(), emojis::SkinTone::Dark),
            "👍🏿"
        );
    }
}
