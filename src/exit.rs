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

/// A marker error that decides the exit status of whatever chain it ends up in.
#[derive(Debug)]
pub struct Classified {
    pub status: ExitStatus,
    pub message: String,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Classified {}

/// Bad input or usage: exit 2.
pub fn bad_input(message: impl Into<String>) -> anyhow::Error {
    Classified { status: ExitStatus::BadInput, message: message.into() }.into()
}

/// The database or API could not be reached: exit 3. (Not Rust's `unreachable!`: this
/// is an error a user sees.)
pub fn unreachable_error(message: impl Into<String>) -> anyhow::Error {
    Classified { status: ExitStatus::Unreachable, message: message.into() }.into()
}

/// A problem found or a change refused: exit 1.
pub fn refused(message: impl Into<String>) -> anyhow::Error {
    Classified { status: ExitStatus::Problem, message: message.into() }.into()
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

/// The status an error maps to: the first marker in its chain; else 3 for a lock wait that
/// ran out (the database could not be reached in time, whichever read or write met it);
/// else 1.
pub fn status_of(err: &anyhow::Error) -> ExitStatus {
    match err.chain().find_map(|cause| cause.downcast_ref::<Classified>()) {
        Some(c) => c.status,
        None if crate::db::is_lock_wait(err) => ExitStatus::Unreachable,
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
    fn unclassified_errors_are_problems() {
        assert_eq!(status_of(&anyhow::anyhow!("boom")), ExitStatus::Problem);
        assert_eq!(status_of(&unreachable_error("down")), ExitStatus::Unreachable);
        assert_eq!(status_of(&refused("no")), ExitStatus::Problem);
    }
}
