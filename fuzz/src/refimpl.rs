//! Reference implementations the harnesses compare warden with. Each is
//! written from the RFC / SPEC text, as plainly as possible, and shares no
//! code with warden: a strict RFC 8259 parser (with duplicate detection and
//! depth counting), strict base64 decoders (RFC 4648 §4 and §5), CRC-32 and
//! base62, and the `Authorization` split of SPEC §5.

/// A parsed JSON value. Objects keep every member, duplicates included, in
/// order, with names unescaped.
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn get(&self, name: &str) -> Option<&J> {
        match self {
            J::Obj(m) => m.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            J::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// Does this object have a member name twice at its own level?
    pub fn has_top_level_duplicate(&self) -> bool {
        match self {
            J::Obj(m) => (1..m.len()).any(|i| m[..i].iter().any(|(k, _)| *k == m[i].0)),
            _ => false,
        }
    }

    /// Does any object, at any depth, have a member name twice?
    pub fn has_duplicate_anywhere(&self) -> bool {
        match self {
            J::Obj(m) => self.has_top_level_duplicate() || m.iter().any(|(_, v)| v.has_duplicate_anywhere()),
            J::Arr(a) => a.iter().any(J::has_duplicate_anywhere),
            _ => false,
        }
    }
}

/// Parse one complete JSON document (RFC 8259: UTF-8, no BOM, optional
/// insignificant whitespace around one value). `max_depth` bounds container
/// nesting, counting the outermost container as 1. Numbers must be finite as
/// a double.
pub fn parse_json(doc: &[u8], max_depth: usize) -> Option<J> {
    let text = core::str::from_utf8(doc).ok()?;
    let mut p = P { b: text.as_bytes(), i: 0, max_depth };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    (p.i == p.b.len()).then_some(v)
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
    max_depth: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<J> {
        match self.peek()? {
            b'{' => {
                if depth + 1 > self.max_depth {
                    return None;
                }
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.eat(b'}').is_some() {
                    return Some(J::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    m.push((k, v));
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Some(J::Obj(m));
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                if depth + 1 > self.max_depth {
                    return None;
                }
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.eat(b']').is_some() {
                    return Some(J::Arr(a));
                }
                loop {
                    self.ws();
                    a.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(J::Arr(a));
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(J::Str),
            b't' => self.word(b"true", J::Bool(true)),
            b'f' => self.word(b"false", J::Bool(false)),
            b'n' => self.word(b"null", J::Null),
            _ => self.number(),
        }
    }

    fn word(&mut self, w: &[u8], v: J) -> Option<J> {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            Some(v)
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<J> {
        let start = self.i;
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() {
            let d = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            if self.i == d {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let d = self.i;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            if self.i == d {
                return None;
            }
        }
        let text = core::str::from_utf8(&self.b[start..self.i]).ok()?;
        let v: f64 = text.parse().ok()?;
        v.is_finite().then_some(J::Num(v))
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        let s = core::str::from_utf8(h).ok()?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(s, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            // The document is valid UTF-8: copy whole characters.
            let rest = core::str::from_utf8(&self.b[self.i..]).ok()?;
            let c = rest.chars().next()?;
            self.i += c.len_utf8();
            match c {
                '"' => return Some(out),
                '\u{0}'..='\u{1f}' => return None,
                '\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                self.eat(b'\\')?;
                                self.eat(b'u')?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return None;
                            } else {
                                hi
                            };
                            out.push(char::from_u32(cp)?);
                        }
                        _ => return None,
                    }
                }
                c => out.push(c),
            }
        }
    }
}

/// Deepest nesting warden accepts in a JWT header or payload (`json::MAX_DEPTH`),
/// counting the outer object as 1.
pub const JWT_MAX_DEPTH: usize = 64;

fn b64_value(c: u8, url: bool) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' if url => 62,
        b'_' if url => 63,
        b'+' if !url => 62,
        b'/' if !url => 63,
        _ => return None,
    } as u32)
}

fn b64_bits(s: &[u8], url: bool) -> Option<Vec<u8>> {
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        acc = (acc << 6) | b64_value(c, url)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // RFC 4648 §3.5: the unused bits of the last character must be zero.
    (acc == 0).then_some(out)
}

/// RFC 4648 §5 base64url without padding, canonical (RFC 7515 §2).
pub fn b64url(s: &[u8]) -> Option<Vec<u8>> {
    b64_bits(s, true)
}

/// RFC 4648 §4 base64 with the padding RFC 7617 requires, canonical.
pub fn b64std_padded(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 4 != 0 {
        return None;
    }
    let pad = s.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let body = &s[..s.len() - pad];
    if pad > 0 && body.len() % 4 != 4 - pad {
        return None;
    }
    b64_bits(body, false)
}

/// Unpadded base64url encoding (for building tokens).
pub fn b64url_encode(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(b.len() * 4 / 3 + 3);
    for chunk in b.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &x)| acc | (x as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Padded standard base64 encoding (for Basic credentials).
pub fn b64std_encode(b: &[u8]) -> String {
    let mut s: String = b64url_encode(b)
        .chars()
        .map(|c| {
            if c == '-' {
                '+'
            } else if c == '_' {
                '/'
            } else {
                c
            }
        })
        .collect();
    while s.len() % 4 != 0 {
        s.push('=');
    }
    s
}

/// CRC-32 (IEEE 802.3 / zlib), bit by bit.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// Six base62 digits (`0-9A-Za-z`), most significant first.
pub fn base62_6(mut v: u32) -> String {
    const D: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = D[(v % 62) as usize];
        v /= 62;
    }
    String::from_utf8(out.to_vec()).unwrap()
}

/// SPEC §1/§5 API key format, for a key whose configured prefix is `prefix`:
/// `<prefix>_<≥30 base62><6 base62 CRC-32 of everything before>`.
pub fn api_key_format_ok(key: &[u8], prefix: &str) -> bool {
    let Some(rest) = key.strip_prefix(prefix.as_bytes()).and_then(|r| r.strip_prefix(b"_")) else {
        return false;
    };
    if rest.len() < 36 || !rest.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (body, sum) = key.split_at(key.len() - 6);
    base62_6(crc32(body)).as_bytes() == sum
}

/// SPEC §5: trim spaces/tabs, then `scheme 1*SP credentials`; the
/// credentials hold no space or tab.
pub fn split_authorization(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
    let start = v.iter().position(|c| !is_ws(c))?;
    let end = v.len() - v.iter().rev().position(|c| !is_ws(c))?;
    let v = &v[start..end];
    let sp = v.iter().position(|&c| c == b' ')?;
    let (scheme, rest) = v.split_at(sp);
    let cred = &rest[rest.iter().position(|&c| c != b' ')?..];
    if scheme.is_empty() || cred.iter().any(is_ws) {
        return None;
    }
    Some((scheme, cred))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_pieces() {
        assert_eq!(b64url(b"YQ").unwrap(), b"a");
        assert!(b64url(b"YR").is_none());
        assert_eq!(b64std_padded(b"YTpiYw==").unwrap(), b"a:bc");
        assert!(b64std_padded(b"YTpiYw=").is_none());
        assert_eq!(b64url_encode(b"\xff\xef"), "_-8");
        assert_eq!(b64std_encode(b"a:bc"), "YTpiYw==");
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(base62_6(0xFFFF_FFFF), "4gfFC3");
        assert!(parse_json(br#"{"a":[1,{"b":"\ud83d\ude00"}]}"#, 64).is_some());
        assert!(parse_json(br#"{"a":"\ud800"}"#, 64).is_none());
        assert!(parse_json(b"{\"a\":1e400}", 64).is_none());
        assert!(parse_json(br#"{"a":1,"a":2}"#, 64).unwrap().has_top_level_duplicate());
    }
}
