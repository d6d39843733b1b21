//! Files dragged onto an area: while files hover over it the area says so
//! (`dragging`), and dropped files go to `on_files`. Drags of anything else
//! (text, links) are left to the browser.

use wasm_bindgen::JsCast;
use web_sys::{File, Node};
use yew::prelude::*;

use crate::uploads::files_of;

/// The listeners to put on the drop area, and whether files hover over it.
pub struct FileDrop {
    pub dragging: bool,
    pub on_drag_over: Callback<DragEvent>,
    pub on_drag_leave: Callback<DragEvent>,
    pub on_drop: Callback<DragEvent>,
}

fn carries_files(event: &DragEvent) -> bool {
    event
        .data_transfer()
        .is_some_and(|data| data.types().includes(&"Files".into(), 0))
}

#[hook]
pub fn use_file_drop(on_files: Callback<Vec<File>>) -> FileDrop {
    let dragging = use_state(|| false);
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |event: DragEvent| {
            if carries_files(&event) {
                event.prevent_default();
                if !*dragging {
                    dragging.set(true);
                }
            }
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |event: DragEvent| {
            // Leaving for a child element is not leaving the area.
            let node = |target: Option<web_sys::EventTarget>| {
                target.and_then(|t| t.dyn_into::<Node>().ok())
            };
            let inside = node(event.related_target())
                .zip(node(event.current_target()))
                .is_some_and(|(to, area)| area.contains(Some(&to)));
            if !inside {
                dragging.set(false);
            }
        })
    };
    let on_drop = {
        let dragging = dragging.clone();
        Callback::from(move |event: DragEvent| {
            dragging.set(false);
            let files = files_of(event.data_transfer().and_then(|data| data.files()));
            if !files.is_empty() {
                event.prevent_default();
                on_files.emit(files);
            }
        })
    };
    FileDrop {
        dragging: *dragging,
        on_drag_over,
        on_drag_leave,
        on_drop,
    }
}
