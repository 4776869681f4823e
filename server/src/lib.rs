//! scipkv-server: the network front-end over scipkv-engine. It speaks the Redis protocol
//! (RESP2/RESP3) for key-value work and HTTP/JSON for SCIP indexes, both over one database
//! and one set of tenants; [`serve`] runs both until SIGTERM or SIGINT.

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod resp;
pub mod scip_api;
mod scip_json;

mod clients;
mod commands;
mod connection;
mod cursors;
mod keyspace;
mod locks;
mod metrics;
mod resp_server;
mod shared;
mod shutdown;
mod writer;

pub use config::{Config, ConfigError, ServerLimits};
pub use error::ServerError;
pub use resp_server::{Listening, serve};
