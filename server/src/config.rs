//! Server configuration: defaults, the TOML file of `--config`, and validation.
//!
//! The file is optional and every key in it is optional; command-line flags are applied on
//! top by the caller (see [`Config::from_file`] and the `scipkv serve` CLI). Unknown keys are
//! rejected so a misspelt limit never silently falls back to its default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use scipkv_engine::{ReadPath, SyncMode};
use serde::Deserialize;
use thiserror::Error;

pub use crate::auth::Role;
use crate::resp::Limits;

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./scipkv-data";
/// Default RESP listen address: loopback only, one above Redis's port so both can coexist.
pub const DEFAULT_RESP_ADDR: &str = "127.0.0.1:6380";
/// Default HTTP/JSON listen address: loopback only, one above the RESP default's hundreds.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:7380";
/// Default async worker threads: one per core, as tokio's own default. Tried: one per core
/// but one (to leave a core to flush and compaction) made pipelined GETs ~25% slower on two
/// cores (`redis-benchmark -P 16`, 430k/s against 560-600k), since reads run on the
/// workers; pipelined SET runs go to the write front (`writer.rs`) instead of making one
/// worker wait for the other's group commit, so a second worker costs them little
/// (benches/RESULTS.md, "Redis protocol", session 8).
pub fn default_worker_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_WORKER_THREADS)
}
/// Default engine memtable for the server: 8 MiB, not the engine's 64 MiB. RESP writes land
/// at random keys; with the memtable and the one being flushed inside the last-level cache
/// (tens of MiB on servers) a skiplist insert's per-level reads hit the cache. Measured with
/// `redis-benchmark -t set -c 50 -P 16 -r 1000000`: 8 MiB ~300k SET/s, 64 MiB ~205k
/// (benches/RESULTS.md, "Redis protocol", session 8). SCIP uploads did not measurably slow.
pub const DEFAULT_MEMTABLE_SIZE: usize = 8 << 20;
/// Most async worker threads accepted (more than any sensible core count).
pub const MAX_WORKER_THREADS: usize = 1024;

/// Everything `scipkv serve` needs, fully resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub data_dir: PathBuf,
    /// A raw volume (block device or preallocated file, see `scipkv volume format`) to run
    /// on instead of `data_dir`.
    pub volume: Option<PathBuf>,
    pub resp_addr: String,
    pub http_addr: String,
    pub sync: SyncMode,
    /// Engine memtable size in bytes ([`DEFAULT_MEMTABLE_SIZE`] unless the file sets it);
    /// `None` (only when embedding the server) keeps the engine's own default.
    pub memtable_size: Option<usize>,
    /// How tables are read: `mmap` (default), `pread`, or `io_uring` (`O_DIRECT` with batched
    /// reads; falls back to pread where the kernel or filesystem cannot).
    pub read_path: ReadPath,
    /// Async worker threads (RESP and HTTP connections). Fewer than cores leaves cores to
    /// other processes on the machine, e.g. a load generator pinned beside the server.
    pub worker_threads: usize,
    pub limits: ServerLimits,
    /// Allow `DEBUG ADVANCE-CLOCK` (moves the expiry clock forward; for tests). Default false,
    /// like Redis's `enable-debug-command no`.
    pub enable_debug_command: bool,
    /// Bearer tokens and the tenant and role each grants. Empty: one open tenant
    /// ("default"), and the server refuses to listen on anything but loopback.
    pub tokens: Vec<TokenConfig>,
}

/// One `[[tokens]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub token: String,
    pub tenant: String,
    pub role: Role,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            volume: None,
            resp_addr: DEFAULT_RESP_ADDR.to_owned(),
            http_addr: DEFAULT_HTTP_ADDR.to_owned(),
            sync: SyncMode::Always,
            memtable_size: Some(DEFAULT_MEMTABLE_SIZE),
            read_path: ReadPath::default(),
            worker_threads: default_worker_threads(),
            limits: ServerLimits::default(),
            tokens: Vec::new(),
            enable_debug_command: false,
        }
    }
}

/// Per-server and per-connection bounds, so no client can make the server hold unbounded
/// memory or connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections beyond this get an error reply and are closed (Redis's `maxclients`).
    pub max_connections: usize,
    /// Longest bulk string in a request (Redis's `proto-max-bulk-len`).
    pub max_bulk_len: usize,
    /// Most arguments in one request.
    pub max_array_len: usize,
    /// Unprocessed input one client may have buffered (Redis's `client-query-buffer-limit`).
    pub max_query_buffer: usize,
    /// Close a connection idle this long; `None` never does (Redis's `timeout 0`).
    pub idle_timeout: Option<Duration>,
    /// HTTP connections beyond this get a 503 and are closed.
    pub max_http_connections: usize,
    /// Largest HTTP request body (an index upload, after transfer but before
    /// decompression); larger bodies get 413.
    pub max_body_bytes: u64,
    /// Deadline of one HTTP query; past it the client gets 504.
    pub request_timeout: Duration,
    /// Deadline of one HTTP index upload (uploads of hundreds of MB take minutes).
    pub upload_timeout: Duration,
    /// Most requests of one client parsed and queued ahead of execution (its pipeline
    /// depth); the rest wait in the input buffer, bounded by `max_query_buffer`.
    pub max_pipeline: usize,
    /// A request not started within this long after it arrived is answered with an error
    /// instead of being run (a running engine call is never cut short). `None`: no deadline.
    pub resp_request_timeout: Option<Duration>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        let parser = Limits::default();
        ServerLimits {
            max_connections: 10_000,
            max_bulk_len: parser.max_bulk_len,
            max_array_len: parser.max_array_len,
            max_query_buffer: 1 << 30,
            idle_timeout: None,
            max_http_connections: 1024,
            max_body_bytes: 4 << 30,
            request_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(3600),
            max_pipeline: 1024,
            resp_request_timeout: None,
        }
    }
}

impl ServerLimits {
    /// The request-parser limits these settings imply.
    pub fn parser_limits(&self) -> Limits {
        Limits {
            max_bulk_len: self.max_bulk_len,
            max_array_len: self.max_array_len,
            ..Limits::default()
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },
    #[error("invalid sync mode {0:?}: expected \"always\", \"never\" or \"interval:<ms>\"")]
    Sync(String),
    #[error("invalid read_path {0:?}: expected \"mmap\", \"pread\" or \"io_uring\"")]
    ReadPath(String),
    #[error("invalid setting {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// The file as written: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data_dir: Option<PathBuf>,
    volume: Option<PathBuf>,
    resp_addr: Option<String>,
    http_addr: Option<String>,
    sync: Option<String>,
    memtable_size: Option<usize>,
    read_path: Option<String>,
    worker_threads: Option<usize>,
    enable_debug_command: Option<bool>,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    tokens: Vec<TokenConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    max_connections: Option<usize>,
    max_bulk_len: Option<usize>,
    max_array_len: Option<usize>,
    max_query_buffer: Option<usize>,
    /// 0 disables the timeout, as in Redis.
    idle_timeout_secs: Option<u64>,
    max_http_connections: Option<usize>,
    max_body_bytes: Option<u64>,
    request_timeout_ms: Option<u64>,
    upload_timeout_secs: Option<u64>,
    max_pipeline: Option<usize>,
    /// 0 disables the deadline.
    resp_request_timeout_ms: Option<u64>,
}

impl Config {
    /// Defaults overlaid with the TOML file at `path`.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })
    }

    /// Defaults overlaid with TOML text (the path in a parse error is left empty).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: PathBuf::new(),
            source: Box::new(source),
        })?;
        let mut config = Config::default();
        if file.data_dir.is_some() && file.volume.is_some() {
            return Err(ConfigError::Invalid {
                name: "volume",
                reason: "data_dir and volume are mutually exclusive".into(),
            });
        }
        if let Some(dir) = file.data_dir {
            config.data_dir = dir;
        }
        config.volume = file.volume;
        if let Some(addr) = file.resp_addr {
            config.resp_addr = addr;
        }
        if let Some(addr) = file.http_addr {
            config.http_addr = addr;
        }
        config.tokens = file.tokens;
        if let Some(sync) = file.sync {
            config.sync = parse_sync(&sync)?;
        }
        if let Some(size) = file.memtable_size {
            config.memtable_size = Some(size);
        }
        if let Some(p) = file.read_path {
            config.read_path = ReadPath::from_name(&p).ok_or(ConfigError::ReadPath(p))?;
        }
        config.worker_threads = file.worker_threads.unwrap_or(config.worker_threads);
        config.enable_debug_command = file.enable_debug_command.unwrap_or(false);
        let l = &mut config.limits;
        let f = file.limits;
        l.max_connections = f.max_connections.unwrap_or(l.max_connections);
        l.max_bulk_len = f.max_bulk_len.unwrap_or(l.max_bulk_len);
        l.max_array_len = f.max_array_len.unwrap_or(l.max_array_len);
        l.max_query_buffer = f.max_query_buffer.unwrap_or(l.max_query_buffer);
        if let Some(secs) = f.idle_timeout_secs {
            l.idle_timeout = (secs > 0).then(|| Duration::from_secs(secs));
        }
        l.max_http_connections = f.max_http_connections.unwrap_or(l.max_http_connections);
        l.max_body_bytes = f.max_body_bytes.unwrap_or(l.max_body_bytes);
        if let Some(ms) = f.request_timeout_ms {
            l.request_timeout = Duration::from_millis(ms);
        }
        if let Some(secs) = f.upload_timeout_secs {
            l.upload_timeout = Duration::from_secs(secs);
        }
        l.max_pipeline = f.max_pipeline.unwrap_or(l.max_pipeline);
        if let Some(ms) = f.resp_request_timeout_ms {
            l.resp_request_timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        config.validate()?;
        Ok(config)
    }

    /// Rejects settings that would make the server useless rather than failing later.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("limits.max_connections", self.limits.max_connections),
            ("limits.max_bulk_len", self.limits.max_bulk_len),
            ("limits.max_array_len", self.limits.max_array_len),
            ("limits.max_query_buffer", self.limits.max_query_buffer),
            (
                "limits.max_http_connections",
                self.limits.max_http_connections,
            ),
            (
                "limits.max_body_bytes",
                usize::from(self.limits.max_body_bytes > 0),
            ),
            (
                "limits.request_timeout_ms",
                usize::from(!self.limits.request_timeout.is_zero()),
            ),
            (
                "limits.upload_timeout_secs",
                usize::from(!self.limits.upload_timeout.is_zero()),
            ),
            ("limits.max_pipeline", self.limits.max_pipeline),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    name,
                    reason: "must be greater than 0".into(),
                });
            }
        }
        if let Some(size) = self.memtable_size
            && size < 4096
        {
            return Err(ConfigError::Invalid {
                name: "memtable_size",
                reason: "must be at least 4096 bytes".into(),
            });
        }
        if !(1..=MAX_WORKER_THREADS).contains(&self.worker_threads) {
            return Err(ConfigError::Invalid {
                name: "worker_threads",
                reason: format!("must be between 1 and {MAX_WORKER_THREADS}"),
            });
        }
        crate::auth::validate_tokens(&self.tokens)
    }
}

/// Parses `always`, `never` or `interval:<ms>` (milliseconds, greater than 0).
pub fn parse_sync(text: &str) -> Result<SyncMode, ConfigError> {
    match text {
        "always" => Ok(SyncMode::Always),
        "never" => Ok(SyncMode::Never),
        other => other
            .strip_prefix("interval:")
            .and_then(|ms| ms.parse::<u64>().ok())
            .filter(|&ms| ms > 0)
            .map(|ms| SyncMode::Interval(Duration::from_millis(ms)))
            .ok_or_else(|| ConfigError::Sync(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn defaults_use_every_core_and_size_the_memtable_for_the_cache() {
        let config = Config::default();
        assert_eq!(config.memtable_size, Some(8 << 20));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(config.worker_threads, cores);
        // A file that does not name the memtable size keeps the server's default.
        let file = Config::from_toml("sync = \"never\"").unwrap();
        assert_eq!(file.memtable_size, Some(8 << 20));
    }

    #[test]
    fn every_key_is_read() {
        let config = Config::from_toml(
            r#"
            data_dir = "/tmp/x"
            resp_addr = "0.0.0.0:1"
            http_addr = "0.0.0.0:2"
            sync = "interval:250"
            memtable_size = 1048576
            read_path = "io_uring"
            worker_threads = 3
            enable_debug_command = true
            [limits]
            max_connections = 5
            max_bulk_len = 100
            max_array_len = 10
            max_query_buffer = 1000
            idle_timeout_secs = 3
            max_pipeline = 7
            resp_request_timeout_ms = 250
            max_http_connections = 7
            max_body_bytes = 999
            request_timeout_ms = 1500
            upload_timeout_secs = 60
            [[tokens]]
            token = "secret-token-1"
            tenant = "acme"
            role = "write"
            "#,
        )
        .unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.resp_addr, "0.0.0.0:1");
        assert_eq!(config.http_addr, "0.0.0.0:2");
        assert_eq!(config.sync, SyncMode::Interval(Duration::from_millis(250)));
        assert_eq!(config.memtable_size, Some(1 << 20));
        assert_eq!(config.read_path, ReadPath::IoUring);
        assert_eq!(config.worker_threads, 3);
        assert_eq!(
            config.limits,
            ServerLimits {
                max_connections: 5,
                max_bulk_len: 100,
                max_array_len: 10,
                max_query_buffer: 1000,
                idle_timeout: Some(Duration::from_secs(3)),
                max_http_connections: 7,
                max_body_bytes: 999,
                request_timeout: Duration::from_millis(1500),
                upload_timeout: Duration::from_secs(60),
                max_pipeline: 7,
                resp_request_timeout: Some(Duration::from_millis(250)),
            }
        );
        assert_eq!(
            config.tokens,
            vec![TokenConfig {
                token: "secret-token-1".into(),
                tenant: "acme".into(),
                role: Role::Write,
            }]
        );
        assert!(config.enable_debug_command);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = Config::from_toml("dta_dir = \"x\"").unwrap_err();
        assert!(err.to_string().contains("dta_dir"), "{err}");
        let err = Config::from_toml("[limits]\nmax_conections = 1").unwrap_err();
        assert!(err.to_string().contains("max_conections"), "{err}");
    }

    #[test]
    fn sync_modes() {
        assert_eq!(parse_sync("always").unwrap(), SyncMode::Always);
        assert_eq!(parse_sync("never").unwrap(), SyncMode::Never);
        assert_eq!(
            parse_sync("interval:5").unwrap(),
            SyncMode::Interval(Duration::from_millis(5))
        );
        for bad in ["interval:0", "interval:", "sometimes", "interval:-1"] {
            assert!(parse_sync(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn read_paths() {
        for (name, path) in [
            ("mmap", ReadPath::Mmap),
            ("pread", ReadPath::Pread),
            ("io_uring", ReadPath::IoUring),
        ] {
            let config = Config::from_toml(&format!("read_path = {name:?}")).unwrap();
            assert_eq!(config.read_path, path);
        }
        assert_eq!(Config::default().read_path, ReadPath::Mmap);
        let err = Config::from_toml("read_path = \"uring\"").unwrap_err();
        assert!(err.to_string().contains("io_uring"), "{err}");
    }

    #[test]
    fn zero_limits_are_rejected() {
        assert!(Config::from_toml("[limits]\nmax_connections = 0").is_err());
        assert!(Config::from_toml("memtable_size = 10").is_err());
        assert!(Config::from_toml("[limits]\nmax_body_bytes = 0").is_err());
        assert!(Config::from_toml("[limits]\nrequest_timeout_ms = 0").is_err());
        let config = Config::from_toml("[limits]\nidle_timeout_secs = 0").unwrap();
        assert_eq!(config.limits.idle_timeout, None);
        assert!(Config::from_toml("[limits]\nmax_pipeline = 0").is_err());
        let err = Config::from_toml("worker_threads = 0").unwrap_err();
        assert!(err.to_string().contains("worker_threads"), "{err}");
        assert!(Config::from_toml("worker_threads = 1025").is_err());
        assert_eq!(
            Config::from_toml("worker_threads = 1")
                .unwrap()
                .worker_threads,
            1
        );
        let config = Config::from_toml("[limits]\nresp_request_timeout_ms = 0").unwrap();
        assert_eq!(config.limits.resp_request_timeout, None);
    }

    #[test]
    fn volume_key() {
        let config = Config::from_toml("volume = \"/dev/nvme0n1\"").unwrap();
        assert_eq!(config.volume, Some(PathBuf::from("/dev/nvme0n1")));
        assert_eq!(Config::default().volume, None);
        let err = Config::from_toml("volume = \"/v\"\ndata_dir = \"/d\"").unwrap_err();
        assert!(err.to_string().contains("mutually exclusive"), "{err}");
    }
}
