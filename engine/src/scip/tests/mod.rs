//! Tests of the SCIP layer against fixtures and the real indexes.

mod bad_input;
mod fixture;
mod reader;
pub(crate) mod seed;
