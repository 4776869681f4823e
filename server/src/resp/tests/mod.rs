//! Behavioural tests of the whole protocol layer; unit tests of single pieces
//! live next to the code.

mod fuzz;
mod pipeline;
mod requests;
mod rng;
mod roundtrip;
