//! Integer helpers: exact `floor(a·b/d)` over 256-bit products, and the counter-based hash that
//! stands in for a seeded RNG (any draw is a pure function of its coordinates, so the walk can
//! be read at any tick in any order).

/// Parts per billion: the scale of every multiplier in the model (1 bps = 100,000 ppb).
pub(crate) const PPB: i64 = 1_000_000_000;
/// One basis point in ppb.
pub(crate) const BPS: i64 = 100_000;
/// Prices and values are held in quanta of `10^-27` quote units: fine enough that a base unit
/// of the cheapest, most divisible token allowed (`1e-9` per whole token, 18 decimals) is
/// still a whole quantum, small enough that `1e11` quote units of depth fit a `u128`.
pub(crate) const QUANTA: u128 = 1_000_000_000_000_000_000_000_000_000;

/// The full 256-bit product of two `u128`s as `(high, low)` halves.
pub(crate) fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const LOW: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & LOW);
    let (b1, b0) = (b >> 64, b & LOW);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // At most 3 · (2^64 − 1): no overflow.
    let mid = (p00 >> 64) + (p01 & LOW) + (p10 & LOW);
    let low = (p00 & LOW) | (mid << 64);
    let high = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (high, low)
}

/// `(floor(a·b/d), a·b mod d)`, exact for any operands; `None` when `d == 0` or the quotient
/// does not fit a `u128`.
pub(crate) fn mul_div_rem(a: u128, b: u128, d: u128) -> Option<(u128, u128)> {
    if d == 0 {
        return None;
    }
    let (high, low) = mul_wide(a, b);
    if high == 0 {
        return Some((low / d, low % d));
    }
    if high >= d {
        return None;
    }
    // Restoring long division of (high, low) by d, one bit at a time. `rem < d` holds before
    // every step; the shifted value can reach 2^128 (the carry), and is then certainly ≥ d.
    let mut rem = high;
    let mut quotient = 0u128;
    for bit in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((low >> bit) & 1);
        quotient <<= 1;
        if carry != 0 || rem >= d {
            rem = rem.wrapping_sub(d);
            quotient |= 1;
        }
    }
    Some((quotient, rem))
}

/// `floor(a·b/d)`; `None` on a zero divisor or a quotient beyond `u128`.
pub(crate) fn mul_div(a: u128, b: u128, d: u128) -> Option<u128> {
    mul_div_rem(a, b, d).map(|(q, _)| q)
}

/// `value × (PPB + ppb) / PPB`, for a multiplier `ppb > −PPB`; `None` on overflow.
pub(crate) fn scale_ppb(value: u128, ppb: i64) -> Option<u128> {
    let factor = u128::try_from(PPB + ppb).ok()?;
    mul_div(value, factor, PPB as u128)
}

/// SplitMix64's finaliser: a bijective, well-mixed 64-bit hash.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The draw at coordinates `(stream, a, b)` of the generator seeded with `seed`.
pub(crate) fn draw(seed: u64, stream: u64, a: u64, b: u64) -> u64 {
    mix(mix(mix(seed ^ mix(stream)) ^ a) ^ b)
}

/// A uniform integer in `[low, high]` from a draw (the modulo bias is below 2^-40 for the
/// ranges the model uses).
pub(crate) fn uniform(h: u64, low: u64, high: u64) -> u64 {
    low + h % (high - low + 1)
}

/// FNV-1a of a string: a stable key for a mint or venue name (stable across Rust versions and
/// configuration order, unlike `DefaultHasher` or an index).
pub(crate) fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `10^exp` for `exp ≤ 38`.
pub(crate) fn pow10(exp: u32) -> u128 {
    10u128.pow(exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn big(x: u128) -> BigUint {
        BigUint::from(x)
    }

    fn any_u128() -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>(),
            any::<u64>().prop_map(u128::from),
            (0u32..128).prop_map(|s| 1u128 << s),
            (0u32..128).prop_map(|s| (1u128 << s) - 1),
            Just(u128::MAX),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn mul_wide_matches_bigint(a in any_u128(), b in any_u128()) {
            let (high, low) = mul_wide(a, b);
            prop_assert_eq!((big(high) << 128u32) + big(low), big(a) * big(b));
        }

        #[test]
        fn mul_div_matches_bigint(a in any_u128(), b in any_u128(), d in any_u128()) {
            let exact = if d == 0 { None } else {
                let q = big(a) * big(b) / big(d);
                let r = big(a) * big(b) % big(d);
                u128::try_from(q).ok().map(|q| (q, u128::try_from(r).expect("r < d")))
            };
            prop_assert_eq!(mul_div_rem(a, b, d), exact);
        }
    }

    #[test]
    fn scale_ppb_rounds_down() {
        assert_eq!(scale_ppb(1_000, -1), Some(999));
        assert_eq!(scale_ppb(1_000, 0), Some(1_000));
        assert_eq!(scale_ppb(u128::MAX, PPB), None);
        assert_eq!(scale_ppb(10, -PPB - 1), None);
    }

    #[test]
    fn draws_are_spread_and_seeded() {
        assert_ne!(draw(1, 2, 3, 4), draw(2, 2, 3, 4));
        assert_ne!(draw(1, 2, 3, 4), draw(1, 2, 4, 3));
        let ones: u32 = (0..1024).map(|i| (draw(7, 0, i, 0) & 1) as u32).sum();
        assert!((412..612).contains(&ones), "{ones}");
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
