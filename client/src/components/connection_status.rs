//! The connected / reconnecting indicator.

use yew::prelude::*;

use crate::state::Connection;

#[derive(Properties, PartialEq)]
pub struct ConnectionStatusProps {
    pub connection: Connection,
}

#[component]
pub fn ConnectionStatus(props: &ConnectionStatusProps) -> Html {
    let label = match props.connection {
        Connection::Connecting => "Connecting…".to_string(),
        Connection::Connected => "Connected".to_string(),
        Connection::Reconnecting { attempt } if attempt > 1 => {
            format!("Reconnecting… (attempt {attempt})")
        }
        Connection::Reconnecting { .. } => "Reconnecting…".to_string(),
    };
    let state = props.connection.as_str();
    html! {
        <span class={classes!("connection", state)} data-testid="connection-status" data-state={state}
              role="status" aria-live="polite" title={label.clone()}>
            <span class="dot" aria-hidden="true"></span>
            <span class="connection-label">{ label }</span>
        </span>
    }
}
