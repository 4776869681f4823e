//! CURRENT: the one small file that names the live manifest.
//!
//! It is replaced by rename, which is atomic, so after a crash it names either the old or the
//! new manifest. The checksum catches a CURRENT damaged in place; the format and the replace
//! protocol are in format-spec/manifest.md ("CURRENT").

use std::io;

use crate::checksum::xxh3;
use crate::error::{Error, IoContext, Result};
use crate::storage::Storage;

use super::names::{CURRENT, CURRENT_TMP, FileKind, parse_file_name};

/// A valid CURRENT is about 40 bytes; anything larger than this is not one, and the bound
/// keeps a damaged file from sizing a big read.
pub const MAX_CURRENT_LEN: u64 = 256;

/// The exact contents of a CURRENT naming `manifest_name`.
pub fn current_contents(manifest_name: &str) -> String {
    format!("{manifest_name} {:016x}\n", xxh3(manifest_name.as_bytes()))
}

/// Points CURRENT at `manifest_name`. The manifest must already be synced, and its directory
/// entry too: CURRENT must never name a file that a crash could lose.
pub fn write_current(storage: &dyn Storage, manifest_name: &str) -> Result<()> {
    if !matches!(parse_file_name(manifest_name), Some(FileKind::Manifest(_))) {
        return Err(Error::InvalidArgument(format!(
            "{manifest_name:?} is not a manifest file name"
        )));
    }
    let mut f = storage
        .create(CURRENT_TMP)
        .ctx(|| format!("creating {CURRENT_TMP}"))?;
    f.append(current_contents(manifest_name).as_bytes())
        .ctx(|| format!("writing {CURRENT_TMP}"))?;
    f.sync().ctx(|| format!("syncing {CURRENT_TMP}"))?;
    drop(f);
    storage
        .rename(CURRENT_TMP, CURRENT)
        .ctx(|| format!("renaming {CURRENT_TMP} to {CURRENT}"))?;
    storage
        .sync_dir()
        .ctx(|| format!("syncing the directory after replacing {CURRENT}"))
}

/// The manifest CURRENT names, or `None` when there is no CURRENT (a new database).
pub fn read_current(storage: &dyn Storage) -> Result<Option<String>> {
    let file = match storage.open_read(CURRENT) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("opening {CURRENT}"), e)),
    };
    if file.len() > MAX_CURRENT_LEN {
        return Err(Error::corruption(
            CURRENT,
            0,
            format!("{} bytes, more than {MAX_CURRENT_LEN}", file.len()),
        ));
    }
    let bytes = file
        .read_vec(0, file.len() as usize)
        .ctx(|| format!("reading {CURRENT}"))?;
    parse_current(&bytes).map(Some)
}

/// Parses CURRENT's contents. Public so the fuzzer can reach it.
pub fn parse_current(bytes: &[u8]) -> Result<String> {
    let bad = |what: &str| Error::corruption(CURRENT, 0, what);
    let text = std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"))?;
    let line = text
        .strip_suffix('\n')
        .ok_or_else(|| bad("missing the final newline"))?;
    let (name, sum) = line
        .split_once(' ')
        .ok_or_else(|| bad("expected `<manifest> <checksum>`"))?;
    if !matches!(parse_file_name(name), Some(FileKind::Manifest(_))) {
        return Err(bad("does not name a manifest"));
    }
    let well_formed = sum.len() == 16
        && sum
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(bad("checksum is not 16 lowercase hex digits"));
    }
    if sum != format!("{:016x}", xxh3(name.as_bytes())) {
        return Err(bad("checksum mismatch"));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{FsStorage, ReadPath};
    use crate::version::names::manifest_name;

    fn storage() -> (tempfile::TempDir, FsStorage) {
        let dir = tempfile::tempdir().unwrap();
        let s = FsStorage::new(dir.path(), ReadPath::Pread).unwrap();
        (dir, s)
    }

    fn put(s: &FsStorage, name: &str, bytes: &[u8]) {
        let mut f = s.create(name).unwrap();
        f.append(bytes).unwrap();
    }

    #[test]
    fn missing_current_is_none() {
        let (_d, s) = storage();
        assert_eq!(read_current(&s).unwrap(), None);
    }

    #[test]
    fn write_then_read_and_replace() {
        let (_d, s) = storage();
        write_current(&s, &manifest_name(5)).unwrap();
        assert_eq!(
            read_current(&s).unwrap().as_deref(),
            Some("MANIFEST-000005")
        );
        write_current(&s, &manifest_name(1_234_567)).unwrap();
        assert_eq!(
            read_current(&s).unwrap().as_deref(),
            Some("MANIFEST-1234567")
        );
        assert!(!s.list().unwrap().iter().any(|n| n == CURRENT_TMP));
        let raw = s.read_all(CURRENT).unwrap();
        assert_eq!(raw, current_contents("MANIFEST-1234567").as_bytes());
        assert!(raw.ends_with(b"\n") && raw.len() == "MANIFEST-1234567 ".len() + 17);
    }

    /// The example in format-spec/manifest.md ("CURRENT").
    #[test]
    fn spec_example_is_stable() {
        assert_eq!(
            current_contents("MANIFEST-000004"),
            "MANIFEST-000004 63628e78137424d4\n"
        );
    }

    #[test]
    fn write_refuses_a_non_manifest_name() {
        let (_d, s) = storage();
        assert!(matches!(
            write_current(&s, "000001.wal"),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(read_current(&s).unwrap(), None);
    }

    #[test]
    fn damaged_current_is_corruption() {
        let (_d, s) = storage();
        let good = current_contents("MANIFEST-000005");
        let mut flipped_sum = good.clone().into_bytes();
        let i = flipped_sum.len() - 2;
        flipped_sum[i] = if flipped_sum[i] == b'0' { b'1' } else { b'0' };
        let (name, sum) = good.trim_end().split_once(' ').unwrap();
        let upper = format!("{name} {}\n", sum.to_uppercase());
        let cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            good.trim_end().as_bytes().to_vec(),
            format!("{good}\n").into_bytes(),
            good.replace("000005", "000006").into_bytes(),
            flipped_sum,
            upper.into_bytes(),
            b"000005.wal 0000000000000000\n".to_vec(),
            vec![0xff; 20],
            vec![b'x'; MAX_CURRENT_LEN as usize + 1],
        ];
        for bytes in cases {
            put(&s, CURRENT, &bytes);
            let err = read_current(&s).unwrap_err();
            assert!(err.is_corruption(), "{bytes:?}: {err}");
        }
    }
}
