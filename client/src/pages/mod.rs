//! Whole screens.

pub mod chat;
pub mod choose_name;
