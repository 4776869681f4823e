//! Reply values. One type serves both protocol versions; RESP2 connections
//! get the RESP3-only kinds downgraded at encoding time, as Redis does, so
//! command code never needs to know which protocol the client chose.

/// A reply. `PartialEq` compares doubles numerically, so `NaN` is unequal to
/// itself; compare encodings when that matters.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Status line; CR and LF are replaced by spaces when encoded.
    Simple(String),
    /// Must start with an upper-case code word (`ERR`, `WRONGTYPE`, `NOAUTH`,
    /// `NOPERM`, ...); the encoder prefixes `ERR ` when it does not.
    Error(String),
    Integer(i64),
    Bulk(Vec<u8>),
    /// A missing value where a string was expected (`$-1` in RESP2).
    Null,
    Array(Vec<Value>),
    /// A missing value where an array was expected (`*-1` in RESP2).
    NullArray,
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Double(f64),
    Boolean(bool),
    Verbatim {
        format: [u8; 3],
        text: String,
    },
    /// Decimal digits with an optional leading `-`.
    BigNumber(String),
}

impl Value {
    pub fn ok() -> Value {
        Value::Simple("OK".to_owned())
    }

    pub fn bulk(bytes: impl Into<Vec<u8>>) -> Value {
        Value::Bulk(bytes.into())
    }
}

/// Chosen per connection with `HELLO`; every connection starts in RESP2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}
