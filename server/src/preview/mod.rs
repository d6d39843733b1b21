//! Link previews: which link of a message ([`links`]), which addresses may
//! be contacted ([`address`]), the guarded fetcher ([`fetch`]), what a page
//! says about itself ([`page`]), and the queue that makes previews and
//! delivers them as message changes ([`service`]).

pub mod address;
pub mod fetch;
pub mod links;
pub mod page;
pub mod service;

pub use service::Previews;
