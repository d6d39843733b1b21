//! Presentational components: each renders props and reports user intent
//! through `on…` callbacks; none touches the socket.

pub mod account_panel;
pub mod admin_panel;
pub mod attachments;
pub mod block_button;
pub mod composer;
pub mod connection_status;
pub mod conversation_header;
pub mod dialogs;
pub mod emoji_picker;
pub mod header;
pub mod invite_links;
pub mod mentions_panel;
pub mod message_list;
pub mod message_row;
pub mod new_conversation;
pub mod online_users;
pub mod people;
pub mod pins_panel;
pub mod quick_switcher;
pub mod report_dialog;
pub mod search_panel;
pub mod shortcut_sheet;
pub mod sidebar;
pub mod thread_panel;
pub mod threads_view;
pub mod upload_tray;
