//! The dependency rules of ARCHITECTURE.md, checked on the source: a module
//! that starts to reach where it must not fails this test, with the line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn source_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(source_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The source files at `src/<under>` (a folder or one file), with their text.
fn sources(under: &str) -> Vec<(PathBuf, String)> {
    let root = src().join(under);
    let files = if root.is_dir() {
        source_files(&root)
    } else {
        vec![root]
    };
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            (file, text)
        })
        .collect()
}

/// The lines of `files` (under `src/<under>`) that mention one of `needles`.
fn offending_lines(under: &str, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (file, text) in sources(under) {
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    found
}

/// The top-level modules of the crate that files under `src/<under>` name
/// through `crate::`.
fn crate_modules_used(under: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (_, text) in sources(under) {
        for piece in text.split("crate::").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    used
}

#[test]
fn the_store_depends_only_on_shared_and_random() {
    let used = crate_modules_used("store");
    let allowed: BTreeSet<String> = ["store", "random"].map(String::from).into();
    assert!(
        used.is_subset(&allowed),
        "store reaches into {:?}",
        used.difference(&allowed).collect::<Vec<_>>()
    );
}

#[test]
fn the_hub_knows_nothing_of_the_store_commands_or_wording() {
    for file in [
        "realtime/hub.rs",
        "realtime/fanout.rs",
        "realtime/outbox.rs",
    ] {
        let used = crate_modules_used(file);
        let allowed: BTreeSet<String> = ["realtime", "metrics"].map(String::from).into();
        assert!(
            used.is_subset(&allowed),
            "{file} reaches into {:?}",
            used.difference(&allowed).collect::<Vec<_>>()
        );
        let lines = offending_lines(
            file,
            &["commands::", "store::", "ErrorCode", "writer::", "Refusal"],
        );
        assert!(lines.is_empty(), "{file} must not know of: {lines:#?}");
    }
}

#[test]
fn commands_writer_previews_and_routes_publish_only_through_the_fan_out() {
    for under in [
        "realtime/commands",
        "realtime/writer.rs",
        "preview",
        "routes",
    ] {
        let lines = offending_lines(under, &["HubHandle", "hub::", ".hub."]);
        assert!(
            lines.is_empty(),
            "{under} uses the hub directly: {lines:#?}"
        );
    }
}

#[test]
fn only_the_store_holds_sql() {
    let mut lines = Vec::new();
    for folder in ["realtime", "routes", "preview", "media"] {
        lines.extend(offending_lines(folder, &["sqlx::"]));
    }
    assert!(lines.is_empty(), "SQL outside the store: {lines:#?}");
}

#[test]
fn the_cluster_builds_on_the_store_the_hub_and_the_fan_out_only() {
    let used = crate_modules_used("cluster");
    let allowed: BTreeSet<String> = ["cluster", "store", "realtime", "metrics"]
        .map(String::from)
        .into();
    assert!(
        used.is_subset(&allowed),
        "cluster reaches into {:?}",
        used.difference(&allowed).collect::<Vec<_>>()
    );
    let lines = offending_lines("cluster", &["commands::", "writer::", "Refusal"]);
    assert!(lines.is_empty(), "cluster must not know of: {lines:#?}");
}
