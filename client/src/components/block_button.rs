//! The button that blocks someone (they can no longer start a conversation
//! with you, invite you, or write to you directly), or unblocks them.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct BlockButtonProps {
    /// Whose button it is (its title and `data-user`).
    pub name: String,
    /// Whether they are blocked now.
    pub blocked: bool,
    /// Asks to block (`true`) or unblock them.
    pub on_block: Callback<bool>,
}

/// "Block" (`block-user`), or "Unblock" (`unblock-user`) once blocked.
#[component]
pub fn BlockButton(props: &BlockButtonProps) -> Html {
    let blocked = props.blocked;
    let onclick = props.on_block.reform(move |_: MouseEvent| !blocked);
    let (testid, label, title) = if blocked {
        (
            "unblock-user",
            "Unblock",
            format!("Let {} write to you again", props.name),
        )
    } else {
        (
            "block-user",
            "Block",
            format!("Stop {} from writing to you or inviting you", props.name),
        )
    };
    html! {
        <button class={classes!("small", "block", blocked.then_some("blocked"))} data-testid={testid}
                data-user={props.name.clone()} {title} {onclick}>
            { label }
        </button>
    }
}
