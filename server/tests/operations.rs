//! Running the server binary as an operator does: logs on stderr (readable
//! or JSON, no colour codes in files), Prometheus metrics on their own
//! address only, an online backup that restores, and a refusal to start on
//! a damaged database file.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use tempfile::TempDir;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_server"))
}

fn static_dir() -> TempDir {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>t</title>",
    )
    .unwrap();
    dir
}

fn database_url(data: &Path) -> String {
    format!("sqlite://{}/chat.db", data.display())
}

/// Starts the server; returns it and its address, read from its log.
fn start(
    data: &Path,
    web: &Path,
    extra: &[&str],
) -> (Child, String, std::sync::mpsc::Receiver<String>) {
    let mut child = server()
        .args([
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            &database_url(data),
        ])
        .arg("--files-dir")
        .arg(data.join("files"))
        .arg("--static-dir")
        .arg(web)
        .args(["--link-previews", "false", "--shutdown-timeout", "2"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut addr = None;
    while addr.is_none() {
        let line = receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the server logs where it listens");
        if let Some(at) = line.find("http://127.0.0.1:") {
            let rest = &line[at + "http://".len()..];
            addr = Some(
                rest.chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                    .collect::<String>(),
            );
        }
    }
    (child, addr.unwrap(), receiver)
}

fn stop(mut child: Child) -> String {
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    stdout
}

/// A plain HTTP/1.1 GET over loopback; the status line and body.
fn get(addr: &str, path: &str) -> (String, String) {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

fn post_json(addr: &str, path: &str, body: &str) -> String {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or("").to_owned()
}

#[test]
fn logs_go_to_stderr_as_text_or_json_and_never_to_stdout() {
    let data = TempDir::new().unwrap();
    let web = static_dir();
    let (child, _, lines) = start(data.path(), web.path(), &["--log-format", "json"]);
    let stdout = stop(child);
    assert!(stdout.is_empty(), "stdout: {stdout}");
    let logged: Vec<String> = lines.try_iter().collect();
    assert!(!logged.is_empty());
    for line in &logged {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(value.get("level").is_some(), "{line}");
    }

    let (child, _, lines) = start(data.path(), web.path(), &[]);
    let stdout = stop(child);
    assert!(stdout.is_empty());
    let logged: Vec<String> = lines.try_iter().collect();
    assert!(logged.iter().any(|line| line.contains("stopped")));
    assert!(
        logged.iter().all(|line| !line.contains('\u{1b}')),
        "no colour codes when stderr is not a terminal"
    );
}

#[test]
fn metrics_are_served_on_their_own_address_only() {
    let data = TempDir::new().unwrap();
    let web = static_dir();
    let metrics_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let (child, addr, _) = start(data.path(), web.path(), &["--metrics-addr", &metrics_addr]);
    assert!(post_json(&addr, "/api/session", r#"{"username":"Alice"}"#).contains("201"));
    let (status, body) = get(&metrics_addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    for metric in [
        "chat_connections ",
        "chat_deliveries_total",
        "chat_outbound_queued_bytes",
        "chat_writer_commit_seconds_bucket",
        "chat_password_hashes_total",
    ] {
        assert!(body.contains(metric), "{metric} in {body}");
    }
    // Not on the public address (which answers client routes with the web app).
    let (_, body) = get(&addr, "/metrics");
    assert!(!body.contains("chat_connections"), "{body}");
    stop(child);
}

#[test]
fn a_backup_taken_while_running_restores() {
    let data = TempDir::new().unwrap();
    let web = static_dir();
    let (child, addr, _) = start(data.path(), web.path(), &[]);
    assert!(post_json(&addr, "/api/session", r#"{"username":"Alice"}"#).contains("201"));
    assert!(post_json(&addr, "/api/session", r#"{"username":"Bob"}"#).contains("201"));
    let backups = TempDir::new().unwrap();
    let copy = backups.path().join("chat-backup.db");
    let output: Output = server()
        .args(["--database-url", &database_url(data.path())])
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A second backup to the same place is refused rather than overwriting.
    let again = server()
        .args(["--database-url", &database_url(data.path())])
        .arg("backup")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!again.status.success());
    stop(child);

    // Restore: the copy becomes the database of a new server.
    let restored = TempDir::new().unwrap();
    std::fs::copy(&copy, restored.path().join("chat.db")).unwrap();
    let (child, addr, _) = start(restored.path(), web.path(), &[]);
    let taken = post_json(&addr, "/api/session", r#"{"username":"Bob"}"#);
    assert!(
        taken.contains("409"),
        "Bob exists in the restored copy: {taken}"
    );
    stop(child);
}

#[test]
fn a_damaged_database_is_refused_at_start_with_a_pointer_to_the_backups() {
    let data = TempDir::new().unwrap();
    let web = static_dir();
    let (child, addr, _) = start(data.path(), web.path(), &[]);
    for n in 0..50 {
        post_json(
            &addr,
            "/api/session",
            &format!(r#"{{"username":"user{n}"}}"#),
        );
    }
    stop(child);
    // Overwrite pages in the middle of the file.
    let file = data.path().join("chat.db");
    let mut bytes = std::fs::read(&file).unwrap();
    assert!(bytes.len() > 8192);
    let end = bytes.len() - 1024;
    for byte in &mut bytes[4096..end] {
        *byte = 0xA5;
    }
    std::fs::write(&file, bytes).unwrap();
    let output = server()
        .args([
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            &database_url(data.path()),
        ])
        .arg("--static-dir")
        .arg(web.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("damaged")
            || stderr.contains("malformed")
            || stderr.contains("not a database"),
        "{stderr}"
    );
}
