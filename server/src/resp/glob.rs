//! Glob matching for `KEYS` and `SCAN ... MATCH` with the semantics of Redis's
//! `stringmatchlen`, quirks included, so a pattern selects the same keys here
//! as on Redis (x86-64 build, where C `char` is signed).
//!
//! Redis recurses once per `*`; we instead backtrack to the most recent star,
//! which is equivalent for patterns whose other tokens each consume exactly
//! one byte (all of them do) and runs in O(pattern × string) at worst.

/// Redis gives up (no match) beyond this many nested star expansions.
const MAX_STAR_NESTING: usize = 1000;

/// Redis's `stringmatchlen(pattern, s, nocase)`.
///
/// Quirks kept on purpose: an empty `s` matches only an empty pattern (so `*`
/// does not match the empty key; see [`matches_everything`]); a trailing `\`
/// matches a literal backslash; an unterminated `[` acts as if closed at the
/// end of the pattern; `[z-a]` is the range `a`..`z`; `[]` matches nothing
/// and `[^]` any byte; escaped bytes inside `[...]` compare case-sensitively
/// even with `nocase`; range ends compare as signed bytes, and with `nocase`
/// are lowercased after being put in order.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    if s.is_empty() {
        return pattern.is_empty();
    }
    if nested_stars(pattern) > MAX_STAR_NESTING {
        // Every star group followed by more pattern is one level of Redis's
        // recursion on any successful match, so Redis can never match here.
        return false;
    }
    let mut p = 0;
    let mut i = 0;
    // Pattern position after the last star group, and where in `s` the
    // text it currently swallows ends.
    let mut backtrack: Option<(usize, usize)> = None;
    while i < s.len() {
        match token(pattern, p) {
            Some((Token::Star, next)) => {
                let mut after = next;
                while pattern.get(after) == Some(&b'*') {
                    after += 1;
                }
                backtrack = Some((after, i));
                p = after;
                continue;
            }
            Some((other, next)) if other.matches(s[i], nocase) => {
                p = next;
                i += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((after, start)) => {
                p = after;
                i = start + 1;
                backtrack = Some((after, start + 1));
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&b| b == b'*')
}

/// Redis's `KEYS` and `SCAN` skip matching entirely for the pattern `*`, which
/// is how the empty key still shows up for them; callers should do the same.
pub fn matches_everything(pattern: &[u8]) -> bool {
    pattern == b"*"
}

#[derive(Debug, Clone, Copy)]
enum Token<'p> {
    Star,
    Any,
    Literal(u8),
    /// The bytes between `[` (after any `^`) and the closing `]` or the end.
    Class {
        negated: bool,
        body: &'p [u8],
    },
}

/// The token starting at `p` and the position after it, parsed exactly as
/// `stringmatchlen` walks the pattern.
fn token(pattern: &[u8], p: usize) -> Option<(Token<'_>, usize)> {
    let &byte = pattern.get(p)?;
    Some(match byte {
        b'*' => (Token::Star, p + 1),
        b'?' => (Token::Any, p + 1),
        b'\\' => match pattern.get(p + 1) {
            Some(&escaped) => (Token::Literal(escaped), p + 2),
            None => (Token::Literal(b'\\'), p + 1),
        },
        b'[' => {
            let mut start = p + 1;
            let negated = pattern.get(start) == Some(&b'^');
            if negated {
                start += 1;
            }
            let mut q = start;
            loop {
                let remaining = pattern.len().saturating_sub(q);
                match pattern.get(q) {
                    Some(b'\\') if remaining >= 2 => q += 2,
                    Some(b']') => {
                        let body = &pattern[start..q];
                        break (Token::Class { negated, body }, q + 1);
                    }
                    None => {
                        let body = &pattern[start.min(pattern.len())..];
                        break (Token::Class { negated, body }, pattern.len());
                    }
                    Some(_) if remaining >= 3 && pattern[q + 1] == b'-' => q += 3,
                    Some(_) => q += 1,
                }
            }
        }
        other => (Token::Literal(other), p + 1),
    })
}

impl Token<'_> {
    fn matches(self, c: u8, nocase: bool) -> bool {
        match self {
            Token::Star | Token::Any => true,
            Token::Literal(b) => same(b, c, nocase),
            Token::Class { negated, body } => class_matches(body, c, nocase) != negated,
        }
    }
}

fn class_matches(body: &[u8], c: u8, nocase: bool) -> bool {
    let mut matched = false;
    let mut q = 0;
    while q < body.len() {
        let remaining = body.len() - q;
        if body[q] == b'\\' && remaining >= 2 {
            matched |= body[q + 1] == c;
            q += 2;
        } else if remaining >= 3 && body[q + 1] == b'-' {
            let (mut low, mut high) = (signed(body[q]), signed(body[q + 2]));
            if low > high {
                (low, high) = (high, low);
            }
            let mut value = signed(c);
            if nocase {
                (low, high, value) = (lower(low), lower(high), lower(value));
            }
            matched |= (low..=high).contains(&value);
            q += 3;
        } else {
            matched |= same(body[q], c, nocase);
            q += 1;
        }
    }
    matched
}

/// Redis compares range ends as C `char`, which is signed on x86-64.
fn signed(byte: u8) -> i32 {
    i32::from(byte as i8)
}

/// C `tolower` in the C locale: only ASCII letters change.
fn lower(value: i32) -> i32 {
    if (i32::from(b'A')..=i32::from(b'Z')).contains(&value) {
        value + 32
    } else {
        value
    }
}

fn same(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        a.eq_ignore_ascii_case(&b)
    } else {
        a == b
    }
}

/// Star groups followed by more pattern: the depth of Redis's recursion on
/// any successful match.
fn nested_stars(pattern: &[u8]) -> usize {
    let mut count = 0;
    let mut in_star_group = false;
    let mut p = 0;
    while let Some((token, next)) = token(pattern, p) {
        match token {
            Token::Star => in_star_group = true,
            _ => {
                if in_star_group {
                    count += 1;
                }
                in_star_group = false;
            }
        }
        p = next;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, string, nocase, expected): derived by walking Redis's
    /// `stringmatchlen` by hand, including its corner cases.
    const CASES: &[(&[u8], &[u8], bool, bool)] = &[
        (b"", b"", false, true),
        (b"*", b"", false, false),
        (b"**", b"", false, false),
        (b"", b"a", false, false),
        (b"*", b"anything", false, true),
        (b"a*", b"a", false, true),
        (b"a*", b"abc", false, true),
        (b"*c", b"abc", false, true),
        (b"*c", b"abd", false, false),
        (b"a*b*c", b"aXXbYYc", false, true),
        (b"a*b*c", b"aXXbYY", false, false),
        (b"a**b", b"ab", false, true),
        (b"*a*", b"bab", false, true),
        (b"h?llo", b"hello", false, true),
        (b"h?llo", b"hllo", false, false),
        (b"?", b"", false, false),
        (b"h[ae]llo", b"hallo", false, true),
        (b"h[ae]llo", b"hillo", false, false),
        (b"h[^e]llo", b"hallo", false, true),
        (b"h[^e]llo", b"hello", false, false),
        (b"h[a-b]llo", b"hbllo", false, true),
        (b"h[a-b]llo", b"hcllo", false, false),
        // Backwards ranges are put in order.
        (b"[z-a]", b"m", false, true),
        // Unterminated class: closed at the end of the pattern.
        (b"[abc", b"b", false, true),
        (b"[abc", b"d", false, false),
        (b"x[", b"x", false, false),
        // `[]` matches nothing; `[^]` matches any byte.
        (b"[]", b"a", false, false),
        (b"[^]", b"a", false, true),
        (b"[]a]", b"a", false, false),
        (b"[]a]", b"a]", false, false),
        // `[a-]` is the range `]`..`a` left unterminated.
        (b"[a-]", b"^", false, true),
        (b"[a-]", b"-", false, false),
        // Escapes inside and outside classes.
        (b"[\\]]", b"]", false, true),
        (b"[\\-a]", b"-", false, true),
        (b"\\*", b"*", false, true),
        (b"\\*", b"a", false, false),
        (b"\\?x", b"?x", false, true),
        (b"a\\", b"a\\", false, true),
        (b"\\", b"\\", false, true),
        (b"\\", b"a", false, false),
        (b"[a\\", b"\\", false, true),
        // nocase.
        (b"HELLO", b"hello", true, true),
        (b"HELLO", b"hello", false, false),
        (b"[A-C]x", b"bX", true, true),
        (b"[\\A]", b"a", true, false),
        (b"[Z-a]", b"_", false, true),
        (b"[Z-a]", b"_", true, false),
        (b"[abc]", b"B", true, true),
        // Signed-char ranges: 0xff is -1, so `[a-\xff]` is -1..=97.
        (b"[a-\xff]", b"\x00", false, true),
        (b"[a-\xff]", b"b", false, false),
        (b"[a-\xff]", b"\x80", false, false),
        (b"[\x80-\xff]", b"\x90", false, true),
        (b"\xe9t\xe9", b"\xe9t\xe9", true, true),
    ];

    #[test]
    fn matches_like_redis_stringmatchlen() {
        for &(pattern, s, nocase, expected) in CASES {
            assert_eq!(
                glob_match(pattern, s, nocase),
                expected,
                "pattern {:?} string {:?} nocase {nocase}",
                String::from_utf8_lossy(pattern),
                String::from_utf8_lossy(s),
            );
        }
    }

    #[test]
    fn too_many_nested_stars_never_match() {
        let within = b"*a".repeat(MAX_STAR_NESTING);
        let beyond = b"*a".repeat(MAX_STAR_NESTING + 1);
        let text = vec![b'a'; MAX_STAR_NESTING + 1];
        assert!(glob_match(&within, &text, false));
        assert!(!glob_match(&beyond, &text, false));
        // A trailing star group is not a recursion level.
        let mut trailing = within.clone();
        trailing.push(b'*');
        assert!(glob_match(&trailing, &text, false));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = b"*a"
            .repeat(200)
            .into_iter()
            .chain(*b"*b")
            .collect::<Vec<_>>();
        let text = vec![b'a'; 10_000];
        assert!(!glob_match(&pattern, &text, false));
    }

    #[test]
    fn lone_star_is_the_match_all_pattern() {
        assert!(matches_everything(b"*"));
        assert!(!matches_everything(b"**"));
        assert!(!matches_everything(b"a*"));
    }
}
