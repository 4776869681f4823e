//! Reply parsing, for clients and tests. Unlike the request parser it is not
//! incremental: each call starts over, which is fine for replies a test reads
//! but would be quadratic for a server reading huge requests.

use super::number::parse_i64;
use super::{ProtocolError, Value};

/// Deep enough for any reply the server builds; shallow enough that a hostile
/// `****...` cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

/// Parses one RESP2 or RESP3 reply from the front of `buf`: the value and its
/// length in bytes, or `Ok(None)` when the reply is not complete yet.
pub fn parse_value(buf: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
    let mut reader = Reader { buf, pos: 0 };
    Ok(reader.value(0)?.map(|value| (value, reader.pos)))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

type Parsed<T> = Result<Option<T>, ProtocolError>;

impl<'a> Reader<'a> {
    fn value(&mut self, depth: usize) -> Parsed<Value> {
        if depth > MAX_DEPTH {
            return Err(ProtocolError::NestingTooDeep);
        }
        let Some(&tag) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        self.pos += 1;
        let Some(line) = self.line()? else {
            return Ok(None);
        };
        let value = match tag {
            b'+' => Value::Simple(text(line)),
            b'-' => Value::Error(text(line)),
            b':' => Value::Integer(integer(line, "integer reply")?),
            b'$' => match integer(line, "bulk length")? {
                -1 => Value::Null,
                len => match self.blob(len)? {
                    Some(bytes) => Value::Bulk(bytes.to_vec()),
                    None => return Ok(None),
                },
            },
            b'!' => match self.blob(integer(line, "bulk length")?)? {
                Some(bytes) => Value::Error(text(bytes)),
                None => return Ok(None),
            },
            b'=' => match self.blob(integer(line, "bulk length")?)? {
                Some(bytes) => verbatim(bytes)?,
                None => return Ok(None),
            },
            b'*' => match integer(line, "multibulk length")? {
                -1 => Value::NullArray,
                len => match self.items(len, depth)? {
                    Some(items) => Value::Array(items),
                    None => return Ok(None),
                },
            },
            b'~' => match self.items(integer(line, "set length")?, depth)? {
                Some(items) => Value::Set(items),
                None => return Ok(None),
            },
            b'%' => {
                let len = integer(line, "map length")?;
                let Some(pairs) = len.checked_mul(2) else {
                    return Err(ProtocolError::InvalidReply("map length"));
                };
                match self.items(pairs, depth)? {
                    Some(flat) => Value::Map(pair_up(flat)),
                    None => return Ok(None),
                }
            }
            b'_' if line.is_empty() => Value::Null,
            b'_' => return Err(ProtocolError::InvalidReply("null")),
            b'#' => match line {
                b"t" => Value::Boolean(true),
                b"f" => Value::Boolean(false),
                _ => return Err(ProtocolError::InvalidReply("boolean")),
            },
            b',' => Value::Double(double(line)?),
            b'(' => Value::BigNumber(big_number(line)?),
            other => return Err(ProtocolError::UnknownReplyType(other)),
        };
        Ok(Some(value))
    }

    /// The rest of the current line, without its CRLF.
    fn line(&mut self) -> Parsed<&'a [u8]> {
        let rest: &'a [u8] = self.buf.get(self.pos..).unwrap_or_default();
        let Some(cr) = rest.iter().position(|&b| b == b'\r' || b == b'\n') else {
            return Ok(None);
        };
        match (rest[cr], rest.get(cr + 1)) {
            (b'\r', None) => Ok(None),
            (b'\r', Some(b'\n')) => {
                self.pos += cr + 2;
                Ok(Some(&rest[..cr]))
            }
            _ => Err(ProtocolError::InvalidReply("line terminator")),
        }
    }

    /// `len` payload bytes and their CRLF; the payload is only borrowed, so a
    /// claimed length costs nothing until the bytes are actually there.
    fn blob(&mut self, len: i64) -> Parsed<&'a [u8]> {
        let len = usize::try_from(len).map_err(|_| ProtocolError::InvalidReply("bulk length"))?;
        let rest: &'a [u8] = self.buf.get(self.pos..).unwrap_or_default();
        if rest.len() < len.saturating_add(2) {
            return Ok(None);
        }
        if &rest[len..len + 2] != b"\r\n" {
            return Err(ProtocolError::InvalidReply("bulk terminator"));
        }
        self.pos += len + 2;
        Ok(Some(&rest[..len]))
    }

    /// Every element takes at least three bytes, so a huge claimed count stops
    /// at the end of the buffer after work proportional to the buffer.
    fn items(&mut self, len: i64, depth: usize) -> Parsed<Vec<Value>> {
        let len =
            usize::try_from(len).map_err(|_| ProtocolError::InvalidReply("aggregate length"))?;
        let mut items = Vec::with_capacity(len.min(64));
        for _ in 0..len {
            match self.value(depth + 1)? {
                Some(item) => items.push(item),
                None => return Ok(None),
            }
        }
        Ok(Some(items))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn integer(line: &[u8], what: &'static str) -> Result<i64, ProtocolError> {
    parse_i64(line).ok_or(ProtocolError::InvalidReply(what))
}

fn double(line: &[u8]) -> Result<f64, ProtocolError> {
    let invalid = ProtocolError::InvalidReply("double");
    let text = std::str::from_utf8(line).map_err(|_| invalid.clone())?;
    match text {
        "inf" | "+inf" => Ok(f64::INFINITY),
        "-inf" => Ok(f64::NEG_INFINITY),
        "nan" | "-nan" => Ok(f64::NAN),
        _ if text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
        {
            text.parse().map_err(|_| invalid)
        }
        _ => Err(invalid),
    }
}

fn big_number(line: &[u8]) -> Result<String, ProtocolError> {
    let digits = line.strip_prefix(b"-").unwrap_or(line);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ProtocolError::InvalidReply("big number"));
    }
    Ok(text(line))
}

fn verbatim(bytes: &[u8]) -> Result<Value, ProtocolError> {
    match bytes {
        [a, b, c, b':', rest @ ..] => Ok(Value::Verbatim {
            format: [*a, *b, *c],
            text: text(rest),
        }),
        _ => Err(ProtocolError::InvalidReply("verbatim string")),
    }
}

fn pair_up(flat: Vec<Value>) -> Vec<(Value, Value)> {
    let mut pairs = Vec::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        pairs.push((key, value));
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &[u8]) -> Result<Option<(Value, usize)>, ProtocolError> {
        parse_value(text)
    }

    fn complete(text: &[u8]) -> Value {
        match parse(text) {
            Ok(Some((value, used))) => {
                assert_eq!(used, text.len(), "{:?}", String::from_utf8_lossy(text));
                value
            }
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(text)),
        }
    }

    #[test]
    fn parses_every_reply_type() {
        assert_eq!(complete(b"+OK\r\n"), Value::ok());
        assert_eq!(complete(b"-ERR no\r\n"), Value::Error("ERR no".into()));
        assert_eq!(complete(b":-12\r\n"), Value::Integer(-12));
        assert_eq!(complete(b"$5\r\nhe\r\no\r\n"), Value::bulk("he\r\no"));
        assert_eq!(complete(b"$-1\r\n"), Value::Null);
        assert_eq!(complete(b"*-1\r\n"), Value::NullArray);
        assert_eq!(complete(b"_\r\n"), Value::Null);
        assert_eq!(complete(b"#t\r\n"), Value::Boolean(true));
        assert_eq!(complete(b",-2.5e+10\r\n"), Value::Double(-2.5e10));
        assert_eq!(complete(b",-inf\r\n"), Value::Double(f64::NEG_INFINITY));
        assert!(matches!(complete(b",nan\r\n"), Value::Double(d) if d.is_nan()));
        assert_eq!(complete(b"(-123\r\n"), Value::BigNumber("-123".into()));
        assert_eq!(
            complete(b"!7\r\nERR x\ny\r\n"),
            Value::Error("ERR x\ny".into())
        );
        assert_eq!(
            complete(b"=8\r\nmkd:# hi\r\n"),
            Value::Verbatim {
                format: *b"mkd",
                text: "# hi".into()
            }
        );
        assert_eq!(
            complete(b"%1\r\n+k\r\n~2\r\n:1\r\n*1\r\n$0\r\n\r\n"),
            Value::Map(vec![(
                Value::Simple("k".into()),
                Value::Set(vec![Value::Integer(1), Value::Array(vec![Value::bulk("")])])
            )])
        );
    }

    #[test]
    fn every_proper_prefix_is_incomplete() {
        let whole = b"*2\r\n%1\r\n+k\r\n$3\r\nabc\r\n,1.5\r\n";
        for end in 0..whole.len() {
            assert_eq!(parse(&whole[..end]), Ok(None), "prefix of {end} bytes");
        }
        assert!(parse(whole).unwrap().is_some());
    }

    #[test]
    fn huge_claims_do_not_allocate() {
        assert_eq!(parse(b"$9223372036854775807\r\nabc"), Ok(None));
        assert_eq!(parse(b"*9223372036854775807\r\n:1\r\n"), Ok(None));
        assert_eq!(
            parse(b"%9223372036854775807\r\n"),
            Err(ProtocolError::InvalidReply("map length"))
        );
    }

    #[test]
    fn rejects_malformed_replies() {
        let cases: [(&[u8], ProtocolError); 9] = [
            (b"?\r\n", ProtocolError::UnknownReplyType(b'?')),
            (b":12a\r\n", ProtocolError::InvalidReply("integer reply")),
            (b"$-2\r\n", ProtocolError::InvalidReply("bulk length")),
            (
                b"$1\r\nab\r\n",
                ProtocolError::InvalidReply("bulk terminator"),
            ),
            (b"*-2\r\n", ProtocolError::InvalidReply("aggregate length")),
            (b"#x\r\n", ProtocolError::InvalidReply("boolean")),
            (b",1x\r\n", ProtocolError::InvalidReply("double")),
            (b"(1.5\r\n", ProtocolError::InvalidReply("big number")),
            (b"+OK\n", ProtocolError::InvalidReply("line terminator")),
        ];
        for (text, error) in cases {
            assert_eq!(
                parse(text),
                Err(error),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 2);
        assert_eq!(parse(&deep), Err(ProtocolError::NestingTooDeep));
        let mut fine = b"*1\r\n".repeat(MAX_DEPTH);
        fine.extend_from_slice(b":1\r\n");
        assert!(parse(&fine).unwrap().is_some());
    }
}
