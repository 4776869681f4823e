/// Redis's `string2ll`: optional `-`, no `+`, no leading zeros, no `-0`, no
/// spaces, and no overflow. Matching it exactly means a length header that
/// Redis rejects is rejected here too.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (&first, rest) = digits.split_first()?;
    if !(b'1'..=b'9').contains(&first) {
        return None;
    }
    let mut magnitude = u64::from(first - b'0');
    for &digit in rest {
        if !digit.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_i64;

    #[test]
    fn accepts_what_string2ll_accepts() {
        let cases: [(&[u8], i64); 6] = [
            (b"0", 0),
            (b"7", 7),
            (b"-1", -1),
            (b"1024", 1024),
            (b"9223372036854775807", i64::MAX),
            (b"-9223372036854775808", i64::MIN),
        ];
        for (text, value) in cases {
            assert_eq!(parse_i64(text), Some(value), "{text:?}");
        }
    }

    #[test]
    fn rejects_what_string2ll_rejects() {
        let cases: [&[u8]; 12] = [
            b"",
            b"-",
            b"-0",
            b"+1",
            b"01",
            b" 1",
            b"1 ",
            b"1a",
            b"0x10",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"99999999999999999999",
        ];
        for text in cases {
            assert_eq!(parse_i64(text), None, "{text:?}");
        }
    }
}
