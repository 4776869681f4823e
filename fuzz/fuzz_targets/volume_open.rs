//! Opening a raw volume from damaged or hostile metadata: the first byte picks the mode.
//! 0: the rest is the raw start of the device (superblocks, journal areas); 1: the rest is
//! the payload of a validly framed journal commit after a valid snapshot, so the record
//! decoder, table replay and allocator checks see arbitrary records; otherwise: the rest is
//! the payload of a validly framed journal tail after a commit creating a file, so the tail
//! decoder and tail application (range, extent and checksum checks) see arbitrary entries. Opening never
//! panics and fails only with `Corruption` (or `InvalidArgument` for a blank device); an
//! opened volume's files read within their bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scipkv_engine::Error;
use scipkv_engine::storage::Storage;
use scipkv_engine::storage::volume::{VolumeStorage, fuzzing};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let dev = match mode {
        0 => fuzzing::raw_volume(rest),
        1 => fuzzing::volume_with_commit(rest),
        _ => fuzzing::volume_with_tail(rest),
    };
    match VolumeStorage::open(dev) {
        Ok(v) => {
            for name in v.list().unwrap() {
                let f = v.open_read(&name).unwrap();
                let len = f.len().min(1 << 16) as usize;
                let _ = f.read_vec(0, len);
            }
        }
        Err(Error::Corruption { .. } | Error::InvalidArgument(_)) => {}
        Err(e) => panic!("unexpected error: {e}"),
    }
});
