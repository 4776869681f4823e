//! `scipkv volume format`: prepares a block device or file as a raw volume for
//! `scipkv serve --volume`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use scipkv_engine::storage::volume::{self, FileDevice, VolumeStorage};

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Writes an empty volume (superblocks and journal) over PATH, a block device or file.
    ///
    /// Creates PATH as a preallocated file of --size bytes if it does not exist. Refuses a
    /// device or file that already holds a volume unless --force. Prints one JSON object,
    /// e.g. {"event":"formatted","path":"/dev/nvme1n1","bytes":...,"data_bytes":...,
    /// "journal_bytes":...,"generation":1}.
    Format(FormatArgs),
}

#[derive(Debug, Args)]
pub struct FormatArgs {
    /// Block device or file
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// Size of the file to create when PATH does not exist (suffixes K, M, G, T allowed)
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    size: Option<u64>,
    /// Overwrite an existing volume (all its data is lost)
    #[arg(long)]
    force: bool,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (digits, shift) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 30),
        Some(b'T' | b't') => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size in bytes"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s} is too large"))
}

pub fn run(cmd: VolumeCommand) -> ExitCode {
    match cmd {
        VolumeCommand::Format(args) => match format(&args) {
            Ok(line) => {
                println!("{line}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("scipkv: error: {message}");
                ExitCode::FAILURE
            }
        },
    }
}

fn format(args: &FormatArgs) -> Result<String, String> {
    let path = &args.path;
    let exists = path.exists();
    match (exists, args.size) {
        (false, Some(size)) => volume::create_file(path, size)
            .map_err(|e| format!("creating {}: {e}", path.display()))?,
        (false, None) => {
            return Err(format!(
                "{} does not exist (give --size to create a file)",
                path.display()
            ));
        }
        (true, Some(_)) => {
            return Err(format!(
                "{} exists: --size only creates a new file; an existing file or device is \
                 formatted at its own size",
                path.display()
            ));
        }
        (true, None) => {}
    }
    let dev = FileDevice::open(path).map_err(|e| format!("opening {}: {e}", path.display()))?;
    let sb = VolumeStorage::format(&dev, args.force).map_err(|e| e.to_string())?;
    let block = volume::BLOCK;
    let line = serde_json::json!({
        "event": "formatted",
        "path": path.display().to_string(),
        "block_device": dev.is_block_device(),
        "bytes": sb.volume_blocks * block,
        "data_bytes": sb.data_blocks() * block,
        "journal_bytes": 2 * sb.journal_blocks * block,
        "generation": sb.generation,
    });
    Ok(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
