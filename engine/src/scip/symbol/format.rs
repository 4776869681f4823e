//! The canonical string form: the inverse of `parse.rs`, escaping only where needed.

use super::{Descriptor, Suffix, Symbol, is_identifier_char};

/// Formats a symbol. For any string `s` that parses, formatting the result gives `s` back,
/// unless `s` escaped more than needed (backticks around a simple identifier).
///
/// Not every `Symbol` value has a string form: a scheme starting with `local ` would read back
/// as a local symbol, a package part equal to `.` reads back as empty, a package part starting
/// with a space reads back with that space moved to the end of the previous part (the grammar
/// cannot tell `a` + ` b` from `a ` + `b`: both are `a   b`), and an empty scheme does not parse.
/// Parsed symbols never contain these.
pub fn format_symbol(sym: &Symbol) -> String {
    match sym {
        Symbol::Local(id) => format!("local {id}"),
        Symbol::Global {
            scheme,
            package,
            descriptors,
        } => {
            let mut out = String::new();
            push_space_escaped(&mut out, scheme);
            for part in [&package.manager, &package.name, &package.version] {
                out.push(' ');
                if part.is_empty() {
                    out.push('.');
                } else {
                    push_space_escaped(&mut out, part);
                }
            }
            out.push(' ');
            for d in descriptors {
                push_descriptor(&mut out, d);
            }
            out
        }
    }
}

fn push_space_escaped(out: &mut String, part: &str) {
    for c in part.chars() {
        if c == ' ' {
            out.push(' ');
        }
        out.push(c);
    }
}

fn push_descriptor(out: &mut String, d: &Descriptor) {
    match d.suffix {
        Suffix::TypeParameter => {
            out.push('[');
            push_name(out, &d.name);
            out.push(']');
        }
        Suffix::Parameter => {
            out.push('(');
            push_name(out, &d.name);
            out.push(')');
        }
        Suffix::Method => {
            push_name(out, &d.name);
            out.push('(');
            if !d.disambiguator.is_empty() {
                push_name(out, &d.disambiguator);
            }
            out.push_str(").");
        }
        Suffix::Namespace => push_suffixed(out, &d.name, '/'),
        Suffix::Type => push_suffixed(out, &d.name, '#'),
        Suffix::Term => push_suffixed(out, &d.name, '.'),
        Suffix::Meta => push_suffixed(out, &d.name, ':'),
        Suffix::Macro => push_suffixed(out, &d.name, '!'),
    }
}

fn push_suffixed(out: &mut String, name: &str, suffix: char) {
    push_name(out, name);
    out.push(suffix);
}

/// Backtick-quotes a name unless it is a (non-empty) simple identifier.
fn push_name(out: &mut String, name: &str) {
    if !name.is_empty() && name.chars().all(is_identifier_char) {
        out.push_str(name);
        return;
    }
    out.push('`');
    for c in name.chars() {
        if c == '`' {
            out.push('`');
        }
        out.push(c);
    }
    out.push('`');
}
