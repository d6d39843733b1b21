//! Who is asking: session cookies (random tokens whose SHA-256 is stored) and
//! the Origin check that guards the WebSocket upgrade.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use sha2::{Digest, Sha256};

use crate::error::HttpError;
use crate::random::{hex_token, to_hex};
use crate::store::{Accounts, SessionUser, Store};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "chat_session";
/// Cookie lifetime: browsers cap it at 400 days.
const SESSION_COOKIE_DAYS: i64 = 400;

/// A new random session token (256 bits) for the cookie.
pub fn new_session_token() -> String {
    hex_token(32)
}

/// What the database stores instead of the token.
pub fn hash_token(token: &str) -> String {
    to_hex(&Sha256::digest(token.as_bytes()))
}

/// The HttpOnly, SameSite=Lax cookie that carries `token`.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(CookieDuration::days(SESSION_COOKIE_DAYS))
        .finish()
}

/// A cookie that makes the browser forget the session.
pub fn expired_session_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = session_cookie(String::new(), secure);
    cookie.make_removal();
    cookie
}

/// Whether the request came over HTTPS (so cookies get the Secure flag).
pub fn is_https(request: &HttpRequest) -> bool {
    request.connection_info().scheme() == "https"
}

/// The signed-in session of this request, if any (and used within `idle`).
pub async fn current_session(
    request: &HttpRequest,
    store: &Store,
    idle: std::time::Duration,
) -> Result<Option<SessionUser>, HttpError> {
    let Some(cookie) = request.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let token = cookie.value();
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let cutoff = crate::random::now_millis() - i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
    Ok(store
        .session_by_token_hash(&hash_token(token), cutoff)
        .await?)
}

/// Which names the server answers to and which pages may open the
/// WebSocket. A request's `Host` must be an IP address, `localhost`, or the
/// host of a configured origin: a page on an attacker's name that resolves
/// to this server (DNS rebinding against a loopback or LAN instance) is
/// refused. The WebSocket's `Origin` must be the server's own (as addressed
/// in `Host`) or a configured origin.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Origins that may open the WebSocket besides the server's own.
    origins: Vec<String>,
    /// Host names (no port) requests may be addressed to.
    hosts: Vec<String>,
}

impl OriginPolicy {
    /// `public` are the addresses people open the chat at; `extra` are
    /// other pages allowed to open the WebSocket (e.g. `trunk serve`).
    pub fn new(public: &[String], extra: &[String]) -> Self {
        let origins: Vec<String> = public
            .iter()
            .chain(extra)
            .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|origin| !origin.is_empty())
            .collect();
        let hosts = origins
            .iter()
            .filter_map(|origin| url::Url::parse(origin).ok())
            .filter_map(|url| url.host_str().map(str::to_owned))
            .collect();
        Self { origins, hosts }
    }

    /// Whether the request's `Host` names this server (see the type's documentation).
    pub fn host_allowed(&self, request: &actix_web::dev::RequestHead) -> bool {
        let Some(host) = request
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
        else {
            // Browsers always send one; without it nothing can be rebound.
            return true;
        };
        let Some(name) = host_name(host) else {
            return false;
        };
        name == "localhost"
            || name.parse::<std::net::IpAddr>().is_ok()
            || self.hosts.contains(&name)
    }

    /// True when the request's `Origin` is the server's own or a configured one.
    /// A request without `Origin` (not from a browser page) is refused too.
    pub fn allows(&self, request: &HttpRequest) -> bool {
        let Some(origin) = request
            .headers()
            .get(header::ORIGIN)
            .and_then(|value| value.to_str().ok())
        else {
            return false;
        };
        let origin = origin.to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        let Some(host) = request
            .headers()
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
        else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        origin == format!("http://{host}") || origin == format!("https://{host}")
    }
}

/// The host name of a `Host` header (lowercase, without port or IPv6 brackets).
fn host_name(host: &str) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map(|(inside, _)| inside.to_owned());
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host.as_str(),
    };
    (!name.is_empty()).then(|| name.trim_end_matches('.').to_owned())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn allowed(policy: &OriginPolicy, host: &str) -> bool {
        let request = TestRequest::default()
            .insert_header((header::HOST, host))
            .to_http_request();
        policy.host_allowed(request.head())
    }

    #[test]
    fn only_addresses_localhost_and_configured_names_are_answered() {
        let policy = OriginPolicy::new(&["https://chat.example.org".into()], &[]);
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "192.168.1.20",
            "chat.example.org",
            "CHAT.example.org:443",
        ] {
            assert!(allowed(&policy, host), "{host}");
        }
        for host in [
            "evil.example:8080",
            "chat.example.org.evil.example",
            "",
            "a:b:c",
        ] {
            assert!(!allowed(&policy, host), "{host}");
        }
    }
}
