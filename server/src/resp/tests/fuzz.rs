//! Hostile input: random bytes and mutated valid pipelines must never panic,
//! never consume more than was given, and parse the same however split.

use super::pipeline::pipeline_for_mutation;
use super::rng::Rng;
use crate::resp::{drive, fuzz_parse, parse_value};

/// Bytes that matter to the grammar, so random input reaches deep states.
const ALPHABET: &[u8] = b"*$:+-_,#%~=(!\r\n0123456789 \"'\\xa";

fn random_input(rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(120);
    (0..len)
        .map(|_| {
            if rng.chance(4) {
                rng.byte()
            } else {
                *rng.pick(ALPHABET)
            }
        })
        .collect()
}

fn mutate(input: &mut Vec<u8>, rng: &mut Rng) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(5) {
            0 if at < input.len() => input[at] = *rng.pick(ALPHABET),
            1 => input.insert(at, rng.byte()),
            2 if at < input.len() => {
                input.remove(at);
            }
            3 => input.truncate(at),
            _ => {
                let end = (at + rng.below(16)).min(input.len());
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy);
            }
        }
    }
}

fn check_request_parser(input: &[u8], rng: &mut Rng) {
    fuzz_parse(input);
    let whole = drive(&[input]);
    let bytes: Vec<&[u8]> = input.chunks(1 + rng.below(3)).collect();
    assert_eq!(drive(&bytes), whole, "input {input:?}");
}

fn check_reply_parser(input: &[u8]) {
    if let Ok(Some((_, used))) = parse_value(input) {
        assert!(used > 0 && used <= input.len(), "input {input:?}");
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::from_env("random_bytes_never_panic");
    for _ in 0..3000 {
        let input = random_input(&mut rng);
        check_request_parser(&input, &mut rng);
        check_reply_parser(&input);
    }
}

#[test]
fn random_mutations_never_panic() {
    let mut rng = Rng::from_env("random_mutations_never_panic");
    for _ in 0..1000 {
        let mut input = pipeline_for_mutation(&mut rng);
        mutate(&mut input, &mut rng);
        check_request_parser(&input, &mut rng);
        check_reply_parser(&input);
    }
}

#[test]
fn fuzz_entry_point_handles_edge_inputs() {
    for input in [
        &b""[..],
        b"\x00",
        b"\x05*1\r\n$1\r\na\r\n",
        b"\xff*9223372036854775807\r\n",
        b"*1\r\n$536870913\r\n",
    ] {
        fuzz_parse(input);
    }
}
