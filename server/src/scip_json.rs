//! Compact JSON of a location list, written by hand: the bytes `serde_json::to_string`
//! writes, at a fraction of the cost.
//!
//! Why: a definition answer is dozens of locations (declaration merging fans one position
//! out), sorted, so neighbours share their project and version and often their path. Through
//! serde every location escapes all three strings again; under 64 concurrent HTTP clients
//! that serialisation was ~19% of the server's instructions (callgrind, benches/RESULTS.md
//! "HTTP"). Here each run of equal strings is escaped once (by serde_json itself, so the
//! escaping rules are the same) and the rest is copied.

use scipkv_engine::scip::store::{Location, Span};

/// `serde_json::to_string(locations)`, byte for byte.
pub fn locations(locations: &[Location]) -> String {
    let mut out = Vec::with_capacity(2 + locations.len() * 128);
    let mut project = Escaped::default();
    let mut version = Escaped::default();
    let mut path = Escaped::default();
    out.push(b'[');
    for (i, l) in locations.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"project\":");
        out.extend_from_slice(project.of(&l.project));
        out.extend_from_slice(b",\"version\":");
        out.extend_from_slice(version.of(&l.version));
        out.extend_from_slice(b",\"path\":");
        out.extend_from_slice(path.of(&l.path));
        out.extend_from_slice(b",\"range\":");
        span(&mut out, &l.range);
        out.push(b'}');
    }
    out.push(b']');
    // Only ASCII punctuation, digits and serde_json's escaping of valid UTF-8 went in.
    String::from_utf8(out).expect("JSON of UTF-8 strings is UTF-8")
}

/// The escaped (quoted) form of the last string asked for, recomputed only when it changes.
#[derive(Default)]
struct Escaped {
    raw: String,
    json: Vec<u8>,
}

impl Escaped {
    fn of(&mut self, s: &str) -> &[u8] {
        if self.json.is_empty() || self.raw != s {
            self.raw.clear();
            self.raw.push_str(s);
            self.json.clear();
            serde_json::to_writer(&mut self.json, s).expect("writing to a Vec cannot fail");
        }
        &self.json
    }
}

fn span(out: &mut Vec<u8>, s: &Span) {
    out.extend_from_slice(b"{\"start\":{\"line\":");
    number(out, s.start.line);
    out.extend_from_slice(b",\"character\":");
    number(out, s.start.character);
    out.extend_from_slice(b"},\"end\":{\"line\":");
    number(out, s.end.line);
    out.extend_from_slice(b",\"character\":");
    number(out, s.end.character);
    out.extend_from_slice(b"}}");
}

/// Decimal digits of `n`.
fn number(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use scipkv_engine::scip::store::Position;

    /// splitmix64; the seed is printed and `SCIPKV_SEED` reruns it.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn string(rng: &mut Rng) -> String {
        // Characters serde_json escapes or writes as-is: quotes, backslash, controls, DEL,
        // multi-byte UTF-8 and a character outside the BMP.
        const ALPHABET: &[char] = &[
            'a', 'z', '/', '.', '"', '\\', '\n', '\r', '\t', '\u{0}', '\u{1f}', '\u{7f}', 'é', '→',
            '𝄞', ' ', '%',
        ];
        (0..rng.below(6))
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect()
    }

    fn number_of(rng: &mut Rng) -> u32 {
        match rng.below(4) {
            0 => 0,
            1 => u32::MAX,
            2 => rng.below(10) as u32,
            _ => rng.next() as u32,
        }
    }

    #[test]
    fn same_bytes_as_serde_json() {
        let seed = std::env::var("SCIPKV_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        println!("SCIPKV_SEED={seed}");
        let mut rng = Rng(seed);
        assert_eq!(locations(&[]), "[]");
        for _ in 0..2000 {
            // Few distinct strings, so runs of equal neighbours (the cached path) are common.
            let pool: Vec<String> = (0..3).map(|_| string(&mut rng)).collect();
            let mut locs: Vec<Location> = (0..rng.below(8))
                .map(|_| Location {
                    project: pool[rng.below(pool.len())].clone(),
                    version: pool[rng.below(pool.len())].clone(),
                    path: pool[rng.below(pool.len())].clone(),
                    range: Span {
                        start: Position {
                            line: number_of(&mut rng),
                            character: number_of(&mut rng),
                        },
                        end: Position {
                            line: number_of(&mut rng),
                            character: number_of(&mut rng),
                        },
                    },
                })
                .collect();
            if rng.below(2) == 0 {
                locs.sort();
            }
            assert_eq!(
                locations(&locs),
                serde_json::to_string(&locs).unwrap(),
                "{locs:?} (SCIPKV_SEED={seed})"
            );
        }
    }
}
