//! Who is on the other end: the client's IP address for per-address budgets.
//! The socket's peer, unless that peer is a configured trusted proxy: then
//! the right-most address in `X-Forwarded-For` that is not itself a trusted
//! proxy (addresses further left are whatever the client chose to send).
//! IPv6 clients are keyed by their /64, since one host usually gets a whole /64.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;
use ipnet::IpNet;

/// Which peers may tell us the client's address.
#[derive(Debug, Clone, Default)]
pub struct ClientAddresses {
    trusted_proxies: Vec<IpNet>,
}

impl ClientAddresses {
    pub fn new(trusted_proxies: Vec<IpNet>) -> Self {
        Self { trusted_proxies }
    }

    fn is_trusted(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.trusted_proxies
            .iter()
            .any(|net| net.contains(&address))
    }

    /// The client's address as seen through trusted proxies.
    pub fn address(&self, request: &HttpRequest) -> Option<IpAddr> {
        let peer = canonical(request.peer_addr()?.ip());
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            match parse_hop(hop) {
                Some(address) if self.is_trusted(address) => client = address,
                Some(address) => return Some(address),
                // Garbage from the client side: stop at the last good hop.
                None => break,
            }
        }
        Some(client)
    }

    /// The key per-address budgets count under: the address, or its /64 for IPv6.
    pub fn key(&self, request: &HttpRequest) -> String {
        self.address(request).map(address_key).unwrap_or_default()
    }
}

/// The budget key of an address: IPv4 as is, IPv6 by its /64 prefix.
pub fn address_key(address: IpAddr) -> String {
    match canonical(address) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let prefix = Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            );
            format!("{prefix}/64")
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are the IPv4 address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, maybe with a port or in brackets.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(socket.ip()));
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse().ok())
        .map(canonical)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut request = TestRequest::default().peer_addr(peer.parse().unwrap());
        if let Some(forwarded) = forwarded {
            request = request.insert_header(("x-forwarded-for", forwarded));
        }
        request.to_http_request()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let direct = ClientAddresses::default();
        let spoofed = request("192.0.2.7:5000", Some("198.51.100.1"));
        assert_eq!(direct.key(&spoofed), "192.0.2.7");

        let proxied = ClientAddresses::new(vec!["127.0.0.1/32".parse().unwrap()]);
        let via_proxy = request("127.0.0.1:5000", Some("203.0.113.9, 198.51.100.1"));
        // The right-most untrusted hop; what the client wrote further left is ignored.
        assert_eq!(proxied.key(&via_proxy), "198.51.100.1");
        let no_header = request("127.0.0.1:5000", None);
        assert_eq!(proxied.key(&no_header), "127.0.0.1");
        let garbage = request("127.0.0.1:5000", Some("not an address"));
        assert_eq!(proxied.key(&garbage), "127.0.0.1");
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let addresses = ClientAddresses::default();
        let a = request("[2001:db8:1:2:aaaa::1]:5000", None);
        let b = request("[2001:db8:1:2:bbbb::9]:5000", None);
        assert_eq!(addresses.key(&a), "2001:db8:1:2::/64");
        assert_eq!(addresses.key(&a), addresses.key(&b));
        let mapped = request("[::ffff:192.0.2.1]:5000", None);
        assert_eq!(addresses.key(&mapped), "192.0.2.1");
    }
}
