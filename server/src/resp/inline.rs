//! Inline commands, as typed into telnet or sent by old clients, split with
//! the exact rules of Redis's `sdssplitargs` so a line means the same thing
//! here as there.

/// Splits one inline request line (without its line terminator) into
/// arguments; `None` means the quotes are unbalanced.
///
/// Redis hands the line to C string code, so a NUL byte ends it: whatever
/// follows is ignored. We truncate at the NUL to get the same result.
pub(crate) fn split_inline(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = match line.iter().position(|&b| b == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    let at = |i: usize| line.get(i).copied();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_c_space) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut arg = Vec::new();
        let mut quote = Quote::None;
        loop {
            match quote {
                Quote::Double => match at(i) {
                    Some(b'\\')
                        if at(i + 1) == Some(b'x')
                            && at(i + 2).and_then(hex_value).is_some()
                            && at(i + 3).and_then(hex_value).is_some() =>
                    {
                        let high = at(i + 2).and_then(hex_value)?;
                        let low = at(i + 3).and_then(hex_value)?;
                        arg.push(high * 16 + low);
                        i += 4;
                    }
                    Some(b'\\') if at(i + 1).is_some() => {
                        arg.push(unescape(at(i + 1)?));
                        i += 2;
                    }
                    Some(b'"') => {
                        closing_quote_ok(at(i + 1))?;
                        i += 1;
                        break;
                    }
                    None => return None,
                    Some(byte) => {
                        arg.push(byte);
                        i += 1;
                    }
                },
                Quote::Single => match at(i) {
                    Some(b'\\') if at(i + 1) == Some(b'\'') => {
                        arg.push(b'\'');
                        i += 2;
                    }
                    Some(b'\'') => {
                        closing_quote_ok(at(i + 1))?;
                        i += 1;
                        break;
                    }
                    None => return None,
                    Some(byte) => {
                        arg.push(byte);
                        i += 1;
                    }
                },
                Quote::None => match at(i) {
                    // Only these four end a bare word; `\v` and `\f` do not,
                    // although they count as blanks between words.
                    Some(b' ' | b'\n' | b'\r' | b'\t') => {
                        i += 1;
                        break;
                    }
                    None => break,
                    Some(b'"') => {
                        quote = Quote::Double;
                        i += 1;
                    }
                    Some(b'\'') => {
                        quote = Quote::Single;
                        i += 1;
                    }
                    Some(byte) => {
                        arg.push(byte);
                        i += 1;
                    }
                },
            }
        }
        args.push(arg);
    }
}

#[derive(Clone, Copy)]
enum Quote {
    None,
    Double,
    Single,
}

/// A closing quote glued to more text (`"a"b`) is an error in Redis, not a
/// concatenation.
fn closing_quote_ok(next: Option<u8>) -> Option<()> {
    match next {
        Some(byte) if !is_c_space(byte) => None,
        _ => Some(()),
    }
}

/// C's `isspace` in the C locale; bytes >= 0x80 are never spaces.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn unescape(byte: u8) -> u8 {
    match byte {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'b' => 0x08,
        b'a' => 0x07,
        other => other,
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::split_inline;

    fn split(line: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_inline(line)
    }

    fn args(list: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
        Some(list.iter().map(|a| a.to_vec()).collect())
    }

    #[test]
    fn splits_on_blanks() {
        assert_eq!(split(b"SET k v"), args(&[b"SET", b"k", b"v"]));
        assert_eq!(split(b"  GET\t\tkey  "), args(&[b"GET", b"key"]));
        assert_eq!(split(b""), args(&[]));
        assert_eq!(split(b" \t\x0b\x0c "), args(&[]));
    }

    #[test]
    fn vertical_tab_and_form_feed_do_not_end_a_word() {
        assert_eq!(split(b"a\x0bb c"), args(&[b"a\x0bb", b"c"]));
        assert_eq!(split(b"\x0ca\x0c"), args(&[b"a\x0c"]));
    }

    #[test]
    fn double_quotes_take_escapes() {
        assert_eq!(
            split(br#"SET k "a b\n\r\t\b\a\\\"\q""#),
            args(&[b"SET", b"k", b"a b\n\r\t\x08\x07\\\"q"])
        );
        assert_eq!(split(br#""\x41\x7a\xff""#), args(&[b"Az\xff"]));
        // An incomplete hex escape is just an escaped `x` followed by text.
        assert_eq!(split(br#""\x4" "\xzz""#), args(&[b"x4", b"xzz"]));
        assert_eq!(split(br#""""#), args(&[b""]));
    }

    #[test]
    fn single_quotes_only_escape_the_quote() {
        assert_eq!(split(br"'it\'s \n'"), args(&[b"it's \\n"]));
        assert_eq!(split(br"''"), args(&[b""]));
    }

    #[test]
    fn quotes_may_start_inside_a_word() {
        assert_eq!(split(br#"foo"bar baz" x"#), args(&[b"foobar baz", b"x"]));
        assert_eq!(split(br"ab'c d'"), args(&[b"abc d"]));
    }

    #[test]
    fn unbalanced_or_glued_quotes_fail() {
        for line in [
            &br#""abc"#[..],
            br"'abc",
            br#""abc"def"#,
            br"'abc'def",
            br#""abc\"#,
            br#"a "b"#,
        ] {
            assert_eq!(split(line), None, "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn closing_quote_may_be_followed_by_any_c_space() {
        assert_eq!(split(b"\"a\"\x0bb"), args(&[b"a", b"b"]));
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(split(b"GET a\0b c"), args(&[b"GET", b"a"]));
        assert_eq!(split(b"\"a\0\""), None);
    }
}
