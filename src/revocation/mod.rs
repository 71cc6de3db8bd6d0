//! The revocation blocklist: by `jti`, by subject-issued-before-time, and by
//! API key id (SPEC §1 `revoked`, §5).
//!
//! A [`Blocklist`] is immutable. The config's list lives in the snapshot; the
//! run-time list lives behind an `ArcSwap` in the verifier, and revoking
//! builds a new list and swaps it in, so verifiers read without a lock and a
//! revoke is visible to every verification that starts after it returns.

use std::collections::{HashMap, HashSet};

/// What a revocation names.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A token id. `until`: the token's `exp`; once `now` is past it (and
    /// past the config's largest `leeway_s`) the entry is dropped (the token
    /// would be rejected as expired anyway), so the list cannot grow
    /// forever. `None` keeps the entry until unrevoked.
    Jti { jti: String, until: Option<f64> },
    /// Every token for `sub` issued at or before `before` (and every token
    /// for `sub` without `iat`).
    SubjectBefore { sub: String, before: f64 },
    /// An API key, by its configured `id`.
    ApiKeyId(String),
}

/// An immutable set of revocations.
///
/// Names are kept as bytes: a verification looks them up with the bytes it
/// decoded (UTF-8 already, the whole document was checked), and a lookup by
/// `&str` would check them again on every request (~100 instructions for a
/// 30-byte jti, a fifth of a token-cache hit).
#[derive(Clone, Debug, Default)]
pub struct Blocklist {
    jti: HashMap<Box<[u8]>, Option<f64>>,
    sub_before: HashMap<Box<[u8]>, f64>,
    api_key_ids: HashSet<Box<[u8]>>,
}

impl Blocklist {
    pub fn is_empty(&self) -> bool {
        self.jti.is_empty() && self.sub_before.is_empty() && self.api_key_ids.is_empty()
    }

    pub fn len(&self) -> usize {
        self.jti.len() + self.sub_before.len() + self.api_key_ids.len()
    }

    /// Does the list hold any `jti`, or any subject cut-off? (Callers skip
    /// building the strings to look up when it does not.)
    #[inline]
    pub fn has_jtis(&self) -> bool {
        !self.jti.is_empty()
    }

    #[inline]
    pub fn has_subjects(&self) -> bool {
        !self.sub_before.is_empty()
    }

    #[inline]
    pub fn jti_revoked(&self, jti: impl AsRef<[u8]>) -> bool {
        !self.jti.is_empty() && self.jti.contains_key(jti.as_ref())
    }

    /// SPEC §5: revoked unless `iat` is present and after the cut-off.
    #[inline]
    pub fn subject_revoked(&self, sub: impl AsRef<[u8]>, iat: Option<f64>) -> bool {
        if self.sub_before.is_empty() {
            return false;
        }
        match self.sub_before.get(sub.as_ref()) {
            None => false,
            Some(&t) => !matches!(iat, Some(i) if i > t),
        }
    }

    #[inline]
    pub fn api_key_revoked(&self, id: impl AsRef<[u8]>) -> bool {
        !self.api_key_ids.is_empty() && self.api_key_ids.contains(id.as_ref())
    }

    /// A copy with `t` added (see [`Blocklist::add`]), and with jti entries
    /// whose `until` is not after `expired_by` dropped.
    pub fn with(&self, t: Target, expired_by: f64) -> Blocklist {
        let mut b = self.clone();
        b.prune(expired_by);
        b.add(t);
        b
    }

    /// Add `t` in place: a later cut-off for a subject replaces an earlier
    /// one, and revoking never shortens what is already revoked. (Building
    /// the config's list this way, not by [`Blocklist::with`], keeps a list
    /// of n entries O(n) to load instead of O(n²) copies.)
    pub(crate) fn add(&mut self, t: Target) {
        match t {
            Target::Jti { jti, until } => {
                let e = self.jti.entry(name(jti)).or_insert(until);
                *e = match (*e, until) {
                    (Some(a), Some(u)) => Some(a.max(u)),
                    _ => None,
                };
            }
            Target::SubjectBefore { sub, before } => {
                let e = self.sub_before.entry(name(sub)).or_insert(before);
                *e = e.max(before);
            }
            Target::ApiKeyId(id) => {
                self.api_key_ids.insert(name(id));
            }
        }
    }

    /// A copy without `t` (matched by name; `until`/`before` are ignored).
    /// Returns `None` when `t` was not in the list.
    pub fn without(&self, t: &Target) -> Option<Blocklist> {
        let mut b = self.clone();
        let removed = match t {
            Target::Jti { jti, .. } => b.jti.remove(jti.as_bytes()).is_some(),
            Target::SubjectBefore { sub, .. } => b.sub_before.remove(sub.as_bytes()).is_some(),
            Target::ApiKeyId(id) => b.api_key_ids.remove(id.as_bytes()),
        };
        removed.then_some(b)
    }

    fn prune(&mut self, now: f64) {
        if self.jti.is_empty() {
            return;
        }
        self.jti.retain(|_, until| until.map_or(true, |u| now < u));
    }
}

fn name(s: String) -> Box<[u8]> {
    s.into_bytes().into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoke_unrevoke_and_prune() {
        let b = Blocklist::default();
        assert!(b.is_empty());
        let b = b.with(Target::Jti { jti: "a".into(), until: Some(100.0) }, 0.0);
        let b = b.with(Target::Jti { jti: "forever".into(), until: None }, 0.0);
        let b = b.with(Target::SubjectBefore { sub: "s".into(), before: 50.0 }, 0.0);
        let b = b.with(Target::SubjectBefore { sub: "s".into(), before: 40.0 }, 0.0);
        let b = b.with(Target::ApiKeyId("k".into()), 0.0);
        assert!(b.jti_revoked("a") && b.jti_revoked("forever") && !b.jti_revoked("b"));
        assert!(b.subject_revoked("s", None));
        assert!(b.subject_revoked("s", Some(50.0)));
        assert!(!b.subject_revoked("s", Some(50.5)));
        assert!(!b.subject_revoked("t", None));
        assert!(b.api_key_revoked("k") && !b.api_key_revoked("K"));
        // Past the token's exp the jti entry is dropped at the next change.
        let b2 = b.with(Target::ApiKeyId("x".into()), 100.0);
        assert!(!b2.jti_revoked("a") && b2.jti_revoked("forever"));
        let b3 = b2.without(&Target::ApiKeyId("k".into())).unwrap();
        assert!(!b3.api_key_revoked("k"));
        assert!(b3.without(&Target::ApiKeyId("k".into())).is_none());
        assert_eq!(b3.len(), 3);
    }
}
