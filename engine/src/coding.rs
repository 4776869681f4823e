//! Little-endian fixed-width and LEB128 varint encoding, and a bounded decoder.
//!
//! Every decoder of on-disk bytes reads through [`Reader`], which checks each length against
//! what is left before slicing or allocating, so hostile input yields an error, never a panic.

/// Appends `v` as an unsigned LEB128 varint (at most 10 bytes).
pub fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Number of bytes `put_varint` writes for `v`.
pub fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Appends a varint length followed by the bytes.
pub fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

/// Why a [`Reader`] stopped: the caller turns this into a `Corruption` with file and offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset within the decoded slice where the problem was found.
    pub pos: usize,
    /// What was wrong.
    pub what: String,
}

impl DecodeError {
    pub fn new(pos: usize, what: impl Into<String>) -> Self {
        DecodeError {
            pos,
            what: what.into(),
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at byte {})", self.what, self.pos)
    }
}

/// A cursor over untrusted bytes. Every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn err(&self, what: impl Into<String>) -> DecodeError {
        DecodeError::new(self.pos, what)
    }

    #[inline]
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        match self.buf.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.short(n, what)),
        }
    }

    /// The error of a read past the end, out of line so the checks above stay small.
    #[cold]
    #[inline(never)]
    fn short(&self, n: usize, what: &str) -> DecodeError {
        self.err(format!(
            "{what}: needs {n} bytes, {} left",
            self.remaining()
        ))
    }

    #[inline]
    pub fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.short(1, what)),
        }
    }

    pub fn u16(&mut self, what: &str) -> Result<u16, DecodeError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    pub fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        let b = self.bytes(8, what)?;
        Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// Block entries and handles are mostly one-byte varints: that case is a load and a
    /// compare (block seeks decode three per entry; this was a third of a point read's
    /// instructions under callgrind before the fast path).
    #[inline]
    pub fn varint(&mut self, what: &str) -> Result<u64, DecodeError> {
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.varint_slow(what)
    }

    #[inline(never)]
    fn varint_slow(&mut self, what: &str) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8(what)?;
            if i == 9 && b > 1 {
                return Err(self.err(format!("{what}: varint overflows 64 bits")));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err(format!("{what}: varint longer than 10 bytes")))
    }

    /// A varint that must not exceed `max` (a length about to be used for slicing).
    #[inline]
    pub fn varint_max(&mut self, max: u64, what: &str) -> Result<u64, DecodeError> {
        let v = self.varint(what)?;
        if v > max {
            return Err(self.over_limit(v, max, what));
        }
        Ok(v)
    }

    #[cold]
    #[inline(never)]
    fn over_limit(&self, v: u64, max: u64, what: &str) -> DecodeError {
        self.err(format!("{what}: {v} exceeds the limit {max}"))
    }

    /// A varint length followed by that many bytes; the length is checked against what is left.
    pub fn length_prefixed(&mut self, what: &str) -> Result<&'a [u8], DecodeError> {
        let n = self.varint(what)?;
        if n > self.remaining() as u64 {
            return Err(self.err(format!(
                "{what}: length {n} exceeds the {} bytes left",
                self.remaining()
            )));
        }
        self.bytes(n as usize, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_edges() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v));
            let mut r = Reader::new(&b);
            assert_eq!(r.varint("v").unwrap(), v);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn varint_rejects_overlong_and_truncated() {
        let overlong = [0xffu8; 11];
        assert!(Reader::new(&overlong).varint("v").is_err());
        let overflow = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(Reader::new(&overflow).varint("v").is_err());
        assert!(Reader::new(&[0x80]).varint("v").is_err());
    }

    #[test]
    fn length_prefixed_is_bounded() {
        let mut b = Vec::new();
        put_varint(&mut b, 1 << 40);
        b.extend_from_slice(b"abc");
        assert!(Reader::new(&b).length_prefixed("k").is_err());
    }
}
