//! scipkv-server: the network front-end (RESP and HTTP/JSON) over scipkv-engine.
pub mod resp;
