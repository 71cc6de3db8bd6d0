//! HTTP Basic credentials (RFC 7617): the user table, htpasswd files, and the
//! verified-credential cache that makes the slow hash a once-per-TTL cost.

mod hash;

pub use hash::{hash_password, PasswordHash, DEFAULT_PBKDF2_ITERATIONS};

use dashmap::DashMap;
use ring::hmac;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};

use crate::apikey::DigestHasher;

/// One user and its stored hash.
#[derive(Debug)]
pub struct User {
    pub name: Box<str>,
    pub hash: PasswordHash,
    /// SHA-256 of the name and the stored hash text: a cache entry made for
    /// one version of a user's entry is never honoured for another.
    pub fingerprint: [u8; 32],
}

impl User {
    pub fn new(name: &str, stored: &str) -> Result<User, String> {
        let hash = PasswordHash::parse(stored)?;
        let mut c = ring::digest::Context::new(&ring::digest::SHA256);
        c.update(&(name.len() as u64).to_be_bytes());
        c.update(name.as_bytes());
        c.update(stored.as_bytes());
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(c.finish().as_ref());
        Ok(User { name: name.into(), hash, fingerprint })
    }
}

/// The Basic users of one snapshot.
#[derive(Debug, Default)]
pub struct Users {
    by_name: HashMap<Box<str>, User>,
    /// Verified against for unknown names: a decoy of each scheme and cost
    /// the users have, with how many users have it (running total). An
    /// unknown name gets one picked by a keyed hash of the name, the same
    /// every time, so unknown names cost what the users do and in the same
    /// proportions: with users of several costs, a name's timing does not
    /// tell whether it exists (one decoy of the first user's cost did).
    decoys: Vec<(usize, PasswordHash)>,
    pub max_failures_per_min: Option<u32>,
}

/// The key of the hash that picks an unknown name's decoy: one per process,
/// so a name keeps its decoy across reloads. Drawn per table, the pick
/// changed with each reload while real users' costs did not, and timing a
/// name across reloads told whether it exists.
fn pick_key() -> &'static RandomState {
    static KEY: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
    KEY.get_or_init(RandomState::new)
}

/// What a password check costs: the scheme, its cost or iterations, and
/// the hash length.
fn cost_class(h: &PasswordHash) -> (bool, u32, usize) {
    match h {
        PasswordHash::Pbkdf2 { iterations, hash, .. } => (false, iterations.get(), hash.len()),
        PasswordHash::Bcrypt { cost, .. } => (true, *cost, 0),
    }
}

impl Users {
    /// Build the table; `users` in config order (inline users, then the
    /// htpasswd file). A name given twice is refused.
    pub fn new(users: Vec<(String, User)>, max_failures_per_min: Option<u32>) -> Result<Users, String> {
        let mut by_name = HashMap::with_capacity(users.len());
        // (users, decoy) per cost class, in order of first appearance; the
        // map finds a user's class (a scan per user was quadratic when every
        // user had a cost of their own).
        let mut classes: Vec<(usize, PasswordHash)> = Vec::new();
        let mut class_of: HashMap<(bool, u32, usize), usize> = HashMap::new();
        for (at, u) in users {
            if by_name.contains_key(&u.name) {
                return Err(format!("{at}: user {:?} is defined twice", u.name));
            }
            let c = *class_of.entry(cost_class(&u.hash)).or_insert_with(|| {
                classes.push((0, u.hash.decoy()));
                classes.len() - 1
            });
            classes[c].0 += 1;
            by_name.insert(u.name.clone(), u);
        }
        let mut total = 0;
        let decoys = classes
            .into_iter()
            .map(|(n, d)| {
                total += n;
                (total, d)
            })
            .collect();
        Ok(Users { by_name, decoys, max_failures_per_min })
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&User> {
        let name = core::str::from_utf8(name).ok()?;
        self.by_name.get(name)
    }

    /// The decoy an unknown `name` is checked against (see `decoys`).
    fn decoy_for(&self, name: &[u8]) -> Option<&PasswordHash> {
        let total = self.decoys.last()?.0;
        let i = (pick_key().hash_one(name) % total as u64) as usize;
        // the first class whose running total is past i
        self.decoys.get(self.decoys.partition_point(|(upto, _)| *upto <= i)).map(|(_, d)| d)
    }

    /// Spend the cost of a password check on a name that does not exist.
    pub fn burn_decoy(&self, name: &[u8], password: &[u8]) {
        if let Some(d) = self.decoy_for(name) {
            let _ = core::hint::black_box(d.verify(password));
        }
    }
}

/// Parse an htpasswd file: `user:hash` lines, `#` comments and blank lines.
/// Lines with refused formats fail with their line number.
pub fn parse_htpasswd(text: &str, file: &str) -> Result<Vec<(String, User)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let at = format!("{file}:{}", i + 1);
        let (user, stored) = line.split_once(':').ok_or_else(|| format!("{at}: expected user:hash"))?;
        if user.is_empty() {
            return Err(format!("{at}: empty user name"));
        }
        if user.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(format!("{at}: the user name has control characters (RFC 7617 §2 forbids them)"));
        }
        let u = User::new(user, stored).map_err(|e| format!("{at}: user {user:?}: {e}"))?;
        out.push((at, u));
    }
    Ok(out)
}

/// The verified-credential cache: remembers, for `ttl_s`, that a (user,
/// password) pair checked out, under a keyed MAC of the pair (the key is
/// random per process, so the cache holds nothing an attacker could use
/// offline), together with the fingerprint of the user entry it was checked
/// against.
pub struct CredCache {
    /// `None` when the cache is disabled (no entries or no TTL configured, or
    /// no system randomness for a key): nothing is cached then, and no key is
    /// made (a disabled cache needs neither the system RNG nor ring's CPU
    /// probing, which also lets Miri build a verifier).
    key: Option<hmac::Key>,
    map: DashMap<[u8; 32], Entry, BuildHasherDefault<DigestHasher>>,
    cap: usize,
    ttl_s: f64,
}

struct Entry {
    fingerprint: [u8; 32],
    expires: f64,
}

impl CredCache {
    pub fn new(cap: usize, ttl_s: f64) -> CredCache {
        use ring::rand::SecureRandom;
        let key = if cap > 0 && ttl_s > 0.0 {
            let mut k = [0u8; 32];
            // If the system RNG fails, fall back to a disabled cache rather
            // than a predictable key.
            ring::rand::SystemRandom::new().fill(&mut k).ok().map(|()| hmac::Key::new(hmac::HMAC_SHA256, &k))
        } else {
            None
        };
        CredCache { key, map: DashMap::with_hasher(Default::default()), cap, ttl_s }
    }

    pub fn enabled(&self) -> bool {
        self.key.is_some()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The cache key of a (user, password) pair; all zeros when the cache is
    /// disabled (nothing is ever stored then, so nothing matches it).
    #[inline]
    pub fn tag(&self, user: &[u8], password: &[u8]) -> [u8; 32] {
        let Some(key) = &self.key else { return [0; 32] };
        let mut c = hmac::Context::with_key(key);
        c.update(&(user.len() as u64).to_be_bytes());
        c.update(user);
        c.update(password);
        let mut t = [0u8; 32];
        t.copy_from_slice(c.sign().as_ref());
        t
    }

    /// Was this pair verified against this version of the user's entry, and
    /// not longer than the TTL ago?
    #[inline]
    pub fn hit(&self, tag: &[u8; 32], user: &User, now: f64) -> bool {
        match self.map.get(tag) {
            Some(e) => e.fingerprint == user.fingerprint && now < e.expires && now >= e.expires - self.ttl_s,
            None => false,
        }
    }

    pub fn insert(&self, tag: [u8; 32], user: &User, now: f64) {
        if !self.enabled() {
            return;
        }
        if self.map.len() >= self.cap {
            self.map.retain(|_, e| now < e.expires);
            if self.map.len() >= self.cap {
                // Still full of live entries: start over rather than grow.
                self.map.clear();
            }
        }
        self.map.insert(tag, Entry { fingerprint: user.fingerprint, expires: now + self.ttl_s });
    }

    pub fn clear(&self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, pw: &str) -> User {
        User::new(name, &hash_password(pw.as_bytes(), 1000).unwrap()).unwrap()
    }

    #[test]
    fn unknown_names_cost_what_users_do_in_the_same_proportions() {
        let h = |it: u32| User::new("x", &hash_password(b"pw", it).unwrap()).unwrap().hash;
        let mk = |name: &str, it: u32| {
            (
                name.to_string(),
                User { name: name.into(), ..User::new(name, &hash_password(b"pw", it).unwrap()).unwrap() },
            )
        };
        // One user of 1,000 iterations (listed first), three of 2,000.
        let users = Users::new(vec![mk("a", 1000), mk("b", 2000), mk("c", 2000), mk("d", 2000)], None).unwrap();
        assert_eq!(users.decoys.len(), 2, "one decoy per cost");
        let (cheap, dear) = (cost_class(&h(1000)), cost_class(&h(2000)));
        let mut n_dear = 0;
        for i in 0..2000 {
            let name = format!("nobody-{i}");
            let d = cost_class(users.decoy_for(name.as_bytes()).unwrap());
            assert!(d == cheap || d == dear);
            assert_eq!(cost_class(users.decoy_for(name.as_bytes()).unwrap()), d, "the same name, the same decoy");
            n_dear += usize::from(d == dear);
        }
        // 3 in 4 expected: 1,500 ± 19 (a bound of over five deviations).
        assert!((1400..=1600).contains(&n_dear), "{n_dear} of 2000");
        assert!(Users::default().decoy_for(b"x").is_none());

        // Classes interleaved in the list (a, b, a, b, ...): counted per class,
        // in order of first appearance, whatever the order of the users.
        let list = (0..8).map(|i| mk(&format!("u{i}"), if i % 2 == 0 { 1000 } else { 3000 })).collect();
        let users = Users::new(list, None).unwrap();
        let classes: Vec<_> = users.decoys.iter().map(|(upto, d)| (*upto, cost_class(d))).collect();
        assert_eq!(classes, vec![(4, cheap), (8, cost_class(&h(3000)))]);

        // The same table built again (a reload): every name keeps its decoy.
        let again = Users::new(vec![mk("a", 1000), mk("b", 2000), mk("c", 2000), mk("d", 2000)], None).unwrap();
        let first = Users::new(vec![mk("a", 1000), mk("b", 2000), mk("c", 2000), mk("d", 2000)], None).unwrap();
        for i in 0..200 {
            let name = format!("nobody-{i}");
            let class = |u: &Users| cost_class(u.decoy_for(name.as_bytes()).unwrap());
            assert_eq!(class(&first), class(&again), "{name}");
        }
    }

    #[test]
    fn htpasswd_lines() {
        let h = hash_password(b"pw", 1000).unwrap();
        let text = format!("# comment\n\nalice:{h}\r\nbob:{h}\n");
        let users = parse_htpasswd(&text, "u.htpasswd").unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].0, "u.htpasswd:3");
        let e = parse_htpasswd(&format!("alice:{h}\nbob:$apr1$x$y\n"), "u.htpasswd").unwrap_err();
        assert!(e.starts_with("u.htpasswd:2: user \"bob\""), "{e}");
        assert!(parse_htpasswd("nocolon\n", "f").unwrap_err().contains("f:1"));
        assert!(parse_htpasswd(":x\n", "f").is_err());
        assert!(parse_htpasswd(&format!("a\u{1}b:{h}\n"), "f").unwrap_err().contains("control"));
    }

    #[test]
    fn users_table() {
        let u = Users::new(vec![("a".into(), user("alice", "pw")), ("b".into(), user("bob", "pw"))], Some(3)).unwrap();
        assert!(u.get(b"alice").is_some());
        assert!(u.get(b"carol").is_none());
        assert!(u.get(b"\xff").is_none());
        u.burn_decoy(b"nobody", b"x");
        assert!(Users::new(vec![("a".into(), user("alice", "1")), ("b".into(), user("alice", "2"))], None).is_err());
    }

    #[test]
    fn cache_hits_only_same_entry_and_ttl() {
        let c = CredCache::new(2, 10.0);
        let a = user("alice", "pw");
        let a2 = user("alice", "pw");
        let t = c.tag(b"alice", b"pw");
        assert_ne!(t, c.tag(b"alic", b"epw"), "name length is part of the tag");
        assert!(!c.hit(&t, &a, 0.0));
        c.insert(t, &a, 0.0);
        assert!(c.hit(&t, &a, 9.9));
        assert!(!c.hit(&t, &a, 10.0), "expired");
        assert!(!c.hit(&t, &a, -1.0), "clock went back past the insert");
        assert!(!c.hit(&t, &a2, 1.0), "the user's entry changed (new salt)");
        c.insert(c.tag(b"x", b"1"), &a, 0.0);
        c.insert(c.tag(b"y", b"1"), &a, 0.0);
        assert!(c.len() <= 2);
        assert!(!CredCache::new(0, 10.0).enabled());
    }
}
