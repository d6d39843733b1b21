//! Who is asking: session cookies (random tokens whose SHA-256 is stored) and
//! the Origin check that guards the WebSocket upgrade.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use sha2::{Digest, Sha256};

use crate::error::HttpError;
use crate::random::{hex_token, to_hex};
use crate::store::{SessionUser, Store};

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

/// The signed-in session of this request, if any.
pub async fn current_session(
    request: &HttpRequest,
    store: &Store,
) -> Result<Option<SessionUser>, HttpError> {
    let Some(cookie) = request.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let token = cookie.value();
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    Ok(store.session_by_token_hash(&hash_token(token)).await?)
}

/// Origins allowed to open the WebSocket: the server's own (as the browser
/// addressed it in `Host`) plus a configured list.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    extra: Vec<String>,
}

impl OriginPolicy {
    pub fn new(extra: &[String]) -> Self {
        Self {
            extra: extra
                .iter()
                .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|origin| !origin.is_empty())
                .collect(),
        }
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
        if self.extra.contains(&origin) {
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
