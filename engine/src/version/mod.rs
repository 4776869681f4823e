//! The set of live tables and how it changes: manifest edits, the CURRENT pointer, file names.

pub mod current;
pub mod edit;
pub mod names;

pub mod levels;
pub mod recovery;
pub mod set;
