//! Short index keys: the index needs only *some* key between two blocks, not a real one.
//!
//! A shorter key makes the in-memory index smaller. Shortening only ever changes the user
//! key (to one strictly between the neighbours) and then pairs it with the largest trailer,
//! which sorts before every real version of that user key.

use crate::key::{MAX_KIND, MAX_SEQNO, make_internal_key, user_key};

/// An internal key `k` with `last <= k < next`, where `last < next`.
pub fn separator(last: &[u8], next: &[u8]) -> Vec<u8> {
    let (lu, nu) = (user_key(last), user_key(next));
    let common = lu.iter().zip(nu).take_while(|(a, b)| a == b).count();
    if let (Some(&lb), Some(&nb)) = (lu.get(common), nu.get(common))
        && common + 1 < lu.len()
        && lb < 0xff
        && lb + 1 < nb
    {
        let mut s = lu[..=common].to_vec();
        s[common] = lb + 1;
        return make_internal_key(&s, MAX_SEQNO, MAX_KIND);
    }
    last.to_vec()
}

/// An internal key `k >= last`, shorter when possible (for the final block).
pub fn successor(last: &[u8]) -> Vec<u8> {
    let lu = user_key(last);
    if let Some(i) = lu.iter().position(|&b| b != 0xff)
        && i + 1 < lu.len()
    {
        let mut s = lu[..=i].to_vec();
        s[i] += 1;
        return make_internal_key(&s, MAX_SEQNO, MAX_KIND);
    }
    last.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::compare_internal;
    use std::cmp::Ordering::*;

    #[test]
    fn separators_fall_between_neighbours() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"abcdef", b"abzzz"),
            (b"abcdef", b"abd"),
            (b"a", b"b"),
            (b"a\xff\xff", b"b"),
            (b"abc", b"abc"),
            (b"", b"a"),
            (b"ab", b"abc"),
        ];
        for &(l, n) in cases {
            let last = make_internal_key(l, 7, 1);
            let next = make_internal_key(n, if l == n { 3 } else { 9 }, 1);
            let s = separator(&last, &next);
            assert_ne!(compare_internal(&s, &last), Less, "{l:?} {n:?}");
            assert_eq!(compare_internal(&s, &next), Less, "{l:?} {n:?}");
            assert!(s.len() <= last.len());
        }
        assert_eq!(
            user_key(&separator(
                &make_internal_key(b"abcdef", 1, 1),
                &make_internal_key(b"abzz", 1, 1)
            )),
            b"abd"
        );
        for l in [&b"abc"[..], b"\xff\xffa", b"\xff\xff", b""] {
            let last = make_internal_key(l, 7, 1);
            assert_ne!(compare_internal(&successor(&last), &last), Less);
        }
        assert_eq!(user_key(&successor(&make_internal_key(b"abc", 1, 1))), b"b");
    }
}
