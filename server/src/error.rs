//! Errors that stop the server from starting or from shutting down cleanly. Errors caused
//! by one client are replies on that connection and never reach this type.

use std::path::PathBuf;

use thiserror::Error;

use crate::config::ConfigError;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot open data directory {dir}: {source}")]
    Open {
        dir: PathBuf,
        #[source]
        source: scipkv_engine::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "refusing to listen on {addr}: no [[tokens]] are configured, so the server is open to anyone who can connect; configure tokens or use a loopback address"
    )]
    OpenOnNetwork { addr: std::net::SocketAddr },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot start the RESP writer thread: {0}")]
    WriterThread(#[source] std::io::Error),
    #[error("cannot install signal handlers: {0}")]
    Signals(#[source] std::io::Error),
    #[error("closing the database failed: {0}")]
    Close(#[source] scipkv_engine::Error),
}
