//! Messages not yet acknowledged survive a reload: they are saved in the
//! browser as they change, and restored (and so sent again) when the page
//! opens.

use yew::prelude::*;

use crate::outbox;
use crate::state::{Action, ChatState};

#[hook]
pub fn use_outbox(state: &UseReducerHandle<ChatState>, user_id: &str) {
    {
        let dispatcher = state.dispatcher();
        let user_id = user_id.to_owned();
        use_effect_with((), move |_| {
            dispatcher.dispatch(Action::Restore(outbox::load(&user_id)));
        });
    }
    let user_id = user_id.to_owned();
    use_effect_with(state.pending.clone(), move |pending| {
        outbox::save(&user_id, pending);
    });
}
