//! Whole log files (WAL or manifest framing): `decode_log` never panics, and whatever it
//! accepts re-encodes to exactly the bytes it was read from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::batch::decode_payload;
use scipkv_engine::log::format::file_header;
use scipkv_engine::log::{LogKind, LogWriter, Tail, decode_log};
use scipkv_engine::version::edit::VersionEdit;

fuzz_target!(|data: &[u8]| {
    // First byte picks the kind; the rest is the file.
    let Some((&flag, bytes)) = data.split_first() else {
        return;
    };
    let kind = if flag & 1 == 0 {
        LogKind::Wal
    } else {
        LogKind::Manifest
    };
    let Ok((records, tail, valid_len)) = decode_log("fuzz.log", bytes, kind) else {
        return;
    };
    let valid = usize::try_from(valid_len).expect("valid_len fits");
    assert!(
        valid <= bytes.len(),
        "valid_len {valid} past the end {}",
        bytes.len()
    );
    match &tail {
        Tail::Clean => assert_eq!(valid, bytes.len(), "clean tail but bytes left over"),
        Tail::Torn { offset, .. } => assert_eq!(*offset, valid_len, "torn offset != valid_len"),
    }
    // Re-frame: header (unless nothing valid was found) then every record.
    let mut expect = Vec::new();
    if valid > 0 {
        expect.extend_from_slice(&file_header(kind));
    } else {
        assert!(records.is_empty(), "records without a valid header");
    }
    for r in &records {
        LogWriter::encode_record(&mut expect, r).expect("record within limits");
    }
    assert!(
        expect == bytes[..valid],
        "records do not re-encode to the accepted prefix"
    );
    // Exercise the payload decoders on the records the log accepted.
    for r in &records {
        match kind {
            LogKind::Wal => {
                let _ = decode_payload(r, "fuzz.log", 0);
            }
            LogKind::Manifest => {
                let _ = VersionEdit::decode(r, "fuzz.log", 0);
            }
        }
    }
});
