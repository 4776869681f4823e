//! Tests of the SCIP layer against fixtures and the real indexes.

mod bad_input;
mod docview;
pub(crate) mod fixture;
mod reader;
mod real_data;
pub(crate) mod seed;
