//! Which address a request comes from, for limits per client.
//!
//! Behind a reverse proxy every request's socket peer is the proxy, and
//! the client is named in `X-Forwarded-For` — but anyone can send that
//! header, so it is believed only when the peer is a trusted proxy. Each
//! proxy appends the address it received from, so the right-most entry
//! that is not itself a trusted proxy is the first one no trusted party
//! could have been lied to about; everything left of it is the client's
//! own say.

use std::net::IpAddr;

/// The client's address: the socket `peer`, unless it is one of
/// `trusted` proxies, in which case the right-most `X-Forwarded-For`
/// entry that is not a trusted proxy. An unreadable entry stops the walk
/// (that proxy is the last we can vouch for); with nothing usable the
/// peer stands.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpAddr]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.contains(&canonical(*ip));
    if !is_trusted(&peer) {
        return canonical(peer);
    }
    let mut client = canonical(peer);
    let entries = forwarded_for
        .iter()
        .flat_map(|header| header.split(','))
        .collect::<Vec<_>>();
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The client a per-client limit counts: an IPv4 address as it is, an
/// IPv6 address by its /64 (`2001:db8:1:2::/64`). One subscriber, one
/// phone on a mobile network, is handed a whole /64 and picks addresses in
/// it at will (privacy extensions rotate them by themselves), so counting
/// each IPv6 address apart would give every client 2^64 budgets.
pub fn limit_key(client: IpAddr) -> String {
    match canonical(client) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
    }
}

/// Parses `TRUSTED_PROXIES`: comma-separated IP addresses.
pub fn parse_trusted(list: &str) -> Result<Vec<IpAddr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpAddr>()
                .map(canonical)
                .map_err(|_| format!("not an IP address: {s}"))
        })
        .collect()
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`1.2.3.4:5678`, `[::1]:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| canonical(s.ip()))
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:1.2.3.4`) are the
/// same client as `1.2.3.4`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_socket_is_the_client() {
        let forged = ["6.6.6.6"];
        assert_eq!(client_address(ip("9.9.9.9"), &forged, &[]), ip("9.9.9.9"));
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let trusted = [ip("10.0.0.1")];
        assert_eq!(
            client_address(ip("9.9.9.9"), &["6.6.6.6"], &trusted),
            ip("9.9.9.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_entry_is_the_client() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // The client forged "6.6.6.6"; the first proxy appended the real one.
        let header = ["6.6.6.6, 1.2.3.4, 10.0.0.2"];
        assert_eq!(
            client_address(ip("10.0.0.1"), &header, &trusted),
            ip("1.2.3.4")
        );
        // Several headers count as one list, in order.
        let split = ["6.6.6.6", "1.2.3.4:5555", "10.0.0.2"];
        assert_eq!(
            client_address(ip("10.0.0.1"), &split, &trusted),
            ip("1.2.3.4")
        );
    }

    #[test]
    fn a_trusted_proxy_without_a_usable_header_is_the_client() {
        let trusted = [ip("10.0.0.1")];
        assert_eq!(
            client_address(ip("10.0.0.1"), &[], &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), &["1.2.3.4, garbage"], &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn mapped_ipv4_is_the_same_client() {
        let trusted = parse_trusted("127.0.0.1").unwrap();
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &["[2001:db8::1]:443"], &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let a = limit_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(a, limit_key(ip("2001:db8:1:2::1")));
        assert_ne!(a, limit_key(ip("2001:db8:1:3::1")));
        assert_eq!(limit_key(ip("::1")), "::/64");
    }

    #[test]
    fn ipv4_through_ipv6_is_the_ipv4_client() {
        assert_eq!(limit_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(limit_key(ip("203.0.113.7")), "203.0.113.7");
        assert_ne!(limit_key(ip("203.0.113.7")), limit_key(ip("203.0.113.8")));
    }

    #[test]
    fn the_setting_names_addresses_only() {
        assert_eq!(
            parse_trusted(" 10.0.0.1, ::1 ,").unwrap(),
            vec![ip("10.0.0.1"), ip("::1")]
        );
        assert!(parse_trusted("10.0.0.0/8").is_err());
        assert!(parse_trusted("").unwrap().is_empty());
    }
}
