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
}

/// A token that passed every `malformed` check. `'t` borrows the token text,
/// `'a` the scratch buffers it was decoded into.
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
        self.names.iter().any(|n| n.get(self.payload).eq_bytes(name))
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

/// Split, decode and parse `token`. The caller has checked its size.
pub fn parse<'t, 'a>(
    token: &'t [u8],
    dec: &'a mut Vec<u8>,
    names: &'a mut Vec<NameSpan>,
) -> Result<Parsed<'t, 'a>, Malformed> {
    // Exactly three segments: two dots here, and a third one cannot hide in
    // the signature segment because `.` is outside the base64url alphabet.
    let d1 = find_byte(token, b'.').ok_or(Malformed)?;
    let d2 = d1 + 1 + find_byte(&token[d1 + 1..], b'.').ok_or(Malformed)?;
    let (h64, p64, s64) = (&token[..d1], &token[d1 + 1..d2], &token[d2 + 1..]);

    dec.clear();
    names.clear();
    let hr = b64::decode_url_append(h64, dec).ok_or(Malformed)?;
    let pr = b64::decode_url_append(p64, dec).ok_or(Malformed)?;
    let sr = b64::decode_url_append(s64, dec).ok_or(Malformed)?;
    let dec: &'a [u8] = dec;
    let (hdoc, pdoc) = (&dec[hr], &dec[pr]);

    let mut header = Header::default();
    json::for_each_member(hdoc, |name, v| {
        names.push(NameSpan::of(hdoc, name));
        // Registered header parameters of the wrong type are malformed.
        let mut buf = [0u8; 8];
        match short_name(&name, &mut buf) {
            b"alg" => header.alg = Some(string(v)?),
            b"kid" => header.kid = Some(string(v)?),
            b"typ" => header.typ = Some(string(v)?),
            b"cty" => {
                string(v)?;
            }
            b"crit" => {
                let Value::Array(raw) = v else { return Err(Malformed) };
                if !json::array_items(raw).all(|i| matches!(i, Value::Str(_))) {
                    return Err(Malformed);
                }
                header.crit = true;
            }
            _ => {}
        }
        Ok(())
    })?;
    if has_duplicate(hdoc, names) {
        return Err(Malformed);
    }
    names.clear();

    let mut c = Claims::default();
    json::for_each_member(pdoc, |name, v| {
        names.push(NameSpan::of(pdoc, name));
        let mut buf = [0u8; 8];
        match short_name(&name, &mut buf) {
            b"exp" => c.exp = Some(date(v)?),
            b"nbf" => c.nbf = Some(date(v)?),
            b"iat" => c.iat = Some(date(v)?),
            b"iss" => c.iss = Some(string(v)?),
            b"sub" => c.sub = Some(string(v)?),
            b"jti" => c.jti = Some(string(v)?),
            b"aud" => {
                c.aud = Some(match v {
                    Value::Str(s) => Aud::One(s),
                    Value::Array(raw) => {
                        if !json::array_items(raw).all(|i| matches!(i, Value::Str(_))) {
                            return Err(Malformed);
                        }
                        Aud::Many(raw)
                    }
                    _ => return Err(Malformed),
                })
            }
            b"scope" => {
                if let Value::Str(s) = v {
                    c.scope = Some(s);
                }
            }
            b"scp" => {
                if let Value::Array(raw) = v {
                    c.scp = Some(raw);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if has_duplicate(pdoc, names) {
        return Err(Malformed);
    }
    let names: &'a [NameSpan] = names;
    Ok(Parsed { header, claims: c, signing_input: &token[..d2], signature: &dec[sr], payload: pdoc, names })
}

/// The first `needle` in `hay`, eight bytes at a time.
#[inline]
fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let rep = LO * needle as u64;
    let mut chunks = hay.chunks_exact(8);
    for (n, c) in (&mut chunks).enumerate() {
        let x = u64::from_le_bytes(c.try_into().expect("8 bytes")) ^ rep;
        // A zero byte of x is a match; the lowest flagged byte is exact.
        let z = x.wrapping_sub(LO) & !x & HI;
        if z != 0 {
            return Some(n * 8 + (z.trailing_zeros() / 8) as usize);
        }
    }
    let done = hay.len() - chunks.remainder().len();
    chunks.remainder().iter().position(|&b| b == needle).map(|p| done + p)
}

/// A member name as bytes for matching against the registered names (all
/// of them at most 5 bytes): the raw text when unescaped, else decoded into
/// `buf`. Longer names come back as they are and match nothing registered.
#[inline]
fn short_name<'n>(name: &RawStr<'n>, buf: &'n mut [u8; 8]) -> &'n [u8] {
    if !name.escaped || name.raw.len() > 6 * buf.len() {
        return name.raw;
    }
    let mut n = 0;
    for b in name.decoded() {
        if n == buf.len() {
            return name.raw;
        }
        buf[n] = b;
        n += 1;
    }
    &buf[..n]
}

/// Is any member name given twice (compared after unescaping)?
fn has_duplicate(doc: &[u8], names: &mut [NameSpan]) -> bool {
    // Fast path for the usual object: a few unescaped names of at most 8
    // bytes, compared as (length, packed bytes) words.
    if names.len() <= 24 {
        let mut keys = [(0u64, 0usize); 24];
        let mut short = true;
        for (k, n) in keys.iter_mut().zip(names.iter()) {
            let r = n.get(doc);
            if r.escaped || r.raw.len() > 8 {
                short = false;
                break;
            }
            let mut b = [0u8; 8];
            b[..r.raw.len()].copy_from_slice(r.raw);
            *k = (u64::from_le_bytes(b), r.raw.len());
        }
        if short {
            let keys = &keys[..names.len()];
            return keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k));
        }
    }
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
    use crate::scratch::Scratch;

    fn tok(h: &str, p: &str) -> String {
        format!("{}.{}.c2ln", b64::encode(&b64::URL, h.as_bytes()), b64::encode(&b64::URL, p.as_bytes()))
    }

    fn parse_ok(h: &str, p: &str) -> bool {
        let mut s = Scratch::new();
        let t = tok(h, p);
        parse(t.as_bytes(), &mut s.dec, &mut s.names).is_ok()
    }

    #[test]
    fn segments() {
        let mut s = Scratch::new();
        for bad in ["", "a", "a.b", "a.b.c.d", "a.b.c.d.e", "..", "e30.e30.c2ln."] {
            assert!(parse(bad.as_bytes(), &mut s.dec, &mut s.names).is_err(), "{bad}");
        }
        assert!(parse(b"e30.e30.", &mut s.dec, &mut s.names).is_ok());
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
    }

    #[test]
    fn has_claim_by_decoded_name() {
        let mut s = Scratch::new();
        let t = tok("{}", r#"{"a\u0062":1}"#);
        let p = parse(t.as_bytes(), &mut s.dec, &mut s.names).unwrap();
        assert!(p.has_claim(b"ab"));
        assert!(!p.has_claim(b"a"));
    }
}
