//! Custom hooks.

pub mod use_chat_socket;
