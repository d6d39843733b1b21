//! Custom hooks.

pub mod use_chat_socket;
pub mod use_event;
pub mod use_file_drop;
pub mod use_uploads;
