//! The outcome of `lsauth doctor`: the checks and their counts.

use serde::Serialize;

use crate::outcome::checks::{Causes, Check, Counts};

#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub checks: Vec<Check>,
    pub counts: Counts,
    /// Causes found: each failing or warning check that no other check explains.
    pub causes: Causes,
}
