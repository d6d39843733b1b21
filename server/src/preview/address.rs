//! Which addresses the link-preview fetcher may connect to: only public
//! unicast ones. Loopback, private, link-local (cloud metadata at
//! 169.254.169.254), shared (CGNAT), multicast, reserved and documentation
//! ranges are refused, also when wrapped in IPv6 (IPv4-mapped, -compatible,
//! NAT64, 6to4). URLs are parsed the way browsers do, so `2130706433`,
//! `0x7f.1` and `[::ffff:127.0.0.1]` are recognised as loopback. The decision
//! is made on resolved addresses, and must be made again for every redirect.
//! Tests may allow specific addresses (for pages served on loopback).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why a URL may not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a valid URL")]
    Invalid,
    #[error("only http and https links are previewed")]
    Scheme,
    #[error("links with user names or passwords are not previewed")]
    Credentials,
    #[error("the address {0} is not public")]
    NotPublic(IpAddr),
    #[error("port {0} is not a web port")]
    Port(u16),
}

/// A URL's host, as the fetcher must resolve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A name to resolve; every address it resolves to must be checked.
    Name { host: String, port: u16 },
    /// A literal address, already checked.
    Address { ip: IpAddr, port: u16 },
}

/// Addresses the fetcher may use: public ones, plus an allowlist for tests.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpAddr>,
}

impl AddressPolicy {
    /// `allowed` are exact addresses permitted even though they are not public.
    pub fn new(allowed: Vec<IpAddr>) -> Self {
        Self { allowed }
    }

    /// Whether `ip` is on the test allowlist (not merely public).
    pub fn allowlisted(&self, ip: IpAddr) -> bool {
        self.allowed.contains(&canonical(ip))
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allowed.contains(&canonical(ip)) || is_public(ip)
    }

    /// Parses a link and checks a literal address at once.
    pub fn target(&self, link: &str) -> Result<Target, Refusal> {
        let url = Url::parse(link).map_err(|_| Refusal::Invalid)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        let port = url.port_or_known_default().ok_or(Refusal::Invalid)?;
        let ip = match url.host() {
            Some(Host::Domain(name)) => {
                return Ok(Target::Name {
                    host: name.to_ascii_lowercase(),
                    port,
                });
            }
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            None => return Err(Refusal::Invalid),
        };
        self.check(ip)?;
        Ok(Target::Address { ip, port })
    }

    /// Checks one resolved address.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(Refusal::NotPublic(ip))
        }
    }
}

/// IPv4 addresses wrapped in IPv6 are judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, network: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(network)) & mask)
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    const REFUSED: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network", 0.0.0.0
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local, cloud metadata
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, broadcast
    ];
    !REFUSED
        .iter()
        .any(|(network, prefix)| in_v4(ip, *network, *prefix))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || s[0] & 0xff00 == 0xff00 // multicast
        || s[0] & 0xffc0 == 0xfe80 // link-local
        || s[0] & 0xffc0 == 0xfec0 // site-local (deprecated)
        || s[0] & 0xfe00 == 0xfc00 // unique local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0x0000) // Teredo
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]); // discard-only
    // Only global unicast (2000::/3) is public.
    !refused && s[0] & 0xe000 == 0x2000
}

/// The IPv4 address inside IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
/// (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::) forms.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[0..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
        return Some(tail());
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(tail());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(link: &str) -> bool {
        matches!(
            AddressPolicy::default().target(link),
            Err(Refusal::NotPublic(_))
        )
    }

    #[test]
    fn loopback_private_and_metadata_addresses_are_refused_in_every_spelling() {
        for link in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.0.0.1/",
            "http://0177.0.0.1/",
            "http://0.0.0.0/",
            "http://0/",
            "http://10.0.0.5/",
            "http://172.16.3.4/",
            "http://192.168.1.1:8080/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[64:ff9b::a00:1]/",
            "http://[2002:7f00:1::]/",
            "http://[fe80::1]/",
            "http://[fc00::1]/",
            "http://[fd12:3456::1]/",
            "http://[ff02::1]/",
        ] {
            assert!(refused(link), "{link} must be refused");
        }
    }

    #[test]
    fn public_addresses_and_names_pass_to_resolution() {
        let policy = AddressPolicy::default();
        for link in [
            "https://93.184.216.34/",
            "http://[2606:2800:220:1:248:1893:25c8:1946]/",
        ] {
            assert!(
                matches!(policy.target(link), Ok(Target::Address { .. })),
                "{link}"
            );
        }
        assert_eq!(
            policy.target("https://Example.ORG/page"),
            Ok(Target::Name {
                host: "example.org".into(),
                port: 443
            })
        );
        // A name is only a promise: its resolved addresses are checked one by one.
        assert!(policy.check("127.0.0.1".parse().unwrap()).is_err());
        assert!(policy.check("8.8.8.8".parse().unwrap()).is_ok());
    }

    #[test]
    fn other_schemes_and_credentials_are_refused() {
        let policy = AddressPolicy::default();
        assert_eq!(policy.target("javascript:alert(1)"), Err(Refusal::Scheme));
        assert_eq!(policy.target("file:///etc/passwd"), Err(Refusal::Scheme));
        assert_eq!(policy.target("ftp://example.org/"), Err(Refusal::Scheme));
        assert_eq!(
            policy.target("http://user:pw@example.org/"),
            Err(Refusal::Credentials)
        );
        assert_eq!(policy.target("not a url"), Err(Refusal::Invalid));
    }

    #[test]
    fn an_allowlist_admits_exact_test_addresses_only() {
        let policy = AddressPolicy::new(vec!["127.0.0.1".parse().unwrap()]);
        assert!(matches!(
            policy.target("http://127.0.0.1:4000/"),
            Ok(Target::Address { .. })
        ));
        assert!(policy.check("::ffff:127.0.0.1".parse().unwrap()).is_ok());
        assert!(policy.check("127.0.0.2".parse().unwrap()).is_err());
        assert!(policy.check("10.0.0.1".parse().unwrap()).is_err());
    }
}
