//! Service certificates (志愿服务记录证明): their unguessable numbers, the
//! compact JWS that signs them (Ed25519, RFC 8037), and how a public
//! verification answers a browser.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Every number starts with this: 证明 (ZhengMing).
pub const NUMBER_PREFIX: &str = "ZM";
/// Crockford's base32: no I, L, O or U, so a number read aloud or typed
/// from paper is hard to get wrong.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 16 base32 characters: 80 random bits.
const NUMBER_CHARS: usize = 16;

/// A fresh number, `ZM-XXXX-XXXX-XXXX-XXXX` (80 random bits).
pub fn new_number() -> String {
    let bytes: [u8; 10] = rand::random();
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let chars: String = (0..NUMBER_CHARS)
        .rev()
        .map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char)
        .collect();
    format_number(&chars)
}

fn format_number(chars: &str) -> String {
    let groups: Vec<&str> = (0..NUMBER_CHARS / 4)
        .map(|g| &chars[g * 4..g * 4 + 4])
        .collect();
    format!("{NUMBER_PREFIX}-{}", groups.join("-"))
}

/// A number as someone may type it (any case, with or without hyphens or
/// spaces, O for 0, I or L for 1) in its one printed form; `None` when it
/// cannot be a number at all.
pub fn canonical_number(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let body = cleaned.strip_prefix(NUMBER_PREFIX)?;
    if body.len() != NUMBER_CHARS || !body.bytes().all(|b| ALPHABET.contains(&b)) {
        return None;
    }
    Some(format_number(body))
}

/// What a certificate is looked up by: the SHA-256 (hex) of its number.
/// Index comparisons then run on a value the caller cannot steer, so how
/// long a look-up takes says nothing about how close a guess came.
pub fn number_hash(canonical: &str) -> String {
    hex(&Sha256::digest(canonical.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the signature covers, in this order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SignedPayload {
    pub number: String,
    pub volunteer_name: String,
    pub hours: f64,
    pub records: i64,
    pub period_from: String,
    pub period_to: String,
    pub issued_at: String,
    pub issuer: String,
}

/// An Ed25519 signing key and its key id.
pub struct CertificateSigner {
    key: SigningKey,
    pub kid: String,
}

impl CertificateSigner {
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        let kid = kid_of(&key.verifying_key().to_bytes());
        Self { key, kid }
    }

    /// The public key as a JWK's `x` (base64url, no padding).
    pub fn public_x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }

    /// Compact JWS (RFC 7515) with `alg: EdDSA` and this key's `kid`.
    pub fn sign(&self, payload: &SignedPayload) -> String {
        let header = serde_json::json!({"alg": "EdDSA", "kid": self.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap_or_default())
        );
        let signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// The `kid` in a compact JWS's header: which key signed it. `None` when
/// the header cannot be read.
pub fn signing_kid(jws: &str) -> Option<String> {
    let header = jws.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    header.get("kid")?.as_str().map(str::to_string)
}

/// RFC 7638 thumbprint of an Ed25519 public key (members in lexical order).
pub fn kid_of(public: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// `CERTIFICATE_SIGNING_KEY`: base64 of a 32-byte Ed25519 seed.
pub fn parse_seed(text: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| "not base64 (generate one with `openssl rand -base64 32`)".to_string())?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("must decode to 32 bytes, not {}", b.len()))
}

/// Whether an `Accept` header prefers `text/html` to JSON: the highest
/// `q` wins, and a tie goes to JSON (the API's own language).
pub fn prefers_html(accept: &str) -> bool {
    let mut html = 0.0_f32;
    let mut json = 0.0_f32;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            "application/json" => json = json.max(q),
            _ => {}
        }
    }
    html > json
}

/// Text made safe to stand in HTML, in an element or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// The one style block of the verification page; the CSP admits it by
/// its hash, and nothing else.
pub const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1.2rem;background:#f6f7f9;color:#222}main{max-width:28rem;margin:auto;background:#fff;border-radius:.6rem;padding:1.2rem;box-shadow:0 1px 4px #0002}h1{font-size:1.25rem;margin:0 0 .8rem}.s{font-weight:bold;padding:.4rem .6rem;border-radius:.3rem;display:inline-block}.valid{background:#e3f5e6;color:#17612a}.revoked{background:#fde8e8;color:#9b1c1c}.withdrawn{background:#fff3dc;color:#8a4b00}dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem .8rem}dt{color:#666}dd{margin:0}";

/// `Content-Security-Policy` of the page: no script, no fetch, no frame,
/// only its own style block.
pub fn page_csp() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(PAGE_STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// What the page shows, already public (the name masked).
pub struct PageFacts<'a> {
    pub number: &'a str,
    pub revoked: bool,
    /// The key that signed it was withdrawn (a revocation says more).
    pub key_withdrawn: bool,
    pub masked_name: &'a str,
    pub hours: f64,
    pub records: i64,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub issued_on: &'a str,
    pub issuer: &'a str,
}

/// A small page for a phone that scanned the QR code.
pub fn verify_page(f: &PageFacts<'_>) -> String {
    let (class, status) = if f.revoked {
        ("revoked", "此证明已撤销，不再有效")
    } else if f.key_withdrawn {
        (
            "withdrawn",
            "签发此证明的签名密钥已撤回，无法确认其真实性；请联系出具单位重新出具",
        )
    } else {
        ("valid", "此证明真实有效")
    };
    let rows = [
        ("证明编号", f.number.to_string()),
        ("志愿者", f.masked_name.to_string()),
        ("服务时长", format!("{} 小时", f.hours)),
        ("服务记录", format!("{} 条", f.records)),
        ("服务期间", format!("{} 至 {}", f.period_from, f.period_to)),
        ("出具单位", f.issuer.to_string()),
        ("出具日期", f.issued_on.to_string()),
    ];
    let dl: String = rows
        .iter()
        .map(|(k, v)| format!("<dt>{}</dt><dd>{}</dd>", escape_html(k), escape_html(v)))
        .collect();
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>志愿服务记录证明核验</title><style>{PAGE_STYLE}</style></head>\
         <body><main><h1>志愿服务记录证明核验</h1><p class=\"s {class}\">{status}</p><dl>{dl}</dl></main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_carry_80_random_bits_in_readable_groups() {
        let a = new_number();
        assert_eq!(a.len(), "ZM-XXXX-XXXX-XXXX-XXXX".len());
        assert!(a.starts_with("ZM-"));
        assert_ne!(a, new_number());
        assert_eq!(canonical_number(&a).as_deref(), Some(a.as_str()));
    }

    #[test]
    fn typed_numbers_are_read_the_forgiving_way() {
        assert_eq!(
            canonical_number(" zm 0o1l-abcd-efgh-jkmn ").as_deref(),
            Some("ZM-0011-ABCD-EFGH-JKMN")
        );
        assert_eq!(canonical_number("ZM-0011-ABCD-EFGH-JKM"), None);
        assert_eq!(canonical_number("ZM-0011-ABCD-EFGH-JKMU"), None);
        assert_eq!(canonical_number("XX-0011-ABCD-EFGH-JKMN"), None);
    }

    #[test]
    fn browsers_get_html_and_api_clients_json() {
        assert!(prefers_html(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!prefers_html("application/json"));
        assert!(!prefers_html("*/*"));
        assert!(!prefers_html(""));
        assert!(!prefers_html("text/html;q=0.5, application/json"));
        assert!(!prefers_html("text/html, application/json"));
    }

    #[test]
    fn page_text_is_escaped() {
        let page = verify_page(&PageFacts {
            number: "ZM-1",
            revoked: true,
            key_withdrawn: false,
            masked_name: "<script>",
            hours: 1.5,
            records: 1,
            period_from: "2026-01-01",
            period_to: "2026-01-31",
            issued_on: "2026-02-01",
            issuer: "\"&'",
        });
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("&quot;&amp;&#39;"));
        assert!(!page.contains("<script"));
        assert!(page.contains("已撤销"));
    }

    #[test]
    fn a_page_says_when_the_signing_key_was_withdrawn() {
        let facts = |revoked, key_withdrawn| PageFacts {
            number: "ZM-1",
            revoked,
            key_withdrawn,
            masked_name: "王**",
            hours: 1.0,
            records: 1,
            period_from: "2026-01-01",
            period_to: "2026-01-31",
            issued_on: "2026-02-01",
            issuer: "幸福社区",
        };
        let withdrawn = verify_page(&facts(false, true));
        assert!(withdrawn.contains("签名密钥已撤回"), "{withdrawn}");
        assert!(!withdrawn.contains("真实有效"));
        // A revocation is the stronger statement.
        let both = verify_page(&facts(true, true));
        assert!(both.contains("已撤销") && !both.contains("密钥已撤回"));
    }

    #[test]
    fn a_signature_names_the_key_that_made_it() {
        let signer = CertificateSigner::from_seed([9; 32]);
        let jws = signer.sign(&SignedPayload {
            number: "ZM-1".into(),
            volunteer_name: "王堃".into(),
            hours: 1.0,
            records: 1,
            period_from: "2026-01-01".into(),
            period_to: "2026-01-31".into(),
            issued_at: "2026-02-01T09:00:00+08:00".into(),
            issuer: "幸福社区".into(),
        });
        assert_eq!(signing_kid(&jws), Some(signer.kid.clone()));
        assert_eq!(signing_kid("not a jws"), None);
        assert_eq!(signing_kid(""), None);
    }

    #[test]
    fn a_signer_names_its_key_by_thumbprint() {
        let signer = CertificateSigner::from_seed([7; 32]);
        assert_eq!(signer.kid.len(), 43);
        let jws = signer.sign(&SignedPayload {
            number: "ZM-1".into(),
            volunteer_name: "王堃".into(),
            hours: 2.5,
            records: 1,
            period_from: "2026-01-01".into(),
            period_to: "2026-01-31".into(),
            issued_at: "2026-02-01T09:00:00+08:00".into(),
            issuer: "幸福社区".into(),
        });
        assert_eq!(jws.split('.').count(), 3);
        assert_eq!(
            parse_seed("AAAA").unwrap_err(),
            "must decode to 32 bytes, not 3"
        );
    }
}
