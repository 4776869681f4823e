use std::fmt;

use thiserror::Error;

use super::Value;

/// Malformed input on a connection. Request-side variants use Redis's wording so
/// clients that match on reply text keep working; the server replies with
/// [`ProtocolError::to_reply`] and then closes the connection, as Redis does.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("Protocol error: expected '$', got '{}'", Printable(*.got))]
    ExpectedBulk { got: u8 },
    /// Redis skips the two bytes after bulk data unchecked; we refuse anything
    /// but CRLF so a length mismatch cannot silently desynchronise framing.
    #[error("Protocol error: expected CRLF after bulk data")]
    MissingBulkTerminator,
    #[error("Protocol error: too big inline request")]
    InlineTooBig,
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    /// Reply parsing ([`super::parse_value`]) only.
    #[error("Protocol error: unknown reply type '{}'", Printable(*.0))]
    UnknownReplyType(u8),
    /// Reply parsing only; names the part of the reply that was malformed.
    #[error("Protocol error: invalid {0}")]
    InvalidReply(&'static str),
    /// Reply parsing only: bounds recursion on hostile input.
    #[error("Protocol error: reply nested too deeply")]
    NestingTooDeep,
}

impl ProtocolError {
    /// The reply sent just before closing the connection.
    pub fn to_reply(&self) -> Value {
        Value::Error(format!("ERR {self}"))
    }
}

/// Shows a byte the way Redis's `%c` would, except that control and non-ASCII
/// bytes are escaped so the error line can never carry a raw CR or LF.
struct Printable(u8);

impl fmt::Display for Printable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == b' ' || self.0.is_ascii_graphic() {
            write!(f, "{}", char::from(self.0))
        } else {
            write!(f, "\\x{:02x}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_redis_wording() {
        let cases = [
            (
                ProtocolError::InvalidMultibulkLength,
                "Protocol error: invalid multibulk length",
            ),
            (
                ProtocolError::InvalidBulkLength,
                "Protocol error: invalid bulk length",
            ),
            (
                ProtocolError::ExpectedBulk { got: b'x' },
                "Protocol error: expected '$', got 'x'",
            ),
            (
                ProtocolError::InlineTooBig,
                "Protocol error: too big inline request",
            ),
            (
                ProtocolError::UnbalancedQuotes,
                "Protocol error: unbalanced quotes in request",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn unprintable_bytes_are_escaped() {
        let error = ProtocolError::ExpectedBulk { got: b'\n' };
        assert_eq!(
            error.to_string(),
            "Protocol error: expected '$', got '\\x0a'"
        );
    }

    #[test]
    fn reply_carries_err_code() {
        assert_eq!(
            ProtocolError::InlineTooBig.to_reply(),
            Value::Error("ERR Protocol error: too big inline request".into())
        );
    }
}
