//! Doubles spelled the way Redis's `d2string` spells them, so replies such as
//! `ZSCORE` and `INCRBYFLOAT` read the same as from Redis.

/// `nan`, `inf`, `-inf`, `0`, `-0`; integral values up to 2^62 as integers;
/// everything else as the shortest digits that round-trip, laid out with the
/// rules of Redis's `fpconv_dtoa` (plain up to 7 zeros of padding, otherwise
/// `d.ddde+XX`). Redis finds its digits with Grisu2, which in rare cases emits
/// one more digit than the shortest; the value read back is identical.
pub(crate) fn format_double(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let integral_limit = (i64::MAX / 2) as f64;
    if value.fract() == 0.0 && (-integral_limit..=integral_limit).contains(&value) {
        return format!("{}", value as i64);
    }
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let ndigits = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    // Redis's K: the value is `digits * 10^k`.
    let k = exponent - (ndigits - 1);
    let mut out = String::with_capacity(32);
    if value < 0.0 {
        out.push('-');
    }
    emit_digits(&digits, k, &mut out);
    out
}

fn emit_digits(digits: &[u8], k: i32, out: &mut String) {
    let ndigits = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let exp = (k + ndigits - 1).abs();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    if k >= 0 && exp < ndigits + 7 {
        out.push_str(&text(digits));
        out.extend(std::iter::repeat_n('0', k.unsigned_abs() as usize));
        return;
    }
    if k < 0 && (k > -7 || exp < 4) {
        let offset = ndigits - k.abs();
        if offset <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', offset.unsigned_abs() as usize));
            out.push_str(&text(digits));
        } else {
            let (int, frac) = digits.split_at(offset.unsigned_abs() as usize);
            out.push_str(&text(int));
            out.push('.');
            out.push_str(&text(frac));
        }
        return;
    }
    // Shortest digits never exceed 17, so Redis's truncation to 18 - sign
    // digits never applies.
    let (first, rest) = digits.split_at(1.min(digits.len()));
    out.push_str(&text(first));
    if !rest.is_empty() {
        out.push('.');
        out.push_str(&text(rest));
    }
    out.push('e');
    out.push(if k + ndigits - 1 < 0 { '-' } else { '+' });
    out.push_str(&exp.to_string());
}

#[cfg(test)]
mod tests {
    use super::format_double;

    #[test]
    fn spells_doubles_like_redis() {
        let cases = [
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-42.0, "-42"),
            (1.5, "1.5"),
            (-0.25, "-0.25"),
            (0.1, "0.1"),
            (0.001, "0.001"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
            (2.71, "2.71"),
            (1e15, "1000000000000000"),
            (4611686018427387904.0, "4611686018427387904"),
            (1e19, "1e+19"),
            (12345678901234567890.0, "12345678901234567000"),
            (1e20, "1e+20"),
            (1e300, "1e+300"),
            (-1.2345e-300, "-1.2345e-300"),
            (123456.789, "123456.789"),
            (0.000123, "0.000123"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        ];
        for (value, text) in cases {
            assert_eq!(format_double(value), text, "{value:e}");
        }
    }

    #[test]
    fn spelling_round_trips() {
        for value in [0.1, 1.0 / 3.0, 2.5e-5, 6.02214076e23, -9.109e-31, 1e21] {
            let text = format_double(value);
            assert_eq!(text.parse::<f64>().ok(), Some(value), "{text}");
        }
    }
}
