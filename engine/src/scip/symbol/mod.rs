//! SCIP symbol strings: parsed into parts, formatted back canonically.
//!
//! A store needs the parts: the package triple to resolve references across projects, the
//! descriptors for outlines and display names. The grammar is upstream `scip.proto`'s (summarised
//! in `NOTES.md` §1); `parse.rs` follows it production by production, `format.rs` inverts it.

mod format;
mod parse;
#[cfg(test)]
mod tests;

pub use format::format_symbol;
pub use parse::parse_symbol;

/// A parsed symbol string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Symbol {
    /// `local <id>`: visible inside one document only. The id is kept verbatim.
    Local(String),
    /// `<scheme> <manager> <name> <version> <descriptor>+`.
    Global {
        scheme: String,
        package: Package,
        descriptors: Vec<Descriptor>,
    },
}

/// The package triple. An empty string is written as `.` in the symbol string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Package {
    pub manager: String,
    pub name: String,
    pub version: String,
}

/// One step of the qualified name, e.g. `QuerySet#`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// Unescaped: backticks removed, doubled backticks collapsed.
    pub name: String,
    /// Only for methods: tells overloads apart (`+1`); empty otherwise.
    pub disambiguator: String,
    pub suffix: Suffix,
}

/// The descriptor kinds. Numbered as upstream `Descriptor.Suffix` so they can be stored as
/// that enum's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suffix {
    /// `name/`
    Namespace = 1,
    /// `name#`
    Type = 2,
    /// `name.`
    Term = 3,
    /// `name(disambiguator).`
    Method = 4,
    /// `[name]`
    TypeParameter = 5,
    /// `(name)`
    Parameter = 6,
    /// `name:`
    Meta = 7,
    /// `name!`
    Macro = 9,
}

/// Why a symbol string did not parse; `pos` is a byte offset into it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid SCIP symbol at byte {pos}: {what}")]
pub struct SymbolError {
    pub pos: usize,
    pub what: String,
}

impl Symbol {
    pub fn is_local(&self) -> bool {
        matches!(self, Symbol::Local(_))
    }

    /// The last descriptor's name (`filter` for `...QuerySet#filter().`); `None` for locals,
    /// whose ids carry no name.
    pub fn display_name(&self) -> Option<&str> {
        match self {
            Symbol::Local(_) => None,
            Symbol::Global { descriptors, .. } => descriptors.last().map(|d| d.name.as_str()),
        }
    }

    /// `(manager, name, version)`, the key for resolving a reference into another project's
    /// index; `None` for locals.
    pub fn package_key(&self) -> Option<(&str, &str, &str)> {
        match self {
            Symbol::Local(_) => None,
            Symbol::Global { package, .. } => Some((
                package.manager.as_str(),
                package.name.as_str(),
                package.version.as_str(),
            )),
        }
    }

    /// The enclosing symbol (last descriptor dropped), e.g. the class of a method; `None` for
    /// locals and top-level descriptors.
    pub fn parent(&self) -> Option<Symbol> {
        match self {
            Symbol::Local(_) => None,
            Symbol::Global {
                scheme,
                package,
                descriptors,
            } if descriptors.len() > 1 => Some(Symbol::Global {
                scheme: scheme.clone(),
                package: package.clone(),
                descriptors: descriptors[..descriptors.len() - 1].to_vec(),
            }),
            Symbol::Global { .. } => None,
        }
    }
}

/// `<identifier-character> ::= '_' | '+' | '-' | '$' | ASCII letter or digit`.
pub(crate) fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '$')
}
