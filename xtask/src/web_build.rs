//! The web client's build: the pinned tools (wasm32 target, wasm-bindgen CLI,
//! trunk, and binaryen's `wasm-opt` from npm when npm is there), the trunk
//! build with the size-tuned `web` cargo profile, and brotli and gzip copies of
//! the built files, which the server sends to browsers that accept them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{capture, cargo, exec, root, step};

pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const TRUNK_VERSION: &str = "0.22.1";
/// binaryen from npm: Debian's (108) cannot read what rustc 1.95 emits.
const BINARYEN_VERSION: &str = "132";

/// Installs the wasm target, the wasm-bindgen CLI and trunk at pinned versions if missing.
pub(crate) fn prepare_web_tools() -> Result<()> {
    step("checking the web build tools (first run installs them: about 10-15 minutes)");
    let installed = capture(Command::new("rustup").args(["target", "list", "--installed"]))
        .context("rustup is needed to add the wasm32 target")?;
    if !installed.lines().any(|line| line.trim() == WASM_TARGET) {
        step(&format!("adding the Rust target {WASM_TARGET}"));
        exec(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    let bindgen = capture(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if !bindgen.contains(WASM_BINDGEN_VERSION) {
        step(&format!(
            "installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (a few minutes)"
        ));
        // Not --locked: a dependency pinned in its lock file has left the registry.
        exec(cargo().args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
        ]))?;
    }
    let trunk = capture(Command::new("trunk").arg("--version")).unwrap_or_default();
    if !trunk.contains(TRUNK_VERSION) {
        step(&format!(
            "installing trunk {TRUNK_VERSION} (about 10 minutes on 2 cores)"
        ));
        // trunk 0.22 declares a newer rust-version than it needs.
        exec(cargo().args([
            "install",
            "trunk",
            "--version",
            TRUNK_VERSION,
            "--locked",
            "--ignore-rust-version",
        ]))?;
    }
    Ok(())
}

/// `trunk build --release` into `client/dist`, then the compressed copies.
pub(crate) fn build_client() -> Result<()> {
    let client = root().join("client");
    let mut trunk = Command::new("trunk");
    trunk
        .args(["build", "--release", "--cargo-profile", "web"])
        .current_dir(&client)
        .env("TRUNK_SKIP_VERSION_CHECK", "true");
    // Generated beside index.html when wasm-opt is missing: the same page
    // with wasm-opt switched off (trunk would try to download it).
    let fallback_page = client.join(".index-without-wasm-opt.html");
    match binaryen() {
        Some(bin) => {
            step("building the web client (trunk, web profile, wasm-opt -Oz) into client/dist");
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut paths = vec![bin];
            paths.extend(std::env::split_paths(&path));
            trunk.env("PATH", std::env::join_paths(paths)?).env(
                "TRUNK_TOOLS_WASM_OPT",
                format!("version_{BINARYEN_VERSION}"),
            );
        }
        None => {
            step(
                "building the web client (trunk, web profile) into client/dist; no wasm-opt \
                 (npm is missing or binaryen did not install), so the download is larger",
            );
            let page = fs::read_to_string(client.join("index.html"))?
                .replace("data-wasm-opt=\"z\"", "data-wasm-opt=\"0\"");
            fs::write(&fallback_page, page)?;
            trunk.arg(&fallback_page);
        }
    }
    let built = exec(&mut trunk);
    let _ = fs::remove_file(&fallback_page);
    built?;
    precompress(&client.join("dist"))
}

/// The directory holding binaryen's `wasm-opt` at the pinned version,
/// installed with npm under `target/` on first use; `None` without npm.
fn binaryen() -> Option<PathBuf> {
    let prefix = root().join("target").join("web-tools").join("binaryen");
    let bin = prefix.join("node_modules").join(".bin");
    let version = |bin: &Path| {
        capture(Command::new(bin.join("wasm-opt")).arg("--version")).unwrap_or_default()
    };
    let wanted = format!("version {BINARYEN_VERSION}");
    if version(&bin).contains(&wanted) {
        return Some(bin);
    }
    step(&format!(
        "installing binaryen {BINARYEN_VERSION} (wasm-opt) with npm"
    ));
    let installed = exec(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .arg(format!("binaryen@{BINARYEN_VERSION}.0.0")),
    );
    match installed {
        Ok(()) if version(&bin).contains(&wanted) => Some(bin),
        _ => None,
    }
}

/// Writes `name.br` (brotli, best) and `name.gz` (gzip, best) beside every
/// built file worth compressing; `index.html` stays as it is (it is small and
/// served uncached with the client-route fallback).
fn precompress(dist: &Path) -> Result<()> {
    step("compressing the built files (brotli and gzip copies)");
    for entry in fs::read_dir(dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let skip = name.starts_with('.')
            || name == "index.html"
            || name.ends_with(".br")
            || name.ends_with(".gz")
            || !path.is_file();
        if skip {
            continue;
        }
        let bytes = fs::read(&path)?;
        if bytes.len() < 1024 {
            continue;
        }
        let mut brotli_out = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut brotli_out, &params)
            .with_context(|| format!("brotli of {name}"))?;
        fs::write(dist.join(format!("{name}.br")), &brotli_out)?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&bytes)?;
        let gzip_out = gzip.finish()?;
        fs::write(dist.join(format!("{name}.gz")), &gzip_out)?;
        println!(
            "    {name}: {} bytes, brotli {}, gzip {}",
            bytes.len(),
            brotli_out.len(),
            gzip_out.len()
        );
    }
    Ok(())
}
