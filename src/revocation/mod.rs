//! The revocation blocklist: by `jti`, by subject-issued-before-time, and by
//! API key id (SPEC §1 `revoked`, §5).
//!
//! A [`Blocklist`] is immutable. The config's list lives in the snapshot; the
//! run-time list lives behind an `ArcSwap` in the verifier, and revoking
//! builds a new list and swaps it in, so verifiers read without a lock and a
//! revoke is visible to every verification that starts after it returns.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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
///
/// Two layers, so that a run-time revocation does not copy the whole list:
/// a `base` shared (by `Arc`) between successive lists and a small `top`
/// that [`Blocklist::with`] copies and adds to. Once `top` outgrows about
/// the square root of `base`, the two are merged into a new base. n
/// revocations one at a time then cost O(n·√n) entry copies, not O(n²)
/// (40,000 took 35 s with one layer). A lookup asks both layers.
#[derive(Clone, Debug)]
pub struct Blocklist {
    base: Arc<Lists>,
    top: Lists,
    /// The latest `expired_by` of [`Blocklist::with`]: jti entries whose
    /// `until` is not after it count as gone. The small layer drops them
    /// at once; the base keeps them until the next merge, unseen, so the
    /// list answers as if they had been dropped too.
    pruned_to: f64,
}

impl Default for Blocklist {
    fn default() -> Self {
        Blocklist { base: Arc::default(), top: Lists::default(), pruned_to: f64::NEG_INFINITY }
    }
}

/// One layer's entries.
#[derive(Clone, Debug, Default)]
struct Lists {
    jti: HashMap<Box<[u8]>, Option<f64>>,
    sub_before: HashMap<Box<[u8]>, f64>,
    api_key_ids: HashSet<Box<[u8]>>,
}

impl Lists {
    fn len(&self) -> usize {
        self.jti.len() + self.sub_before.len() + self.api_key_ids.len()
    }

    /// Is `jti` listed with an `until` after `pruned_to` (or none)?
    #[inline]
    fn jti_revoked(&self, jti: &[u8], pruned_to: f64) -> bool {
        !self.jti.is_empty() && self.jti.get(jti).is_some_and(|u| live(*u, pruned_to))
    }

    #[inline]
    fn subject_revoked(&self, sub: &[u8], iat: Option<f64>) -> bool {
        if self.sub_before.is_empty() {
            return false;
        }
        match self.sub_before.get(sub) {
            None => false,
            Some(&t) => !matches!(iat, Some(i) if i > t),
        }
    }

    #[inline]
    fn api_key_revoked(&self, id: &[u8]) -> bool {
        !self.api_key_ids.is_empty() && self.api_key_ids.contains(id)
    }

    /// Revoking never shortens what is already revoked: a jti keeps the
    /// later `until` (or none), a subject the later cut-off.
    fn add_jti(&mut self, jti: Box<[u8]>, until: Option<f64>) {
        let e = self.jti.entry(jti).or_insert(until);
        *e = match (*e, until) {
            (Some(a), Some(u)) => Some(a.max(u)),
            _ => None,
        };
    }

    fn add_subject(&mut self, sub: Box<[u8]>, before: f64) {
        let e = self.sub_before.entry(sub).or_insert(before);
        *e = e.max(before);
    }

    fn add(&mut self, t: Target) {
        match t {
            Target::Jti { jti, until } => self.add_jti(name(jti), until),
            Target::SubjectBefore { sub, before } => self.add_subject(name(sub), before),
            Target::ApiKeyId(id) => {
                self.api_key_ids.insert(name(id));
            }
        }
    }

    /// Add every entry of `other` as [`Lists::add`] would.
    fn absorb(&mut self, other: Lists) {
        for (jti, until) in other.jti {
            self.add_jti(jti, until);
        }
        for (sub, before) in other.sub_before {
            self.add_subject(sub, before);
        }
        self.api_key_ids.extend(other.api_key_ids);
    }

    fn holds(&self, t: &Target, pruned_to: f64) -> bool {
        match t {
            Target::Jti { jti, .. } => self.jti_revoked(jti.as_bytes(), pruned_to),
            Target::SubjectBefore { sub, .. } => self.sub_before.contains_key(sub.as_bytes()),
            Target::ApiKeyId(id) => self.api_key_ids.contains(id.as_bytes()),
        }
    }

    fn remove(&mut self, t: &Target) {
        match t {
            Target::Jti { jti, .. } => drop(self.jti.remove(jti.as_bytes())),
            Target::SubjectBefore { sub, .. } => drop(self.sub_before.remove(sub.as_bytes())),
            Target::ApiKeyId(id) => drop(self.api_key_ids.remove(id.as_bytes())),
        }
    }

    fn prune(&mut self, now: f64) {
        if !self.jti.is_empty() {
            self.jti.retain(|_, until| live(*until, now));
        }
    }
}

/// Does a jti entry with this `until` outlive a prune at `pruned_to`?
#[inline]
fn live(until: Option<f64>, pruned_to: f64) -> bool {
    until.map_or(true, |u| pruned_to < u)
}

impl Blocklist {
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Names revoked (jtis, subjects, API key ids). Counts the base layer
    /// through: for reports and tests, not for a verification.
    pub fn len(&self) -> usize {
        // The small layer's entries, and the base's that it does not hold
        // (and, for jtis, that the prune horizon has not passed).
        let (top, base, cut) = (&self.top, &*self.base, self.pruned_to);
        let jtis = base.jti.iter().filter(|(k, u)| live(**u, cut) && !top.jti.contains_key(*k)).count();
        let subs = base.sub_before.keys().filter(|k| !top.sub_before.contains_key(*k)).count();
        let ids = base.api_key_ids.difference(&top.api_key_ids).count();
        top.len() + jtis + subs + ids
    }

    /// Does the list hold any `jti`, or any subject cut-off? (Callers skip
    /// building the strings to look up when it does not.)
    #[inline]
    pub fn has_jtis(&self) -> bool {
        !self.top.jti.is_empty() || !self.base.jti.is_empty()
    }

    #[inline]
    pub fn has_subjects(&self) -> bool {
        !self.top.sub_before.is_empty() || !self.base.sub_before.is_empty()
    }

    #[inline]
    pub fn jti_revoked(&self, jti: impl AsRef<[u8]>) -> bool {
        let jti = jti.as_ref();
        // (the small layer is pruned to `pruned_to` already)
        self.top.jti_revoked(jti, f64::NEG_INFINITY) || self.base.jti_revoked(jti, self.pruned_to)
    }

    /// SPEC §5: revoked unless `iat` is present and after the cut-off (the
    /// later of the two layers' cut-offs: either one revoking is enough).
    #[inline]
    pub fn subject_revoked(&self, sub: impl AsRef<[u8]>, iat: Option<f64>) -> bool {
        let sub = sub.as_ref();
        self.top.subject_revoked(sub, iat) || self.base.subject_revoked(sub, iat)
    }

    #[inline]
    pub fn api_key_revoked(&self, id: impl AsRef<[u8]>) -> bool {
        let id = id.as_ref();
        self.top.api_key_revoked(id) || self.base.api_key_revoked(id)
    }

    /// A copy with `t` added (as `Blocklist::add` adds it), and with jti entries
    /// whose `until` is not after `expired_by` dropped from the small layer
    /// (from the large one when the two next merge).
    pub fn with(&self, t: Target, expired_by: f64) -> Blocklist {
        // Never back: what a later prune dropped stays dropped.
        let pruned_to = self.pruned_to.max(expired_by);
        let mut top = self.top.clone();
        top.prune(pruned_to);
        top.add(t);
        if top.len() <= merge_at(self.base.len()) {
            return Blocklist { base: self.base.clone(), top, pruned_to };
        }
        let mut base = (*self.base).clone();
        base.prune(pruned_to);
        base.absorb(top);
        Blocklist { base: Arc::new(base), top: Lists::default(), pruned_to }
    }

    /// Add `t` in place: a later cut-off for a subject replaces an earlier
    /// one, and revoking never shortens what is already revoked. (Building
    /// the config's list this way, not by [`Blocklist::with`], keeps a list
    /// of n entries O(n) to load instead of O(n²) copies.)
    pub(crate) fn add(&mut self, t: Target) {
        self.top.add(t);
    }

    /// A copy without `t` (matched by name; `until`/`before` are ignored).
    /// Returns `None` when `t` was not in the list.
    pub fn without(&self, t: &Target) -> Option<Blocklist> {
        let (in_top, in_base) = (self.top.holds(t, f64::NEG_INFINITY), self.base.holds(t, self.pruned_to));
        if !in_base {
            if !in_top {
                return None;
            }
            let mut top = self.top.clone();
            top.remove(t);
            return Some(Blocklist { base: self.base.clone(), top, pruned_to: self.pruned_to });
        }
        let mut all = (*self.base).clone();
        all.prune(self.pruned_to);
        all.absorb(self.top.clone());
        all.remove(t);
        Some(Blocklist { base: Arc::new(all), top: Lists::default(), pruned_to: self.pruned_to })
    }
}

/// How large the small layer may grow over a base of `n` entries before the
/// two merge: about √n, so that copying the small layer on each revocation
/// and the whole list on each merge cost about the same.
fn merge_at(n: usize) -> usize {
    32 + (n as f64).sqrt() as usize
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

    #[test]
    fn many_revocations_share_a_base_and_every_one_counts() {
        let jti = |i: usize| Target::Jti { jti: format!("j{i}"), until: Some(1000.0 + i as f64) };
        let mut b = Blocklist::default();
        let mut merges = 0;
        for i in 0..5000 {
            let next = b.with(jti(i), 0.0);
            merges += usize::from(!Arc::ptr_eq(&b.base, &next.base));
            b = next;
            assert!(b.top.len() <= merge_at(b.base.len()), "the small layer stays small");
        }
        // Copies of the whole list: one per merge, ~5000 / (32 + √n) of them.
        assert!((40..=160).contains(&merges), "{merges} merges");
        assert!(b.base.len() > 4000, "most entries merged into the shared base");
        assert!((0..5000).all(|i| b.jti_revoked(format!("j{i}"))));
        assert!(!b.jti_revoked("j5000"));
        assert_eq!(b.len(), 5000);

        // Removing from either layer.
        let in_base = (0..5000).find(|&i| b.base.jti.contains_key(format!("j{i}").as_bytes())).unwrap();
        let in_top = (0..5000).find(|&i| b.top.jti.contains_key(format!("j{i}").as_bytes())).unwrap();
        for gone in [in_base, in_top] {
            let d = b.without(&jti(gone)).unwrap();
            assert!(!d.jti_revoked(format!("j{gone}")));
            assert!((0..5000).filter(|&i| i != gone).all(|i| d.jti_revoked(format!("j{i}"))));
            assert!(d.without(&jti(gone)).is_none());
        }

        // Entries whose tokens expired are gone from the answers at once
        // (an unrevoke finds nothing, len does not count them) and from the
        // base's memory when it next merges.
        let e = b.with(Target::ApiKeyId("k".into()), 3500.0);
        assert!(Arc::ptr_eq(&e.base, &b.base) && e.base.jti.contains_key(b"j7".as_slice()));
        assert!(!e.jti_revoked("j7") && e.jti_revoked("j4999"));
        assert!(e.without(&jti(7)).is_none(), "as if pruned");
        let kept = (0..5000).filter(|i| 1000 + i > 3500).count();
        assert_eq!(e.len(), kept + 1);
        let mut e = e;
        let mut i = 5000;
        while Arc::ptr_eq(&e.base, &b.base) {
            e = e.with(jti(i), 3500.0);
            i += 1;
        }
        assert!(!e.base.jti.contains_key(b"j7".as_slice()));
        // A prune never goes back: a later call with an earlier `now` does
        // not bring pruned entries back.
        let f = e.with(Target::ApiKeyId("k2".into()), 0.0);
        assert!(!f.jti_revoked("j7"));
        // (until = 1000 + i: the tokens up to j2500 expired by 3500)
        assert!(!e.jti_revoked("j0") && !e.jti_revoked("j2500") && e.jti_revoked("j2501"));
    }

    #[test]
    fn a_subject_cut_off_is_the_later_of_the_layers() {
        let sub = |before| Target::SubjectBefore { sub: "s".into(), before };
        let fill = |mut b: Blocklist| {
            let base = b.base.clone();
            let mut i = 0;
            while Arc::ptr_eq(&base, &b.base) {
                b = b.with(Target::ApiKeyId(format!("k{i}")), 0.0);
                i += 1;
            }
            b
        };
        for (first, second) in [(50.0, 40.0), (40.0, 50.0)] {
            let b = fill(Blocklist::default().with(sub(first), 0.0)).with(sub(second), 0.0);
            assert!(b.base.sub_before.contains_key(b"s".as_slice()) && b.top.sub_before.contains_key(b"s".as_slice()));
            assert!(b.subject_revoked("s", Some(45.0)) && b.subject_revoked("s", Some(50.0)));
            assert!(!b.subject_revoked("s", Some(50.5)) && b.subject_revoked("s", None));
            let merged = fill(b);
            assert!(merged.subject_revoked("s", Some(50.0)) && !merged.subject_revoked("s", Some(50.5)));
        }
    }
}
