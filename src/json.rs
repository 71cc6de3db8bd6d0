//! A strict RFC 8259 scanner that works in place, for JWT headers and payloads.
//!
//! serde_json would build a `Value` (a heap allocation per member) for every
//! token; this scanner validates the whole document, hands each top-level
//! member to the caller as borrowed slices and never allocates. It is strict
//! where SPEC §5 demands: UTF-8 only (no BOM), no comments, no trailing commas,
//! no NaN, no unpaired surrogate escapes, no numbers beyond a double, and a
//! bounded nesting depth so a hostile token cannot exhaust the stack.

use core::cmp::Ordering;

/// Deepest nesting accepted inside a header or payload. Real claims nest two
/// or three levels; the bound keeps recursion shallow on hostile input.
pub const MAX_DEPTH: usize = 64;

/// The document is not strict JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

type R<T> = Result<T, Malformed>;

/// A JSON string's contents between the quotes, still escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawStr<'a> {
    pub raw: &'a [u8],
    /// True when `raw` contains a backslash escape.
    pub escaped: bool,
}

/// One JSON value, borrowed from the document. Containers are kept as their
/// raw text (brackets included) and can be walked with [`array_items`].
#[derive(Clone, Copy, Debug)]
pub enum Value<'a> {
    Str(RawStr<'a>),
    Num { text: &'a [u8], value: f64 },
    Bool(bool),
    Null,
    Array(&'a [u8]),
    Object(&'a [u8]),
}

impl<'a> Value<'a> {
    /// The name of the value's JSON type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Num { .. } => "number",
            Value::Bool(_) => "boolean",
            Value::Null => "null",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

impl<'a> RawStr<'a> {
    /// Does the decoded string equal `lit`?
    #[inline]
    pub fn eq_bytes(&self, lit: &[u8]) -> bool {
        if !self.escaped {
            return self.raw == lit;
        }
        Decoded::new(self.raw).eq(lit.iter().copied())
    }

    /// Compare two strings by their decoded bytes.
    pub fn cmp_decoded(&self, other: &RawStr<'_>) -> Ordering {
        if !self.escaped && !other.escaped {
            return self.raw.cmp(other.raw);
        }
        Decoded::new(self.raw).cmp(Decoded::new(other.raw))
    }

    /// The decoded bytes, one at a time.
    pub fn decoded(&self) -> Decoded<'a> {
        Decoded::new(self.raw)
    }

    /// Length of the decoded string in bytes.
    pub fn decoded_len(&self) -> usize {
        if self.escaped {
            self.decoded().count()
        } else {
            self.raw.len()
        }
    }

    /// Append the decoded string to `out` (which should have room: this is
    /// used on reserved scratch buffers so the hot path does not allocate).
    pub fn decode_into(&self, out: &mut Vec<u8>) {
        if self.escaped {
            out.extend(self.decoded());
        } else {
            out.extend_from_slice(self.raw);
        }
    }

    /// The string as `&str` when it has no escapes (the document is UTF-8).
    pub fn as_unescaped_str(&self) -> Option<&'a str> {
        if self.escaped {
            None
        } else {
            core::str::from_utf8(self.raw).ok()
        }
    }
}

/// Iterator over the decoded UTF-8 bytes of a validated JSON string body.
#[derive(Clone)]
pub struct Decoded<'a> {
    raw: &'a [u8],
    i: usize,
    pending: [u8; 4],
    plen: u8,
    ppos: u8,
}

impl<'a> Decoded<'a> {
    fn new(raw: &'a [u8]) -> Self {
        Decoded { raw, i: 0, pending: [0; 4], plen: 0, ppos: 0 }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..4] {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | d as u32;
    }
    Some(v)
}

impl<'a> Iterator for Decoded<'a> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        if self.ppos < self.plen {
            let b = self.pending[self.ppos as usize];
            self.ppos += 1;
            return Some(b);
        }
        let c = *self.raw.get(self.i)?;
        if c != b'\\' {
            self.i += 1;
            return Some(c);
        }
        // The body was validated, so escapes are well formed here.
        let e = self.raw[self.i + 1];
        self.i += 2;
        let b = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            _ => {
                let mut cp = hex4(&self.raw[self.i..]).unwrap_or(0xfffd);
                self.i += 4;
                if (0xD800..0xDC00).contains(&cp) {
                    let lo = hex4(&self.raw[self.i + 2..]).unwrap_or(0xdc00);
                    self.i += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                let s = ch.encode_utf8(&mut self.pending);
                self.plen = s.len() as u8;
                self.ppos = 1;
                return Some(self.pending[0]);
            }
        };
        Some(b)
    }
}

/// Parse `doc` as a JSON object and call `member` for each top-level member,
/// in order. The whole document is validated, including nested values,
/// before this returns `Ok`; `member` may be called for members of a document
/// that later turns out malformed, so callers must not act on them until then.
pub fn for_each_member<'a, F>(doc: &'a [u8], member: F) -> R<()>
where
    F: FnMut(RawStr<'a>, Value<'a>) -> R<()>,
{
    match flat::Quotes::of(doc) {
        Some(quotes) => flat::members(doc, &quotes, member),
        None => members_general(doc, member),
    }
}

/// [`for_each_member`] for any document: UTF-8 check, then the scanner.
fn members_general<'a, F>(doc: &'a [u8], mut member: F) -> R<()>
where
    F: FnMut(RawStr<'a>, Value<'a>) -> R<()>,
{
    if core::str::from_utf8(doc).is_err() {
        return Err(Malformed);
    }
    let mut s = Scanner { b: doc, i: 0 };
    s.ws();
    s.expect(b'{')?;
    s.ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            s.ws();
            let name = s.string()?;
            s.ws();
            s.expect(b':')?;
            s.ws();
            let v = s.value(1)?;
            member(name, v)?;
            s.ws();
            match s.bump() {
                Some(b',') => continue,
                Some(b'}') => break,
                _ => return Err(Malformed),
            }
        }
    }
    s.ws();
    if s.i != doc.len() {
        return Err(Malformed);
    }
    Ok(())
}

/// Validate a complete JSON document of any type.
pub fn validate(doc: &[u8]) -> R<Value<'_>> {
    if core::str::from_utf8(doc).is_err() {
        return Err(Malformed);
    }
    let mut s = Scanner { b: doc, i: 0 };
    s.ws();
    let v = s.value(0)?;
    s.ws();
    if s.i != doc.len() {
        return Err(Malformed);
    }
    Ok(v)
}

/// Walk the items of an already validated array (`raw` includes brackets).
pub fn array_items<'a>(raw: &'a [u8]) -> ArrayItems<'a> {
    ArrayItems { s: Scanner { b: raw, i: 1 }, done: false }
}

pub struct ArrayItems<'a> {
    s: Scanner<'a>,
    done: bool,
}

impl<'a> Iterator for ArrayItems<'a> {
    type Item = Value<'a>;
    fn next(&mut self) -> Option<Value<'a>> {
        if self.done {
            return None;
        }
        self.s.ws();
        if self.s.peek() == Some(b']') {
            self.done = true;
            return None;
        }
        let v = self.s.value(1).ok()?;
        self.s.ws();
        if self.s.bump() != Some(b',') {
            self.done = true;
        }
        Some(v)
    }
}

/// The index of the first byte at or after `i` that ends a run of plain
/// string bytes: `"`, `\\` or a control character (or `b.len()`). Eight
/// bytes at a time: strings are most of a JWT payload.
#[inline]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        let q = x ^ (LO * b'"' as u64);
        let e = x ^ (LO * b'\\' as u64);
        // Zero bytes of q and e, and bytes below 0x20 of x. Each test's
        // lowest flag is exact (false flags only sit above a true one).
        let z = ((q.wrapping_sub(LO) & !q) | (e.wrapping_sub(LO) & !e) | (x.wrapping_sub(LO * 0x20) & !x)) & HI;
        if z != 0 {
            return i + (z.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}

/// Find the top-level member `name` of an already validated object. A
/// name given twice (a token's top level refuses that; a nested object
/// may have it) is the last one, as JavaScript, Python's `json`, Go's
/// `encoding/json` and serde_json read it: the C API, nginx and the
/// bindings then see the same claim value as the service behind them.
pub fn object_get<'a>(raw: &'a [u8], name: &[u8]) -> Option<Value<'a>> {
    let mut found = None;
    let _ = for_each_member(raw, |k, v| {
        if k.eq_bytes(name) {
            found = Some(v);
        }
        Ok(())
    });
    found
}

/// The fast path for the usual JWT header or payload: printable ASCII with
/// no backslash anywhere (so no escapes, no control characters, nothing
/// to check for UTF-8) and at most [`flat::MAX_LEN`] bytes. One pass finds
/// that out and marks every `"`; the top level is then walked quote to
/// quote, and nested values go to the general scanner. Same grammar, same
/// verdicts as the general path (a test holds the two together); documents
/// outside the fast path's preconditions are simply not taken.
mod flat {
    use super::{Malformed, RawStr, Scanner, Value, R};

    /// Longest document the fast path takes (a quote bitmap this long lives
    /// on the stack).
    pub const MAX_LEN: usize = 1024;
    const WORDS: usize = MAX_LEN / 64;

    /// Bit `i` set where `doc[i]` is `"`, for a document the fast path
    /// takes: at most `MAX_LEN` bytes of printable ASCII without a
    /// backslash, and compact (no space between its strings, numbers and
    /// punctuation; spaces inside strings are fine). Nearly every token's
    /// header and payload is such a document.
    pub struct Quotes {
        pub(super) bits: [u64; WORDS],
    }

    impl Quotes {
        /// The quote bitmap of `doc`, or `None` when the fast path does not
        /// take it.
        #[inline]
        pub fn of(doc: &[u8]) -> Option<Quotes> {
            if doc.len() > MAX_LEN {
                return None;
            }
            let mut bits = [0; WORDS];
            mark(doc, &mut bits).then_some(Quotes { bits })
        }
    }

    /// Mark the quotes of `doc` in `quotes` (AVX2 when the CPU has it); true
    /// when the fast path takes `doc` (see [`Quotes`]).
    #[inline]
    pub(super) fn mark(doc: &[u8], quotes: &mut [u64; WORDS]) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
                // SAFETY: the CPU supports AVX2 and POPCNT (checked just above).
                return unsafe { avx2::mark(doc, quotes) };
            }
        }
        mark_swar(doc, quotes)
    }

    /// Strings and spaces, `bits` bytes at a time (flags in the low bits,
    /// first byte lowest): the spaces outside strings, given `inside`, all
    /// ones when the bytes before were inside a string (updated). With no
    /// backslash, a byte is inside a string when an odd number of quotes
    /// come at or before it: the prefix XOR of the quote flags.
    #[inline(always)]
    fn spaces_outside(quotes: u64, spaces: u64, bits: u32, inside: &mut u64) -> u64 {
        if spaces == 0 {
            // Nearly every block: only whether an odd number of quotes went by.
            *inside ^= 0u64.wrapping_sub(quotes.count_ones() as u64 & 1);
            return 0;
        }
        let mut x = quotes;
        let mut shift = 1;
        while shift < bits {
            x ^= x << shift;
            shift *= 2;
        }
        let ins = x ^ *inside;
        *inside = 0u64.wrapping_sub(ins >> (bits - 1) & 1);
        spaces & !ins
    }

    /// Eight bytes at a time: flag the quotes (into the bitmap), the bytes
    /// that rule the fast path out (control, non-ASCII, backslash) and the
    /// spaces outside strings (either: false).
    pub(super) fn mark_swar(doc: &[u8], quotes: &mut [u64; WORDS]) -> bool {
        const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
        const ONE: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        // 0x80 in each byte of x that is zero, exactly (no borrow between bytes).
        let zero = |x: u64| !(((x & LO7).wrapping_add(LO7)) | x | LO7);
        // The eight flags (0x80 per byte) gathered into eight bits.
        let gather = |f: u64| (f >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        let mut bad = 0u64;
        let mut outside = 0u64;
        let mut inside = 0u64;
        let mut chunks = doc.chunks_exact(8);
        for (n, c) in (&mut chunks).enumerate() {
            let x = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            // High bit set (non-ASCII), below 0x20 (0x20 + 0x60 = 0x80), or `\`.
            bad |= x | ((x & LO7).wrapping_add(ONE * 0x60) ^ HI) | zero(x ^ (ONE * b'\\' as u64));
            let q = gather(zero(x ^ (ONE * b'"' as u64)));
            outside |= spaces_outside(q, gather(zero(x ^ (ONE * b' ' as u64))), 8, &mut inside);
            quotes[n / 8] |= q << (n % 8 * 8);
        }
        let done = doc.len() - chunks.remainder().len();
        for (k, &c) in chunks.remainder().iter().enumerate() {
            let i = done + k;
            bad |= ((!(0x20..0x80).contains(&c) || c == b'\\') as u64) << 7;
            let q = (c == b'"') as u64;
            outside |= spaces_outside(q, (c == b' ') as u64, 1, &mut inside);
            quotes[i / 64] |= q << (i % 64);
        }
        bad & HI == 0 && outside == 0
    }

    #[cfg(target_arch = "x86_64")]
    mod avx2 {
        use super::WORDS;
        use core::arch::x86_64::*;

        /// [`super::mark_swar`], 32 bytes at a time.
        ///
        /// # Safety
        /// The CPU must support AVX2 and POPCNT.
        #[target_feature(enable = "avx2,popcnt")]
        pub unsafe fn mark(doc: &[u8], quotes: &mut [u64; WORDS]) -> bool {
            let quote = _mm256_set1_epi8(b'"' as i8);
            let backslash = _mm256_set1_epi8(b'\\' as i8);
            // As signed bytes, everything below 0x20 and everything from 0x80
            // up is less than 0x20.
            let space = _mm256_set1_epi8(0x20);
            let mut bad = _mm256_setzero_si256();
            let mut outside = 0u64;
            let mut inside = 0u64;
            // One 32-byte block, of which the last `len` bytes are new: their
            // quote bits (low bits), their bad bytes and outside spaces noted.
            let mut block = |x: __m256i, len: u32| {
                let b = _mm256_or_si256(_mm256_cmpgt_epi8(space, x), _mm256_cmpeq_epi8(x, backslash));
                bad = _mm256_or_si256(bad, b);
                let q = _mm256_movemask_epi8(_mm256_cmpeq_epi8(x, quote)) as u32 >> (32 - len);
                let s = _mm256_movemask_epi8(_mm256_cmpeq_epi8(x, space)) as u32 >> (32 - len);
                outside |= super::spaces_outside(q as u64, s as u64, len, &mut inside);
                q as u64
            };
            let mut chunks = doc.chunks_exact(32);
            for (n, c) in (&mut chunks).enumerate() {
                // SAFETY: `c` is 32 bytes long.
                quotes[n / 2] |= block(_mm256_loadu_si256(c.as_ptr().cast()), 32) << (n % 2 * 32);
            }
            let rest = chunks.remainder().len();
            if rest > 0 {
                if doc.len() < 32 {
                    return super::mark_swar(doc, quotes);
                }
                // The last 32 bytes, overlapping what is done: their first
                // `32 - rest` were checked already (checking them again
                // changes nothing) and their bits are shifted out.
                let done = doc.len() - rest;
                // SAFETY: doc.len() >= 32, so the 32 bytes before its end exist.
                let q = block(_mm256_loadu_si256(doc.as_ptr().add(doc.len() - 32).cast()), rest as u32);
                quotes[done / 64] |= q << (done % 64);
            }
            _mm256_testz_si256(bad, bad) == 1 && outside == 0
        }
    }

    /// The quotes of a document in order, taken as the walk passes them.
    /// Taking the next one clears the lowest bit of the current word: from
    /// one string to the next the walk waits on a bit operation, not on a
    /// search from the position it has just computed.
    struct Cursor<'q> {
        bits: &'q [u64; WORDS],
        w: usize,
        /// The current word, the quotes already taken cleared.
        cur: u64,
    }

    impl<'q> Cursor<'q> {
        fn new(quotes: &'q Quotes) -> Self {
            Cursor { bits: &quotes.bits, w: 0, cur: quotes.bits[0] }
        }

        /// The first quote not taken yet.
        #[inline(always)]
        fn take(&mut self) -> Option<usize> {
            while self.cur == 0 {
                self.w += 1;
                self.cur = *self.bits.get(self.w)?;
            }
            let at = self.w * 64 + self.cur.trailing_zeros() as usize;
            self.cur &= self.cur - 1;
            Some(at)
        }

        /// Drop the quotes before `i` (a value the general scanner read).
        fn skip_to(&mut self, i: usize) {
            self.w = i / 64;
            self.cur = self.bits.get(self.w).map_or(0, |&x| x & (!0u64 << (i % 64)));
        }
    }

    /// A NumericDate-like integer at `i` (no sign, fraction or exponent, at
    /// most 15 digits, so exact in a double): its value and the index after
    /// it. Anything else is left to the general scanner.
    #[inline(always)]
    fn integer(b: &[u8], i: usize) -> Option<(Value<'_>, usize)> {
        let mut j = i;
        let mut n = 0u64;
        // Eight digits at once when there are eight (a NumericDate has ten).
        if let Some(w) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            const HI: u64 = 0xF0F0_F0F0_F0F0_F0F0;
            const ZEROS: u64 = 0x3030_3030_3030_3030;
            // Every byte 0x30..=0x39: high nibble 3, and adding 6 to the byte
            // does not carry out of its low nibble.
            if w & HI == ZEROS && w.wrapping_add(0x0606_0606_0606_0606) & HI == ZEROS {
                let d = w - ZEROS;
                // Pairs, then quads, then the eight (first digit in the low byte).
                let d = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
                let d = (d.wrapping_mul(100) + (d >> 16)) & 0x0000_FFFF_0000_FFFF;
                n = (d.wrapping_mul(10000) + (d >> 32)) & 0xFFFF_FFFF;
                j += 8;
            }
        }
        while let Some(&c) = b.get(j) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // Wrapping: past 15 digits the value is not used (the general
            // scanner parses those), and a long run must not overflow.
            n = n.wrapping_mul(10).wrapping_add(d as u64);
            j += 1;
        }
        let digits = j - i;
        let plain = !matches!(b.get(j), Some(b'.' | b'e' | b'E'));
        // "0" is fine, "01" is not: the general scanner says so.
        if plain && digits <= 15 && (digits == 1 || b[i] != b'0') {
            // At most 15 digits: below 2^63, so the signed conversion (one
            // instruction) is exact.
            Some((Value::Num { text: &b[i..j], value: n as i64 as f64 }, j))
        } else {
            None
        }
    }

    /// Any value at `*i`, nested containers included, by the general
    /// scanner; the quotes it went past are dropped from `q`.
    fn general<'a>(b: &'a [u8], i: &mut usize, q: &mut Cursor<'_>) -> R<Value<'a>> {
        let mut s = Scanner { b, i: *i };
        let v = s.value(1)?;
        *i = s.i;
        q.skip_to(s.i);
        Ok(v)
    }

    /// `for_each_member` on a document `Quotes::of` accepted.
    pub fn members<'a, F>(b: &'a [u8], quotes: &Quotes, mut member: F) -> R<()>
    where
        F: FnMut(RawStr<'a>, Value<'a>) -> R<()>,
    {
        // Compact: the object's braces are the first and last bytes.
        let n = b.len();
        if n < 2 || b[0] != b'{' || b[n - 1] != b'}' {
            return Err(Malformed);
        }
        if n == 2 {
            return Ok(());
        }
        // Every quote opens or closes a string (there is no backslash), so
        // the strings are the quotes taken two by two.
        let mut q = Cursor::new(quotes);
        let mut i = 1;
        loop {
            // A name opens here: the next quote is this byte.
            if q.take() != Some(i) {
                return Err(Malformed);
            }
            let end = q.take().ok_or(Malformed)?;
            let name = RawStr { raw: b.get(i + 1..end).ok_or(Malformed)?, escaped: false };
            if b.get(end + 1) != Some(&b':') {
                return Err(Malformed);
            }
            i = end + 2;
            let v = match b.get(i) {
                Some(b'"') => {
                    // Its opening quote is the next one: nothing between the
                    // name's closing quote and here is a quote.
                    let open = q.take();
                    debug_assert_eq!(open, Some(i));
                    let end = q.take().ok_or(Malformed)?;
                    let s = RawStr { raw: b.get(i + 1..end).ok_or(Malformed)?, escaped: false };
                    i = end + 1;
                    Value::Str(s)
                }
                Some(b'0'..=b'9') => match integer(b, i) {
                    Some((v, j)) => {
                        i = j;
                        v
                    }
                    None => general(b, &mut i, &mut q)?,
                },
                _ => general(b, &mut i, &mut q)?,
            };
            member(name, v)?;
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') if i == n - 1 => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }
}

#[derive(Clone)]
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    #[inline]
    fn expect(&mut self, c: u8) -> R<()> {
        if self.bump() == Some(c) {
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// At a `"`: scan the string, validate its escapes, return its body.
    fn string(&mut self) -> R<RawStr<'a>> {
        self.expect(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.i = skip_plain(self.b, self.i);
            let c = self.bump().ok_or(Malformed)?;
            match c {
                b'"' => break,
                0..=0x1f => return Err(Malformed),
                b'\\' => {
                    escaped = true;
                    match self.bump().ok_or(Malformed)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let cp = hex4(&self.b[self.i..]).ok_or(Malformed)?;
                            self.i += 4;
                            if (0xD800..0xDC00).contains(&cp) {
                                // A high surrogate must be followed by a low one.
                                let rest = &self.b[self.i..];
                                if rest.len() < 6 || rest[0] != b'\\' || rest[1] != b'u' {
                                    return Err(Malformed);
                                }
                                let lo = hex4(&rest[2..]).ok_or(Malformed)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(Malformed);
                                }
                                self.i += 6;
                            } else if (0xDC00..0xE000).contains(&cp) {
                                return Err(Malformed);
                            }
                        }
                        _ => return Err(Malformed),
                    }
                }
                _ => {}
            }
        }
        Ok(RawStr { raw: &self.b[start..self.i - 1], escaped })
    }

    fn digits(&mut self) -> usize {
        let s = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - s
    }

    fn number(&mut self) -> R<Value<'a>> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let int_start = self.i;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(Malformed),
        }
        let int_digits = &self.b[int_start..self.i];
        let mut simple = true;
        if self.peek() == Some(b'.') {
            simple = false;
            self.i += 1;
            if self.digits() == 0 {
                return Err(Malformed);
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            simple = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(Malformed);
            }
        }
        let text = &self.b[start..self.i];
        // NumericDates are nearly always plain integers: up to 15 digits are
        // exact in a double, so convert them without the float parser.
        if simple && int_digits.len() <= 15 {
            let n = int_digits.iter().fold(0u64, |n, &d| n * 10 + (d - b'0') as u64) as f64;
            return Ok(Value::Num { text, value: if negative { -n } else { n } });
        }
        // The grammar above is ASCII, so this cannot fail; the parse is
        // correctly rounded (core's float parser) and overflows to infinity.
        let s = core::str::from_utf8(text).map_err(|_| Malformed)?;
        let value: f64 = s.parse().map_err(|_| Malformed)?;
        if !value.is_finite() {
            return Err(Malformed);
        }
        Ok(Value::Num { text, value })
    }

    fn literal(&mut self, lit: &[u8]) -> R<()> {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    fn value(&mut self, depth: usize) -> R<Value<'a>> {
        match self.peek().ok_or(Malformed)? {
            b'"' => Ok(Value::Str(self.string()?)),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal(b"true").map(|_| Value::Bool(true)),
            b'f' => self.literal(b"false").map(|_| Value::Bool(false)),
            b'n' => self.literal(b"null").map(|_| Value::Null),
            b'[' => {
                let start = self.i;
                self.array(depth + 1)?;
                Ok(Value::Array(&self.b[start..self.i]))
            }
            b'{' => {
                let start = self.i;
                self.object(depth + 1)?;
                Ok(Value::Object(&self.b[start..self.i]))
            }
            _ => Err(Malformed),
        }
    }

    fn array(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        self.expect(b'[')?;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.bump() {
                Some(b',') => continue,
                Some(b']') => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }

    fn object(&mut self, depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(Malformed);
        }
        self.expect(b'{')?;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.bump() {
                Some(b',') => continue,
                Some(b'}') => return Ok(()),
                _ => return Err(Malformed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(doc: &str) -> R<Vec<(Vec<u8>, &'static str)>> {
        let mut out = Vec::new();
        for_each_member(doc.as_bytes(), |k, v| {
            out.push((k.decoded().collect(), v.type_name()));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn accepts_strict_json() {
        let m = members(r#" {"a":1,"b":"x","c":[1,{"d":null}],"e":true,"f":false,"g":-0.5e+3} "#).unwrap();
        assert_eq!(m.len(), 6);
        assert_eq!(m[2], (b"c".to_vec(), "array"));
        assert!(members("{}").unwrap().is_empty());
    }

    #[test]
    fn rejects_what_rfc8259_rejects() {
        for bad in [
            "",
            "[]",
            "1",
            "\u{feff}{}",
            "{} x",
            "{,}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{'a':1}"#,
            r#"{"a":NaN}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":+1}"#,
            r#"{"a":1e400}"#,
            r#"{"a":-1e400}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":tru}"#,
            r#"{/*c*/"a":1}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":"\u12"}"#,
        ] {
            assert!(members(bad).is_err(), "accepted {bad:?}");
        }
        assert!(for_each_member(b"{\"a\":\"\xff\"}", |_, _| Ok(())).is_err());
        let big = format!("{{\"a\":{}}}", "9".repeat(310));
        assert!(members(&big).is_err());
    }

    /// Every member as (name, value text or type), or the error.
    fn trace(doc: &[u8], fast: bool) -> R<Vec<(Vec<u8>, String)>> {
        let mut out = Vec::new();
        let f = |k: RawStr<'_>, v: Value<'_>| {
            let v = match v {
                Value::Str(s) => format!("s{:?}{}", s.raw, s.escaped),
                Value::Num { text, value } => format!("n{text:?}{}", value.to_bits()),
                Value::Array(r) | Value::Object(r) => format!("c{r:?}"),
                other => other.type_name().to_string(),
            };
            out.push((k.raw.to_vec(), v));
            Ok(())
        };
        if fast {
            let q = flat::Quotes::of(doc).ok_or(Malformed)?;
            flat::members(doc, &q, f)?;
        } else {
            members_general(doc, f)?;
        }
        Ok(out)
    }

    #[test]
    fn fast_path_agrees_with_the_general_scanner() {
        let seeds: [&[u8]; 9] = [
            br#"{"a":0,"b":123456789012345,"c":1234567890123456,"d":-0,"e":1e5,"f":0.5,"g":10}"#,
            br#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#,
            br#" { "iss" : "https://a.example" , "aud" : ["x", "y"], "exp": 1700000000, "n":null } "#,
            br#"{"a":{"b":[1,2,{"c":"d"}]},"t":true,"f":false,"x":-1.5e3,"e":"","s":"a b"}"#,
            br#"{}"#,
            br#"{"a":1}"#,
            br#"{"scope":"read write","scp":["a"],"nbf":0,"iat":12.5}"#,
            br#"{"":"","x":[],"y":{}}"#,
            br#"{"q":"x\"y","z":"\u0041"}"#,
        ];
        let bytes = [
            b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b' ', b'\t', b'\n', 0, 0x1f, 0x7f, 0x80, 0xc3, b'a', b'1',
            b'-', b'e', b'.', b'n', b't',
        ];
        let fast_taken = core::cell::Cell::new(0);
        let check = |doc: &[u8]| {
            let general = trace(doc, false);
            if flat::Quotes::of(doc).is_some() {
                fast_taken.set(fast_taken.get() + 1);
                assert_eq!(trace(doc, true), general, "{:?}", String::from_utf8_lossy(doc));
            } else {
                // Not taken by the fast path: there is a reason in the bytes.
                assert!(
                    doc.len() > flat::MAX_LEN
                        || doc.iter().any(|&c| !(0x20..0x80).contains(&c) || c == b'\\')
                        || space_between_strings(doc)
                );
            }
            // And the public entry point agrees with the general scanner.
            let mut n = 0;
            assert_eq!(
                for_each_member(doc, |_, _| {
                    n += 1;
                    Ok(())
                })
                .is_ok(),
                general.is_ok()
            );
        };
        for seed in seeds {
            check(seed);
            for at in 0..=seed.len() {
                for &c in &bytes {
                    let mut d = seed.to_vec();
                    d.insert(at, c);
                    check(&d);
                    if at < seed.len() {
                        let mut d = seed.to_vec();
                        d[at] = c;
                        check(&d);
                    }
                }
                if at < seed.len() {
                    let mut d = seed.to_vec();
                    d.remove(at);
                    check(&d);
                }
            }
        }
        assert!(fast_taken.get() > 1000, "{}", fast_taken.get());
        // Around the 32- and 64-byte blocks of the quote bitmap, and its limit.
        for len in [30usize, 31, 32, 33, 62, 63, 64, 65, 95, 96, 97, 127, 128, 129, 1000, 1014, 1015, 1016, 1100] {
            let pad = len.saturating_sub(10);
            let doc = format!("{{\"k\":\"{}\"}}", "v".repeat(pad));
            check(doc.as_bytes());
            let doc = format!("{{\"{}\":1}}", "n".repeat(pad));
            check(doc.as_bytes());
            let doc = format!("{{\"k\":\"{}\\\"}}", "v".repeat(pad));
            check(doc.as_bytes());
            // Spaces inside a long string, and between strings past a word.
            let doc = format!("{{\"k\":\"{}\",\"l\": 1}}", "v ".repeat(pad / 2));
            check(doc.as_bytes());
        }
        let long = format!("{{\"k\":\"{}\"}}", "v".repeat(flat::MAX_LEN));
        assert!(flat::Quotes::of(long.as_bytes()).is_none());
        assert!(for_each_member(long.as_bytes(), |_, _| Ok(())).is_ok());
    }

    /// Does `doc` have a space outside its strings (counting every quote)?
    fn space_between_strings(doc: &[u8]) -> bool {
        let mut inside = false;
        doc.iter().any(|&c| {
            inside ^= c == b'"';
            c == b' ' && !inside
        })
    }

    #[test]
    fn quote_bitmaps_agree() {
        // The AVX2 and SWAR markers give the same bitmap and verdict, and
        // tell the spaces between strings from those inside them.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let (mut inside_only, mut between) = (0, 0);
        for len in 0..300usize {
            for round in 0..20 {
                let doc: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        match round % 4 {
                            0 => b" \"a{"[(state % 4) as usize],
                            // Few spaces: often only inside strings.
                            3 => b"\"aaaaaaaaaaaaaa "[(state % 16) as usize],
                            _ => (state >> 8) as u8 % if round % 4 == 1 { 0x80 } else { 0xff },
                        }
                    })
                    .collect();
                let mut swar = [0u64; flat::MAX_LEN / 64];
                let taken = flat::mark_swar(&doc, &mut swar);
                let plain = doc.iter().all(|&c| (0x20..0x80).contains(&c) && c != b'\\');
                let spaced = space_between_strings(&doc);
                assert_eq!(taken, plain && !spaced, "{:?}", String::from_utf8_lossy(&doc));
                if plain {
                    let want: Vec<usize> = doc.iter().enumerate().filter(|(_, &c)| c == b'"').map(|(i, _)| i).collect();
                    let got: Vec<usize> = (0..len).filter(|&i| swar[i / 64] >> (i % 64) & 1 == 1).collect();
                    assert_eq!(got, want);
                    (inside_only, between) =
                        (inside_only + (!spaced && doc.contains(&b' ')) as usize, between + spaced as usize);
                }
                let mut best = [0u64; flat::MAX_LEN / 64];
                assert_eq!(flat::mark(&doc, &mut best), taken);
                if plain {
                    assert_eq!(best, swar);
                }
                assert_eq!(flat::Quotes::of(&doc).map(|q| q.bits), taken.then_some(swar));
            }
        }
        assert!(inside_only > 100 && between > 100, "{inside_only} {between}");
    }

    #[test]
    fn skip_plain_stops_exactly() {
        for len in 0..20usize {
            for at in 0..=len {
                for stop in [b'"', b'\\', 0x00, 0x1f] {
                    let mut v = vec![b'a'; len];
                    v.iter_mut().skip(1).step_by(3).for_each(|c| *c = 0xc3); // non-ASCII is plain
                    if at < len {
                        v[at] = stop;
                    }
                    let want = v.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).unwrap_or(len);
                    assert_eq!(skip_plain(&v, 0), want);
                }
            }
        }
    }

    #[test]
    fn integers_take_the_fast_path_exactly() {
        for (text, want) in [
            ("0", 0.0f64),
            ("-0", -0.0),
            ("1700000000", 1.7e9),
            ("999999999999999", 999999999999999.0),
            ("9999999999999999", 1e16),
            ("12345678901234567890", 1.2345678901234567e19),
            ("-17", -17.0),
            ("12345678", 12345678.0),
            ("99999999", 99999999.0),
            ("123456789", 123456789.0),
            ("10000000.5", 10000000.5),
            ("87654321e2", 8765432100.0),
            ("4294967296", 4294967296.0),
            ("123456789012345678901234567890", 1.2345678901234568e29),
        ] {
            let doc = format!("{{\"n\":{text}}}");
            let mut got = None;
            for_each_member(doc.as_bytes(), |_, v| {
                if let Value::Num { value, .. } = v {
                    got = Some(value);
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(got.unwrap().to_bits(), want.to_bits(), "{text}");
        }
        for bad in ["00000000", "012345678", "1234567x", "12345678.", "1234/678"] {
            assert!(for_each_member(format!("{{\"n\":{bad}}}").as_bytes(), |_, _| Ok(())).is_err(), "{bad}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(members(&ok).is_ok());
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(members(&deep).is_err());
        let very = format!("{{\"a\":{}", "[".repeat(1_000_000));
        assert!(members(&very).is_err());
    }

    #[test]
    fn decodes_escapes_and_surrogates() {
        let m = members(r#"{"\u0048S\/\n\ud83d\ude00\u00e9":0}"#).unwrap();
        assert_eq!(m[0].0, "HS/\n😀é".as_bytes());
        let mut v = Vec::new();
        for_each_member(br#"{"k":"a\"b"}"#, |_, val| {
            if let Value::Str(s) = val {
                assert!(s.eq_bytes(b"a\"b"));
                assert_eq!(s.decoded_len(), 3);
                s.decode_into(&mut v);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(v, b"a\"b");
    }

    #[test]
    fn compares_decoded() {
        let a = RawStr { raw: br"\u0061b", escaped: true };
        let b = RawStr { raw: b"ab", escaped: false };
        let c = RawStr { raw: b"ac", escaped: false };
        assert_eq!(a.cmp_decoded(&b), Ordering::Equal);
        assert_eq!(a.cmp_decoded(&c), Ordering::Less);
    }

    #[test]
    fn walks_arrays_and_objects() {
        let items: Vec<_> = array_items(br#"[ "a" , 2 ,[3]]"#).map(|v| v.type_name()).collect();
        assert_eq!(items, ["string", "number", "array"]);
        assert_eq!(array_items(b"[ ]").count(), 0);
        let v = object_get(br#"{"x":{"y":1},"z":"q"}"#, b"z").unwrap();
        assert!(matches!(v, Value::Str(s) if s.raw == b"q"));
        assert!(object_get(br#"{"x":1}"#, b"nope").is_none());
        // A name given twice: the last, as other JSON parsers read it.
        let v = object_get(br#"{"r":["user"],"q":1,"r":["admin"]}"#, b"r").unwrap();
        assert!(matches!(v, Value::Array(b"[\"admin\"]")));
    }
}
