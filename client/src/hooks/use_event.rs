//! Callbacks that keep their identity across renders but always run the
//! latest closure (React's `useEvent`). Children compare callbacks by
//! identity, so a page that recreated its handlers on every render made every
//! child render again; with these they render only when their data changes.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

/// A callback that stays the same object for the life of the component and
/// calls the `handler` given in the most recent render.
#[hook]
pub fn use_event<In, F>(handler: F) -> Callback<In>
where
    In: 'static,
    F: Fn(In) + 'static,
{
    let latest: Latest<In> = use_mut_ref(|| None);
    *latest.borrow_mut() = Some(Rc::new(handler));
    (*use_memo((), move |_| stable(latest))).clone()
}

/// The handler of the latest render.
type Latest<In> = Rc<RefCell<Option<Rc<dyn Fn(In)>>>>;

fn stable<In: 'static>(latest: Latest<In>) -> Callback<In> {
    Callback::from(move |input: In| {
        // Cloned out first: the handler may cause a render that replaces it.
        let handler = latest.borrow().clone();
        if let Some(handler) = handler {
            handler(input);
        }
    })
}
