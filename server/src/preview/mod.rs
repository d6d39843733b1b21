//! Link previews (issue 5, in progress). So far: the address policy that
//! decides which hosts the fetcher may ever connect to. The fetcher itself,
//! page parsing and delivery are not built yet.

pub mod address;
