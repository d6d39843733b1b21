//! Reporting a message: a dialog asks why (required, at most
//! `MAX_REPORT_REASON_CHARS`), sends it, and says when the moderators have
//! it. Esc or Cancel closes it.

use shared::limits::MAX_REPORT_REASON_CHARS;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ReportDialogProps {
    /// The server confirmed this report.
    pub sent: bool,
    pub on_send: Callback<String>,
    pub on_close: Callback<()>,
}

#[component]
pub fn ReportDialog(props: &ReportDialogProps) -> Html {
    let reason = use_state(String::new);
    let input = use_node_ref();
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(input) = input.cast::<HtmlTextAreaElement>() {
                let _ = input.focus();
            }
        });
    }
    let on_input = {
        let reason = reason.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlTextAreaElement = event.target_unchecked_into();
            reason.set(input.value());
        })
    };
    let empty = reason.trim().is_empty();
    let on_submit = {
        let (reason, on_send) = (reason.clone(), props.on_send.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if !reason.trim().is_empty() {
                on_send.emit(reason.trim().to_owned());
            }
        })
    };
    let on_keydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Escape" {
                on_close.emit(());
            }
        })
    };
    let close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <div class="modal-backdrop" onclick={close.clone()}>
            <form class="modal" role="dialog" aria-modal="true" aria-labelledby="report-title"
                  onclick={|e: MouseEvent| e.stop_propagation()} onsubmit={on_submit} onkeydown={on_keydown}>
                <h2 id="report-title">{ "Report this message" }</h2>
                if props.sent {
                    <p data-testid="report-sent" role="status">
                        { "Thank you: the moderators have your report and will look at it." }
                    </p>
                    <div class="modal-actions">
                        <button type="button" class="primary" onclick={close}>{ "Close" }</button>
                    </div>
                } else {
                    <label for="report-reason">{ "Why? Only the moderators see it." }</label>
                    <textarea id="report-reason" data-testid="report-reason" ref={input} rows="3"
                              maxlength={MAX_REPORT_REASON_CHARS.to_string()} value={(*reason).clone()}
                              oninput={on_input} placeholder="e.g. spam, insults, personal data" />
                    <div class="modal-actions">
                        <button type="button" onclick={close}>{ "Cancel" }</button>
                        <button type="submit" class="primary" data-testid="report-submit" disabled={empty}>
                            { "Report" }
                        </button>
                    </div>
                }
            </form>
        </div>
    }
}
