//! Constant-time comparison for secrets (MACs, password hashes).

/// Are `a` and `b` equal? Takes time that depends only on their lengths.
#[inline(never)]
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Eight bytes at a time (the compiler widens it further): a token
    // cache hit compares a whole token this way.
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a8.remainder().iter().zip(b8.remainder()).fold(0u64, |acc, (x, y)| acc | u64::from(x ^ y));
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("8 bytes"));
    let acc = a8.zip(b8).fold(tail, |acc, (x, y)| acc | (word(x) ^ word(y)));
    core::hint::black_box(acc) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn eq() {
        assert!(super::eq(b"abc", b"abc"));
        assert!(!super::eq(b"abc", b"abd"));
        assert!(!super::eq(b"abc", b"ab"));
        assert!(super::eq(b"", b""));
        // Every position, in the words and in the tail.
        let a: Vec<u8> = (0..37).collect();
        for i in 0..a.len() {
            let mut b = a.clone();
            b[i] ^= 0x80;
            assert!(!super::eq(&a, &b), "{i}");
        }
        assert!(super::eq(&a, &a.clone()));
    }
}
