//! Reply encoding for both protocol versions.

use super::double::format_double;
use super::{Protocol, Value};

/// Appends `value` to `out` in the connection's protocol. RESP2 gets the
/// RESP3-only kinds downgraded exactly as Redis downgrades them: maps become
/// flat arrays, sets arrays, doubles/verbatim/big numbers bulk strings,
/// booleans integers 1/0, and both nulls their RESP2 spellings.
pub fn encode(value: &Value, proto: Protocol, out: &mut Vec<u8>) {
    let resp3 = proto == Protocol::Resp3;
    match value {
        Value::Simple(text) => {
            out.push(b'+');
            push_line(text.as_bytes(), out);
        }
        Value::Error(message) => encode_error(message, out),
        Value::Integer(n) => push_header(b':', &n.to_string(), out),
        Value::Bulk(bytes) => push_bulk(b'$', bytes, out),
        Value::Null if resp3 => out.extend_from_slice(b"_\r\n"),
        Value::Null => out.extend_from_slice(b"$-1\r\n"),
        Value::NullArray if resp3 => out.extend_from_slice(b"_\r\n"),
        Value::NullArray => out.extend_from_slice(b"*-1\r\n"),
        Value::Array(items) => {
            push_header(b'*', &items.len().to_string(), out);
            for item in items {
                encode(item, proto, out);
            }
        }
        Value::Map(pairs) => {
            if resp3 {
                push_header(b'%', &pairs.len().to_string(), out);
            } else {
                push_header(b'*', &(pairs.len() * 2).to_string(), out);
            }
            for (key, item) in pairs {
                encode(key, proto, out);
                encode(item, proto, out);
            }
        }
        Value::Set(items) => {
            push_header(
                if resp3 { b'~' } else { b'*' },
                &items.len().to_string(),
                out,
            );
            for item in items {
                encode(item, proto, out);
            }
        }
        Value::Double(d) if resp3 => push_header(b',', &format_double(*d), out),
        Value::Double(d) => push_bulk(b'$', format_double(*d).as_bytes(), out),
        Value::Boolean(b) if resp3 => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Value::Boolean(b) => out.extend_from_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
        Value::Verbatim { format, text } if resp3 => {
            let mut body = Vec::with_capacity(4 + text.len());
            body.extend_from_slice(format);
            body.push(b':');
            body.extend_from_slice(text.as_bytes());
            push_bulk(b'=', &body, out);
        }
        Value::Verbatim { text, .. } => push_bulk(b'$', text.as_bytes(), out),
        Value::BigNumber(digits) if resp3 => {
            out.push(b'(');
            push_line(digits.as_bytes(), out);
        }
        Value::BigNumber(digits) => push_bulk(b'$', digits.as_bytes(), out),
    }
}

/// Clients (and Redis's own tooling) read the first word of an error as its
/// code, so an error without one gets Redis's default `ERR`. A leading `-` is
/// taken as the caller spelling the wire prefix, as Redis's `addReplyError`
/// does.
fn encode_error(message: &str, out: &mut Vec<u8>) {
    let message = message.strip_prefix('-').unwrap_or(message);
    out.push(b'-');
    if !has_error_code(message) {
        out.extend_from_slice(b"ERR ");
    }
    push_line(message.as_bytes(), out);
}

fn has_error_code(message: &str) -> bool {
    let code = message.split(' ').next().unwrap_or_default();
    code.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Writes a line-framed payload; CR and LF become spaces because one stray
/// newline would split the reply and desynchronise every later one.
fn push_line(text: &[u8], out: &mut Vec<u8>) {
    out.extend(text.iter().map(|&b| match b {
        b'\r' | b'\n' => b' ',
        other => other,
    }));
    out.extend_from_slice(b"\r\n");
}

fn push_header(tag: u8, text: &str, out: &mut Vec<u8>) {
    out.push(tag);
    push_line(text.as_bytes(), out);
}

fn push_bulk(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    push_header(tag, &bytes.len().to_string(), out);
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(value: &Value, proto: Protocol) -> String {
        let mut out = Vec::new();
        encode(value, proto, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn both(value: Value, resp2: &str, resp3: &str) {
        assert_eq!(wire(&value, Protocol::Resp2), resp2, "RESP2 {value:?}");
        assert_eq!(wire(&value, Protocol::Resp3), resp3, "RESP3 {value:?}");
    }

    #[test]
    fn scalars_in_both_protocols() {
        both(Value::ok(), "+OK\r\n", "+OK\r\n");
        both(Value::Integer(-7), ":-7\r\n", ":-7\r\n");
        both(Value::bulk("hey"), "$3\r\nhey\r\n", "$3\r\nhey\r\n");
        both(Value::bulk(""), "$0\r\n\r\n", "$0\r\n\r\n");
        both(Value::Null, "$-1\r\n", "_\r\n");
        both(Value::NullArray, "*-1\r\n", "_\r\n");
        both(Value::Double(1.5), "$3\r\n1.5\r\n", ",1.5\r\n");
        both(Value::Double(f64::INFINITY), "$3\r\ninf\r\n", ",inf\r\n");
        both(
            Value::Double(f64::NEG_INFINITY),
            "$4\r\n-inf\r\n",
            ",-inf\r\n",
        );
        both(Value::Double(f64::NAN), "$3\r\nnan\r\n", ",nan\r\n");
        both(Value::Boolean(true), ":1\r\n", "#t\r\n");
        both(Value::Boolean(false), ":0\r\n", "#f\r\n");
        both(
            Value::Verbatim {
                format: *b"txt",
                text: "Some string".into(),
            },
            "$11\r\nSome string\r\n",
            "=15\r\ntxt:Some string\r\n",
        );
        both(
            Value::BigNumber("-3492890328409238509324850943850943825024385".into()),
            "$44\r\n-3492890328409238509324850943850943825024385\r\n",
            "(-3492890328409238509324850943850943825024385\r\n",
        );
    }

    #[test]
    fn aggregates_in_both_protocols() {
        let map = Value::Map(vec![
            (Value::Simple("first".into()), Value::Integer(1)),
            (Value::bulk("second"), Value::Array(vec![Value::Null])),
        ]);
        both(
            map,
            "*4\r\n+first\r\n:1\r\n$6\r\nsecond\r\n*1\r\n$-1\r\n",
            "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n*1\r\n_\r\n",
        );
        let set = Value::Set(vec![Value::Boolean(true), Value::Double(2.0)]);
        both(set, "*2\r\n:1\r\n$1\r\n2\r\n", "~2\r\n#t\r\n,2\r\n");
        both(Value::Array(vec![]), "*0\r\n", "*0\r\n");
        both(Value::Map(vec![]), "*0\r\n", "%0\r\n");
    }

    #[test]
    fn errors_always_carry_a_code() {
        let cases = [
            ("ERR unknown command", "-ERR unknown command\r\n"),
            (
                "WRONGTYPE Operation against a key holding the wrong kind of value",
                "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
            ),
            (
                "NOAUTH Authentication required.",
                "-NOAUTH Authentication required.\r\n",
            ),
            ("NOPERM no permission", "-NOPERM no permission\r\n"),
            ("-BUSYGROUP exists", "-BUSYGROUP exists\r\n"),
            ("something broke", "-ERR something broke\r\n"),
            ("Protocol error: x", "-ERR Protocol error: x\r\n"),
            ("", "-ERR \r\n"),
        ];
        for (message, expected) in cases {
            assert_eq!(
                wire(&Value::Error(message.into()), Protocol::Resp3),
                expected
            );
        }
    }

    #[test]
    fn newlines_never_break_framing() {
        both(
            Value::Simple("a\r\nb\nc".into()),
            "+a  b c\r\n",
            "+a  b c\r\n",
        );
        both(
            Value::Error("ERR bad\r\nthing".into()),
            "-ERR bad  thing\r\n",
            "-ERR bad  thing\r\n",
        );
        both(
            Value::BigNumber("1\r\n2".into()),
            "$4\r\n1\r\n2\r\n",
            "(1  2\r\n",
        );
    }
}
