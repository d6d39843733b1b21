//! The chat's browser app. `app` decides between the username prompt and the
//! chat page; `state` is the pure reducer the chat page renders from;
//! `hooks::use_chat_socket` is the only code that touches the WebSocket.

pub mod admin;
pub mod api;
pub mod app;
pub mod browser;
pub mod commands;
pub mod components;
pub mod conversation;
pub mod custom_emoji;
pub mod emoji;
pub mod hooks;
pub mod markdown;
pub mod mentions;
pub mod outbox;
pub mod pages;
pub mod pins;
pub mod search;
pub mod state;
pub mod theme;
pub mod threads;
pub mod uploads;
