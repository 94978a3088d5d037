//! Text that leaves lsauth: secrets masked (`secrets`), strings from outside escaped for
//! a terminal (`shown`), commands printed for the user to paste (`paste`), "did you
//! mean" (`suggest`), and how much detail it carries (`-v`).

pub mod paste;
pub mod secrets;
pub mod shown;
pub mod suggest;

static VERBOSE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Set once after parsing, from `-v`.
pub fn set_verbose(verbose: bool) {
    let _ = VERBOSE.set(verbose);
}

/// Whether this run was given `-v` (for the few edges that word an error without an
/// `Output` at hand, such as the HTTP client's).
pub fn verbose() -> bool {
    VERBOSE.get().copied().unwrap_or(false)
}
