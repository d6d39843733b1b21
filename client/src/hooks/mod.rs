//! Custom hooks.

pub mod use_chat_socket;
pub mod use_uploads;
