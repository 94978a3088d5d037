//! Commands lsauth tells the user to run next (a fix, an undo, a next step), written so
//! that pasting one into the same shell works: it carries what this run was given on the
//! command line and the next command needs again (`--db` without its password, which
//! then comes from PGPASSWORD or ~/.pgpass; `--backup-dir` for a rollback), every value
//! quoted for the shell. What came from the environment is not repeated: the next
//! command sees the same environment.
//!
//! The carried flags are set once, when the command line has been parsed, and read by
//! every module that words a fix; until then (unit tests) nothing is carried.

use std::sync::OnceLock;

/// What this run was given that the commands it prints need again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carried {
    /// `--db` as given, its password removed.
    pub db: Option<String>,
    /// `--backup-dir` as given.
    pub backup_dir: Option<String>,
}

static CARRIED: OnceLock<Carried> = OnceLock::new();

/// Record what this run carries (the first call wins; a process runs one command).
pub fn carry(carried: Carried) {
    let _ = CARRIED.set(carried);
}

fn carried() -> &'static Carried {
    static NOTHING: Carried = Carried { db: None, backup_dir: None };
    CARRIED.get().unwrap_or(&NOTHING)
}

/// `text` as one shell word: as it is when that is safe, else in single quotes.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// ` --db VALUE` when this run was given --db, else empty.
pub fn db_flag() -> String {
    carried().db.as_deref().map(|db| format!(" --db {}", shell_quote(db))).unwrap_or_default()
}

/// `lsauth [--db DB] REST`: a command on the same database. `rest` is already quoted.
pub fn lsauth(rest: &str) -> String {
    format!("lsauth{} {rest}", db_flag())
}

/// `lsauth [--db DB] rollback REST [--backup-dir DIR]`: an undo that finds its backup.
pub fn rollback(rest: &str) -> String {
    let dir = carried().backup_dir.as_deref().map(|d| format!(" --backup-dir {}", shell_quote(d))).unwrap_or_default();
    format!("lsauth{} rollback {rest}{dir}", db_flag())
}

/// The paste-ready command that restores `env_file` from backup `id`.
pub fn env_rollback(env_file: &str, id: &str) -> String {
    rollback(&format!("--env-file {} {}", shell_quote(env_file), shell_quote(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("demo/label_studio.sqlite3"), "demo/label_studio.sqlite3");
        assert_eq!(shell_quote("my data/ls.db"), "'my data/ls.db'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn nothing_is_carried_before_the_command_line_is_read() {
        // Unit tests never call `carry`: the words are the bare command.
        assert_eq!(lsauth("enable-legacy --org 1"), "lsauth enable-legacy --org 1");
        assert_eq!(rollback("ID"), "lsauth rollback ID");
    }
}
