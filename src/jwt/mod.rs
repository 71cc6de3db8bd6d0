//! JWT verification (RFC 7515 compact JWS, RFC 7519 claims), in SPEC §3
//! order: size, parsing, algorithm, key, `typ`, `crit`, signature, claims,
//! revocation. Claim values are looked at only after the signature verifies.

pub mod policy;
pub mod token;

use crate::cache::{Accepted, Summary, TokenCache};
use crate::config::{Profile, Snapshot};
use crate::keys::{Alg, Key, Selection};
use crate::revocation::Blocklist;
use crate::runtime::{Runtime, View};
use crate::scratch::{Buffers, Span};
use crate::stats::{Counter, Tally};
use crate::verdict::{Code, Kind};
use crate::verified::Verified;
use token::Parsed;

/// Decode the header's `alg` (a JSON string) and find it among the supported
/// algorithms. `none`, in any spelling, is simply not among them.
#[inline]
fn header_alg(p: &Parsed<'_, '_>) -> Option<Alg> {
    let raw = p.header.alg?;
    if !raw.escaped {
        return Alg::from_name(raw.raw);
    }
    let mut buf = [0u8; 8];
    let mut n = 0;
    for b in raw.decoded() {
        *buf.get_mut(n)? = b;
        n += 1;
    }
    Alg::from_name(&buf[..n])
}

/// Verify a compact JWS `token` against `view` at `now`.
pub(crate) fn verify<'s>(
    view: &View,
    rt: &Runtime,
    tally: &Tally,
    token: &[u8],
    now: f64,
    scratch: &'s mut Buffers,
) -> Result<Verified<'s>, Code> {
    let snap = &*view.snap;
    if token.len() > snap.max_token_bytes {
        return Err(Code::TooLarge);
    }
    scratch.clear();
    scratch.reserve(token.len());
    let cache = &view.caches.tokens;
    if let Some(sum) = cache.get_accepted(token, snap.generation, scratch) {
        tally.bump(Counter::TokenCacheHit);
        return from_summary(snap, &view.revoked, sum, now, scratch);
    }
    cold(view, rt, tally, token, now, scratch)
}

/// A repeated token accepted under this very snapshot: everything but the
/// time claims and run-time revocations was settled then.
fn from_summary<'s>(
    snap: &Snapshot,
    run_time: &Blocklist,
    sum: Summary,
    now: f64,
    scratch: &'s mut Buffers,
) -> Result<Verified<'s>, Code> {
    let profile = snap.profiles.get(sum.profile as usize).ok_or(Code::UnsupportedAlg)?;
    profile.policy.check_time(sum.exp, sum.nbf, sum.iat, now)?;
    let out = &scratch.out[..];
    if revoked(snap, run_time, out, sum.jti, sum.subject, sum.iat) {
        return Err(Code::Revoked);
    }
    Ok(Verified {
        kind: Kind::Jwt,
        out,
        payload: &scratch.dec[..],
        subject: sum.subject,
        kid: sum.kid,
        key_id: None,
        scopes: &scratch.scopes[..],
        exp: sum.exp,
        exp_text: sum.exp_text,
    })
}

/// Is a token with this jti, subject (spans of `out`) and iat revoked, by
/// the config or at run time?
#[inline]
fn revoked(
    snap: &Snapshot,
    run_time: &Blocklist,
    out: &[u8],
    jti: Option<Span>,
    sub: Option<Span>,
    iat: Option<f64>,
) -> bool {
    [&*snap.revoked, run_time].iter().any(|b| {
        (b.has_jtis() && jti.is_some_and(|j| b.jti_revoked(j.get(out))))
            || (b.has_subjects() && sub.is_some_and(|s| b.subject_revoked(s.get(out), iat)))
    })
}

fn cold<'s>(
    view: &View,
    rt: &Runtime,
    tally: &Tally,
    token: &[u8],
    now: f64,
    scratch: &'s mut Buffers,
) -> Result<Verified<'s>, Code> {
    let (snap, run_time, cache) = (&*view.snap, &view.revoked, &view.caches.tokens);
    let Buffers { dec, out, scopes, names, header } = scratch;
    let mut p = Parsed::default();
    token::parse_into(token, dec, names, header, &mut p).map_err(|_| Code::Malformed)?;

    // An alg no key can have (missing, `none`, unknown) is unsupported_alg
    // whatever the issuer: SPEC §3 puts it before the claim checks, which
    // with several profiles start here (the issuer picks the keys).
    let alg = header_alg(&p).ok_or(Code::UnsupportedAlg)?;
    // Likewise an alg no profile has a key for, before the issuer picks
    // one (with one profile its key selection says so).
    if snap.profiles.len() > 1 && !snap.profiles.iter().any(|pr| pr.keys.pins(alg)) {
        return Err(Code::UnsupportedAlg);
    }
    let (profile_index, profile) = select_profile(snap, &p)?;
    if token.len() > profile.max_token_bytes {
        return Err(Code::TooLarge);
    }
    // The kid is looked up decoded: as written when it has no escapes, else
    // decoded into `out`, where the result's copy of it goes anyway.
    let escaped_kid = match p.header.kid {
        Some(k) if k.escaped => Some(Span::push_json(out, &k)),
        _ => None,
    };
    let kid = escaped_kid.map(|s| s.get(out)).or(p.header.kid.map(|k| k.raw));
    let candidates = match profile.keys.select(alg, kid) {
        Selection::Keys(c) => c,
        miss => {
            // A kid (or alg) the provider may have started using since the
            // last fetch: ask the refresher, answer now (never wait on I/O).
            if let Some(remote) = &profile.remote {
                remote.want();
                rt.wake_refresher();
            }
            return Err(if matches!(miss, Selection::UnsupportedAlg) {
                Code::UnsupportedAlg
            } else {
                Code::UnknownKey
            });
        }
    };
    if let Some(want) = &profile.policy.typ {
        match p.header.typ {
            Some(t) if policy::typ_matches(&t, want) => {}
            _ => return Err(Code::BadType),
        }
    }
    if p.header.crit {
        return Err(Code::CritUnsupported);
    }

    let cache = if cache.enabled() { Some(cache) } else { None };
    let key = verify_signature(tally, cache, candidates, token, &p).ok_or(Code::BadSignature)?;
    // From here on the signature is good: remember that (and, if accepted,
    // the whole verdict) for the next time this exact token comes.
    let remember = |accepted: Option<Accepted<'_>>| {
        if let Some(c) = cache {
            c.put(token, key.fingerprint(), accepted);
        }
    };

    if let Err(code) = profile.policy.check(&p, now) {
        remember(None);
        return Err(code);
    }

    // Revocation, after everything else has passed (SPEC §3).
    let c = &p.claims;
    let subject = c.sub.map(|s| Span::push_json(out, &s));
    let jti = c.jti.map(|j| Span::push_json(out, &j));
    let iat = c.iat.map(|d| d.value);
    if revoked(snap, run_time, out, jti, subject, iat) {
        remember(None);
        return Err(Code::Revoked);
    }

    // The result: strings the host asked for, unescaped into `out`.
    let kid = match (escaped_kid, p.header.kid) {
        (Some(s), _) => Some(s),
        (None, Some(k)) => Some(Span::push(out, k.raw)),
        (None, None) => key.kid().map(|k| Span::push(out, k.as_bytes())),
    };
    // `scope` first (RFC 8693 §4.2); else `scp`, a string split the same
    // way or an array of strings.
    if let Some(scope) = c.scope.or(c.scp_text) {
        // Split on spaces, empty parts dropped, eight bytes at a time.
        let whole = Span::push_json(out, &scope);
        let (mut rest, mut start) = (whole.get(out), whole.start);
        loop {
            let n = token::find_byte(rest, b' ').unwrap_or(rest.len());
            if n > 0 {
                scopes.push(Span { start, len: n as u32 });
            }
            if n == rest.len() {
                break;
            }
            (rest, start) = (&rest[n + 1..], start + n as u32 + 1);
        }
    } else if let Some(raw) = c.scp {
        for item in crate::json::array_items(raw) {
            if let crate::json::Value::Str(s) = item {
                scopes.push(Span::push_json(out, &s));
            }
        }
    }
    let exp_text = c.exp.map(|d| Span::push(out, d.text));
    let exp = c.exp.map(|d| d.value);
    let summary = Summary {
        generation: snap.generation,
        profile: profile_index as u32,
        exp,
        nbf: c.nbf.map(|d| d.value),
        iat,
        subject,
        jti,
        kid,
        exp_text,
    };
    remember(Some((summary, &out[..], &scopes[..], p.payload)));
    Ok(Verified {
        kind: Kind::Jwt,
        out: &out[..],
        payload: p.payload,
        subject,
        kid,
        key_id: None,
        scopes: &scopes[..],
        exp,
        exp_text,
    })
}

/// The issuer profile a token is checked against. With one profile (`jwt`
/// an object, as SPEC §1 has it) that is the profile, and `iss` is a policy
/// matter checked after the signature. With several, the token's `iss`
/// selects the profile whose keys may verify it — a token is never checked
/// with another issuer's keys — and an `iss` no profile has is `bad_issuer`
/// (there is no key to check its signature with).
#[inline]
fn select_profile<'a>(snap: &'a Snapshot, p: &Parsed<'_, '_>) -> Result<(usize, &'a Profile), Code> {
    match snap.profiles.as_slice() {
        [] => Err(Code::UnsupportedAlg),
        [one] => Ok((0, one)),
        many => {
            let iss = p.claims.iss.ok_or(Code::BadIssuer)?;
            let lists = |pr: &Profile| pr.policy.issuers.iter().any(|x| iss.eq_bytes(x.as_bytes()));
            match snap.issuers.find(&iss) {
                // The index's answer, confirmed: the profile lists the issuer.
                Some(i) if many.get(i).is_some_and(lists) => Ok((i, &many[i])),
                // Known to the index as no one's.
                None if !snap.issuers.is_empty() => Err(Code::BadIssuer),
                // A snapshot built by hand (no index) or changed since it was
                // indexed: find the profile the slow way.
                _ => many.iter().enumerate().find(|(_, pr)| lists(pr)).ok_or(Code::BadIssuer),
            }
        }
    }
}

/// Find the candidate key whose signature verifies, consulting the
/// verified-token cache when it is on.
#[inline]
fn verify_signature<'k>(
    tally: &Tally,
    cache: Option<&TokenCache>,
    candidates: crate::keys::Candidates<'k>,
    token: &[u8],
    p: &Parsed<'_, '_>,
) -> Option<&'k Key> {
    if let Some(cache) = cache {
        if let Some(fp) = cache.get(token) {
            // The entry counts only while the key that verified this exact
            // token is still a candidate for it.
            if let Some((_, k)) = candidates.clone().find(|(_, k)| k.fingerprint() == &fp) {
                tally.bump(Counter::TokenCacheHit);
                return Some(k);
            }
        }
        tally.bump(Counter::TokenCacheMiss);
    }
    candidates.map(|(_, k)| k).find(|k| k.verify(p.signing_input, p.signature))
}
