//! Uploaded media: deciding a file's type from its bytes ([`sniff`]),
//! removing metadata from images without re-encoding them ([`strip`]),
//! checking and thumbnailing images ([`image`]), and the content-addressed
//! folder the bytes live in ([`storage`]).

pub mod image;
pub mod sniff;
pub mod storage;
pub mod strip;
