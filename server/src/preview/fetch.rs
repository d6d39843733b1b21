//! The guarded HTTP fetcher behind link previews. Every hop of a fetch is
//! checked before anything is sent: the URL must be http(s) without
//! credentials, a literal address must be permitted by the [`AddressPolicy`],
//! and a name is resolved here and accepted only if *every* address it
//! resolves to is permitted; the connection then goes to exactly those checked
//! addresses (the HTTP client gets them from this resolver, never from DNS
//! itself). Redirects are followed by hand, at most [`MAX_REDIRECTS`], each
//! checked the same way. No proxy, no cookies, a time limit per fetch and a
//! byte limit per body.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header;
use url::Url;

use super::address::{AddressPolicy, Refusal, Target};

/// Ports previews are fetched from; others only on allowlisted test addresses
/// (so links cannot make the server probe mail, database or SSH ports).
pub const WEB_PORTS: &[u16] = &[80, 443, 8080, 8443];

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;
/// Time for a whole fetch, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(8);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const USER_AGENT: &str = "ChatLinkPreview/0.1 (+link previews; fetches page head only)";

/// Why a fetch gave nothing.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("the name {0} does not resolve")]
    Unresolved(String),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("a redirect without a usable Location")]
    BadRedirect,
    #[error("HTTP status {0}")]
    Status(u16),
    #[error("timed out")]
    Timeout,
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
}

impl FetchError {
    /// Whether trying again later may work (so the outcome is not cached).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout | Self::Http(_) | Self::Unresolved(_) => true,
            Self::Status(status) => *status >= 500 || *status == 429,
            Self::Refused(_) | Self::TooManyRedirects | Self::BadRedirect => false,
        }
    }
}

/// A fetched body (possibly cut at the byte limit) and where it came from.
#[derive(Debug)]
pub struct Fetched {
    /// The URL after redirects.
    pub url: Url,
    /// The `Content-Type` the server claimed (lowercase, without parameters).
    pub content_type: String,
    pub body: Vec<u8>,
    /// Whether the body was longer than the limit and cut.
    pub truncated: bool,
}

/// Resolves host names for the fetcher: test overrides first, then the
/// system resolver; refuses the name unless every address is permitted.
#[derive(Debug)]
struct CheckedResolver {
    policy: AddressPolicy,
    overrides: HashMap<String, IpAddr>,
}

impl CheckedResolver {
    async fn lookup(&self, host: &str) -> Result<Vec<IpAddr>, FetchError> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let addresses: Vec<IpAddr> = match self.overrides.get(&host) {
            Some(ip) => vec![*ip],
            None => tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| FetchError::Unresolved(host.clone()))?
                .map(|a| a.ip())
                .collect(),
        };
        if addresses.is_empty() {
            return Err(FetchError::Unresolved(host));
        }
        for ip in &addresses {
            self.policy.check(*ip)?;
        }
        Ok(addresses)
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = CheckedResolver {
            policy: self.policy.clone(),
            overrides: self.overrides.clone(),
        };
        Box::pin(async move {
            let addresses = this.lookup(name.as_str()).await?;
            let addrs: Addrs = Box::new(addresses.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The fetcher; cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    policy: AddressPolicy,
    resolver: Arc<CheckedResolver>,
    timeout: Duration,
}

impl Fetcher {
    /// `allowed` are non-public addresses permitted anyway (tests);
    /// `overrides` resolve names without DNS (tests).
    pub fn new(
        allowed: Vec<IpAddr>,
        overrides: Vec<(String, IpAddr)>,
    ) -> Result<Self, reqwest::Error> {
        let policy = AddressPolicy::new(allowed);
        let resolver = Arc::new(CheckedResolver {
            policy: policy.clone(),
            overrides: overrides.into_iter().collect(),
        });
        // No fallback to a default client: it would resolve, redirect and
        // proxy on its own, around every check here.
        let client = reqwest::Client::builder()
            .dns_resolver(resolver.clone())
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self {
            client,
            policy,
            resolver,
            timeout: FETCH_TIMEOUT,
        })
    }

    /// A shorter time limit per fetch (tests).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.min(FETCH_TIMEOUT);
        self
    }

    /// Fetches `link`, reading at most `max_bytes` of the body.
    pub async fn fetch(&self, link: &str, max_bytes: usize) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.timeout, self.fetch_hops(link, max_bytes))
            .await
            .map_err(|_| FetchError::Timeout)?
    }

    async fn fetch_hops(&self, link: &str, max_bytes: usize) -> Result<Fetched, FetchError> {
        let mut url = Url::parse(link).map_err(|_| Refusal::Invalid)?;
        for _ in 0..=MAX_REDIRECTS {
            self.check(&url).await?;
            let mut response = self
                .client
                .get(url.clone())
                .header(
                    header::ACCEPT,
                    "text/html,application/xhtml+xml,image/*,video/*;q=0.8,*/*;q=0.5",
                )
                .send()
                .await?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or(FetchError::BadRedirect)?;
                url = url.join(location).map_err(|_| FetchError::BadRedirect)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(';').next())
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let mut body = Vec::new();
            let mut truncated = false;
            while let Some(chunk) = response.chunk().await? {
                let room = max_bytes - body.len();
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                url,
                content_type,
                body,
                truncated,
            });
        }
        Err(FetchError::TooManyRedirects)
    }

    /// The decision for one hop, made before any packet is sent: literal
    /// addresses against the policy, names by resolving and checking every
    /// address (the client then connects to those same addresses).
    pub async fn check(&self, url: &Url) -> Result<(), FetchError> {
        let (addresses, port) = match self.policy.target(url.as_str())? {
            Target::Address { ip, port } => (vec![ip], port),
            Target::Name { host, port } => (self.resolver.lookup(&host).await?, port),
        };
        port_permitted(&self.policy, port, &addresses)?;
        Ok(())
    }
}

/// Web ports anywhere; other ports only when every address is allowlisted.
fn port_permitted(policy: &AddressPolicy, port: u16, addresses: &[IpAddr]) -> Result<(), Refusal> {
    if WEB_PORTS.contains(&port) || addresses.iter().all(|ip| policy.allowlisted(*ip)) {
        Ok(())
    } else {
        Err(Refusal::Port(port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_ports_unless_the_address_is_allowlisted() {
        let test_site: IpAddr = "127.0.0.2".parse().unwrap();
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let policy = AddressPolicy::new(vec![test_site]);
        assert_eq!(port_permitted(&policy, 443, &[public]), Ok(()));
        assert_eq!(port_permitted(&policy, 8080, &[public]), Ok(()));
        assert_eq!(
            port_permitted(&policy, 22, &[public]),
            Err(Refusal::Port(22))
        );
        assert_eq!(
            port_permitted(&policy, 6379, &[public, test_site]),
            Err(Refusal::Port(6379))
        );
        assert_eq!(port_permitted(&policy, 41234, &[test_site]), Ok(()));
    }
}
