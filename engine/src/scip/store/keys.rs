//! Key layout of the SCIP store; the byte-level spec is `format-spec/scip-schema.md` §Keys.
//!
//! Every key is `'S' tenant tag components…`. Strings are escaped (0x00 → 0x00 0xFF) and
//! terminated (0x00 0x01): the encoding is order-preserving and prefix-free, so no two
//! logical keys collide and a tenant's keys are exactly those starting with its prefix.
//! Fixed-width parts (hashes, big-endian integers) follow raw; they are last or
//! fixed-width, so they need no terminator.

/// First byte of every key the SCIP store writes, so it can share a `Db` with other data.
pub const NAMESPACE: u8 = b'S';

/// Record tags, one byte after the tenant. Never reuse a retired tag.
pub mod tag {
    /// Next upload id (per tenant).
    pub const COUNTER: u8 = b'C';
    /// `(project, version)` → the published upload.
    pub const UPLOAD: u8 = b'U';
    /// `project` → the version `latest` points to.
    pub const ALIAS: u8 = b'A';
    /// `upload id` → an upload in progress (its manifest entries are not yet published).
    pub const PENDING: u8 = b'P';
    /// `(upload id, path)` → document hash.
    pub const MANIFEST: u8 = b'M';
    /// `(upload id, batch number)` → hash of a batch of external symbols.
    pub const EXTERNALS: u8 = b'E';
    /// `(manager, name, package version, project, version)` → upload id defining that package.
    pub const PACKAGE: u8 = b'K';
    /// `hash` → document header.
    pub const HEADER: u8 = b'H';
    /// `(hash, running max end line, chunk number)` → a chunk of occurrences.
    pub const CHUNK: u8 = b'O';
    /// `(symbol, hash)` → definition occurrences of the symbol in that document.
    pub const DEFINITION: u8 = b'D';
    /// `(symbol, hash)` → all occurrences of the symbol in that document.
    pub const REFERENCES: u8 = b'R';
    /// `(symbol, hash)` → the `SymbolInformation` the document carries for the symbol.
    pub const INFO: u8 = b'I';
    /// `(target, hash, source)` → relationship flags: source relates to target (reverse index).
    pub const REVERSE: u8 = b'B';
    /// `(lowercase name, symbol, hash)` → kind and display name (workspace symbol search).
    pub const NAME: u8 = b'N';
    /// `hash` → the document's outline.
    pub const OUTLINE: u8 = b'T';
    /// `hash` → the document's diagnostics.
    pub const DIAGNOSTICS: u8 = b'G';
    /// `hash` → symbols with `INFO` records in the document (what GC must delete).
    pub const INFO_LIST: u8 = b'W';
}

/// Content address of a document: xxh3-128 of its protobuf encoding.
pub type DocHash = u128;

/// Appends `s` escaped and terminated.
pub fn push_str(k: &mut Vec<u8>, s: &[u8]) {
    push_escaped(k, s);
    k.extend_from_slice(&[0, 1]);
}

/// Appends `s` escaped but unterminated: a prefix of every key whose component starts with `s`.
pub fn push_escaped(k: &mut Vec<u8>, s: &[u8]) {
    // Copies the runs between zero bytes whole: symbols rarely hold one, and a byte-by-byte
    // push was most of building a key at ingest.
    k.reserve(s.len() + 2);
    let mut rest = s;
    while let Some(i) = first_zero(rest) {
        k.extend_from_slice(&rest[..i]);
        k.extend_from_slice(&[0, 0xFF]);
        rest = &rest[i + 1..];
    }
    k.extend_from_slice(rest);
}

/// Index of the first zero byte, testing eight bytes at a time (a word has a zero byte iff
/// `(w - 0x01..01) & !w & 0x80..80` is non-zero).
fn first_zero(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = u64::from_le_bytes(w.try_into().unwrap_or([1; 8]));
        if x.wrapping_sub(LO) & !x & HI != 0 {
            return w.iter().position(|&b| b == 0).map(|i| at + i);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&b| b == 0)
        .map(|i| at + i)
}

/// Reads one escaped, terminated component from the front of `k`; returns it and the rest.
/// `None` if the bytes are not a valid component (a corrupt key).
pub fn take_str(k: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut out = Vec::new();
    let rest = take_str_into(k, &mut out)?;
    Some((out, rest))
}

/// [`take_str`] into a caller's buffer (cleared first), for scans that decode many keys.
pub fn take_str_into<'a>(k: &'a [u8], out: &mut Vec<u8>) -> Option<&'a [u8]> {
    out.clear();
    let mut i = 0;
    // Copies the runs between zero bytes whole; a zero is an escape or the terminator.
    while let Some(z) = first_zero(&k[i..]) {
        out.extend_from_slice(&k[i..i + z]);
        i += z;
        match k.get(i + 1)? {
            0xFF => out.push(0),
            1 => return Some(&k[i + 2..]),
            _ => return None,
        }
        i += 2;
    }
    None
}

/// Reads a big-endian u128 hash from the front of `k`.
pub fn take_hash(k: &[u8]) -> Option<(DocHash, &[u8])> {
    let (h, rest) = k.split_first_chunk::<16>()?;
    Some((u128::from_be_bytes(*h), rest))
}

/// Reads a big-endian u64 from the front of `k`.
pub fn take_u64(k: &[u8]) -> Option<(u64, &[u8])> {
    let (h, rest) = k.split_first_chunk::<8>()?;
    Some((u64::from_be_bytes(*h), rest))
}

/// Builds keys for one tenant.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: Vec<u8>,
}

impl Keys {
    pub fn new(tenant: &str) -> Self {
        let mut prefix = vec![NAMESPACE];
        push_str(&mut prefix, tenant.as_bytes());
        Keys { prefix }
    }

    /// Every key of this tenant starts with this.
    pub fn tenant_prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// `tenant tag`: the prefix of every record of one kind.
    pub fn tag(&self, tag: u8) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + 64);
        k.extend_from_slice(&self.prefix);
        k.push(tag);
        k
    }

    pub fn counter(&self) -> Vec<u8> {
        self.tag(tag::COUNTER)
    }

    pub fn upload(&self, project: &str, version: &str) -> Vec<u8> {
        let mut k = self.upload_project(project);
        push_str(&mut k, version.as_bytes());
        k
    }

    /// Prefix of every `UPLOAD` key of `project`.
    pub fn upload_project(&self, project: &str) -> Vec<u8> {
        let mut k = self.tag(tag::UPLOAD);
        push_str(&mut k, project.as_bytes());
        k
    }

    pub fn alias(&self, project: &str) -> Vec<u8> {
        let mut k = self.tag(tag::ALIAS);
        push_str(&mut k, project.as_bytes());
        k
    }

    pub fn pending(&self, upload: u64) -> Vec<u8> {
        let mut k = self.tag(tag::PENDING);
        k.extend_from_slice(&upload.to_be_bytes());
        k
    }

    /// Prefix of the manifest of one upload.
    pub fn manifest_upload(&self, upload: u64) -> Vec<u8> {
        let mut k = self.tag(tag::MANIFEST);
        k.extend_from_slice(&upload.to_be_bytes());
        k
    }

    pub fn manifest(&self, upload: u64, path: &str) -> Vec<u8> {
        let mut k = self.manifest_upload(upload);
        push_str(&mut k, path.as_bytes());
        k
    }

    pub fn externals_upload(&self, upload: u64) -> Vec<u8> {
        let mut k = self.tag(tag::EXTERNALS);
        k.extend_from_slice(&upload.to_be_bytes());
        k
    }

    pub fn externals(&self, upload: u64, n: u32) -> Vec<u8> {
        let mut k = self.externals_upload(upload);
        k.extend_from_slice(&n.to_be_bytes());
        k
    }

    /// Prefix of the `PACKAGE` keys of one package triple.
    pub fn package_prefix(&self, manager: &str, name: &str, version: &str) -> Vec<u8> {
        let mut k = self.tag(tag::PACKAGE);
        push_str(&mut k, manager.as_bytes());
        push_str(&mut k, name.as_bytes());
        push_str(&mut k, version.as_bytes());
        k
    }

    pub fn package(&self, pkg: &PackageKey, project: &str, version: &str) -> Vec<u8> {
        let mut k = self.package_prefix(&pkg.manager, &pkg.name, &pkg.version);
        push_str(&mut k, project.as_bytes());
        push_str(&mut k, version.as_bytes());
        k
    }

    fn hashed(&self, tag: u8, hash: DocHash) -> Vec<u8> {
        let mut k = self.tag(tag);
        k.extend_from_slice(&hash.to_be_bytes());
        k
    }

    pub fn header(&self, hash: DocHash) -> Vec<u8> {
        self.hashed(tag::HEADER, hash)
    }

    pub fn outline(&self, hash: DocHash) -> Vec<u8> {
        self.hashed(tag::OUTLINE, hash)
    }

    pub fn diagnostics(&self, hash: DocHash) -> Vec<u8> {
        self.hashed(tag::DIAGNOSTICS, hash)
    }

    pub fn info_list(&self, hash: DocHash) -> Vec<u8> {
        self.hashed(tag::INFO_LIST, hash)
    }

    /// Prefix of the chunks of one document.
    pub fn chunks(&self, hash: DocHash) -> Vec<u8> {
        self.hashed(tag::CHUNK, hash)
    }

    pub fn chunk(&self, hash: DocHash, max_end_line: u32, n: u32) -> Vec<u8> {
        let mut k = self.chunks(hash);
        k.extend_from_slice(&max_end_line.to_be_bytes());
        k.extend_from_slice(&n.to_be_bytes());
        k
    }

    /// Prefix of the `(symbol, hash)` records of one symbol, for `DEFINITION`, `REFERENCES`,
    /// `INFO` and `REVERSE`.
    pub fn by_symbol(&self, tag: u8, symbol: &str) -> Vec<u8> {
        let mut k = self.tag(tag);
        push_str(&mut k, symbol.as_bytes());
        k
    }

    pub fn symbol_doc(&self, tag: u8, symbol: &str, hash: DocHash) -> Vec<u8> {
        let mut k = self.by_symbol(tag, symbol);
        k.extend_from_slice(&hash.to_be_bytes());
        k
    }

    pub fn reverse(&self, target: &str, hash: DocHash, source: &str) -> Vec<u8> {
        let mut k = self.symbol_doc(tag::REVERSE, target, hash);
        push_str(&mut k, source.as_bytes());
        k
    }

    pub fn name(&self, lower_name: &str, symbol: &str, hash: DocHash) -> Vec<u8> {
        let mut k = self.tag(tag::NAME);
        push_str(&mut k, lower_name.as_bytes());
        push_str(&mut k, symbol.as_bytes());
        k.extend_from_slice(&hash.to_be_bytes());
        k
    }

    /// Prefix of `NAME` keys whose lowercase name starts with `lower_prefix`.
    pub fn name_prefix(&self, lower_prefix: &str) -> Vec<u8> {
        let mut k = self.tag(tag::NAME);
        push_escaped(&mut k, lower_prefix.as_bytes());
        k
    }
}

/// A package triple `(manager, name, version)` as written in global symbols.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageKey {
    pub manager: String,
    pub name: String,
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_zero_matches_a_byte_scan() {
        for len in 0..40usize {
            for z in [None, Some(0), Some(len / 2), Some(len.saturating_sub(1))] {
                let mut s: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(37) | 1).collect();
                s.extend_from_slice(&[0x80, 0xFF, 0x7F]);
                if let Some(z) = z.filter(|&z| z < len) {
                    s[z] = 0;
                    s[len / 3 + z / 2..]
                        .iter_mut()
                        .step_by(5)
                        .for_each(|b| *b = 0);
                }
                assert_eq!(first_zero(&s), s.iter().position(|&b| b == 0), "{s:?}");
                let mut k = Vec::new();
                push_escaped(&mut k, &s);
                let mut want = Vec::new();
                for &b in &s {
                    if b == 0 {
                        want.extend_from_slice(&[0, 0xFF]);
                    } else {
                        want.push(b);
                    }
                }
                assert_eq!(k, want);
            }
        }
    }

    #[test]
    fn components_never_collide_and_keep_order() {
        let k = Keys::new("t");
        // ("a\0", "b") vs ("a", "\0b"): distinct keys.
        let a = k.upload("a\0", "b");
        let b = k.upload("a", "\0b");
        assert_ne!(a, b);
        // Order follows the (project, version) tuple order.
        let mut pairs = [("a", "z"), ("a\0", ""), ("ab", ""), ("a", "")];
        let mut keys: Vec<_> = pairs.iter().map(|(p, v)| k.upload(p, v)).collect();
        pairs.sort();
        keys.sort();
        let expect: Vec<_> = pairs.iter().map(|(p, v)| k.upload(p, v)).collect();
        assert_eq!(keys, expect);
    }

    #[test]
    fn tenant_prefixes_are_disjoint() {
        let a = Keys::new("ab");
        let b = Keys::new("a");
        assert!(!a.upload("x", "y").starts_with(b.tenant_prefix()));
        assert!(!b.upload("x", "y").starts_with(a.tenant_prefix()));
    }

    #[test]
    fn take_str_inverts_push_str() {
        for s in [&b""[..], b"a", b"\0", b"a\0\x01b", b"\xff\0"] {
            let mut k = Vec::new();
            push_str(&mut k, s);
            k.push(7);
            let (got, rest) = take_str(&k).unwrap();
            assert_eq!(got, s);
            assert_eq!(rest, &[7]);
        }
        assert!(take_str(b"abc").is_none());
        assert!(take_str(b"a\0\x02").is_none());
    }

    #[test]
    fn name_prefix_is_a_prefix_of_matching_names() {
        let k = Keys::new("t");
        assert!(k.name("foobar", "s", 1).starts_with(&k.name_prefix("foo")));
        assert!(!k.name("fo", "s", 1).starts_with(&k.name_prefix("foo")));
    }
}
