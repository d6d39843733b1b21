//! The look this browser is set to: light, dark, or following the system
//! (the default). Kept in localStorage and applied as `data-theme` on the
//! document, which the stylesheet reads.

use wasm_bindgen::JsCast;

const KEY: &str = "chat:theme";

/// A theme choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    Light,
    Dark,
    #[default]
    System,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// As stored and in the select's values.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::System => "system",
        }
    }

    pub fn parse(value: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|theme| theme.as_str() == value)
            .unwrap_or_default()
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Dark => "Dark",
            Self::System => "Follow the system",
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The theme this browser was set to.
pub fn saved() -> Theme {
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .map(|value| Theme::parse(&value))
        .unwrap_or_default()
}

/// Shows `theme` now and remembers it for this browser.
pub fn choose(theme: Theme) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, theme.as_str());
    }
    apply(theme);
}

/// Shows `theme` (on the whole document).
pub fn apply(theme: Theme) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let Ok(root) = root.dyn_into::<web_sys::HtmlElement>() else {
        return;
    };
    match theme {
        Theme::System => {
            let _ = root.remove_attribute("data-theme");
        }
        chosen => {
            let _ = root.set_attribute("data-theme", chosen.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Theme;

    #[test]
    fn choices_read_back_and_anything_else_follows_the_system() {
        for theme in Theme::ALL {
            assert_eq!(Theme::parse(theme.as_str()), theme);
        }
        assert_eq!(Theme::parse("neon"), Theme::System);
    }
}
