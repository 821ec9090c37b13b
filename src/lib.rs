//! gws-conform: a conformance harness for the Genesys Web Services `StartContactCenterSession`
//! operation (`POST /api/v2/me`).
//!
//! The library is a pipeline, one module a stage: [`load`] -> [`plan`] -> [`execute`] -> [`check`] ->
//! [`report`]. Data flows one way; a stage never reaches back into an earlier one. The reference
//! server is a separate crate (`gws-reference`) that this library never imports.

pub mod check;
pub mod execute;
pub mod intern;
pub mod load;
pub mod model;
pub mod plan;
pub mod record;
pub mod report;
pub mod runner;
pub mod secret;
