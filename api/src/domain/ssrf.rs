//! Which webhook targets the server may call: URL shape and the address
//! ranges that must never be reached from inside (SSRF), without any I/O.
//! The DNS half of the check lives in `crate::webhook_target`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Long enough for any robot URL with its key and signature parameters.
pub const MAX_URL_LEN: usize = 2048;

/// Why a webhook URL is refused. Every variant maps to the contract's
/// 422 `webhook_url_forbidden`; the text says which rule tripped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    #[error("网址无法解析：{0}")]
    Malformed(String),
    #[error("网址过长（不超过 {MAX_URL_LEN} 个字符）")]
    TooLong,
    #[error("只允许 http 或 https 网址")]
    Scheme,
    #[error("网址缺少主机名")]
    NoHost,
    #[error("网址不能包含用户名或密码")]
    UserInfo,
    #[error("目标地址 {ip} 属于{reason}，不允许作为 Webhook 目标")]
    Forbidden { ip: IpAddr, reason: &'static str },
    #[error("无法解析主机名 {host}：{detail}")]
    Resolve { host: String, detail: String },
}

impl SsrfError {
    /// DNS did not answer: worth retrying a send later, unlike the rest,
    /// which say the URL itself is not allowed.
    pub fn is_resolution_failure(&self) -> bool {
        matches!(self, Self::Resolve { .. })
    }
}

/// Parses a webhook URL as registered: `http`/`https` only, a host, no
/// `user:password@` (it would end up in logs and in `Authorization`).
/// Whether the host is allowed is [`check_literal_host`]'s and DNS's job.
pub fn parse_webhook_url(raw: &str) -> Result<Url, SsrfError> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(SsrfError::TooLong);
    }
    let url = Url::parse(raw).map_err(|e| SsrfError::Malformed(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SsrfError::Scheme);
    }
    if matches!(url.host(), None | Some(Host::Domain(""))) {
        return Err(SsrfError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SsrfError::UserInfo);
    }
    Ok(url)
}

/// For a URL whose host is an IP literal (including the odd forms the URL
/// standard folds into one, such as `http://2130706433/`), whether that
/// address is allowed. Domain names give `Ok(None)`: they need DNS.
pub fn check_literal_host(url: &Url) -> Result<Option<IpAddr>, SsrfError> {
    let ip = match url.host() {
        None => return Err(SsrfError::NoHost),
        Some(Host::Domain(_)) => return Ok(None),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    check_ip(ip).map(|()| Some(ip))
}

/// `Ok` when the address may be called, else the reason.
pub fn check_ip(ip: IpAddr) -> Result<(), SsrfError> {
    match forbidden_reason(ip) {
        None => Ok(()),
        Some(reason) => Err(SsrfError::Forbidden { ip, reason }),
    }
}

/// Whether a webhook must never be sent to this address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    forbidden_reason(ip).is_some()
}

/// The name of the forbidden range the address falls in, if any.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

/// IPv4 ranges that are not the public internet (IANA special-purpose
/// registry). Documentation and benchmarking ranges are refused too: no
/// real receiver lives there, so allowing them only widens the attack
/// surface on networks that route them internally.
const V4_RANGES: &[(u32, u8, &str)] = &[
    (0x0000_0000, 8, "未指定地址（0.0.0.0/8）"),
    (0x0A00_0000, 8, "内网地址（10.0.0.0/8）"),
    (0x6440_0000, 10, "运营商级 NAT 地址（100.64.0.0/10）"),
    (0x7F00_0000, 8, "本机回环地址（127.0.0.0/8）"),
    (
        0xA9FE_0000,
        16,
        "链路本地地址（169.254.0.0/16，含云元数据服务）",
    ),
    (0xAC10_0000, 12, "内网地址（172.16.0.0/12）"),
    (0xC000_0000, 24, "IETF 协议保留地址（192.0.0.0/24）"),
    (0xC000_0200, 24, "文档示例地址（192.0.2.0/24）"),
    (0xC058_6300, 24, "6to4 中继地址（192.88.99.0/24）"),
    (0xC0A8_0000, 16, "内网地址（192.168.0.0/16）"),
    (0xC612_0000, 15, "基准测试地址（198.18.0.0/15）"),
    (0xC633_6400, 24, "文档示例地址（198.51.100.0/24）"),
    (0xCB00_7100, 24, "文档示例地址（203.0.113.0/24）"),
    (0xE000_0000, 4, "组播地址（224.0.0.0/4）"),
    (0xF000_0000, 4, "保留地址或广播地址（240.0.0.0/4）"),
];

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_RANGES
        .iter()
        .find(|(net, len, _)| bits >> (32 - len) == net >> (32 - len))
        .map(|(_, _, reason)| *reason)
}

/// IPv6 ranges that are not the public internet. Ranges that carry an
/// IPv4 address inside (mapped, NAT64, 6to4) are judged by that address.
const V6_RANGES: &[(u128, u8, &str)] = &[
    // ::/96 holds ::, ::1 and the deprecated IPv4-compatible form.
    (0, 96, "未指定、回环或已废弃的 IPv4 兼容地址（::/96）"),
    (
        0x0064_ff9b_0001 << 80,
        48,
        "本地 NAT64 地址（64:ff9b:1::/48）",
    ),
    (0x0100 << 112, 64, "丢弃地址（100::/64）"),
    (0x2001 << 112, 32, "Teredo 隧道地址（2001::/32）"),
    (0x2001_0db8 << 96, 32, "文档示例地址（2001:db8::/32）"),
    (0x3fff << 112, 20, "文档示例地址（3fff::/20）"),
    (0xfc00 << 112, 7, "唯一本地地址（fc00::/7）"),
    (0xfe80 << 112, 10, "链路本地地址（fe80::/10）"),
    (0xfec0 << 112, 10, "已废弃的站点本地地址（fec0::/10）"),
    (0xff00 << 112, 8, "组播地址（ff00::/8）"),
];

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4);
    }
    let bits = u128::from(ip);
    V6_RANGES
        .iter()
        .find(|(net, len, _)| bits >> (128 - len) == net >> (128 - len))
        .map(|(_, _, reason)| *reason)
}

/// The IPv4 address that an IPv6 address stands for on the wire, where
/// the network would translate or tunnel it: `::ffff:a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let bits = u128::from(ip);
    let s = ip.segments();
    if bits >> 32 == 0x0064_ff9b_u128 << 64 {
        // Truncation keeps the low 32 bits: the IPv4 address.
        return Some(Ipv4Addr::from(bits as u32));
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2])));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_internal_ipv4_ranges() {
        for bad in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.1.2.3",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.10",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(is_forbidden_ip(ip(bad)), "{bad} should be forbidden");
        }
    }

    #[test]
    fn allows_public_ipv4_including_range_neighbours() {
        for good in [
            "8.8.8.8",
            "114.114.114.114",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "169.255.0.1",
            "11.0.0.1",
            "198.20.0.1",
            "223.255.255.255",
        ] {
            assert!(!is_forbidden_ip(ip(good)), "{good} should be allowed");
        }
    }

    #[test]
    fn refuses_internal_ipv6_ranges() {
        for bad in [
            "::",
            "::1",
            "::127.0.0.1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "100::1",
            "64:ff9b:1::1",
            "3fff::1",
        ] {
            assert!(is_forbidden_ip(ip(bad)), "{bad} should be forbidden");
        }
    }

    #[test]
    fn judges_ipv6_that_carries_ipv4_by_the_ipv4_address() {
        // IPv4-mapped: the classic bypass of v6-only block lists.
        assert!(is_forbidden_ip(ip("::ffff:127.0.0.1")));
        assert!(is_forbidden_ip(ip("::ffff:169.254.169.254")));
        assert!(is_forbidden_ip(ip("::ffff:10.1.2.3")));
        assert!(!is_forbidden_ip(ip("::ffff:8.8.8.8")));
        // NAT64 well-known prefix.
        assert!(is_forbidden_ip(ip("64:ff9b::192.168.0.1")));
        assert!(!is_forbidden_ip(ip("64:ff9b::8.8.8.8")));
        // 6to4: 2002:7f00:0001:: is 127.0.0.1.
        assert!(is_forbidden_ip(ip("2002:7f00:1::")));
        assert!(is_forbidden_ip(ip("2002:a9fe:a9fe::1")));
        assert!(!is_forbidden_ip(ip("2002:0808:0808::1")));
    }

    #[test]
    fn allows_public_ipv6() {
        for good in [
            "2400:3200::1",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "240e::1",
        ] {
            assert!(!is_forbidden_ip(ip(good)), "{good} should be allowed");
        }
    }

    #[test]
    fn reasons_name_the_range() {
        assert_eq!(
            forbidden_reason(ip("169.254.169.254")),
            Some("链路本地地址（169.254.0.0/16，含云元数据服务）")
        );
        assert_eq!(forbidden_reason(ip("8.8.8.8")), None);
    }

    #[test]
    fn parses_http_and_https_robot_urls() {
        let url = parse_webhook_url(" https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc ")
            .unwrap();
        assert_eq!(url.host_str(), Some("qyapi.weixin.qq.com"));
        assert_eq!(url.query(), Some("key=abc"));
        assert!(parse_webhook_url("http://example.com:8080/hook").is_ok());
    }

    #[test]
    fn refuses_other_schemes_userinfo_and_garbage() {
        assert_eq!(
            parse_webhook_url("ftp://example.com/x"),
            Err(SsrfError::Scheme)
        );
        assert_eq!(
            parse_webhook_url("file:///etc/passwd"),
            Err(SsrfError::Scheme)
        );
        assert_eq!(
            parse_webhook_url("gopher://example.com/"),
            Err(SsrfError::Scheme)
        );
        assert_eq!(
            parse_webhook_url("javascript:alert(1)"),
            Err(SsrfError::Scheme)
        );
        assert_eq!(
            parse_webhook_url("https://user:pw@example.com/"),
            Err(SsrfError::UserInfo)
        );
        assert_eq!(
            parse_webhook_url("https://user@example.com/"),
            Err(SsrfError::UserInfo)
        );
        assert!(matches!(
            parse_webhook_url("not a url"),
            Err(SsrfError::Malformed(_))
        ));
        assert!(matches!(
            parse_webhook_url("https://"),
            Err(SsrfError::Malformed(_))
        ));
        assert!(matches!(
            parse_webhook_url(""),
            Err(SsrfError::Malformed(_))
        ));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(parse_webhook_url(&long), Err(SsrfError::TooLong));
    }

    #[test]
    fn literal_hosts_are_checked_without_dns_even_in_odd_notations() {
        let check = |raw: &str| check_literal_host(&parse_webhook_url(raw).unwrap());
        // The URL standard reads all of these as 127.0.0.1.
        for sneaky in [
            "http://2130706433/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://0177.0.0.1/",
        ] {
            assert!(
                matches!(check(sneaky), Err(SsrfError::Forbidden { .. })),
                "{sneaky} should be refused"
            );
        }
        assert!(matches!(
            check("http://[::1]:8080/"),
            Err(SsrfError::Forbidden { .. })
        ));
        assert!(matches!(
            check("http://[::ffff:169.254.169.254]/"),
            Err(SsrfError::Forbidden { .. })
        ));
        assert!(matches!(
            check("http://169.254.169.254/latest/meta-data/"),
            Err(SsrfError::Forbidden { .. })
        ));
        assert_eq!(check("http://8.8.8.8/"), Ok(Some(ip("8.8.8.8"))));
        assert_eq!(check("https://oapi.dingtalk.com/robot/send"), Ok(None));
    }
}
