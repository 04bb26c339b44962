//! The network half of the webhook SSRF rule: resolve a target's host and
//! refuse it when any of its addresses is internal, when a webhook is
//! registered and again before every send; plus a reqwest DNS resolver
//! applying the same rule to the connection actually made, so a name that
//! re-resolves to 127.0.0.1 between check and send (DNS rebinding) is
//! still refused. The address rules themselves are `domain::ssrf`.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::domain::notify::scrub::mask_urls_in;
use crate::domain::ssrf::{SsrfError, check_ip, check_literal_host, parse_webhook_url};

/// A resolver that does not answer within this is treated as failed.
pub const DNS_TIMEOUT: Duration = Duration::from_secs(5);

/// `Ok` when `url` may be called: http(s), and unless `allow_private`
/// (`WEBHOOK_ALLOW_PRIVATE_TARGETS=true`) its host is not and does not
/// resolve to a forbidden address. `SsrfError::is_resolution_failure`
/// tells a DNS failure (retry a send later; refuse a registration as
/// unreachable) from a forbidden target (422 `webhook_url_forbidden`).
pub async fn check_target(url: &Url, allow_private: bool) -> Result<(), SsrfError> {
    resolve_target(url, allow_private).await.map(|_| ())
}

/// Like [`check_target`], returning the addresses checked (none when the
/// check needed no DNS: private targets allowed, or an IP literal).
pub async fn resolve_target(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, SsrfError> {
    // Re-checks scheme and userinfo for URLs that did not come through
    // `parse_webhook_url` (stored before a rule changed, say).
    let url = parse_webhook_url(url.as_str())?;
    if allow_private {
        return Ok(Vec::new());
    }
    if check_literal_host(&url)?.is_some() {
        return Ok(Vec::new());
    }
    let Some(Host::Domain(host)) = url.host() else {
        return Err(SsrfError::NoHost);
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs = lookup(host, port).await?;
    for addr in &addrs {
        check_ip(addr.ip())?;
    }
    Ok(addrs)
}

async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, SsrfError> {
    let failed = |detail: String| SsrfError::Resolve {
        host: host.to_string(),
        detail,
    };
    let found = tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| failed("DNS 超时".into()))?
        .map_err(|e| failed(e.to_string()))?;
    let addrs: Vec<SocketAddr> = found.collect();
    if addrs.is_empty() {
        return Err(failed("没有地址".into()));
    }
    Ok(addrs)
}

/// A reqwest resolver that refuses names resolving to forbidden
/// addresses. reqwest skips resolvers for IP-literal hosts, so keep
/// calling [`check_target`] before each send as well. Use it with
/// [`client_builder`], which also turns off redirects and proxies.
#[derive(Debug, Clone, Copy, Default)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts in the URL's port.
            let addrs = lookup(&host, 0).await?;
            if !allow_private {
                for addr in &addrs {
                    check_ip(addr.ip())?;
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A reqwest client builder for webhook deliveries: no redirects (they
/// could lead inside the network; a 3xx is a permanent failure), no
/// proxies from the environment (the proxy would resolve the name, out
/// of the resolver's reach), the guarded resolver and bounded waits.
pub fn client_builder(allow_private: bool) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(GuardedResolver { allow_private })
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
}

/// The SSRF refusal inside a reqwest error, if that is what it was: a
/// forbidden target is permanent, a DNS failure worth a retry.
pub fn ssrf_error_of(err: &reqwest::Error) -> Option<&SsrfError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(ssrf) = e.downcast_ref::<SsrfError>() {
            return Some(ssrf);
        }
        source = e.source();
    }
    None
}

/// A transport error (refused, timed out, TLS …) as text fit for
/// `last_error` and logs: reqwest's message without the URL, which holds
/// the robot's key, then its causes, with any URL left in them masked.
pub fn describe_transport_error(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    mask_urls_in(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn literal_internal_addresses_are_refused_without_dns() {
        for raw in [
            "http://127.0.0.1:8080/hook",
            "http://169.254.169.254/",
            "http://[::1]/",
            "http://2130706433/",
        ] {
            let err = check_target(&url(raw), false).await.unwrap_err();
            assert!(matches!(err, SsrfError::Forbidden { .. }), "{raw}: {err}");
            assert!(!err.is_resolution_failure());
        }
        assert!(check_target(&url("http://8.8.8.8/"), false).await.is_ok());
    }

    #[tokio::test]
    async fn names_resolving_inside_are_refused() {
        let err = check_target(&url("http://localhost:9/"), false)
            .await
            .unwrap_err();
        assert!(matches!(err, SsrfError::Forbidden { .. }), "{err}");
    }

    #[tokio::test]
    async fn private_targets_pass_when_allowed_but_schemes_never_do() {
        assert!(
            check_target(&url("http://127.0.0.1:8080/"), true)
                .await
                .is_ok()
        );
        assert!(
            check_target(&url("http://localhost:8080/"), true)
                .await
                .is_ok()
        );
        assert_eq!(
            check_target(&url("ftp://127.0.0.1/"), true).await,
            Err(SsrfError::Scheme)
        );
        assert_eq!(
            check_target(&url("http://u:p@example.com/"), true).await,
            Err(SsrfError::UserInfo)
        );
    }

    #[tokio::test]
    async fn the_resolver_applies_the_same_rule() {
        let name: Name = "localhost".parse().unwrap();
        let refused = GuardedResolver {
            allow_private: false,
        }
        .resolve(name)
        .await;
        let err = refused.err().unwrap();
        assert!(
            matches!(
                err.downcast_ref::<SsrfError>(),
                Some(SsrfError::Forbidden { .. })
            ),
            "{err}"
        );

        let name: Name = "localhost".parse().unwrap();
        let allowed: Vec<SocketAddr> = GuardedResolver {
            allow_private: true,
        }
        .resolve(name)
        .await
        .unwrap()
        .collect();
        assert!(allowed.iter().any(|a| a.ip().is_loopback()), "{allowed:?}");
    }

    #[tokio::test]
    async fn a_client_never_connects_to_a_name_that_resolves_inside() {
        let client = client_builder(false).build().unwrap();
        let err = client
            .post("http://localhost:9/hook")
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(ssrf_error_of(&err), Some(SsrfError::Forbidden { .. })),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_described_without_the_robot_key() {
        // A port nothing listens on: bind one, then let it go.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = client_builder(true).build().unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/open-apis/bot/v2/hook/feishu-token-abcdef"),
            format!("http://127.0.0.1:{port}/cgi-bin/webhook/send?key=wecom-key-abcdef"),
            format!("http://robot:robot-password@127.0.0.1:{port}/hook"),
        ] {
            let err = client.post(&url).send().await.unwrap_err();
            assert!(
                err.to_string().contains("127.0.0.1"),
                "reqwest names the URL"
            );
            let text = describe_transport_error(err);
            for secret in ["feishu-token", "wecom-key", "robot-password"] {
                assert!(!text.contains(secret), "{text}");
            }
            assert!(!text.is_empty());
        }
    }
}
