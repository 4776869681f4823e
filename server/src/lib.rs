//! scipkv-server: the network front-end over scipkv-engine. Today it speaks the Redis
//! protocol (RESP2/RESP3) for key-value work; [`serve`] runs it until SIGTERM or SIGINT.
//! HTTP/JSON is planned.

pub mod config;
pub mod error;
pub mod resp;

mod clients;
mod commands;
mod connection;
mod cursors;
mod locks;
mod resp_server;
mod shared;
mod shutdown;

pub use config::{Config, ConfigError, ServerLimits};
pub use error::ServerError;
pub use resp_server::{Listening, serve};
