//! The quick switcher (Ctrl+K, or Cmd+K on macOS): type part of a name,
//! move with Up and Down, Enter opens it. It lists the conversations you
//! are in, then people you have none with yet (picking one starts it).
//! Esc closes it; focus stays inside while it is open.

use std::rc::Rc;

use shared::protocol::UserPresence;
use shared::{ChannelId, UserId};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::Conversation;

/// Entries shown at most.
const SHOWN: usize = 12;

/// What an entry opens.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    Conversation(ChannelId),
    Person(UserId),
}

#[derive(Properties, PartialEq)]
pub struct QuickSwitcherProps {
    pub conversations: Vec<Rc<Conversation>>,
    pub people: Rc<Vec<UserPresence>>,
    pub me: UserId,
    pub on_pick: Callback<Pick>,
    /// Asks the server for people whose names contain the words typed.
    pub on_search: Callback<String>,
    pub on_close: Callback<()>,
}

/// The entries matching `query`, in order: (label, what it opens).
fn matches(props: &QuickSwitcherProps, query: &str) -> Vec<(String, Pick)> {
    let query = query.trim().to_lowercase();
    let hit = |name: &str| query.is_empty() || name.to_lowercase().contains(&query);
    let mut found: Vec<(String, Pick)> = props
        .conversations
        .iter()
        .filter(|c| hit(&c.info.name))
        .map(|c| (c.title(), Pick::Conversation(c.info.id.clone())))
        .collect();
    // Starts-with first, the rest after, each in their list order.
    found.sort_by_key(|(label, _)| {
        !label
            .trim_start_matches('#')
            .to_lowercase()
            .starts_with(&query)
    });
    let talked_to: Vec<&UserId> = props
        .conversations
        .iter()
        .filter(|c| c.is_direct() && c.info.direct_with.len() == 1)
        .flat_map(|c| c.info.direct_with.iter().map(|u| &u.id))
        .collect();
    found.extend(
        props
            .people
            .iter()
            .filter(|p| p.user.id != props.me && !talked_to.contains(&&p.user.id))
            .filter(|p| !query.is_empty() && hit(&p.user.name))
            .map(|p| (p.user.name.clone(), Pick::Person(p.user.id.clone()))),
    );
    found.truncate(SHOWN);
    found
}

#[component]
pub fn QuickSwitcher(props: &QuickSwitcherProps) -> Html {
    let query = use_state(String::new);
    // Read and moved by key presses that may come faster than renders.
    let cursor = use_mut_ref(|| 0usize);
    let redraw = use_force_update();
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(input) = input.cast::<HtmlInputElement>() {
                let _ = input.focus();
            }
        });
    }
    let found = matches(props, &query);
    let selected = (*cursor.borrow()).min(found.len().saturating_sub(1));
    let on_input = {
        let (query, cursor, on_search) = (query.clone(), cursor.clone(), props.on_search.clone());
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let value = input.value();
            if !value.trim().is_empty() {
                on_search.emit(value.trim().to_owned());
            }
            query.set(value);
            *cursor.borrow_mut() = 0;
        })
    };
    let on_keydown = {
        let (on_pick, on_close) = (props.on_pick.clone(), props.on_close.clone());
        let picks: Vec<Pick> = found.iter().map(|(_, pick)| pick.clone()).collect();
        let step = {
            let (cursor, redraw, count) = (cursor.clone(), redraw.clone(), picks.len());
            move |by: usize| {
                if count > 0 {
                    let mut at = cursor.borrow_mut();
                    *at = (*at + by) % count;
                }
                redraw.force_update();
            }
        };
        let cursor = cursor.clone();
        Callback::from(move |event: KeyboardEvent| match event.key().as_str() {
            "ArrowDown" => {
                event.prevent_default();
                step(1);
            }
            "ArrowUp" => {
                event.prevent_default();
                step(picks.len().saturating_sub(1));
            }
            "Enter" => {
                event.prevent_default();
                let at = *cursor.borrow();
                if let Some(pick) = picks.get(at) {
                    on_pick.emit(pick.clone());
                }
            }
            "Escape" => {
                event.prevent_default();
                on_close.emit(());
            }
            // Focus stays in the dialog: Tab has nowhere else to go.
            "Tab" => event.prevent_default(),
            _ => {}
        })
    };
    let active = found
        .get(selected)
        .map(|_| format!("quick-switcher-option-{selected}"));
    html! {
        <div class="modal-backdrop" onclick={props.on_close.reform(|_: MouseEvent| ())}>
            <div class="modal quick-switcher" role="dialog" aria-modal="true" aria-label="Jump to a conversation"
                 data-testid="quick-switcher" onclick={|e: MouseEvent| e.stop_propagation()}>
                <input ref={input} type="text" data-testid="quick-switcher-input" role="combobox"
                       aria-expanded="true" aria-controls="quick-switcher-list"
                       aria-activedescendant={active} aria-label="Jump to a channel or person"
                       placeholder="Jump to a channel or person…" value={(*query).clone()}
                       oninput={on_input} onkeydown={on_keydown} />
                <ul id="quick-switcher-list" role="listbox" class="quick-switcher-list">
                    if found.is_empty() {
                        <li class="empty" role="presentation">{ "Nothing matches." }</li>
                    }
                    { for found.iter().enumerate().map(|(index, (label, pick))| {
                        let on_click = {
                            let (on_pick, pick) = (props.on_pick.clone(), pick.clone());
                            Callback::from(move |_: MouseEvent| on_pick.emit(pick.clone()))
                        };
                        let chosen = index == selected;
                        let hint = match pick {
                            Pick::Conversation(_) => "",
                            Pick::Person(_) => "start a conversation",
                        };
                        html! {
                            <li id={format!("quick-switcher-option-{index}")} role="option"
                                aria-selected={chosen.to_string()} class={classes!(chosen.then_some("active"))}
                                data-testid="quick-switcher-item" data-name={label.clone()} onclick={on_click}>
                                <bdi>{ label }</bdi>
                                if !hint.is_empty() {
                                    <span class="hint">{ hint }</span>
                                }
                            </li>
                        }
                    }) }
                </ul>
                <p class="hint">{ "↑ ↓ to move, Enter to open, Esc to close" }</p>
            </div>
        </div>
    }
}
