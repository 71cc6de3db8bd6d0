//! Is a 32-byte Ed25519 public key the encoding of a curve point (RFC 8032
//! §5.1.3)? Decided once, when a key loads.
//!
//! ring decodes the public key inside every verification and exposes no
//! check of its own, so a JWK whose `x` is not a point (a typo, a key of
//! another curve pasted in) used to load and then turn every token into
//! `bad_signature`, with nothing saying why. This answers it at load time.
//!
//! Only whether a square root exists is needed, not the point itself, so
//! this is Euler's criterion in GF(2^255 - 19): plain 4×64-bit limbs, fully
//! reduced after every operation, no constant-time care (public keys are
//! public) and no speed concern (it runs once per key, ~0.1 ms).

/// An element of GF(p), p = 2^255 - 19: little-endian 64-bit limbs, < p.
type Fe = [u64; 4];

const P: Fe = [0xffff_ffff_ffff_ffed, 0xffff_ffff_ffff_ffff, 0xffff_ffff_ffff_ffff, 0x7fff_ffff_ffff_ffff];
const ONE: Fe = [1, 0, 0, 0];

/// `a >= b` as 256-bit integers.
fn ge(a: &Fe, b: &Fe) -> bool {
    for i in (0..4).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

/// `a - b`, for `a >= b`.
fn sub_raw(a: &Fe, b: &Fe) -> Fe {
    let mut r = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        r[i] = d;
        borrow = b1 | b2;
    }
    debug_assert!(!borrow);
    r
}

/// `a + b` for sums below 2^256 (two elements, or an element and a small
/// number), and whether 2^256 was crossed.
fn add_raw(a: &Fe, b: &Fe) -> (Fe, bool) {
    let mut r = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (s, c1) = a[i].overflowing_add(b[i]);
        let (s, c2) = s.overflowing_add(carry as u64);
        r[i] = s;
        carry = c1 | c2;
    }
    (r, carry)
}

/// Reduce a value below 2^256 to below p (2^256 < 3p: two subtractions at most).
fn reduce(mut a: Fe) -> Fe {
    while ge(&a, &P) {
        a = sub_raw(&a, &P);
    }
    a
}

fn add(a: &Fe, b: &Fe) -> Fe {
    // Both below p < 2^255: the sum stays below 2^256.
    reduce(add_raw(a, b).0)
}

fn sub(a: &Fe, b: &Fe) -> Fe {
    if ge(a, b) {
        sub_raw(a, b)
    } else {
        // a + p - b: below p, and a + p < 2^256.
        sub_raw(&add_raw(a, &P).0, b)
    }
}

fn mul(a: &Fe, b: &Fe) -> Fe {
    // The 512-bit product, schoolbook.
    let mut t = [0u64; 8];
    for i in 0..4 {
        let mut carry = 0u128;
        for j in 0..4 {
            let x = t[i + j] as u128 + a[i] as u128 * b[j] as u128 + carry;
            t[i + j] = x as u64;
            carry = x >> 64;
        }
        t[i + 4] = carry as u64;
    }
    // 2^256 = 2p + 38 ≡ 38: fold the high half in, times 38 (≤ 2^262 + 2^256).
    let mut r = [0u64; 4];
    let mut carry = 0u128;
    for i in 0..4 {
        let x = t[i] as u128 + t[i + 4] as u128 * 38 + carry;
        r[i] = x as u64;
        carry = x >> 64;
    }
    // What is left above 2^256 (< 39), folded the same way; the sum can
    // cross 2^256 once more only when r was near it, leaving a tiny value.
    let (r, over) = add_raw(&r, &[carry as u64 * 38, 0, 0, 0]);
    let r = if over { add_raw(&r, &[38, 0, 0, 0]).0 } else { r };
    reduce(r)
}

/// `a^e`, square and multiply from the top bit.
fn pow(a: &Fe, e: &Fe) -> Fe {
    let mut r = ONE;
    for i in (0..256).rev() {
        r = mul(&r, &r);
        if e[i / 64] >> (i % 64) & 1 == 1 {
            r = mul(&r, a);
        }
    }
    r
}

/// `p - k` for a small `k`, as an exponent.
const fn p_minus(k: u64) -> Fe {
    [P[0] - k, P[1], P[2], P[3]]
}

/// `(p - 1) / 2`, the exponent of Euler's criterion.
const HALF: Fe = [0xffff_ffff_ffff_fff6, 0xffff_ffff_ffff_ffff, 0xffff_ffff_ffff_ffff, 0x3fff_ffff_ffff_ffff];

fn invert(a: &Fe) -> Fe {
    pow(a, &p_minus(2))
}

fn small(k: u64) -> Fe {
    [k, 0, 0, 0]
}

/// The curve constant d = -121665 / 121666.
fn d() -> Fe {
    sub(&[0; 4], &mul(&small(121665), &invert(&small(121666))))
}

/// Does `enc` decode to a point of Ed25519 (RFC 8032 §5.1.3): y below p,
/// x² = (y² - 1) / (d·y² + 1) a square, and not x = 0 with the sign bit
/// set? Small-order points are points: those are refused separately.
pub fn is_point(enc: &[u8; 32]) -> bool {
    let mut y = [0u64; 4];
    for (i, limb) in y.iter_mut().enumerate() {
        *limb = u64::from_le_bytes(enc[8 * i..8 * i + 8].try_into().expect("8 bytes"));
    }
    let sign = y[3] >> 63;
    y[3] &= !(1 << 63);
    if ge(&y, &P) {
        // Non-canonical: RFC 8032 says decoding fails.
        return false;
    }
    let y2 = mul(&y, &y);
    let u = sub(&y2, &ONE);
    let v = add(&mul(&d(), &y2), &ONE);
    if v == [0; 4] {
        // Cannot happen (-1/d is not a square), but never divide by zero.
        return false;
    }
    let x2 = mul(&u, &invert(&v));
    if x2 == [0; 4] {
        return sign == 0;
    }
    pow(&x2, &HALF) == ONE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &str) -> [u8; 32] {
        let v: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
        v.try_into().unwrap()
    }

    fn fe(h: &str) -> Fe {
        // Big-endian hex, as constants are usually written.
        let mut b = hex(h);
        b.reverse();
        let mut r = [0u64; 4];
        for (i, limb) in r.iter_mut().enumerate() {
            *limb = u64::from_le_bytes(b[8 * i..8 * i + 8].try_into().unwrap());
        }
        r
    }

    #[test]
    fn field_arithmetic() {
        // d as RFC 8032 §5.1 gives it.
        assert_eq!(d(), fe("52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3"));
        let p1 = p_minus(1);
        assert_eq!(mul(&p1, &p1), ONE, "(-1)² = 1");
        assert_eq!(add(&p1, &ONE), [0; 4]);
        assert_eq!(sub(&[0; 4], &ONE), p1);
        // sqrt(-1) = 2^((p-1)/4) squares to -1.
        let i = pow(&small(2), &[0xffff_ffff_ffff_fffb, !0, !0, 0x1fff_ffff_ffff_ffff]);
        assert_eq!(mul(&i, &i), p1);
        // a · a⁻¹ = 1 for values across the range, and Fermat.
        for a in [
            small(2),
            small(121666),
            p_minus(3),
            fe("7fffffffffffffffffffffffffffffff00000000000000000000000000000001"),
        ] {
            assert_eq!(mul(&a, &invert(&a)), ONE);
            assert_eq!(pow(&a, &p_minus(1)), ONE);
        }
        // Euler: 2 is a non-square mod p (p ≡ 5 mod 8), 4 a square.
        assert_eq!(pow(&small(2), &HALF), p1);
        assert_eq!(pow(&small(4), &HALF), ONE);
    }

    #[test]
    fn points_and_non_points() {
        // Worked out independently (Python integers, RFC 8032 §5.1.3):
        // random 32-byte strings that decode, and ones that do not.
        let points = [
            "4045c613a42ddf63a9025192753fe88988698039e5571078be15ec8a191f9fe7",
            "5a66746bf147a470437fe3e5e2022afe697829040f9abf3e6b02b4fbb3016e86",
            "4bac693563a9d52672dcb0e1f6e275a19d8b8104ebf76f108d13aa4b074e19b6",
            "3ed3b2b73e9df58b7c7fb7a4dc25ce5f423378120aab991e6ff98935a3ee0bb0",
            "4f3bd4e3d28c5a3f8e3013a8b36d3cb207a6404313dbd32184de28293a4bedfb",
            "2184a5f5556fb0f6df819bf1f2df76d2b13efca0ad49fa6281bb3a9da00e25f9",
            "cf6bebda90fccb11710f99cb0668234e173bf005e33adaa1bb14a5c6dc33ac6e",
            "4a2b62ed463522b11ac1e765e12414f0af21e04f88cdad66d0f2d4723b846133",
            "a95b09366f30dcf3df94e96e8beb2910b481320fc1eb0c3ef095284878a46dd7",
            "e384c1e600e1c72c903c02f69bc95c0134b00b5a92d954970d7a32e05a44d5c9",
            "f0ae68c752fd5a51047c021588aa4a9b78c2d13240d2fc177b7f9d93dd78ed49",
            "05faa6a6babaf69896cc176a472bb4f6902e79df88b81f44cc7e2fdb2382b4db",
            // RFC 8032 §7.1 test 1's public key.
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            // The identity (small order, but a point), and (0, -1).
            "0100000000000000000000000000000000000000000000000000000000000000",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ];
        let non_points = [
            "2a04853c676297f49960af089e606d3f5ebaed8958ee04100851e410f3f575e9",
            "b4693e84556d48b57f9f5a160b9d111fe1922c13fb47ac76808f60cd2c3d84e6",
            "d362f8a2f95213838d6093ce33627edd601aad0ffe1a316afcd6b0c4ba11dc0b",
            "57ebf08bf7647111f7367afc9bc226cb1392b09ef19ea38f3fce92ed54f8f652",
            "9393343f7dd16f829ac805d63cbc03b61eab90d56dadc00e19ea4c9ac4042e93",
            "1067238d67f1a018488847b2d5cc9801368223447b66f2799f8383cc272f24e9",
            "a984c26ddd0749a5f4bc1a887aa61fc19cd064a88dd1f449466a2ec9066051f1",
            "70626a382609d8e02990c70ec105e4347e90b8432fe195d0cd3c76c030d31af9",
            "986d8c6baf974646f3ac80f3263ee67b5fa0af006ee11c1aa179a1a4c2625cd1",
            "17ba944d3e0468b1a932ffcaccf087a19e2c6800bf14d7f954532e7e2861618d",
            "e4721d51bfe5547eea6f0a91bbe73dd6a67caa987daf03b93015b87ab9a053f9",
            "a4dd572a323d297d6f711ff4d88b8b8d5d1a353a58793a637ceba0c15a085293",
            // x = 0 with the sign bit set: y = 1 and y = -1.
            "0100000000000000000000000000000000000000000000000000000000000080",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ];
        for h in points {
            assert!(is_point(&hex(h)), "{h} is a point");
        }
        for h in non_points {
            assert!(!is_point(&hex(h)), "{h} is not a point");
        }
        // Non-canonical y (p ..= 2^255 - 1), either sign: never decodes.
        for k in 0..19u8 {
            let mut e = hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
            e[0] += k;
            for sign in [0, 0x80] {
                e[31] = 0x7f | sign;
                assert!(!is_point(&e), "p + {k}, sign {sign:#x}");
            }
        }
    }

    #[test]
    fn every_key_ring_makes_is_a_point() {
        use ring::signature::KeyPair;
        let rng = ring::rand::SystemRandom::new();
        for _ in 0..64 {
            let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            let kp = ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
            let pk: [u8; 32] = kp.public_key().as_ref().try_into().unwrap();
            assert!(is_point(&pk), "{pk:02x?}");
        }
    }
}
