//! Exit statuses are part of lsauth's interface: scripts branch on them.
//!
//! 0 ok, 1 a problem found or a change refused, 2 bad input or usage, 3 the database or
//! the API could not be reached. Errors carry their status as a typed marker somewhere in
//! their `anyhow` chain, so `.context(...)` can be added freely without losing it.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok = 0,
    Problem = 1,
    BadInput = 2,
    Unreachable = 3,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}

/// A marker error that decides the exit status of whatever chain it ends up in, with the
/// error that caused it, when there is one, as its source: `{:#}` prints "message: cause"
/// and the chain keeps the cause itself.
#[derive(Debug)]
pub struct Classified {
    pub status: ExitStatus,
    pub message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Classified {
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Classified { status, message: message.into(), source: None }
    }
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Bad input shown by `cause`: exit 2, with `cause` kept as the error's source.
pub fn bad_input_from(
    message: impl Into<String>,
    cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
) -> anyhow::Error {
    Classified { status: ExitStatus::BadInput, message: message.into(), source: Some(cause.into()) }.into()
}

/// Bad input or usage: exit 2.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    Classified::new(ExitStatus::BadInput, message).into()
}

/// The database or API could not be reached: exit 3. (Not Rust's `unreachable!`: this
/// is an error a user sees.)
pub fn unreachable_error(message: impl Into<String>) -> anyhow::Error {
    Classified::new(ExitStatus::Unreachable, message).into()
}

/// Whether a change took effect is unknown (its COMMIT or its answer was lost, and
/// reading again did not tell): exit 3, as when the database or API is not reached.
pub fn outcome_unknown(message: impl Into<String>) -> anyhow::Error {
    Classified::new(ExitStatus::Unreachable, message).into()
}

/// A problem found or a change refused: exit 1.
pub fn problem(message: impl Into<String>) -> anyhow::Error {
    Classified::new(ExitStatus::Problem, message).into()
}

/// An error and its causes in one line, each distinct cause once ("refused: os error 111").
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line = format!("{line}: {text}");
        }
        source = cause.source();
    }
    line
}

/// The status an error's markers say: the first in its chain, else 1. A lock wait the
/// database driver reports is no marker of ours: `db::status_of` adds it.
pub fn status_of(err: &anyhow::Error) -> ExitStatus {
    match err.chain().find_map(|cause| cause.downcast_ref::<Classified>()) {
        Some(c) => c.status,
        None => ExitStatus::Problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn context_keeps_the_status() {
        let err = Err::<(), _>(bad_input("no such database file")).context("opening /x").unwrap_err();
        assert_eq!(status_of(&err), ExitStatus::BadInput);
        assert_eq!(format!("{err:#}"), "opening /x: no such database file");
    }

    #[test]
    fn a_cause_is_kept_as_the_source_and_printed_after_the_message() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied (os error 13)");
        let err = bad_input_from("cannot read /data/.env", io);
        assert_eq!(status_of(&err), ExitStatus::BadInput);
        assert_eq!(format!("{err:#}"), "cannot read /data/.env: Permission denied (os error 13)");
        assert!(err.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some()), "the io::Error is in the chain");
    }

    #[test]
    fn unclassified_errors_are_problems() {
        assert_eq!(status_of(&anyhow::anyhow!("boom")), ExitStatus::Problem);
        assert_eq!(status_of(&unreachable_error("down")), ExitStatus::Unreachable);
        assert_eq!(status_of(&problem("no")), ExitStatus::Problem);
    }
}
