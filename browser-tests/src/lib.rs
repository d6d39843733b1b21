//! Nothing here: the browser tests live in `tests/`. They need Chromium,
//! ChromeDriver and a built client (`client/dist`); `cargo xtask test`
//! provides all three.
