//! Shared records: what a run concluded (verdicts, checks, exchanges). A leaf module: it imports no
//! pipeline stage, so every stage and every report can use it without a circle.

pub mod check;
pub mod describe;
pub mod exchange;
pub mod preflight;
pub mod verdict;

pub use check::{Check, Level, Mismatch};
pub use exchange::{ErrorKind, Exchange, RequestRecord, ResponseRecord};
pub use verdict::*;
