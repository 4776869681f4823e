//! Recursive-descent parser over the symbol grammar, working on bytes: every delimiter is
//! ASCII, so slicing at a delimiter never splits a UTF-8 character.

use super::{Descriptor, Package, Suffix, Symbol, SymbolError, is_identifier_char};

/// Parses a symbol string. Local ids are accepted verbatim (any non-empty text), as upstream's
/// own parser does, though the grammar asks for a simple identifier.
pub fn parse_symbol(s: &str) -> Result<Symbol, SymbolError> {
    if s.is_empty() {
        return Err(SymbolError {
            pos: 0,
            what: "empty symbol".into(),
        });
    }
    if let Some(id) = s.strip_prefix("local ") {
        if id.is_empty() {
            return Err(SymbolError {
                pos: s.len(),
                what: "empty local id".into(),
            });
        }
        return Ok(Symbol::Local(id.to_string()));
    }
    let mut p = Parser { s, pos: 0 };
    let scheme = p.space_escaped("scheme")?;
    if scheme.is_empty() {
        return Err(p.err_at(0, "empty scheme"));
    }
    let package = Package {
        manager: p.package_part("package manager")?,
        name: p.package_part("package name")?,
        version: p.package_part("package version")?,
    };
    let mut descriptors = Vec::new();
    while !p.at_end() {
        descriptors.push(p.descriptor()?);
    }
    if descriptors.is_empty() {
        return Err(p.err("missing descriptor"));
    }
    Ok(Symbol::Global {
        scheme,
        package,
        descriptors,
    })
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, what: impl Into<String>) -> SymbolError {
        self.err_at(self.pos, what)
    }

    fn err_at(&self, pos: usize, what: impl Into<String>) -> SymbolError {
        SymbolError {
            pos,
            what: what.into(),
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), SymbolError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(format!("expected `{}`", c as char)))
        }
    }

    /// A part ended by a single space; a doubled space stands for one space inside the part.
    fn space_escaped(&mut self, what: &str) -> Result<String, SymbolError> {
        let bytes = self.s.as_bytes();
        let mut out = String::new();
        let mut start = self.pos;
        let mut i = self.pos;
        while i < bytes.len() {
            if bytes[i] == b' ' {
                out.push_str(&self.s[start..i]);
                if bytes.get(i + 1) == Some(&b' ') {
                    out.push(' ');
                    i += 2;
                    start = i;
                    continue;
                }
                self.pos = i + 1;
                return Ok(out);
            }
            i += 1;
        }
        Err(self.err_at(bytes.len(), format!("{what} is not followed by a space")))
    }

    /// `.` is the placeholder for an empty manager, name or version.
    fn package_part(&mut self, what: &str) -> Result<String, SymbolError> {
        let part = self.space_escaped(what)?;
        Ok(if part == "." { String::new() } else { part })
    }

    fn descriptor(&mut self) -> Result<Descriptor, SymbolError> {
        let simple = |name, suffix| Descriptor {
            name,
            disambiguator: String::new(),
            suffix,
        };
        match self.peek() {
            Some(b'[') => {
                self.pos += 1;
                let name = self.name()?;
                self.expect(b']')?;
                return Ok(simple(name, Suffix::TypeParameter));
            }
            Some(b'(') => {
                self.pos += 1;
                let name = self.name()?;
                self.expect(b')')?;
                return Ok(simple(name, Suffix::Parameter));
            }
            _ => {}
        }
        let name = self.name()?;
        let suffix = match self.peek() {
            Some(b'/') => Suffix::Namespace,
            Some(b'#') => Suffix::Type,
            Some(b'.') => Suffix::Term,
            Some(b':') => Suffix::Meta,
            Some(b'!') => Suffix::Macro,
            Some(b'(') => {
                self.pos += 1;
                let disambiguator = if self.peek() == Some(b')') {
                    String::new()
                } else {
                    self.name()?
                };
                self.expect(b')')?;
                self.expect(b'.')?;
                return Ok(Descriptor {
                    name,
                    disambiguator,
                    suffix: Suffix::Method,
                });
            }
            _ => return Err(self.err("expected a descriptor suffix (one of `/#.:!(`)")),
        };
        self.pos += 1;
        Ok(simple(name, suffix))
    }

    /// `<identifier> ::= <simple-identifier> | <escaped-identifier>`.
    fn name(&mut self) -> Result<String, SymbolError> {
        if self.peek() == Some(b'`') {
            return self.escaped();
        }
        let start = self.pos;
        let len = self.s[start..]
            .find(|c: char| !is_identifier_char(c))
            .unwrap_or(self.s.len() - start);
        if len == 0 {
            return Err(self.err("expected an identifier"));
        }
        self.pos += len;
        Ok(self.s[start..self.pos].to_string())
    }

    /// Backtick-quoted, a doubled backtick standing for one.
    fn escaped(&mut self) -> Result<String, SymbolError> {
        let open = self.pos;
        let bytes = self.s.as_bytes();
        let mut out = String::new();
        let mut start = open + 1;
        let mut i = start;
        while i < bytes.len() {
            if bytes[i] == b'`' {
                out.push_str(&self.s[start..i]);
                if bytes.get(i + 1) == Some(&b'`') {
                    out.push('`');
                    i += 2;
                    start = i;
                    continue;
                }
                self.pos = i + 1;
                return Ok(out);
            }
            i += 1;
        }
        Err(self.err_at(open, "unterminated backtick"))
    }
}
