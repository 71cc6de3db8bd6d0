//! Reusable working memory for verification, owned by the caller.
//!
//! A verify call decodes the token and writes the result's strings into a
//! [`Scratch`]; the buffers keep their capacity between calls, so once a
//! scratch has seen a credential of a given size, verifying another one of
//! that size allocates nothing. Keep one per thread (or per request slot) and
//! reuse it.

use crate::json::RawStr;
use crate::jwt::token::HeaderMemo;
use crate::runtime::{retirements, View};
use crate::stats::Tally;
use std::sync::Arc;

/// Caller-owned working memory for `Verifier::verify_*`.
///
/// A scratch also keeps the verifier state (configuration snapshot, caches,
/// run-time revocations) that its last verifications read, for up to four
/// verifiers, so that the next verification needs no atomic
/// read-modify-write to get it: it only checks, with one plain load, that
/// no verifier has replaced a state since. Four, so that hosts sharing
/// scratches between a few verifiers (nginx locations with their own
/// configs, a verifier per tenant) do not trade one state for another on
/// every call. A state its verifier has replaced, or a dropped verifier's,
/// is let go at the scratch's next verification (with any verifier); the
/// others when the scratch needs the room or is dropped. Likewise it owns a
/// shard of each of those verifiers' counters, so that counting a verdict
/// needs no atomic read-modify-write either.
#[derive(Default)]
pub struct Scratch {
    pub(crate) bufs: Buffers,
    pub(crate) views: Views,
}

// A scratch moves between threads (a request slot, a C result handed to a
// worker): what it keeps, the views included, must allow that.
const _: fn() = || {
    fn movable<T: Send + Sync>() {}
    movable::<Scratch>();
};

/// The most verifiers whose state one scratch keeps at once.
pub(crate) const VIEW_SLOTS: usize = 4;

/// The verifier states a scratch keeps (see [`Scratch`]).
#[derive(Default)]
pub(crate) struct Views {
    /// Most recently used first: the last verification's is `slots[0]`.
    pub(crate) slots: [ViewSlot; VIEW_SLOTS],
    /// [`retirements`] when the slots were last swept of retired views.
    seen: u64,
}

/// One verifier's state in a scratch.
#[derive(Default)]
pub(crate) struct ViewSlot {
    /// The verifier it belongs to (`Inner::id`; 0: free).
    pub(crate) owner: u64,
    /// Its view, once loaded.
    pub(crate) view: Option<Arc<View>>,
    /// The shard of that verifier's counters this scratch counts into.
    pub(crate) tally: Option<Tally>,
}

impl Views {
    /// The slot for verifier `owner`, free of retired views: the first one
    /// when it is that verifier's and no view was retired since (one compare
    /// and one load); the second, swapped to the front, when calls alternate
    /// between two verifiers; else found or made by [`Views::find`].
    #[inline]
    pub(crate) fn slot(&mut self, owner: u64) -> &mut ViewSlot {
        let fresh = retirements() == self.seen;
        if !(fresh && self.slots[0].owner == owner) {
            if fresh && self.slots[1].owner == owner {
                self.slots.swap(0, 1);
            } else {
                self.find(owner);
            }
        }
        &mut self.slots[0]
    }

    /// The slow way to [`Views::slot`]: let go of retired views (with their
    /// slots: their verifier was dropped, or claims again after its reload),
    /// then bring `owner`'s slot to the front — found, or else a free one or
    /// the least recently used, emptied for it.
    #[cold]
    #[inline(never)]
    fn find(&mut self, owner: u64) {
        // The count before the flags: a view retired after this read is
        // seen at the next call.
        let now = retirements();
        if now != self.seen {
            for s in &mut self.slots {
                if s.view.as_ref().is_some_and(|v| v.is_retired()) {
                    *s = ViewSlot::default();
                }
            }
            self.seen = now;
        }
        let i = match self.slots.iter().position(|s| s.owner == owner) {
            Some(i) => i,
            None => {
                let i = self.slots.iter().position(|s| s.owner == 0).unwrap_or(VIEW_SLOTS - 1);
                self.slots[i] = ViewSlot { owner, view: None, tally: None };
                i
            }
        };
        for j in (0..i).rev() {
            self.slots.swap(j, j + 1);
        }
    }
}

impl Scratch {
    /// A scratch sized for tokens of up to 8 KiB, so that even the first
    /// verification through it allocates nothing.
    pub fn new() -> Scratch {
        let mut s = Scratch::default();
        s.bufs.reserve(8192);
        s
    }
}

/// The buffers of a [`Scratch`]: what a verdict's strings borrow.
#[derive(Default)]
pub(crate) struct Buffers {
    /// Decoded header, payload and signature.
    pub(crate) dec: Vec<u8>,
    /// Strings of the result (subject, kid, scopes, ...), unescaped.
    pub(crate) out: Vec<u8>,
    /// Scope spans into `out`.
    pub(crate) scopes: Vec<Span>,
    /// Member names of the document being parsed.
    pub(crate) names: Vec<NameSpan>,
    /// The last JWT header parsed (kept across calls: not cleared).
    pub(crate) header: HeaderMemo,
}

impl Buffers {
    /// Do the `len` bytes at `p` lie (partly) in memory of these buffers
    /// that a result hands out (its strings and the payload)? A host may
    /// pass such bytes back, a token nested in a claim say; verifying them
    /// here would overwrite them while they are read.
    pub(crate) fn holds(&self, p: *const u8, len: usize) -> bool {
        let (a, b) = (p as usize, (p as usize).saturating_add(len));
        let overlaps = |v: &Vec<u8>| {
            let s = v.as_ptr() as usize;
            a < s + v.capacity() && s < b
        };
        len > 0 && (overlaps(&self.dec) || overlaps(&self.out))
    }

    /// Make room for a credential of `len` bytes. Cheap when there is room.
    #[inline]
    pub(crate) fn reserve(&mut self, len: usize) {
        // A decoded segment is at most 3/4 of its text; the output strings are
        // copies of decoded bytes plus a little (kid, key id), so the token
        // length plus 512 bytes bounds both.
        let need = len + 512;
        if self.dec.capacity() < need {
            self.dec.reserve(need);
        }
        if self.out.capacity() < need {
            self.out.reserve(need);
        }
        if self.scopes.capacity() < 64 {
            self.scopes.reserve(64);
        }
        if self.names.capacity() < 64 {
            self.names.reserve(64);
        }
        self.header.reserve(len);
    }

    #[inline]
    pub(crate) fn clear(&mut self) {
        self.dec.clear();
        self.out.clear();
        self.scopes.clear();
        self.names.clear();
    }
}

/// A range of `Buffers::out`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    #[inline]
    pub(crate) fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start as usize..(self.start + self.len) as usize]
    }

    /// The span's text. Spans hold decoded JSON strings or config strings,
    /// which are UTF-8; anything else reads as "".
    #[inline]
    pub(crate) fn text<'a>(&self, buf: &'a [u8]) -> &'a str {
        let b = self.get(buf);
        // Names, ids and subjects are nearly always ASCII, which a word-wise
        // test confirms in a few instructions; the general check costs ~5
        // per byte on short strings, and every accepted credential reaches
        // here for its subject and kid through the C ABI.
        if b.is_ascii() {
            // SAFETY: ASCII bytes are valid UTF-8.
            return unsafe { core::str::from_utf8_unchecked(b) };
        }
        core::str::from_utf8(b).unwrap_or("")
    }

    /// Append `bytes` to `out` and return where they went.
    #[inline]
    pub(crate) fn push(out: &mut Vec<u8>, bytes: &[u8]) -> Span {
        let start = out.len() as u32;
        out.extend_from_slice(bytes);
        Span { start, len: bytes.len() as u32 }
    }

    /// Append the decoded JSON string `s` to `out` and return where it went.
    #[inline]
    pub(crate) fn push_json(out: &mut Vec<u8>, s: &RawStr<'_>) -> Span {
        let start = out.len();
        s.decode_into(out);
        Span { start: start as u32, len: (out.len() - start) as u32 }
    }
}

/// A JSON member name inside a document: offsets, plus whether it has escapes.
#[derive(Clone, Copy, Debug)]
pub struct NameSpan {
    start: u32,
    len: u32,
    escaped: bool,
    /// The name packed into a word, where the parser computed one.
    pub(crate) key: u64,
}

impl NameSpan {
    /// Where `name` (a slice of `doc`) lies in `doc`.
    #[inline]
    pub(crate) fn of(doc: &[u8], name: RawStr<'_>) -> NameSpan {
        let start = name.raw.as_ptr() as usize - doc.as_ptr() as usize;
        NameSpan { start: start as u32, len: name.raw.len() as u32, escaped: name.escaped, key: 0 }
    }

    /// Offset of the name's first byte in its document.
    #[inline]
    pub(crate) fn start(&self) -> usize {
        self.start as usize
    }

    #[inline]
    pub(crate) fn get<'a>(&self, doc: &'a [u8]) -> RawStr<'a> {
        RawStr { raw: &doc[self.start as usize..(self.start + self.len) as usize], escaped: self.escaped }
    }
}

#[cfg(test)]
mod tests {
    use super::Span;

    #[test]
    fn span_text_is_the_utf8_text_or_empty() {
        let mut out = Vec::new();
        let cases: [(&[u8], &str); 5] = [
            (b"user_2Nf8kQ4tXb7LmZ9pR3vW", "user_2Nf8kQ4tXb7LmZ9pR3vW"),
            (b"", ""),
            ("caf\u{e9} \u{1f510} j\u{f6}rg".as_bytes(), "caf\u{e9} \u{1f510} j\u{f6}rg"),
            (b"abc\xff", ""),
            (b"0123456789abcdef0123456789abcdef\xc3", ""),
        ];
        let spans: Vec<Span> = cases.iter().map(|(b, _)| Span::push(&mut out, b)).collect();
        for (s, (_, want)) in spans.iter().zip(cases) {
            assert_eq!(s.text(&out), want);
        }
    }
}
