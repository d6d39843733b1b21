//! Uploaded media: deciding a file's type from its bytes ([`sniff`]),
//! removing metadata from images without re-encoding them ([`strip`]),
//! checking and thumbnailing images ([`image`]), the content-addressed
//! folder the bytes live in ([`storage`]), and its housekeeping ([`janitor`]).

pub mod image;
pub mod janitor;
pub mod objects;
pub mod sniff;
pub mod storage;
pub mod strip;
