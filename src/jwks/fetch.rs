//! The HTTP side of remote JWKS: ureq over rustls (ring), bounded in time
//! and size, https only unless loopback was explicitly allowed.

use super::{check_url, max_age, Fetched, RemoteSpec, Source, MAX_DOCUMENT_BYTES};
use crate::keys::parse_fetched_jwk_set;
use std::time::Duration;

/// The certificates of a `ca_file` (at least one), each one rustls can
/// take as a trust anchor: a block that is not a certificate (garbled
/// base64, a truncated paste) is refused here, at load, rather than making
/// every fetch fail later.
pub fn ca_roots(pem: &[u8]) -> Result<Vec<ureq::tls::Certificate<'static>>, String> {
    let mut roots = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        if let ureq::tls::PemItem::Certificate(c) = item.map_err(|e| format!("ca_file: {e}"))? {
            let der = rustls_pki_types::CertificateDer::from(c.der());
            if let Err(e) = webpki::anchor_from_trusted_cert(&der) {
                return Err(format!(
                    "ca_file: certificate {} is not one a TLS client can trust: {e:?}",
                    roots.len() + 1
                ));
            }
            roots.push(c);
        }
    }
    if roots.is_empty() {
        return Err("ca_file holds no PEM certificate".into());
    }
    Ok(roots)
}

fn agent(spec: &RemoteSpec) -> Result<ureq::Agent, String> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(pem) = &spec.ca_pem {
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&ca_roots(pem)?));
    }
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs_f64(spec.refresh.timeout_s)))
        .https_only(!spec.allow_insecure_loopback)
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls.build())
        .build();
    Ok(config.into())
}

/// GET `url`: (body, Cache-Control).
fn get(agent: &ureq::Agent, url: &str) -> Result<(Vec<u8>, Option<String>), String> {
    let mut resp = agent.get(url).header("Accept", "application/json").call().map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(format!("GET {url}: HTTP status {status}"));
    }
    let cc = resp.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_DOCUMENT_BYTES)
        .read_to_vec()
        .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
    Ok((body, cc))
}

fn json(url: &str, body: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice(body).map_err(|e| format!("{url}: not valid JSON: {e}"))
}

/// Fetch the key set of `spec`: `(keys, max-age)`.
pub fn fetch(spec: &RemoteSpec) -> Result<Fetched, String> {
    let agent = agent(spec)?;
    let jwks_uri = match &spec.source {
        Source::JwksUri(u) => u.clone(),
        Source::Discovery { issuer } => {
            let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
            check_url(&url, spec.allow_insecure_loopback)?;
            let (body, _) = get(&agent, &url)?;
            let doc = json(&url, &body)?;
            // OIDC Discovery §4.3 / RFC 8414 §3.3: the document's issuer must
            // be exactly the one we asked about.
            match doc.get("issuer").and_then(|v| v.as_str()) {
                Some(i) if i == issuer => {}
                other => return Err(format!("{url}: issuer is {other:?}, expected {issuer:?}")),
            }
            let u =
                doc.get("jwks_uri").and_then(|v| v.as_str()).ok_or_else(|| format!("{url}: no jwks_uri"))?.to_string();
            check_url(&u, spec.allow_insecure_loopback).map_err(|e| format!("{url}: jwks_uri {e}"))?;
            u
        }
    };
    let (body, cc) = get(&agent, &jwks_uri)?;
    let doc = json(&jwks_uri, &body)?;
    let (keys, skipped) =
        parse_fetched_jwk_set(&doc, &jwks_uri, spec.fetched_key_alg).map_err(|(at, e)| format!("{at}: {e}"))?;
    Ok(Fetched { keys, max_age: cc.as_deref().and_then(max_age), skipped })
}
