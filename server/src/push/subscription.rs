//! A device's Web Push subscription as the relay takes it: checked once, when it is
//! registered, and stored as checked.
//!
//! The relay sends HTTP requests to whatever endpoint a member registers, so the
//! endpoint is a server-side request on the operator's network. By default only
//! `https` endpoints on globally routable addresses are taken (and
//! [`sender`](super::sender) resolves names through the same address check, so a
//! name pointing at a private address is refused when sending, too); the operator
//! allows `http` and private or loopback addresses with `--push-allow-http` and
//! `--push-allow-private` (tests, a gateway on the operator's own network).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use kring_trust::protocol::PushSubscription;
use kring_trust::{Error, Result};
use reqwest::Url;

/// Longest endpoint taken. Real ones are 50 (UnifiedPush) to ~400 (browser push
/// services) characters.
pub const MAX_ENDPOINT_LEN: usize = 1024;
/// An uncompressed P-256 point (RFC 8291 §3.1: `p256dh`).
pub const P256DH_LEN: usize = 65;
/// The authentication secret (RFC 8291 §3.2: 16 bytes).
pub const AUTH_LEN: usize = 16;

/// Which endpoints the operator lets the relay send to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// `http://` endpoints (default: `https://` only).
    pub allow_http: bool,
    /// Loopback, private, link-local and other non-public addresses.
    pub allow_private: bool,
}

/// A checked subscription: an allowed endpoint, a point on P-256 and a 16-byte secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
}

impl Subscription {
    /// Checks what a device sent; the error says which part is wrong.
    pub fn parse(body: &PushSubscription, policy: EndpointPolicy) -> Result<Self> {
        let endpoint = check_endpoint(&body.endpoint, policy)?;
        let p256dh = decode("p256dh", &body.p256dh, P256DH_LEN)?;
        web_push_native::p256::PublicKey::from_sec1_bytes(&p256dh).map_err(|_| {
            invalid("p256dh is not an uncompressed point on P-256 (65 bytes, base64url)")
        })?;
        let auth = decode("auth", &body.auth, AUTH_LEN)?;
        Ok(Subscription {
            endpoint: endpoint.into(),
            p256dh,
            auth,
        })
    }
}

fn invalid(why: impl Into<String>) -> Error {
    Error::InvalidPushSubscription(why.into())
}

/// base64url, padded or not, of exactly `len` bytes.
fn decode(field: &str, value: &str, len: usize) -> Result<Vec<u8>> {
    let trimmed = value.trim().trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD
        .decode(trimmed)
        .map_err(|_| invalid(format!("{field} is not base64url")))?;
    if bytes.len() != len {
        return Err(invalid(format!(
            "{field} must be {len} bytes, got {}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// The endpoint as a URL if `policy` allows sending to it. Host names are checked
/// again when they are resolved (see the module documentation).
pub fn check_endpoint(endpoint: &str, policy: EndpointPolicy) -> Result<Url> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(invalid(format!(
            "the endpoint is longer than {MAX_ENDPOINT_LEN} bytes"
        )));
    }
    let url = Url::parse(endpoint.trim())
        .map_err(|e| invalid(format!("the endpoint is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => {
            return Err(invalid(
                "the endpoint must be https (this relay refuses http)",
            ))
        }
        other => {
            return Err(invalid(format!(
                "the endpoint's scheme {other:?} is not https"
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the endpoint must not carry a user name or password",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("the endpoint must not have a fragment"));
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("the endpoint has no host"))?;
    if !policy.allow_private {
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let private = match literal.parse::<IpAddr>() {
            Ok(ip) => !is_public(ip),
            Err(_) => {
                let name = host.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
        };
        if private {
            return Err(invalid(
                "the endpoint is on a private or loopback address (this relay sends only to public ones)",
            ));
        }
    }
    Ok(url)
}

/// Whether `ip` is a globally routable unicast address: not loopback, private,
/// link-local, shared (CGNAT), documentation, benchmarking, multicast, reserved or
/// unspecified (std's `is_global` is not stable yet).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0 && c == 0))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || first == 0x0100)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real key pair's public half, as a browser would send it.
    fn p256dh() -> String {
        let secret = web_push_native::p256::SecretKey::random(&mut rand_core_rng());
        let point = secret.public_key().to_sec1_bytes();
        URL_SAFE_NO_PAD.encode(point)
    }

    fn rand_core_rng() -> impl web_push_native::p256::elliptic_curve::rand_core::CryptoRngCore {
        web_push_native::p256::elliptic_curve::rand_core::OsRng
    }

    fn body(endpoint: &str, p256dh: &str, auth: &str) -> PushSubscription {
        PushSubscription {
            endpoint: endpoint.into(),
            p256dh: p256dh.into(),
            auth: auth.into(),
        }
    }

    const AUTH: &str = "AAECAwQFBgcICQoLDA0ODw";
    const STRICT: EndpointPolicy = EndpointPolicy {
        allow_http: false,
        allow_private: false,
    };

    #[test]
    fn a_browser_subscription_is_taken() {
        let key = p256dh();
        let sub = Subscription::parse(
            &body("https://push.example.net/wpush/v2/abc", &key, AUTH),
            STRICT,
        )
        .expect("valid");
        assert_eq!(sub.p256dh.len(), P256DH_LEN);
        assert_eq!(sub.auth.len(), AUTH_LEN);
        // Padding is tolerated (some platforms send it).
        Subscription::parse(
            &body(
                "https://push.example.net/x",
                &format!("{key}="),
                &format!("{AUTH}=="),
            ),
            STRICT,
        )
        .expect("padded");
    }

    #[test]
    fn bad_endpoints_are_refused_with_the_reason() {
        let key = p256dh();
        for (endpoint, why) in [
            ("http://push.example.net/x", "https"),
            ("ftp://push.example.net/x", "scheme"),
            ("not a url", "not a URL"),
            ("https://user:pw@push.example.net/x", "user name"),
            ("https://push.example.net/x#frag", "fragment"),
            ("https://127.0.0.1/x", "private"),
            ("https://[::1]:8443/x", "private"),
            ("https://10.1.2.3/x", "private"),
            ("https://169.254.169.254/latest", "private"),
            ("https://[::ffff:192.168.0.1]/x", "private"),
            ("https://localhost/x", "private"),
        ] {
            let err = Subscription::parse(&body(endpoint, &key, AUTH), STRICT).expect_err(endpoint);
            assert!(
                matches!(&err, Error::InvalidPushSubscription(m) if m.contains(why)),
                "{endpoint}: {err}"
            );
        }
        let long = format!("https://push.example.net/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert!(Subscription::parse(&body(&long, &key, AUTH), STRICT).is_err());
    }

    #[test]
    fn the_operator_may_allow_http_and_loopback() {
        let open = EndpointPolicy {
            allow_http: true,
            allow_private: true,
        };
        Subscription::parse(&body("http://127.0.0.1:9/p/1", &p256dh(), AUTH), open)
            .expect("loopback test receiver");
    }

    #[test]
    fn keys_of_the_wrong_size_or_off_the_curve_are_refused() {
        let endpoint = "https://push.example.net/x";
        let short = URL_SAFE_NO_PAD.encode([4u8; 33]);
        let off_curve = URL_SAFE_NO_PAD.encode([4u8; 65]);
        for (p256dh, auth, why) in [
            (short.as_str(), AUTH, "p256dh must be 65 bytes"),
            (off_curve.as_str(), AUTH, "not an uncompressed point"),
            ("!!!", AUTH, "p256dh is not base64url"),
            (&p256dh(), "AAEC", "auth must be 16 bytes"),
        ] {
            let err = Subscription::parse(&body(endpoint, p256dh, auth), STRICT).expect_err(why);
            assert!(err.to_string().contains(why), "{err}");
        }
    }

    #[test]
    fn only_global_addresses_are_public() {
        for ip in ["8.8.8.8", "2a00:1450:4001::1", "1.1.1.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "198.18.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
