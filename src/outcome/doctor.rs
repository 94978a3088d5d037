//! The outcome of `lsauth doctor`: the checks and their counts.

use serde::Serialize;

use crate::findings::{Check, Counts};

#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub checks: Vec<Check>,
    pub counts: Counts,
}
