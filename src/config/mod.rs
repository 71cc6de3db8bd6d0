//! The config file (SPEC §1) → a complete, validated [`Snapshot`].
//!
//! Loading is all-or-nothing: every key file is read, every key parsed and
//! every hash checked before a snapshot exists, so a verifier swaps in either
//! the whole new config or nothing. Unknown keys anywhere are errors (a typo
//! must never silently weaken a policy), and so are duplicate keys, which
//! JSON parsers otherwise resolve silently. Every error names the file and
//! the path of the offending member.

mod read;

use crate::apikey::{parse_hex32, ApiKeyEntry, ApiKeys};
use crate::basic::{parse_htpasswd, User, Users};
use crate::cache::DEFAULT_ENTRIES;
use crate::jwks::{check_url, Refresh, RemoteSpec, Source};
use crate::jwt::policy::{normalize_typ, Policy, DEFAULT_MAX_TOKEN_BYTES};
use crate::keys::{parse_jwk_set, Alg, Family, KeySet};
use crate::ratelimit::Rate;
use crate::revocation::{Blocklist, Target};
use read::{Obj, Res};
use serde_json::Value;
use std::collections::hash_map::{Entry, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest accepted `max_token_bytes`.
pub const MAX_TOKEN_BYTES_LIMIT: usize = 1 << 20;
/// Default verified-credential cache TTL for Basic.
pub const DEFAULT_BASIC_TTL_S: f64 = 300.0;

/// Why a config was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, when the config came from one.
    pub file: Option<String>,
    /// Where in it: a JSON path (`jwt.jwks.keys[1]`) or `line N column M`.
    pub at: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if self.at.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Cache sizes (the `cache` section, a warden extension of SPEC §1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheConfig {
    /// Verified-token cache slots; 0 disables it.
    pub tokens: usize,
    /// Verified-credential (Basic) cache entries; 0 disables it.
    pub basic_entries: usize,
    pub basic_ttl_s: f64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { tokens: DEFAULT_ENTRIES, basic_entries: 4096, basic_ttl_s: DEFAULT_BASIC_TTL_S }
    }
}

/// One JWT issuer profile: the keys and policy for tokens of its issuers.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub policy: Policy,
    /// Keys from the config itself (inline `jwks` and `jwks_file`).
    pub static_keys: Arc<KeySet>,
    /// What verification uses: the static keys plus the last good remote set.
    pub keys: Arc<KeySet>,
    /// Where remote keys come from, if anywhere.
    pub remote: Option<Arc<RemoteSpec>>,
    pub max_token_bytes: usize,
}

/// The issuer profile of each issuer, when `jwt` is a list: a token's `iss`
/// finds its profile in one hash lookup (a scan of every profile's issuers
/// cost an unauthenticated sender's token time linear in the config).
#[derive(Debug, Default, Clone)]
pub struct IssuerIndex {
    by_issuer: HashMap<Box<[u8]>, usize>,
    longest: usize,
}

impl IssuerIndex {
    pub fn is_empty(&self) -> bool {
        self.by_issuer.is_empty()
    }

    /// Record that `issuer` belongs to profile `i`; `Err(j)` when it is
    /// already another profile's, `j`.
    fn insert(&mut self, issuer: &str, i: usize) -> Result<(), usize> {
        match self.by_issuer.entry(issuer.as_bytes().into()) {
            Entry::Occupied(e) if *e.get() != i => Err(*e.get()),
            Entry::Occupied(_) => Ok(()),
            Entry::Vacant(e) => {
                e.insert(i);
                self.longest = self.longest.max(issuer.len());
                Ok(())
            }
        }
    }

    /// The profile of the decoded string `iss`, if any. Without allocating:
    /// an escaped `iss` is decoded on the stack, and one longer than every
    /// issuer matches none.
    #[inline]
    pub fn find(&self, iss: &crate::json::RawStr<'_>) -> Option<usize> {
        if !iss.escaped {
            return self.by_issuer.get(iss.raw).copied();
        }
        let mut buf = [0u8; 512];
        if self.longest > buf.len() {
            // Issuers this long are the config's doing: scan them.
            return self.by_issuer.iter().find(|(k, _)| iss.eq_bytes(k)).map(|(_, &i)| i);
        }
        let mut n = 0;
        for b in iss.decoded() {
            if n == self.longest {
                return None;
            }
            buf[n] = b;
            n += 1;
        }
        self.by_issuer.get(&buf[..n]).copied()
    }
}

/// Everything one config says, validated and ready to verify with.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// JWT profiles: one when `jwt` is an object, several when it is a list
    /// (then a token is checked only against the profile of its `iss`).
    pub profiles: Vec<Profile>,
    /// With several profiles: which one each issuer belongs to. Built by the
    /// config loader; a snapshot built by hand may leave it empty (its
    /// tokens then find their profile by a scan of every profile).
    pub issuers: IssuerIndex,
    /// Bound on every credential, checked before anything is decoded.
    pub max_token_bytes: usize,
    pub api_keys: Arc<ApiKeys>,
    pub users: Arc<Users>,
    pub revoked: Arc<Blocklist>,
    pub cache: CacheConfig,
    /// Where the config came from (for reload), if a file.
    pub source: Option<PathBuf>,
    /// Unique per published snapshot (set by the verifier when it swaps the
    /// snapshot in): what a verified-token cache entry's full verdict was
    /// computed against.
    pub generation: u64,
}

impl Snapshot {
    /// Load a config file.
    pub fn from_file(path: &Path) -> Result<Snapshot, ConfigError> {
        let file = Some(path.display().to_string());
        let text = read::read_file(path).map_err(|e| ConfigError {
            file: file.clone(),
            at: String::new(),
            message: format!("the config: {e}"),
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut s = Snapshot::from_json(&text, &dir).map_err(|mut e| {
            e.file = file;
            e
        })?;
        // Absolute, so that `reload()` reads the same file after the
        // process changes directory (a daemon's chdir to /).
        s.source = Some(match std::env::current_dir() {
            Ok(cwd) if path.is_relative() => cwd.join(path),
            _ => path.to_path_buf(),
        });
        Ok(s)
    }

    /// Load a config from JSON text; relative file names are resolved
    /// against `base_dir`.
    pub fn from_json(text: &[u8], base_dir: &Path) -> Result<Snapshot, ConfigError> {
        let err = |at: String, message: String| ConfigError { file: None, at, message };
        let v: Value = serde_json::from_slice(text)
            .map_err(|e| err(format!("line {} column {}", e.line(), e.column()), format!("not valid JSON: {e}")))?;
        read::check_members(text).map_err(|(at, m)| err(if at.is_empty() { read::too_deep(&v) } else { at }, m))?;
        build(&v, base_dir).map_err(|(at, message)| err(at, message))
    }

    /// The snapshot with profile `i`'s configured keys replaced (for hosts
    /// that fetch keys themselves); a remote set, if any, stays merged in.
    pub fn with_static_keys(&self, i: usize, keys: KeySet, remote: Option<&KeySet>) -> Result<Snapshot, String> {
        let mut s = self.clone();
        let p = s.profiles.get_mut(i).ok_or("no such JWT profile")?;
        p.keys = Arc::new(match remote {
            Some(r) => match KeySet::merged(&keys, r) {
                // A host's push is told, not quietly shadowing fetched keys.
                (_, shadowed) if !shadowed.is_empty() => {
                    return Err(format!(
                        "also in the fetched key set, with other key material: {}",
                        shadowed.join(", ")
                    ))
                }
                (set, _) => set,
            },
            None => keys.clone(),
        });
        p.static_keys = Arc::new(keys);
        Ok(s)
    }

    /// The snapshot with the fetched set of remote source `id` merged into
    /// every profile that uses it, and the fetched keys a configured key
    /// shadows (see [`KeySet::merged`]).
    pub fn with_remote_keys(&self, id: &str, remote: &KeySet) -> (Snapshot, Vec<String>) {
        let mut s = self.clone();
        let mut all = Vec::new();
        for p in &mut s.profiles {
            if p.remote.as_ref().is_some_and(|r| r.id() == id) {
                let (keys, shadowed) = KeySet::merged(&p.static_keys, remote);
                p.keys = Arc::new(keys);
                for x in shadowed {
                    if !all.contains(&x) {
                        all.push(x);
                    }
                }
            }
        }
        (s, all)
    }

    /// The remote sources of this snapshot's profiles.
    pub fn remotes(&self) -> impl Iterator<Item = &Arc<RemoteSpec>> {
        self.profiles.iter().filter_map(|p| p.remote.as_ref())
    }
}

/// [`read::check_members`] for other JSON that enters a verifier (pushed
/// JWK sets).
pub(crate) fn check_members(doc: &[u8]) -> Result<(), (String, String)> {
    read::check_members(doc)
}

fn build(v: &Value, dir: &Path) -> Res<Snapshot> {
    let top = Obj::new(v, "")?;
    top.only(&["jwt", "api_keys", "basic", "revoked", "cache"])?;
    let mut s = Snapshot { max_token_bytes: DEFAULT_MAX_TOKEN_BYTES, ..Default::default() };
    match top.get("jwt") {
        None => {}
        Some(Value::Array(list)) => {
            if list.is_empty() {
                return Err(("jwt".into(), "a list of issuer profiles must not be empty".into()));
            }
            for (i, p) in list.iter().enumerate() {
                let at = format!("jwt[{i}]");
                let profile = build_jwt(&Obj::new(p, &at)?, dir, true)?;
                for iss in &profile.policy.issuers {
                    if let Err(j) = s.issuers.insert(iss, i) {
                        return Err((format!("{at}.issuer"), format!("issuer {iss:?} is also in jwt[{j}]")));
                    }
                }
                s.profiles.push(profile);
            }
            s.max_token_bytes = s.profiles.iter().map(|p| p.max_token_bytes).max().unwrap_or(DEFAULT_MAX_TOKEN_BYTES);
        }
        Some(_) => {
            let profile = build_jwt(&top.obj("jwt")?.expect("present"), dir, false)?;
            s.max_token_bytes = profile.max_token_bytes;
            s.profiles.push(profile);
        }
    }
    if let Some(a) = top.obj("api_keys")? {
        s.api_keys = Arc::new(build_api_keys(&a)?);
    }
    if let Some(b) = top.obj("basic")? {
        s.users = Arc::new(build_basic(&b, dir)?);
    }
    if let Some(r) = top.obj("revoked")? {
        s.revoked = Arc::new(build_revoked(&r)?);
    }
    if let Some(c) = top.obj("cache")? {
        c.only(&["tokens", "basic_entries", "basic_ttl_s"])?;
        let d = CacheConfig::default();
        s.cache = CacheConfig {
            // Allocated up front (~250 bytes an entry): 2^24 would be 4 GB
            // per verifier.
            tokens: c.uint("tokens", 1 << 20)?.unwrap_or(d.tokens as u64) as usize,
            basic_entries: c.uint("basic_entries", 1 << 24)?.unwrap_or(d.basic_entries as u64) as usize,
            basic_ttl_s: c.num("basic_ttl_s", 0.0, 86400.0)?.unwrap_or(d.basic_ttl_s),
        };
    }
    Ok(s)
}

fn build_jwt(j: &Obj<'_>, dir: &Path, in_list: bool) -> Res<Profile> {
    j.only(&[
        "jwks",
        "jwks_file",
        "jwks_uri",
        "discovery",
        "refresh",
        "allow_insecure_loopback",
        "ca_file",
        "fetched_key_alg",
        "issuer",
        "audience",
        "leeway_s",
        "require",
        "max_lifetime_s",
        "typ",
        "max_token_bytes",
    ])?;
    let mut keys = KeySet::default();
    if let Some(set) = j.get("jwks") {
        keys = parse_jwk_set(set, &j.path("jwks"))?;
    }
    if let Some(file) = j.str("jwks_file")? {
        let at = j.path("jwks_file");
        let path = dir.join(file);
        let text = read::read_file(&path).map_err(|e| (at.clone(), e))?;
        let v: Value = serde_json::from_slice(&text).map_err(|e| {
            (at.clone(), format!("{}: line {} column {}: not valid JSON: {e}", path.display(), e.line(), e.column()))
        })?;
        // As strict as a set given inline: a member given twice (serde_json
        // keeps the last) is refused, not read one way here and another by
        // the next tool.
        read::check_members(&text).map_err(|(place, e)| {
            let place = if place.is_empty() { read::too_deep(&v) } else { place };
            (format!("{at} ({}: {place})", path.display()), e)
        })?;
        let from_file =
            parse_jwk_set(&v, &path.display().to_string()).map_err(|(place, e)| (format!("{at} ({place})"), e))?;
        keys = keys.union(from_file).map_err(|e| (at, e))?;
    }
    // An empty name is a typo or a template left unfilled, never a policy:
    // every ordinary token would fail it (bad_issuer, missing_claim...).
    let no_empty_string = |name: &str, v: Vec<String>| match v.iter().position(|x| x.is_empty()) {
        Some(i) => Err((format!("{}[{i}]", j.path(name)), "an empty string names nothing".to_string())),
        None => Ok(v),
    };
    // An empty list is refused, not read as "no check" (the policy treats
    // no issuers as unset): `[]` would have let every issuer (audience) in,
    // and a typo must never silently weaken a policy (SPEC §1).
    let one_or_more = |name: &str| match j.strings_or_string(name)? {
        Some(v) if v.is_empty() => {
            Err((j.path(name), format!("an empty list matches no token; leave `{name}` out to accept any {name}")))
        }
        v => no_empty_string(name, v.unwrap_or_default()),
    };
    let mut p = Policy {
        issuers: one_or_more("issuer")?,
        audiences: one_or_more("audience")?,
        leeway_s: j.num("leeway_s", 0.0, 86400.0 * 365.0)?.unwrap_or(0.0),
        max_lifetime_s: j.num("max_lifetime_s", 0.0, f64::MAX)?,
        typ: j.str("typ")?.map(normalize_typ),
        ..Policy::default()
    };
    if let Some(r) = j.strings_or_string("require")? {
        p.require = no_empty_string("require", r)?;
    }
    if p.typ.as_deref() == Some("") {
        return Err((j.path("typ"), "an empty media type names nothing".into()));
    }
    if in_list && p.issuers.is_empty() {
        return Err((j.path("issuer"), "each profile in a list needs its issuer (tokens are routed by iss)".into()));
    }
    let mut max_token_bytes = DEFAULT_MAX_TOKEN_BYTES;
    if let Some(n) = j.uint("max_token_bytes", MAX_TOKEN_BYTES_LIMIT as u64)? {
        if n == 0 {
            return Err((j.path("max_token_bytes"), "must be at least 1".into()));
        }
        max_token_bytes = n as usize;
    }
    let remote = build_remote(j, dir, &p)?;
    let keys = Arc::new(keys);
    Ok(Profile { policy: p, static_keys: keys.clone(), keys, remote, max_token_bytes })
}

fn build_remote(j: &Obj<'_>, dir: &Path, p: &Policy) -> Res<Option<Arc<RemoteSpec>>> {
    let insecure = match j.get("allow_insecure_loopback") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err((j.path("allow_insecure_loopback"), "must be true or false".into())),
    };
    let discovery = match j.get("discovery") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err((j.path("discovery"), "must be true or false".into())),
    };
    let source = match (j.str("jwks_uri")?, discovery) {
        (Some(_), true) => return Err((j.path("discovery"), "give jwks_uri or discovery, not both".into())),
        (Some(u), false) => {
            check_url(u, insecure).map_err(|e| (j.path("jwks_uri"), e))?;
            Source::JwksUri(u.to_string())
        }
        (None, true) => {
            let [issuer] = p.issuers.as_slice() else {
                return Err((j.path("discovery"), "discovery needs exactly one issuer".into()));
            };
            check_url(issuer, insecure).map_err(|e| (j.path("issuer"), e))?;
            if issuer.contains(['?', '#']) {
                let m = "an issuer for discovery has no query or fragment (OpenID Connect Discovery §3)";
                return Err((j.path("issuer"), m.into()));
            }
            Source::Discovery { issuer: issuer.clone() }
        }
        (None, false) => {
            for k in ["refresh", "ca_file", "allow_insecure_loopback", "fetched_key_alg"] {
                if j.get(k).is_some() {
                    return Err((j.path(k), "only meaningful with jwks_uri or discovery".into()));
                }
            }
            return Ok(None);
        }
    };
    let mut refresh = Refresh::default();
    if let Some(r) = j.obj("refresh")? {
        r.only(&["min_s", "max_s", "timeout_s"])?;
        refresh.min_s = r.num("min_s", 0.01, 86400.0 * 30.0)?.unwrap_or(refresh.min_s);
        refresh.max_s = r.num("max_s", 0.01, 86400.0 * 30.0)?.unwrap_or(refresh.max_s.max(refresh.min_s));
        refresh.timeout_s = r.num("timeout_s", 0.01, 600.0)?.unwrap_or(refresh.timeout_s);
        if refresh.max_s < refresh.min_s {
            return Err((r.path("max_s"), "must not be below min_s".into()));
        }
    }
    let ca_pem = match j.str("ca_file")? {
        None => None,
        Some(f) => {
            let path = dir.join(f);
            let pem = read::read_file(&path).map_err(|e| (j.path("ca_file"), e))?;
            crate::jwks::check_ca_pem(&pem).map_err(|e| (j.path("ca_file"), format!("{}: {e}", path.display())))?;
            Some(pem)
        }
    };
    // RFC 7517 §4.4 makes a JWK's `alg` optional, and some providers
    // (Microsoft Entra ID) leave it out. RFC 8725 §3.1 still wants every key
    // used with one algorithm: the operator names it, for this source only.
    let fetched_key_alg = match j.str("fetched_key_alg")? {
        None => None,
        Some(name) => match Alg::from_name(name.as_bytes()) {
            Some(a) if a.family() != Family::Hmac => Some(a),
            Some(_) => {
                let m = "a provider publishes public keys: an HMAC secret is never fetched";
                return Err((j.path("fetched_key_alg"), m.into()));
            }
            None => {
                let names: Vec<&str> =
                    Alg::ALL.iter().filter(|a| a.family() != Family::Hmac).map(|a| a.name()).collect();
                return Err((
                    j.path("fetched_key_alg"),
                    format!("unsupported alg {name:?} (one of {})", names.join(" ")),
                ));
            }
        },
    };
    if cfg!(not(feature = "remote-jwks")) {
        return Err((
            j.path("jwks_uri"),
            "this build of warden has no remote JWKS support (feature remote-jwks)".into(),
        ));
    }
    let mut spec = RemoteSpec::new(source, refresh, insecure, ca_pem);
    spec.fetched_key_alg = fetched_key_alg;
    Ok(Some(Arc::new(spec)))
}

fn build_api_keys(a: &Obj<'_>) -> Res<ApiKeys> {
    a.only(&["keys", "prefixes"])?;
    let prefixes = a.strings("prefixes")?.unwrap_or_default();
    for (i, p) in prefixes.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err((format!("{}[{i}]", a.path("prefixes")), "a prefix is ASCII letters, digits and '_'".into()));
        }
    }
    let mut entries = Vec::new();
    for (i, k) in a.array("keys")?.map(|v| v.as_slice()).unwrap_or_default().iter().enumerate() {
        let at = format!("{}[{i}]", a.path("keys"));
        let o = Obj::new(k, &at)?;
        o.only(&["id", "sha256", "owner", "scopes", "not_before", "not_after", "rate"])?;
        let id = o.str("id")?.ok_or_else(|| (o.path("id"), "required".into()))?;
        let sha = o.str("sha256")?.ok_or_else(|| (o.path("sha256"), "required".into()))?;
        let digest = parse_hex32(sha)
            .ok_or_else(|| (o.path("sha256"), "must be 64 lowercase hex digits (SHA-256 of the whole key)".into()))?;
        let rate = match o.obj("rate")? {
            None => None,
            Some(r) => {
                r.only(&["per_s", "burst"])?;
                let per_s = r.num("per_s", 0.0, 1e9)?.ok_or_else(|| (r.path("per_s"), "required".into()))?;
                if per_s < crate::ratelimit::MIN_PER_S {
                    return Err((r.path("per_s"), "must be at least 1e-9 (one in about 32 years)".into()));
                }
                let burst = r.uint("burst", u32::MAX as u64)?.ok_or_else(|| (r.path("burst"), "required".into()))?;
                if burst == 0 {
                    return Err((r.path("burst"), "must be at least 1".into()));
                }
                Some(Rate { per_s, burst: burst as u32 })
            }
        };
        let not_before = o.num("not_before", f64::MIN, f64::MAX)?.unwrap_or(f64::NEG_INFINITY);
        let not_after = o.num("not_after", f64::MIN, f64::MAX)?.unwrap_or(f64::INFINITY);
        if not_after <= not_before {
            return Err((at, "not_after must be after not_before".into()));
        }
        entries.push(ApiKeyEntry {
            id: id.into(),
            digest,
            owner: o.str("owner")?.unwrap_or(id).into(),
            scopes: o.strings("scopes")?.unwrap_or_default().into_iter().map(Into::into).collect(),
            not_before,
            not_after,
            rate,
        });
    }
    if !entries.is_empty() && prefixes.is_empty() {
        return Err((a.path("prefixes"), "required when keys are configured (keys are matched by prefix)".into()));
    }
    ApiKeys::new(prefixes, entries).map_err(|e| (a.path("keys"), e))
}

fn build_basic(b: &Obj<'_>, dir: &Path) -> Res<Users> {
    b.only(&["users", "htpasswd_file", "max_failures_per_min"])?;
    let mut users = Vec::new();
    for (i, u) in b.array("users")?.map(|v| v.as_slice()).unwrap_or_default().iter().enumerate() {
        let at = format!("{}[{i}]", b.path("users"));
        let o = Obj::new(u, &at)?;
        o.only(&["user", "hash"])?;
        let name = o.str("user")?.ok_or_else(|| (o.path("user"), "required".into()))?;
        if name.is_empty() || name.contains(':') || name.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err((
                o.path("user"),
                "a user name is non-empty, with no ':' and no control characters (RFC 7617)".into(),
            ));
        }
        let hash = o.str("hash")?.ok_or_else(|| (o.path("hash"), "required".into()))?;
        let user = User::new(name, hash).map_err(|e| (o.path("hash"), e))?;
        users.push((at, user));
    }
    if let Some(file) = b.str("htpasswd_file")? {
        let path = dir.join(file);
        let at = b.path("htpasswd_file");
        let text = read::read_file(&path).map_err(|e| (at.clone(), e))?;
        let text = String::from_utf8(text).map_err(|_| (at.clone(), format!("{}: not UTF-8", path.display())))?;
        users.extend(parse_htpasswd(&text, &path.display().to_string()).map_err(|e| (at, e))?);
    }
    let max = b.uint("max_failures_per_min", u64::from(crate::ratelimit::MAX_FAILURES))?;
    if max == Some(0) {
        return Err((b.path("max_failures_per_min"), "must be at least 1".into()));
    }
    Users::new(users, max.map(|m| m as u32)).map_err(|e| (b.path("users"), e))
}

fn build_revoked(r: &Obj<'_>) -> Res<Blocklist> {
    r.only(&["jti", "sub_before", "api_key_ids"])?;
    let mut b = Blocklist::default();
    for j in r.strings("jti")?.unwrap_or_default() {
        b.add(Target::Jti { jti: j, until: None });
    }
    if let Some(sb) = r.obj("sub_before")? {
        for (sub, t) in sb.members() {
            let before = t.as_f64().ok_or_else(|| (sb.path(sub), "must be a NumericDate (number)".into()))?;
            b.add(Target::SubjectBefore { sub: sub.clone(), before });
        }
    }
    for id in r.strings("api_key_ids")?.unwrap_or_default() {
        b.add(Target::ApiKeyId(id));
    }
    Ok(b)
}
