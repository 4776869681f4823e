//! The Redis wire protocol (RESP2 and RESP3) as the server speaks it: request
//! parsing, reply encoding, glob matching for `KEYS`/`SCAN MATCH`, and a reply
//! parser for clients and tests. The wire format is specified in
//! `format-spec/resp.md`.

mod client;
mod double;
mod encode;
mod error;
mod glob;
mod inline;
mod number;
mod parse;
mod value;

#[cfg(test)]
mod tests;

pub use client::parse_value;
pub use encode::encode;
pub use error::ProtocolError;
pub use glob::{glob_match, matches_everything};
pub use parse::{Command, Limits, RequestParser};
pub use value::{Protocol, Value};

/// Entry point for the fuzz target: the parser must never panic, never claim
/// more bytes than it was given, and must yield the same commands whether the
/// input arrives in one piece or in two (split at `data[0] % len`).
pub fn fuzz_parse(data: &[u8]) {
    let Some(&first) = data.first() else {
        return;
    };
    let split = usize::from(first) % data.len();
    let in_pieces = drive(&[&data[..split], &data[split..]]);
    let whole = drive(&[data]);
    assert_eq!(in_pieces, whole, "chunking changed the parse result");
}

/// What a connection would see from a byte stream: every command in order,
/// then the protocol error that would close it, if any.
pub(crate) fn drive(pieces: &[&[u8]]) -> Vec<Result<Command, ProtocolError>> {
    let mut parser = RequestParser::default();
    let mut buf = Vec::new();
    let mut outcomes = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match parser.parse(&buf) {
                Ok(Some((command, consumed))) => {
                    assert!(consumed > 0 && consumed <= buf.len());
                    assert!(!command.args.is_empty());
                    buf.drain(..consumed);
                    outcomes.push(Ok(command));
                }
                Ok(None) => {
                    let skipped = parser.take_skipped();
                    assert!(skipped <= buf.len());
                    buf.drain(..skipped);
                    break;
                }
                Err(error) => {
                    outcomes.push(Err(error));
                    return outcomes;
                }
            }
        }
    }
    outcomes
}
