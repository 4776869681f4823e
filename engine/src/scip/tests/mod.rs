//! Tests of the SCIP layer against fixtures and the real indexes.

pub(crate) mod seed;
