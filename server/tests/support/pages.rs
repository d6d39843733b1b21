//! A minimal HTTP/1.1 server on a loopback address for the link preview
//! tests: canned answers by path, and a log of every request it received.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One canned answer.
#[derive(Clone)]
pub struct Answer {
    pub status: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Answer {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: "200 OK",
            headers: vec![("Content-Type", content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn redirect(location: String) -> Self {
        Self {
            status: "302 Found",
            headers: vec![("Location", location)],
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }
}

/// A minimal HTTP/1.1 server on a loopback address: canned answers by path,
/// and a log of every request it received (path and raw headers).
pub struct PageServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<(String, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PageServer {
    pub async fn start(ip: &str, answers: HashMap<String, Answer>) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let answers = Arc::new(answers);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                let answers = answers.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    log.lock().unwrap().push((path.clone(), head));
                    let answer = answers.get(&path).cloned().unwrap_or(Answer {
                        status: "404 Not Found",
                        headers: vec![],
                        body: b"not found".to_vec(),
                        delay: Duration::ZERO,
                    });
                    tokio::time::sleep(answer.delay).await;
                    let mut response = format!("HTTP/1.1 {}\r\n", answer.status);
                    for (name, value) in &answer.headers {
                        response.push_str(&format!("{name}: {value}\r\n"));
                    }
                    response.push_str(&format!(
                        "Content-Length: {}\r\nConnection: close\r\n\r\n",
                        answer.body.len()
                    ));
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.write_all(&answer.body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            addr,
            requests,
            task,
        }
    }

    pub fn hits(&self, path: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .count()
    }

    /// Requests for paths starting with `prefix` (query strings included).
    pub fn hits_prefix(&self, prefix: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .count()
    }

    pub fn total_hits(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.addr.port())
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
