//! The browser-test harness: the real server (library) on a loopback port with
//! a temporary SQLite database and the built client, one ChromeDriver, and
//! helpers to drive headless Chromium sessions by `data-testid`.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chat_server::settings::Settings;
use chat_server::startup::{Application, RunningApp};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use shared::{ChannelId, ClientMsg, ClientMsgId, ServerMsg};
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// How long a test waits for something it expects to see.
pub const WAIT: Duration = Duration::from_secs(15);

/// `client/dist` of this workspace, or the built client named by
/// `CHAT_TEST_DIST` (to measure another build of the client in the same run).
fn dist_dir() -> PathBuf {
    std::env::var_os("CHAT_TEST_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../client/dist"))
}

/// The chat server, restartable on the same address.
pub struct TestServer {
    pub addr: SocketAddr,
    settings: Settings,
    _data: TempDir,
    running: Option<RunningApp>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts the server after `configure` adjusted its settings.
    pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dist = dist_dir();
        assert!(
            dist.join("index.html").is_file(),
            "{} is missing: build the client first (`cargo xtask test` does)",
            dist.display()
        );
        let data = TempDir::new().unwrap();
        let mut settings = Settings::ephemeral(data.path(), dist);
        configure(&mut settings);
        let mut server = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            settings,
            _data: data,
            running: None,
        };
        server.run().await;
        // Later restarts reuse this port so browsers can reconnect to it.
        server.settings.addr = server.addr.to_string();
        server
    }

    async fn run(&mut self) {
        let running = Application::build(self.settings.clone())
            .await
            .unwrap()
            .spawn();
        self.addr = running.local_addr();
        self.running = Some(running);
    }

    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            tokio::time::timeout(Duration::from_secs(30), running.stop())
                .await
                .expect("server stops")
                .unwrap();
        }
    }

    pub async fn start_again(&mut self) {
        self.run().await;
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// `count` people online at once (signed up, each with an open socket
    /// that reads nothing), named `prefix000`, `prefix001`, …: a crowd for
    /// the browser to see. Dropping the result takes them offline.
    pub async fn crowd(&self, prefix: &str, count: usize) -> Vec<impl Sized> {
        // The default connector holds at most 100 connections.
        let http = awc::Client::builder()
            .connector(awc::Connector::new().limit(0))
            .finish();
        let mut sockets = Vec::with_capacity(count);
        for n in 0..count {
            sockets.push(self.socket_of(&http, &format!("{prefix}{n:03}")).await);
        }
        sockets
    }

    /// Someone new, signed up with an open socket, who posts to #general.
    pub async fn speaker(&self, name: &str) -> Speaker {
        let mut socket = self.socket_of(&awc::Client::default(), name).await;
        let channel = loop {
            if let ServerMsg::Welcome { channels, .. } = next_frame(&mut socket).await {
                break channels
                    .into_iter()
                    .find(|c| c.name == shared::protocol::DEFAULT_CHANNEL)
                    .expect("#general")
                    .id;
            }
        };
        Speaker {
            socket,
            channel,
            sent: 0,
        }
    }

    /// Signs `name` up and opens a WebSocket with its session.
    async fn socket_of(&self, http: &awc::Client, name: &str) -> Socket {
        use awc::cookie::Cookie;
        let response = http
            .post(format!("{}api/session", self.url()))
            .send_json(&serde_json::json!({ "username": name }))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201, "sign up {name}");
        let token = response
            .cookie("chat_session")
            .expect("a session cookie")
            .value()
            .to_owned();
        let (_, socket) = http
            .ws(format!("ws://{}/ws", self.addr))
            .origin(format!("http://{}", self.addr))
            .cookie(Cookie::new("chat_session", token))
            .connect()
            .await
            .expect("a websocket");
        socket
    }
}

type Socket = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

/// The next server message on a test socket (pings and the like skipped).
async fn next_frame(socket: &mut Socket) -> ServerMsg {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a frame in time")
            .expect("the socket stays open")
            .expect("a valid frame");
        if let awc::ws::Frame::Text(bytes) = frame {
            return serde_json::from_slice(&bytes).expect("a server message");
        }
    }
}

/// A person on a plain WebSocket who posts to #general.
pub struct Speaker {
    socket: Socket,
    channel: ChannelId,
    sent: u64,
}

impl Speaker {
    /// Says "is typing" in #general.
    pub async fn typing(&mut self) {
        self.send(&ClientMsg::Typing {
            channel: self.channel.clone(),
        })
        .await;
    }

    async fn send(&mut self, message: &ClientMsg) {
        use futures_util::SinkExt;
        let json = serde_json::to_string(message).unwrap();
        self.socket
            .send(awc::ws::Message::Text(json.into()))
            .await
            .unwrap();
    }

    /// Posts each text to #general, then waits until the server has
    /// acknowledged them all (stored for good).
    pub async fn say(&mut self, texts: impl IntoIterator<Item = String>) {
        let mut waiting = 0;
        for text in texts {
            self.sent += 1;
            let message = ClientMsg::Send {
                channel: self.channel.clone(),
                client_id: ClientMsgId::parse(&format!("speaker-{}", self.sent)).unwrap(),
                text,
                attachments: Vec::new(),
            };
            self.send(&message).await;
            waiting += 1;
        }
        while waiting > 0 {
            match next_frame(&mut self.socket).await {
                ServerMsg::Ack { .. } => waiting -= 1,
                ServerMsg::Error { message, .. } => panic!("refused: {message}"),
                _ => {}
            }
        }
    }
}

/// One ChromeDriver process on a free loopback port, in a process group
/// of its own with the browsers it starts; the whole group is killed on
/// drop (killing only ChromeDriver would leave its browsers running, and a
/// long test run would fill the machine's memory with them).
pub struct Driver {
    url: String,
    process: Child,
    profiles: Vec<TempDir>,
}

impl Driver {
    pub async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts (install chromium-driver, or run `cargo xtask test`)");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start listening"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            url,
            process,
            profiles: Vec::new(),
        }
    }

    /// A new headless Chromium with a fresh profile (its own cookies and storage).
    pub async fn browser(&mut self, width: u32, height: u32) -> Browser {
        self.launch(width, height, None).await
    }

    /// A browser emulating a phone screen of `width` CSS pixels.
    pub async fn phone(&mut self, width: u32, height: u32) -> Browser {
        let emulation = serde_json::json!({
            "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "touch": true },
        });
        self.launch(width.max(500), height, Some(emulation)).await
    }

    async fn launch(
        &mut self,
        width: u32,
        height: u32,
        emulation: Option<serde_json::Value>,
    ) -> Browser {
        let profile = TempDir::new().unwrap();
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            "--disable-extensions".into(),
            "--disable-default-apps".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut capabilities = serde_json::Map::new();
        let mut options = serde_json::json!({ "args": args, "binary": chromium_path() });
        if let Some(emulation) = emulation {
            options["mobileEmulation"] = emulation;
        }
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a chromium session");
        self.profiles.push(profile);
        Browser { client }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(group) = self.process.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.process.start_kill();
    }
}

fn chromedriver_path() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into())
}

fn chromium_path() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// A message still waiting for the server's acknowledgement.
pub const PENDING_MESSAGE: &str = "[data-testid=\"message\"][data-pending=\"true\"]";

fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// One browser window, driven through the app's `data-testid` hooks.
pub struct Browser {
    pub client: Client,
}

impl Browser {
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn find(&self, id: &str) -> Element {
        let selector = testid(id);
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&selector))
            .await
            .unwrap_or_else(|e| panic!("{id} did not appear: {e}"))
    }

    pub async fn all(&self, id: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(&testid(id)))
            .await
            .unwrap()
    }

    /// The element with this test id and `data-<attribute>="value"`.
    pub async fn find_with(&self, id: &str, attribute: &str, value: &str) -> Element {
        let selector = format!("{}[data-{attribute}=\"{value}\"]", testid(id));
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&selector))
            .await
            .unwrap_or_else(|e| panic!("{selector} did not appear: {e}"))
    }

    /// Whether an element with this test id and attribute value exists now.
    pub async fn exists_with(&self, id: &str, attribute: &str, value: &str) -> bool {
        let selector = format!("{}[data-{attribute}=\"{value}\"]", testid(id));
        !self
            .client
            .find_all(Locator::Css(&selector))
            .await
            .unwrap()
            .is_empty()
    }

    /// The text of the conversation header (`#rust`, `Bob`).
    pub async fn header(&self) -> String {
        self.find("channel-header")
            .await
            .text()
            .await
            .unwrap_or_default()
    }

    /// Opens a conversation from the sidebar (`channel-item` by channel
    /// name, `dm-item` by user) and waits until it is shown.
    pub async fn open_conversation(&self, item: &str, attribute: &str, name: &str) {
        self.find_with(item, attribute, name)
            .await
            .click()
            .await
            .unwrap();
        self.wait_for_header(name).await;
    }

    pub async fn wait_for_header(&self, title: &str) {
        self.eventually(&format!("the header shows {title}"), || async {
            !self.all("channel-header").await.is_empty() && self.header().await == title
        })
        .await;
    }

    /// Picks `value` in a `<select>` as a person would (its change event
    /// fires).
    pub async fn choose(&self, select: &Element, value: &str) {
        let chosen = self
            .client
            .execute(
                "const [select, value] = arguments;
                 select.value = value;
                 select.dispatchEvent(new Event('change', { bubbles: true }));
                 return select.value;",
                vec![serde_json::to_value(select).unwrap(), value.into()],
            )
            .await
            .unwrap();
        assert_eq!(chosen, serde_json::json!(value), "{value} is an option");
    }

    pub async fn exists(&self, id: &str) -> bool {
        !self.all(id).await.is_empty()
    }

    /// Polls `check` until it is true or `WAIT` has passed.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            if check().await {
                return;
            }
            if Instant::now() > deadline {
                let _ = self
                    .screenshot(&format!("failure-{}", what.replace(' ', "-")))
                    .await;
                panic!("timed out waiting until {what}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Picks a username on the first screen and waits for the chat to connect.
    pub async fn sign_up(&self, name: &str) {
        let input = self.find("username-input").await;
        input.send_keys(name).await.unwrap();
        self.find("username-submit").await.click().await.unwrap();
        self.wait_connected().await;
        let shown = self.find("current-user").await.text().await.unwrap();
        assert_eq!(shown, name);
    }

    pub async fn wait_connected(&self) {
        self.eventually("connected", || async {
            self.connection_state().await.as_deref() == Some("connected")
        })
        .await;
    }

    pub async fn connection_state(&self) -> Option<String> {
        let found = self.all("connection-status").await;
        match found.first() {
            Some(status) => status.attr("data-state").await.ok().flatten(),
            None => None,
        }
    }

    /// Types into the composer and presses Enter.
    pub async fn send_with_enter(&self, text: &str) {
        let input = self.find("message-input").await;
        input.send_keys(&format!("{text}\u{E007}")).await.unwrap();
    }

    /// Types into the composer and clicks Send.
    pub async fn send_with_button(&self, text: &str) {
        let input = self.find("message-input").await;
        input.send_keys(text).await.unwrap();
        self.find("send-button").await.click().await.unwrap();
    }

    /// Every message as `Author: text`, in order.
    pub async fn messages(&self) -> Vec<String> {
        let script = r#"
            return Array.from(document.querySelectorAll('[data-testid="message"]')).map(m =>
                m.querySelector('[data-testid="message-author"]').textContent + ': ' +
                m.querySelector('[data-testid="message-text"]').textContent);
        "#;
        let value = self.client.execute(script, vec![]).await.unwrap();
        serde_json::from_value(value).unwrap()
    }

    pub async fn notices(&self) -> Vec<String> {
        let mut texts = Vec::new();
        for notice in self.all("notice").await {
            texts.push(notice.text().await.unwrap_or_default());
        }
        texts
    }

    /// Waits until no message of this browser is pending any more.
    pub async fn wait_all_confirmed(&self) {
        self.eventually("every message is confirmed", || async {
            self.client
                .find_all(Locator::Css(PENDING_MESSAGE))
                .await
                .unwrap()
                .is_empty()
        })
        .await;
    }

    /// Creates a channel from the sidebar and waits until it is shown.
    pub async fn create_channel(&self, name: &str, topic: &str, private: bool) {
        self.find("create-channel").await.click().await.unwrap();
        self.find("channel-name-input")
            .await
            .send_keys(name)
            .await
            .unwrap();
        self.find("channel-topic-input")
            .await
            .send_keys(topic)
            .await
            .unwrap();
        if private {
            self.find("channel-private-toggle")
                .await
                .click()
                .await
                .unwrap();
        }
        self.find("channel-create-submit")
            .await
            .click()
            .await
            .unwrap();
        self.wait_for_header(name).await;
    }

    pub async fn wait_for_message(&self, line: &str) {
        self.eventually(&format!("message {line:?} shows"), || async {
            self.messages().await.iter().any(|m| m == line)
        })
        .await;
    }

    pub async fn wait_for_notice(&self, start: &str) {
        self.eventually(&format!("notice {start:?} shows"), || async {
            self.notices().await.iter().any(|n| n.starts_with(start))
        })
        .await;
    }

    pub async fn online_users(&self) -> Vec<String> {
        let mut names = Vec::new();
        for user in self.all("online-user").await {
            if let Ok(Some(name)) = user.attr("data-user").await {
                names.push(name);
            }
        }
        names
    }

    /// Saves a PNG under `target/screenshots/` (for people to look at).
    pub async fn screenshot(&self, name: &str) -> std::io::Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(std::io::Error::other)?;
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
