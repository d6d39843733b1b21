//! Custom hooks.

pub mod use_activity;
pub mod use_address_bar;
pub mod use_chat_socket;
pub mod use_commands;
pub mod use_event;
pub mod use_file_drop;
pub mod use_message_actions;
pub mod use_open_conversation;
pub mod use_outbox;
pub mod use_shortcuts;
pub mod use_uploads;
