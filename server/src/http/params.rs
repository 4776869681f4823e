//! Query-string parsing for the HTTP API: a pure function from the raw query string to
//! typed parameters. Bounded (length, pair count, value size), strict (unknown or repeated
//! names are errors, so a typo is never silently ignored) and panic-free on any input; the
//! `http_params` fuzz target holds it to that.

use std::fmt;

/// Longest query string accepted.
pub const MAX_QUERY_LEN: usize = 16 * 1024;
/// Most `name=value` pairs.
pub const MAX_PAIRS: usize = 16;
/// Largest `limit` of a workspace-symbol search.
pub const MAX_LIMIT: usize = 1000;
/// `limit` when none is given (the CLI's default too).
pub const DEFAULT_LIMIT: usize = 20;

/// Every parameter any route takes; each route checks which it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pub path: Option<String>,
    pub line: Option<u32>,
    pub character: Option<u32>,
    pub include_declaration: Option<bool>,
    pub query: Option<String>,
    pub limit: Option<usize>,
    pub symbol: Option<String>,
    pub project: Option<String>,
    pub version: Option<String>,
}

/// Why a query string was refused (the text is the 400 response's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    TooLong,
    TooManyPairs,
    /// Bad percent-encoding or not UTF-8 once decoded.
    Encoding(String),
    Unknown(String),
    Repeated(&'static str),
    Invalid {
        name: &'static str,
        reason: String,
    },
    Missing(&'static str),
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::TooLong => write!(f, "query string longer than {MAX_QUERY_LEN} bytes"),
            ParamError::TooManyPairs => write!(f, "more than {MAX_PAIRS} query parameters"),
            ParamError::Encoding(what) => write!(f, "bad query string encoding: {what}"),
            ParamError::Unknown(name) => write!(f, "unknown query parameter {name:?}"),
            ParamError::Repeated(name) => write!(f, "query parameter {name:?} given twice"),
            ParamError::Invalid { name, reason } => {
                write!(f, "invalid query parameter {name:?}: {reason}")
            }
            ParamError::Missing(name) => write!(f, "missing query parameter {name:?}"),
        }
    }
}

impl std::error::Error for ParamError {}

/// Parses `a=b&c=d` (`+` is a space, `%XX` a byte; empty pairs are skipped).
pub fn parse(raw: &str) -> Result<Params, ParamError> {
    if raw.len() > MAX_QUERY_LEN {
        return Err(ParamError::TooLong);
    }
    let pairs = || raw.split('&').filter(|s| !s.is_empty());
    if pairs().count() > MAX_PAIRS {
        return Err(ParamError::TooManyPairs);
    }
    let mut p = Params::default();
    for pair in pairs() {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        let value = decode(value)?;
        set(&mut p, &name, value)?;
    }
    Ok(p)
}

fn set(p: &mut Params, name: &str, value: String) -> Result<(), ParamError> {
    fn put<T>(slot: &mut Option<T>, name: &'static str, v: T) -> Result<(), ParamError> {
        if slot.is_some() {
            return Err(ParamError::Repeated(name));
        }
        *slot = Some(v);
        Ok(())
    }
    match name {
        "path" => put(&mut p.path, "path", value),
        "line" => put(&mut p.line, "line", number("line", &value)?),
        "character" => put(&mut p.character, "character", number("character", &value)?),
        "includeDeclaration" => put(
            &mut p.include_declaration,
            "includeDeclaration",
            boolean("includeDeclaration", &value)?,
        ),
        "query" => put(&mut p.query, "query", value),
        "limit" => {
            let n = number("limit", &value)?;
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n == 0 || n > MAX_LIMIT {
                return Err(ParamError::Invalid {
                    name: "limit",
                    reason: format!("must be between 1 and {MAX_LIMIT}"),
                });
            }
            put(&mut p.limit, "limit", n)
        }
        "symbol" => put(&mut p.symbol, "symbol", value),
        "project" => put(&mut p.project, "project", value),
        "version" => put(&mut p.version, "version", value),
        other => {
            let shown: String = other.chars().take(64).collect();
            Err(ParamError::Unknown(shown))
        }
    }
}

/// A decimal `u32`: digits only, no sign, no spaces.
fn number(name: &'static str, v: &str) -> Result<u32, ParamError> {
    if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParamError::Invalid {
            name,
            reason: "expected a non-negative integer".into(),
        });
    }
    v.parse().map_err(|_| ParamError::Invalid {
        name,
        reason: "out of range".into(),
    })
}

fn boolean(name: &'static str, v: &str) -> Result<bool, ParamError> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ParamError::Invalid {
            name,
            reason: "expected true or false".into(),
        }),
    }
}

/// Percent-decoding (`+` as space), then UTF-8 validation.
fn decode(s: &str) -> Result<String, ParamError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = b.get(i + 1..i + 3).ok_or_else(|| {
                    ParamError::Encoding("'%' not followed by two hex digits".into())
                })?;
                let (Some(h), Some(l)) = (hex_val(hex[0]), hex_val(hex[1])) else {
                    return Err(ParamError::Encoding(
                        "'%' not followed by two hex digits".into(),
                    ));
                };
                out.push(h << 4 | l);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ParamError::Encoding("not UTF-8 once decoded".into()))
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Params {
    /// `path`, `line` and `character`, all required.
    pub fn position(&self) -> Result<(String, u32, u32), ParamError> {
        Ok((
            self.path.clone().ok_or(ParamError::Missing("path"))?,
            self.line.ok_or(ParamError::Missing("line"))?,
            self.character.ok_or(ParamError::Missing("character"))?,
        ))
    }

    pub fn required_path(&self) -> Result<String, ParamError> {
        self.path.clone().ok_or(ParamError::Missing("path"))
    }

    pub fn required_query(&self) -> Result<String, ParamError> {
        self.query.clone().ok_or(ParamError::Missing("query"))
    }

    pub fn required_symbol(&self) -> Result<String, ParamError> {
        self.symbol.clone().ok_or(ParamError::Missing("symbol"))
    }

    pub fn limit_or_default(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// Refuses parameters a route does not take, so they are never silently ignored.
    pub fn only(&self, allowed: &[&str]) -> Result<(), ParamError> {
        let given = [
            ("path", self.path.is_some()),
            ("line", self.line.is_some()),
            ("character", self.character.is_some()),
            ("includeDeclaration", self.include_declaration.is_some()),
            ("query", self.query.is_some()),
            ("limit", self.limit.is_some()),
            ("symbol", self.symbol.is_some()),
            ("project", self.project.is_some()),
            ("version", self.version.is_some()),
        ];
        match given
            .iter()
            .find(|(name, set)| *set && !allowed.contains(name))
        {
            Some((name, _)) => Err(ParamError::Unknown((*name).to_owned())),
            None => Ok(()),
        }
    }
}

/// Fuzz entry point: parsing never panics, and what it accepts respects the bounds.
pub fn fuzz_parse(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    if let Ok(p) = parse(&raw) {
        assert!(raw.len() <= MAX_QUERY_LEN);
        for s in [&p.path, &p.query, &p.symbol, &p.project, &p.version]
            .into_iter()
            .flatten()
        {
            assert!(s.len() <= raw.len());
        }
        assert!(p.limit.is_none_or(|l| (1..=MAX_LIMIT).contains(&l)));
        let _ = p.position();
        let _ = p.only(&["path"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_flags_parse() {
        let p = parse("path=src%2Fa+b.ts&line=10&character=0&includeDeclaration=true").unwrap();
        assert_eq!(p.position().unwrap(), ("src/a b.ts".into(), 10, 0));
        assert_eq!(p.include_declaration, Some(true));
        assert_eq!(parse("").unwrap(), Params::default());
        assert_eq!(parse("&&query=x&").unwrap().query.as_deref(), Some("x"));
        assert_eq!(parse("limit=5").unwrap().limit_or_default(), 5);
        assert_eq!(parse("").unwrap().limit_or_default(), DEFAULT_LIMIT);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            "line=-1",
            "line=+1",
            "line=4294967296",
            "line=",
            "line=1&line=2",
            "path=%zz",
            "path=%4",
            "path=%ff",
            "nope=1",
            "limit=0",
            "limit=1001",
            "includeDeclaration=yes",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse(&"a".repeat(MAX_QUERY_LEN + 1)),
            Err(ParamError::TooLong)
        );
        let many = vec!["query=x"; MAX_PAIRS + 1].join("&");
        assert_eq!(parse(&many), Err(ParamError::TooManyPairs));
        assert_eq!(
            parse("path=a").unwrap().position(),
            Err(ParamError::Missing("line"))
        );
        assert!(parse("symbol=x&path=y").unwrap().only(&["symbol"]).is_err());
        fuzz_parse(b"%\xff&line=99999999999&=&==%%");
    }
}
