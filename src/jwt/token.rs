//! Compact JWS parsing: everything SPEC §3 calls `malformed` is decided here,
//! on the whole token, before any key is looked up (SPEC §5).

use crate::b64;
use crate::json::{self, Malformed, RawStr, Value};
use crate::scratch::NameSpan;

/// The registered header parameters warden reads.
#[derive(Default, Clone, Copy)]
pub struct Header<'a> {
    pub alg: Option<RawStr<'a>>,
    pub kid: Option<RawStr<'a>>,
    pub typ: Option<RawStr<'a>>,
    pub crit: bool,
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Clone, Copy)]
pub enum Aud<'a> {
    One(RawStr<'a>),
    /// Raw array text; every item is a string (checked while parsing).
    Many(&'a [u8]),
}

/// A NumericDate and the JSON text it was written as.
#[derive(Clone, Copy)]
pub struct Date<'a> {
    pub value: f64,
    pub text: &'a [u8],
}

/// The registered claims warden reads, typed (SPEC §5 "Parsing").
#[derive(Default, Clone, Copy)]
pub struct Claims<'a> {
    pub exp: Option<Date<'a>>,
    pub nbf: Option<Date<'a>>,
    pub iat: Option<Date<'a>>,
    pub iss: Option<RawStr<'a>>,
    pub sub: Option<RawStr<'a>>,
    pub jti: Option<RawStr<'a>>,
    pub aud: Option<Aud<'a>>,
    /// `scope` when it is a string (RFC 8693 §4.2).
    pub scope: Option<RawStr<'a>>,
    /// `scp` when it is an array (its string items are the scopes).
    pub scp: Option<&'a [u8]>,
    /// `scp` when it is a string: scopes split on spaces, as `scope`
    /// (Microsoft Entra ID writes its delegated scopes so).
    pub scp_text: Option<RawStr<'a>>,
}

/// A token that passed every `malformed` check. `'t` borrows the token text,
/// `'a` the scratch buffers it was decoded into.
#[derive(Default)]
pub struct Parsed<'t, 'a> {
    pub header: Header<'a>,
    pub claims: Claims<'a>,
    /// `BASE64URL(header) . BASE64URL(payload)`: what the signature covers.
    pub signing_input: &'t [u8],
    pub signature: &'a [u8],
    /// The decoded payload, for claim look-ups by name.
    pub payload: &'a [u8],
    /// Top-level payload member names (offsets into `payload`).
    pub names: &'a [NameSpan],
}

impl<'t, 'a> Parsed<'t, 'a> {
    /// Does the payload have a top-level member `name`?
    pub fn has_claim(&self, name: &[u8]) -> bool {
        let c = &self.claims;
        match name {
            // The registered claims were typed while parsing.
            b"exp" => c.exp.is_some(),
            b"iat" => c.iat.is_some(),
            b"nbf" => c.nbf.is_some(),
            b"iss" => c.iss.is_some(),
            b"sub" => c.sub.is_some(),
            b"jti" => c.jti.is_some(),
            b"aud" => c.aud.is_some(),
            _ => self.names.iter().any(|n| n.get(self.payload).eq_bytes(name)),
        }
    }
}

fn date(v: Value<'_>) -> Result<Date<'_>, Malformed> {
    match v {
        Value::Num { text, value } => Ok(Date { value, text }),
        _ => Err(Malformed),
    }
}

fn string(v: Value<'_>) -> Result<RawStr<'_>, Malformed> {
    match v {
        Value::Str(s) => Ok(s),
        _ => Err(Malformed),
    }
}

/// A member name packed into a word, for matching and duplicate checks in
/// a couple of instructions: the decoded name's bytes, little-endian,
/// zero-padded. Names of more than 8 decoded bytes, or holding a NUL (only
/// possible escaped, and it would collide with the padding), have none.
/// Distinct names with a key have distinct keys.
#[inline]
fn key(name: &RawStr<'_>) -> Option<u64> {
    if !name.escaped {
        return (name.raw.len() <= 8).then(|| k(name.raw));
    }
    let mut key = 0u64;
    for (n, b) in name.decoded().enumerate() {
        if n == 8 || b == 0 {
            return None;
        }
        key |= (b as u64) << (8 * n);
    }
    Some(key)
}

/// The key of an unescaped name of at most 8 bytes (registered names at
/// compile time).
const fn k(name: &[u8]) -> u64 {
    let mut k = 0u64;
    let mut i = 0;
    while i < name.len() {
        k |= (name[i] as u64) << (8 * i);
        i += 1;
    }
    k
}

const ALG: u64 = k(b"alg");
const KID: u64 = k(b"kid");
const TYP: u64 = k(b"typ");
const CTY: u64 = k(b"cty");
const CRIT: u64 = k(b"crit");
const B64: u64 = k(b"b64");
const EXP: u64 = k(b"exp");
const NBF: u64 = k(b"nbf");
const IAT: u64 = k(b"iat");
const ISS: u64 = k(b"iss");
const SUB: u64 = k(b"sub");
const JTI: u64 = k(b"jti");
const AUD: u64 = k(b"aud");
const SCOPE: u64 = k(b"scope");
const SCP: u64 = k(b"scp");

/// Duplicate detection while a document's members go by: by key while every
/// name has one (the usual case), else over all the names at the end.
struct Members<'n> {
    names: &'n mut Vec<NameSpan>,
    /// One bit per key seen, at a hash of the key: a key whose bit is clear
    /// is new without looking through the names.
    seen: u64,
    /// Every name so far had a key (and there were at most `MAX_KEYED`).
    keyed: bool,
}

/// The most names checked for duplicates by key as they come.
const MAX_KEYED: usize = 32;

impl<'n> Members<'n> {
    fn new(names: &'n mut Vec<NameSpan>) -> Self {
        names.clear();
        Members { names, seen: 0, keyed: true }
    }

    /// Record `name`; its key, when it has one. A name already seen under
    /// the same key is a duplicate: malformed at once.
    #[inline(always)]
    fn add(&mut self, doc: &[u8], name: &RawStr<'_>) -> Result<Option<u64>, Malformed> {
        let mut span = NameSpan::of(doc, *name);
        let k = match doc.get(span.start()..span.start() + 8) {
            // The usual name: one load, masked to its length.
            Some(w) if !name.escaped && name.raw.len() <= 8 => {
                let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                Some(w & u64::MAX.checked_shr(64 - 8 * name.raw.len() as u32).unwrap_or(0))
            }
            _ => key(name),
        };
        match k {
            // Past a few dozen names a scan per name would grow quadratic
            // in a hostile payload: those go to the sorting check instead.
            Some(k) if self.keyed && self.names.len() < MAX_KEYED => {
                let bit = 1u64 << (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58);
                if self.seen & bit != 0 && self.names.iter().any(|n| n.key == k) {
                    return Err(Malformed);
                }
                self.seen |= bit;
                span.key = k;
            }
            _ => self.keyed = false,
        }
        self.names.push(span);
        Ok(k)
    }

    /// After the last member: names without keys are compared the slow way.
    fn finish(self, doc: &[u8]) -> Result<(), Malformed> {
        if !self.keyed && has_duplicate(doc, self.names) {
            return Err(Malformed);
        }
        Ok(())
    }
}

/// Header segments up to this long are remembered by [`HeaderMemo`].
const MEMO_MAX: usize = 256;

/// The last header parsed through a scratch. A token's header is nearly
/// always byte for byte the previous one's (one issuer, one key, one
/// library), so when the base64url text matches exactly, decoding and
/// parsing it again is skipped: the same fields are read from the decoded
/// copy kept here. Only a header that parsed is remembered.
#[derive(Default)]
pub struct HeaderMemo {
    /// The remembered header segment (base64url text); empty: none.
    text: Vec<u8>,
    /// The decoded header JSON of the last header parsed.
    dec: Vec<u8>,
    alg: Option<NameSpan>,
    kid: Option<NameSpan>,
    typ: Option<NameSpan>,
    crit: bool,
}

impl HeaderMemo {
    /// Room for a token of `len` bytes (nothing to allocate while parsing):
    /// its header decodes to at most `len / 4 * 3 + 2` bytes.
    pub(crate) fn reserve(&mut self, len: usize) {
        if self.text.capacity() < MEMO_MAX {
            self.text.reserve(MEMO_MAX);
        }
        let need = len / 4 * 3 + 2;
        if self.dec.capacity() < need {
            self.dec.reserve(need);
        }
    }

    #[inline]
    fn header(&self) -> Header<'_> {
        let get = |s: &Option<NameSpan>| s.map(|s| s.get(&self.dec));
        Header { alg: get(&self.alg), kid: get(&self.kid), typ: get(&self.typ), crit: self.crit }
    }

    /// Decode and parse `h64` into this memo, remembering it when it parses.
    fn parse(&mut self, h64: &[u8], names: &mut Vec<NameSpan>) -> Result<(), Malformed> {
        self.text.clear();
        let n = b64::unpadded_decoded_len(h64.len()).ok_or(Malformed)?;
        self.dec.clear();
        self.dec.resize(n, 0);
        if !b64::decode_url_into(h64, &mut self.dec) {
            return Err(Malformed);
        }
        let hdoc = &self.dec[..];
        let mut header = Header::default();
        let mut unencoded = false;
        let mut seen = Members::new(names);
        json::for_each_member(hdoc, |name, v| {
            match seen.add(hdoc, &name)? {
                Some(ALG) => header.alg = Some(string(v)?),
                Some(KID) => header.kid = Some(string(v)?),
                Some(TYP) => header.typ = Some(string(v)?),
                Some(CTY) => {
                    string(v)?;
                }
                Some(CRIT) => {
                    let Value::Array(raw) = v else { return Err(Malformed) };
                    if !array_of_strings(raw) {
                        return Err(Malformed);
                    }
                    header.crit = true;
                }
                // RFC 7797: `"b64": false` means the payload segment is not
                // base64url; warden does not support that (with `crit`,
                // as RFC 7797 §6 demands, it is `crit_unsupported`).
                Some(B64) => {
                    let Value::Bool(b) = v else { return Err(Malformed) };
                    unencoded = !b;
                }
                _ => {}
            }
            Ok(())
        })?;
        seen.finish(hdoc)?;
        // Without `crit`, a verifier that ignores `b64` would read the
        // payload differently from one that honours it: the same text, two
        // meanings. RFC 7797 §6 makes such a header invalid.
        if unencoded && !header.crit {
            return Err(Malformed);
        }
        let span = |s: Option<RawStr<'_>>| s.map(|s| NameSpan::of(hdoc, s));
        (self.alg, self.kid, self.typ, self.crit) = (span(header.alg), span(header.kid), span(header.typ), header.crit);
        if h64.len() <= MEMO_MAX {
            self.text.extend_from_slice(h64);
        }
        Ok(())
    }
}

fn array_of_strings(raw: &[u8]) -> bool {
    json::array_items(raw).all(|i| matches!(i, Value::Str(_)))
}

/// Split, decode and parse `token` into `p` (as it is after
/// `Parsed::default()`). The caller has checked the token's size.
///
/// An out-parameter rather than a return value: the claims are written in
/// place, field by field, and read the same way. Returned by value, the
/// ~350-byte result was copied in 16-byte pieces across field boundaries,
/// and the policy's field loads then waited on store forwarding that
/// cannot forward a load from two stores (perf showed those loads as the
/// verification's hottest glue instructions).
#[inline(always)]
pub fn parse_into<'t, 'a>(
    token: &'t [u8],
    dec: &'a mut Vec<u8>,
    names: &'a mut Vec<NameSpan>,
    memo: &'a mut HeaderMemo,
    p: &mut Parsed<'t, 'a>,
) -> Result<(), Malformed> {
    // Exactly three segments: the first dot and the last, and no other can
    // hide in the payload segment between them because `.` is outside the
    // base64url alphabet (its decoding fails). The last dot is searched from
    // the end: a signature segment is short, a payload segment is not.
    let d1 = find_byte(token, b'.').ok_or(Malformed)?;
    let d2 = rfind_byte(token, b'.').filter(|&d2| d2 > d1).ok_or(Malformed)?;
    let (h64, p64, s64) = (&token[..d1], &token[d1 + 1..d2], &token[d2 + 1..]);

    // Registered header parameters and claims of the wrong type are
    // malformed (SPEC §5 "Parsing"). The header is parsed first, as before
    // the memo: a malformed header is malformed whatever follows.
    if memo.text.is_empty() || memo.text != h64 {
        memo.parse(h64, names)?;
    }
    let memo: &'a HeaderMemo = memo;
    p.header = memo.header();

    // Payload and signature decode side by side into one buffer, sized once.
    let len = |seg: &[u8]| b64::unpadded_decoded_len(seg.len()).ok_or(Malformed);
    let pn = len(p64)?;
    dec.clear();
    dec.resize(pn + len(s64)?, 0);
    let (pd, sd) = dec.split_at_mut(pn);
    if !(b64::decode_url_into(p64, pd) && b64::decode_url_into(s64, sd)) {
        return Err(Malformed);
    }
    let dec: &'a [u8] = dec;
    let (pdoc, signature) = dec.split_at(pn);

    let c = &mut p.claims;
    let mut seen = Members::new(names);
    json::for_each_member(pdoc, |name, v| {
        match seen.add(pdoc, &name)? {
            Some(EXP) => c.exp = Some(date(v)?),
            Some(NBF) => c.nbf = Some(date(v)?),
            Some(IAT) => c.iat = Some(date(v)?),
            Some(ISS) => c.iss = Some(string(v)?),
            Some(SUB) => c.sub = Some(string(v)?),
            Some(JTI) => c.jti = Some(string(v)?),
            Some(AUD) => {
                c.aud = Some(match v {
                    Value::Str(s) => Aud::One(s),
                    Value::Array(raw) if array_of_strings(raw) => Aud::Many(raw),
                    _ => return Err(Malformed),
                })
            }
            Some(SCOPE) => {
                if let Value::Str(s) = v {
                    c.scope = Some(s);
                }
            }
            Some(SCP) => match v {
                Value::Array(raw) => c.scp = Some(raw),
                Value::Str(s) => c.scp_text = Some(s),
                _ => {}
            },
            _ => {}
        }
        Ok(())
    })?;
    seen.finish(pdoc)?;
    (p.signing_input, p.signature, p.payload, p.names) = (&token[..d2], signature, pdoc, names);
    Ok(())
}

/// One SWAR step over the 8-byte chunk `c`: the high bit of every byte
/// equal to the byte repeated in `rep`. The lowest flag is exact; a borrow
/// can also flag a byte above a real match.
#[inline]
fn flag_bytes(c: &[u8], rep: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let x = u64::from_le_bytes(c.try_into().expect("8 bytes")) ^ rep;
    x.wrapping_sub(LO) & !x & HI
}

/// The first `needle` in `hay`, eight bytes at a time.
#[inline]
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    let rep = 0x0101_0101_0101_0101 * needle as u64;
    let mut chunks = hay.chunks_exact(8);
    for (n, c) in (&mut chunks).enumerate() {
        let z = flag_bytes(c, rep);
        if z != 0 {
            return Some(n * 8 + (z.trailing_zeros() / 8) as usize);
        }
    }
    let done = hay.len() - chunks.remainder().len();
    chunks.remainder().iter().position(|&b| b == needle).map(|p| done + p)
}

/// The last `needle` in `hay`, eight bytes at a time from the end.
#[inline]
fn rfind_byte(hay: &[u8], needle: u8) -> Option<usize> {
    let rep = 0x0101_0101_0101_0101 * needle as u64;
    let mut chunks = hay.rchunks_exact(8);
    for (n, c) in (&mut chunks).enumerate() {
        // Only the lowest flag is exact: if any is set, find the last exactly.
        if flag_bytes(c, rep) != 0 {
            let at = hay.len() - 8 * (n + 1);
            return c.iter().rposition(|&b| b == needle).map(|p| at + p);
        }
    }
    chunks.remainder().iter().rposition(|&b| b == needle)
}

/// Is any member name given twice (compared after unescaping)? The general
/// check, for documents with long or NUL-escaped names.
fn has_duplicate(doc: &[u8], names: &mut [NameSpan]) -> bool {
    if names.len() <= 24 {
        for i in 1..names.len() {
            let a = names[i].get(doc);
            for n in &names[..i] {
                let b = n.get(doc);
                if (a.escaped || b.escaped || a.raw.len() == b.raw.len()) && a.cmp_decoded(&b).is_eq() {
                    return true;
                }
            }
        }
        return false;
    }
    // Many members: sort (in place, no allocation) and compare neighbours,
    // so a hostile payload with thousands of members stays O(n log n).
    names.sort_unstable_by(|a, b| a.get(doc).cmp_decoded(&b.get(doc)));
    names.windows(2).any(|w| w[0].get(doc).cmp_decoded(&w[1].get(doc)).is_eq())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scratch::Buffers;

    /// `parse_into` a fresh `Parsed`, with the buffers of `s`.
    fn parse<'a>(token: &'a [u8], s: &'a mut Buffers) -> Result<Parsed<'a, 'a>, Malformed> {
        let Buffers { dec, names, header, .. } = s;
        let mut p = Parsed::default();
        parse_into(token, dec, names, header, &mut p)?;
        Ok(p)
    }

    fn tok(h: &str, p: &str) -> String {
        format!("{}.{}.c2ln", b64::encode(&b64::URL, h.as_bytes()), b64::encode(&b64::URL, p.as_bytes()))
    }

    fn parse_ok(h: &str, p: &str) -> bool {
        let mut s = Buffers::default();
        let t = tok(h, p);
        parse(t.as_bytes(), &mut s).is_ok()
    }

    #[test]
    fn segments() {
        let mut s = Buffers::default();
        for bad in ["", "a", "a.b", "a.b.c.d", "a.b.c.d.e", "..", "e30.e30.c2ln."] {
            assert!(parse(bad.as_bytes(), &mut s).is_err(), "{bad}");
        }
        assert!(parse(b"e30.e30.", &mut s).is_ok());
    }

    #[test]
    fn find_byte_matches_position() {
        for len in 0..40usize {
            for at in 0..=len {
                let mut v = vec![b'a'; len];
                if at < len {
                    v[at] = b'.';
                }
                assert_eq!(find_byte(&v, b'.'), v.iter().position(|&b| b == b'.'), "{len} {at}");
            }
        }
        assert_eq!(find_byte(b"\x80\xff.x", b'.'), Some(2));
    }

    #[test]
    fn rfind_byte_matches_position() {
        for len in 0..40usize {
            for a in 0..=len {
                for b in a..=len {
                    let mut v = vec![b'a'; len];
                    for at in [a, b] {
                        if at < len {
                            v[at] = b'.';
                        }
                    }
                    assert_eq!(rfind_byte(&v, b'.'), v.iter().rposition(|&c| c == b'.'), "{len} {a} {b}");
                }
            }
        }
        // A byte just above a match can be flagged by the borrow: `/` is `.` + 1.
        assert_eq!(rfind_byte(b"xxxxxx./", b'.'), Some(6));
        assert_eq!(rfind_byte(b"\x80\xff.x", b'.'), Some(2));
    }

    #[test]
    fn header_memo_is_exact() {
        let mut s = Buffers::default();
        let kid = |s: &mut Buffers, t: &str| {
            let p = parse(t.as_bytes(), s).map_err(|_| ())?;
            let k = p.header.kid.map(|k| String::from_utf8(k.decoded().collect()).unwrap());
            Ok::<_, ()>((k, p.header.typ.is_some(), p.header.crit, p.has_claim(b"n")))
        };
        // The same header with other payloads: read the same each time.
        let h1 = r#"{"alg":"HS256","kid":"k1","typ":"JWT","crit":["x"]}"#;
        assert_eq!(kid(&mut s, &tok(h1, r#"{"n":1}"#)), Ok((Some("k1".into()), true, true, true)));
        assert_eq!(s.header.text.len(), tok(h1, "{}").find('.').unwrap(), "remembered");
        assert_eq!(kid(&mut s, &tok(h1, r#"{"m":1}"#)), Ok((Some("k1".into()), true, true, false)));
        // Another header of the same length, one byte apart: parsed again.
        let h2 = r#"{"alg":"HS256","kid":"k2"}"#;
        assert_eq!(kid(&mut s, &tok(h2, "{}")), Ok((Some("k2".into()), false, false, false)));
        assert_eq!(kid(&mut s, &tok(r#"{"alg":"HS256","kid":"k3"}"#, "{}")).unwrap().0.as_deref(), Some("k3"));
        // A header that does not parse is not remembered: refused every time,
        // and does not disturb the next good one.
        let bad = tok(r#"{"alg":"HS256","alg":"x"}"#, "{}");
        for _ in 0..2 {
            assert!(kid(&mut s, &bad).is_err());
            assert!(s.header.text.is_empty());
        }
        assert_eq!(kid(&mut s, &tok(h2, "{}")).unwrap().0.as_deref(), Some("k2"));
        // A good header with a bad payload is still remembered (and right).
        assert!(kid(&mut s, &tok(h1, "[")).is_err());
        assert_eq!(kid(&mut s, &tok(h1, "{}")).unwrap().0.as_deref(), Some("k1"));
        // Headers past MEMO_MAX are parsed every time.
        let long = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, "k".repeat(MEMO_MAX));
        for _ in 0..2 {
            assert_eq!(kid(&mut s, &tok(&long, "{}")).unwrap().0.map(|k| k.len()), Some(MEMO_MAX));
            assert!(s.header.text.is_empty());
        }
        // Escaped values are kept escaped, decoded on use.
        let esc = tok(r#"{"alg":"HS256","kid":"a\u0062"}"#, "{}");
        assert_eq!(kid(&mut s, &esc).unwrap().0.as_deref(), Some("ab"));
        assert_eq!(kid(&mut s, &esc).unwrap().0.as_deref(), Some("ab"));
    }

    #[test]
    fn registered_types() {
        assert!(parse_ok(r#"{"alg":"HS256"}"#, r#"{"exp":1,"nbf":2.5,"iat":1e3,"aud":["a"],"x":{}}"#));
        assert!(!parse_ok(r#"{"alg":1}"#, "{}"));
        assert!(!parse_ok(r#"{"kid":null}"#, "{}"));
        assert!(!parse_ok(r#"{"crit":"x"}"#, "{}"));
        assert!(!parse_ok(r#"{"crit":[1]}"#, "{}"));
        assert!(!parse_ok(r#"{"cty":1}"#, "{}"));
        assert!(!parse_ok("{}", r#"{"exp":"1"}"#));
        assert!(!parse_ok("{}", r#"{"aud":[1]}"#));
        assert!(!parse_ok("{}", r#"{"aud":{}}"#));
        assert!(!parse_ok("{}", r#"{"sub":1}"#));
        assert!(!parse_ok("{}", r#"{"\u0065xp":"1"}"#));
        assert!(parse_ok("{}", r#"{"scope":1,"scp":"x"}"#));
    }

    #[test]
    fn duplicates() {
        assert!(!parse_ok(r#"{"alg":"a","alg":"b"}"#, "{}"));
        assert!(!parse_ok("{}", r#"{"x":1,"\u0078":2}"#));
        let many: Vec<String> = (0..100).map(|i| format!("\"m{i}\":0")).collect();
        assert!(parse_ok("{}", &format!("{{{}}}", many.join(","))));
        assert!(!parse_ok("{}", &format!("{{{},\"m7\":1}}", many.join(","))));
        // Around the packed keys: 8-byte names, longer ones, NUL escapes,
        // and more names than the key table holds.
        assert!(!parse_ok("{}", r#"{"abcdefgh":1,"abcdefgh":2}"#));
        assert!(parse_ok("{}", r#"{"abcdefgh":1,"abcdefg":2,"abcdefghi":3}"#));
        assert!(!parse_ok("{}", r#"{"abcdefghi":1,"x":0,"abcdefghi":2}"#));
        assert!(!parse_ok("{}", r#"{"abcdefghi":1,"abcdefgh\u0069":2}"#));
        assert!(parse_ok("{}", r#"{"a":1,"a\u0000":2,"\u0000":3,"":4}"#));
        assert!(!parse_ok("{}", r#"{"a\u0000":1,"x":0,"a\u0000":2}"#));
        assert!(!parse_ok("{}", r#"{"":1,"":2}"#));
        assert!(!parse_ok(r#"{"\u0061lg":"a","alg":"b"}"#, "{}"));
        for n in [31, 32, 33, 40] {
            let names: Vec<String> = (0..n).map(|i| format!("\"n{i}\":0")).collect();
            assert!(parse_ok("{}", &format!("{{{}}}", names.join(","))), "{n}");
            assert!(!parse_ok("{}", &format!("{{{},\"n0\":1}}", names.join(","))), "{n}");
            assert!(!parse_ok("{}", &format!("{{{},\"n\\u0030\":1}}", names.join(","))), "{n}");
        }
    }

    #[test]
    fn keys_are_decoded_names() {
        let raw = |s: &'static str| RawStr { raw: s.as_bytes(), escaped: s.contains('\\') };
        assert_eq!(key(&raw("alg")), Some(ALG));
        assert_eq!(key(&raw(r"\u0061lg")), Some(ALG));
        assert_eq!(key(&raw(r"a\u006cg")), Some(ALG));
        assert_ne!(key(&raw("alg")), key(&raw("alg ")));
        assert_eq!(key(&raw("abcdefgh")), Some(u64::from_le_bytes(*b"abcdefgh")));
        assert_eq!(key(&raw("abcdefghi")), None);
        assert_eq!(key(&raw(r"abcdefg\u0068")), Some(u64::from_le_bytes(*b"abcdefgh")));
        assert_eq!(key(&raw(r"abcdefgh\u0069")), None);
        assert_eq!(key(&raw(r"a\u0000")), None);
        assert_eq!(key(&raw("")), Some(0));
    }

    #[test]
    fn has_claim_by_decoded_name() {
        let mut s = Buffers::default();
        let t = tok("{}", r#"{"a\u0062":1}"#);
        let p = parse(t.as_bytes(), &mut s).unwrap();
        assert!(p.has_claim(b"ab"));
        assert!(!p.has_claim(b"a"));
        let all = r#"{"exp":1,"iat":1,"nbf":1,"iss":"i","sub":"s","jti":"j","aud":"a","x":0}"#;
        for (doc, present) in [(all, true), ("{}", false)] {
            let t = tok("{}", doc);
            let p = parse(t.as_bytes(), &mut s).unwrap();
            for name in ["exp", "iat", "nbf", "iss", "sub", "jti", "aud", "x"] {
                assert_eq!(p.has_claim(name.as_bytes()), present, "{name} in {doc}");
            }
        }
        let t = tok("{}", r#"{"\u0065xp":1}"#);
        assert!(parse(t.as_bytes(), &mut s).unwrap().has_claim(b"exp"));
    }
}
