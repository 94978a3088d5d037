//! lsauth: diagnose and fix Label Studio API token failures.
//!
//! Data flows one way: command line → command → sources (database, API, .env) →
//! findings or a change plan → renderer. `main_entry` is all the binary calls.

pub mod api;
pub mod backup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod environment;
pub mod exit;
pub mod fsutil;
pub mod outcome;
pub mod report;
pub mod settings;
pub mod signals;
pub mod text;
pub mod token;
pub mod write;

use std::process::ExitCode;

use clap::Parser;

use crate::db::status_of;
use crate::exit::ExitStatus;

/// Parse the command line, run the command, map the outcome to an exit code.
pub fn main_entry() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    let json = cli.global.json;
    let env = environment::Environment::from_process();
    let result = commands::run(cli, env);
    if let (true, Err(err)) = (json, &result) {
        // One document on every exit: a command that failed before printing its own.
        if !report::document_printed() && !is_broken_pipe(err) {
            let _ = report::print_json(&report::FailureDocument {
                error: format!("{err:#}"),
                exit_code: status_of(err) as u8,
            });
        }
    }
    let code = finish(result);
    // A signal held during a change: the change was finished and everything said (the
    // error above included); the process now ends as interrupted.
    signals::pending_exit().map(ExitCode::from).unwrap_or(code)
}

/// The run's error on stderr, and its exit code.
fn finish(result: anyhow::Result<ExitStatus>) -> ExitCode {
    match result {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitStatus::Ok.into(),
        Err(err) if db::is_lock_wait(&err) && !err.chain().any(|c| c.is::<db::LockTimeout>()) => {
            // The database's own words for a lock wait, and what they mean.
            eprintln!(
                "lsauth: error: {}: the database stayed locked by another writer past --lock-timeout; nothing was \
                 changed",
                text::shown::terminal_text(&format!("{err:#}"))
            );
            status_of(&err).into()
        }
        Err(err) => {
            eprintln!("lsauth: error: {}", text::shown::terminal_text(&format!("{err:#}")));
            status_of(&err).into()
        }
    }
}

/// clap's usage error (exit 2); with `--json` anywhere on the line, its document too.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    // Help and version exit 0 and are no failure; help for a missing subcommand exits 2.
    let informational = matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if !informational && std::env::args_os().any(|a| a == "--json") {
        let rendered = err.render().to_string();
        let first = rendered.lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
        let _ = report::print_json(&report::FailureDocument { error: first, exit_code: 2 });
    }
    err.exit()
}

/// `lsauth orgs | head` must end quietly, as ripgrep does.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>().is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
    })
}
