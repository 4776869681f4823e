//! Random pipelines: however the bytes are split, the same commands come out.

use super::rng::Rng;
use crate::resp::{Command, drive};

/// One command in a random mix of multibulk and inline spellings, with empty
/// requests sprinkled in, plus the commands the stream must produce.
fn random_pipeline(rng: &mut Rng) -> (Vec<u8>, Vec<Command>) {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    for _ in 0..rng.below(12) {
        if rng.chance(5) {
            stream.extend_from_slice(rng.pick::<&[u8]>(&[
                b"*0\r\n",
                b"*-1\r\n",
                b"\r\n",
                b"\n",
                b" \t \r\n",
            ]));
        }
        let args: Vec<Vec<u8>> = (0..1 + rng.below(5)).map(|_| random_arg(rng)).collect();
        if rng.chance(2) {
            write_multibulk(&args, &mut stream);
        } else {
            write_inline(&args, rng, &mut stream);
        }
        expected.push(Command { args });
    }
    (stream, expected)
}

fn random_arg(rng: &mut Rng) -> Vec<u8> {
    let len = if rng.chance(10) {
        rng.below(400)
    } else {
        rng.below(12)
    };
    match rng.below(3) {
        0 => rng.bytes(len),
        1 => (0..len).map(|_| *rng.pick(b"abcXYZ019")).collect(),
        _ => (0..len).map(|_| *rng.pick(b"a \"'\\\r\n\t\0*$x")).collect(),
    }
}

fn write_multibulk(args: &[Vec<u8>], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// Spells each argument bare, single-quoted or double-quoted, whichever the
/// argument allows, so every quoting rule gets exercised.
fn write_inline(args: &[Vec<u8>], rng: &mut Rng, out: &mut Vec<u8>) {
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(rng.pick::<&[u8]>(&[b" ", b"\t", b"  "]));
        }
        let bare = !arg.is_empty() && arg.iter().all(u8::is_ascii_alphanumeric);
        let single = !arg.iter().any(|b| matches!(b, b'\n' | b'\\' | b'\0'));
        if bare && rng.chance(2) {
            out.extend_from_slice(arg);
        } else if single && rng.chance(2) {
            out.push(b'\'');
            for &b in arg {
                if b == b'\'' {
                    out.push(b'\\');
                }
                out.push(b);
            }
            out.push(b'\'');
        } else {
            out.push(b'"');
            for &b in arg {
                match b {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b' ' => out.push(b' '),
                    _ if b.is_ascii_graphic() => out.push(b),
                    _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
                }
            }
            out.push(b'"');
        }
    }
    out.extend_from_slice(if rng.chance(2) { b"\r\n" } else { b"\n" });
}

#[test]
fn byte_at_a_time_equals_whole_buffer() {
    let mut rng = Rng::from_env("byte_at_a_time_equals_whole_buffer");
    for round in 0..300 {
        let (stream, expected) = random_pipeline(&mut rng);
        let expected: Vec<_> = expected.into_iter().map(Ok).collect();
        let whole = drive(&[&stream]);
        assert_eq!(whole, expected, "round {round}, whole buffer");
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(drive(&bytes), expected, "round {round}, byte at a time");
        let mut pieces = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(1 + rng.below(rest.len()));
            pieces.push(piece);
            rest = tail;
        }
        assert_eq!(drive(&pieces), expected, "round {round}, random pieces");
    }
}

pub(super) fn pipeline_for_mutation(rng: &mut Rng) -> Vec<u8> {
    random_pipeline(rng).0
}
