//! lsauth: diagnose and fix Label Studio API token failures.
//!
//! Data flows one way: command line → command → sources (database, API, .env) →
//! findings or a change plan → renderer. `main_entry` is all the binary calls.

pub mod api;
pub mod backup;
pub mod change;
pub mod cli;
pub mod clients;
pub mod commands;
pub mod db;
pub mod diagnosis;
pub mod envfile;
pub mod environment;
pub mod exit;
pub mod findings;
pub mod fsutil;
pub mod outcome;
pub mod paste;
pub mod releases;
pub mod remote;
pub mod report;
pub mod secret_key;
pub mod secrets;
pub mod settings;
pub mod shown;
pub mod sources;
pub mod terminal;
pub mod token;
pub mod tokencheck;
pub mod write;

use std::process::ExitCode;

use clap::Parser;

use crate::exit::{status_of, ExitStatus};

/// Parse the command line, run the command, map the outcome to an exit code.
pub fn main_entry() -> ExitCode {
    let cli = cli::Cli::parse();
    let env = environment::Environment::from_process();
    match commands::run(cli, env) {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitStatus::Ok.into(),
        Err(err) if db::is_lock_wait(&err) && !err.chain().any(|c| c.is::<db::LockTimeout>()) => {
            // The database's own words for a lock wait, and what they mean.
            eprintln!(
                "lsauth: error: {}: the database stayed locked by another writer past --lock-timeout; nothing was \
                 changed",
                shown::terminal_text(&format!("{err:#}"))
            );
            status_of(&err).into()
        }
        Err(err) => {
            eprintln!("lsauth: error: {}", shown::terminal_text(&format!("{err:#}")));
            status_of(&err).into()
        }
    }
}

/// `lsauth orgs | head` must end quietly, as ripgrep does.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
    })
}
