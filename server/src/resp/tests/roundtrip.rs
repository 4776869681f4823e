//! Encoding then parsing a reply gives the value back: unchanged in RESP3,
//! downgraded the way Redis downgrades it in RESP2.

use super::rng::Rng;
use crate::resp::double::format_double;
use crate::resp::{Protocol, Value, encode, parse_value};

fn random_text(rng: &mut Rng, alphabet: &[u8]) -> String {
    let len = rng.below(16);
    (0..len).map(|_| char::from(*rng.pick(alphabet))).collect()
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth >= 4 { 10 } else { 13 };
    match rng.below(kinds) {
        0 => Value::Simple(random_text(rng, b"abc OK-+:$*")),
        1 => Value::Error(format!(
            "{} {}",
            rng.pick(&["ERR", "WRONGTYPE", "NOAUTH", "NOPERM"]),
            random_text(rng, b"xyz :")
        )),
        2 => Value::Integer(rng.next_u64() as i64),
        3 => {
            let len = rng.below(40);
            Value::Bulk(rng.bytes(len))
        }
        4 => Value::Null,
        5 => Value::NullArray,
        6 => Value::Double(random_double(rng)),
        7 => Value::Boolean(rng.chance(2)),
        8 => Value::Verbatim {
            format: *rng.pick(&[*b"txt", *b"mkd"]),
            text: random_text(rng, b"ab\r\n:\xc3"),
        },
        9 => {
            let digits = random_text(rng, b"0123456789");
            let sign = if rng.chance(2) { "-" } else { "" };
            Value::BigNumber(format!("{sign}1{digits}"))
        }
        10 => Value::Array(children(rng, depth)),
        11 => Value::Set(children(rng, depth)),
        _ => {
            let keys = children(rng, depth);
            Value::Map(
                keys.into_iter()
                    .map(|k| (k, random_value(rng, depth + 1)))
                    .collect(),
            )
        }
    }
}

fn children(rng: &mut Rng, depth: usize) -> Vec<Value> {
    (0..rng.below(5))
        .map(|_| random_value(rng, depth + 1))
        .collect()
}

/// Any double but NaN, which is unequal to itself; NaN has its own test.
fn random_double(rng: &mut Rng) -> f64 {
    match rng.below(4) {
        0 => *rng.pick(&[0.0, -0.0, 1.5, f64::INFINITY, f64::NEG_INFINITY, 1e300]),
        1 => (rng.next_u64() % 100_000) as f64 / 64.0,
        _ => {
            let value = f64::from_bits(rng.next_u64());
            if value.is_nan() { 0.5 } else { value }
        }
    }
}

/// What a RESP3 client reads back for `value`: RESP3 has a single null, so
/// the array-flavoured one is indistinguishable on the wire.
fn resp3_view(value: &Value) -> Value {
    match value {
        Value::NullArray => Value::Null,
        Value::Array(items) => Value::Array(items.iter().map(resp3_view).collect()),
        Value::Set(items) => Value::Set(items.iter().map(resp3_view).collect()),
        Value::Map(pairs) => Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (resp3_view(k), resp3_view(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What a RESP2 client reads back for `value`.
fn downgraded(value: &Value) -> Value {
    match value {
        Value::Array(items) | Value::Set(items) => {
            Value::Array(items.iter().map(downgraded).collect())
        }
        Value::Map(pairs) => Value::Array(
            pairs
                .iter()
                .flat_map(|(k, v)| [downgraded(k), downgraded(v)])
                .collect(),
        ),
        Value::Double(d) => Value::bulk(format_double(*d)),
        Value::Boolean(b) => Value::Integer(i64::from(*b)),
        Value::Verbatim { text, .. } => Value::bulk(text.as_str()),
        Value::BigNumber(digits) => Value::bulk(digits.as_str()),
        other => other.clone(),
    }
}

fn read_back(value: &Value, proto: Protocol) -> Value {
    let mut wire = Vec::new();
    encode(value, proto, &mut wire);
    match parse_value(&wire) {
        Ok(Some((parsed, used))) => {
            assert_eq!(used, wire.len(), "{value:?}");
            parsed
        }
        other => panic!("{value:?} encoded as {wire:?} read back as {other:?}"),
    }
}

#[test]
fn nested_arrays_and_maps_round_trip() {
    let value = Value::Map(vec![
        (
            Value::bulk("list"),
            Value::Array(vec![
                Value::Integer(1),
                Value::Array(vec![Value::Null, Value::NullArray, Value::Array(vec![])]),
            ]),
        ),
        (
            Value::Simple("nested".into()),
            Value::Map(vec![(
                Value::Boolean(false),
                Value::Set(vec![Value::Double(-2.25)]),
            )]),
        ),
    ]);
    assert_eq!(read_back(&value, Protocol::Resp3), resp3_view(&value));
    assert_eq!(read_back(&value, Protocol::Resp2), downgraded(&value));
    assert_eq!(
        read_back(&value, Protocol::Resp2),
        Value::Array(vec![
            Value::bulk("list"),
            Value::Array(vec![
                Value::Integer(1),
                Value::Array(vec![Value::Null, Value::NullArray, Value::Array(vec![])]),
            ]),
            Value::Simple("nested".into()),
            Value::Array(vec![
                Value::Integer(0),
                Value::Array(vec![Value::bulk("-2.25")])
            ]),
        ])
    );
}

#[test]
fn nan_round_trips_as_nan() {
    assert!(
        matches!(read_back(&Value::Double(f64::NAN), Protocol::Resp3), Value::Double(d) if d.is_nan())
    );
    assert_eq!(
        read_back(&Value::Double(f64::NAN), Protocol::Resp2),
        Value::bulk("nan")
    );
}

#[test]
fn random_values_round_trip_in_both_protocols() {
    let mut rng = Rng::from_env("random_values_round_trip_in_both_protocols");
    for _ in 0..2000 {
        let value = random_value(&mut rng, 0);
        assert_eq!(read_back(&value, Protocol::Resp3), resp3_view(&value));
        assert_eq!(read_back(&value, Protocol::Resp2), downgraded(&value));
    }
}
