//! How results look: tables for people, one JSON document for scripts.
//!
//! Commands return data; this module alone decides its appearance. Colour is decided
//! once from `--color`, `NO_COLOR` and whether stdout is a terminal.

pub mod api_change;
pub mod change;
pub mod diff;
pub mod doctor;
pub mod migrate;
pub mod orgs;
pub mod style;
pub mod terminal;
pub mod token;
pub mod upgrade;

use std::io::{IsTerminal, Write};

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::{ColorChoice, GlobalArgs};
use crate::environment::Environment;

/// Where and how output goes.
#[derive(Debug, Clone)]
pub struct Output {
    pub json: bool,
    pub verbose: bool,
    pub color: bool,
    pub show_secrets: bool,
    /// The terminal's width when stdout is one with a sensible size: text wraps to it.
    pub width: Option<usize>,
}

impl Output {
    pub fn new(global: &GlobalArgs, env: &Environment) -> Self {
        let stdout_is_terminal = std::io::stdout().is_terminal();
        crate::text::set_verbose(global.verbose);
        let no_color = env.get("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal && !no_color,
        };
        Output {
            json: global.json,
            verbose: global.verbose,
            color,
            show_secrets: global.show_secrets,
            width: terminal_width(stdout_is_terminal, env),
        }
    }

    /// A table styled for where stdout goes: boxed on a terminal, plain ASCII (stable
    /// and greppable, no wrapping) in a pipe or a test.
    pub fn table(&self) -> Table {
        let mut table = Table::new();
        if self.color {
            table.load_preset(presets::UTF8_FULL_CONDENSED);
        } else {
            table.load_preset(presets::ASCII_FULL_CONDENSED);
        }
        // Wrap to the terminal's width only when there is a sensible one: a pseudo-terminal
        // without a size (script, some CI runners) reports 0 and would squash every cell.
        match self.width.filter(|w| *w >= 60) {
            Some(width) => {
                table.set_width(width as u16);
                table.set_content_arrangement(ContentArrangement::Dynamic);
            }
            None => {
                table.set_content_arrangement(ContentArrangement::Disabled);
            }
        }
        table
    }

    /// A diagnostic line on stderr, shown only with `-v`.
    pub fn verbose(&self, line: impl AsRef<str>) {
        if self.verbose {
            eprintln!("lsauth: {}", crate::text::shown::terminal_text(line.as_ref()));
        }
    }

    /// A progress or warning line on stderr (never part of the result).
    pub fn note(&self, line: impl AsRef<str>) {
        eprintln!("{}", crate::text::shown::terminal_text(line.as_ref()));
    }
}

/// The terminal's width: its size, else COLUMNS (a pseudo-terminal without a size, as
/// `script` and some CI runners give); never for a pipe, whose output stays unwrapped.
fn terminal_width(stdout_is_terminal: bool, env: &Environment) -> Option<usize> {
    if !stdout_is_terminal {
        return None;
    }
    let sensible = |w: usize| (w >= 40).then_some(w);
    Table::new()
        .width()
        .map(usize::from)
        .and_then(sensible)
        .or_else(|| env.get("COLUMNS").and_then(|c| c.trim().parse().ok()).and_then(sensible))
}

impl Output {
    /// Narrower than the wide tables: `orgs` and `rollback --list` drop their widest
    /// columns rather than break words and emails into pieces.
    pub fn narrow(&self) -> bool {
        self.width.is_some_and(|w| w < 100)
    }
}

/// Whether this run has printed its JSON document: `--json` prints exactly one on every
/// exit, and a failure before the command printed its own gets `failure_document`.
static DOCUMENT_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn document_printed() -> bool {
    DOCUMENT_PRINTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// The document of a run that failed before its command printed one: the error, as
/// `lsauth: error:` says it, and the exit code (docs/json-and-exit-codes.md).
#[derive(Debug, Serialize)]
pub struct FailureDocument {
    pub error: String,
    pub exit_code: u8,
}

/// Write one JSON document and a newline to stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    DOCUMENT_PRINTED.store(true, std::sync::atomic::Ordering::SeqCst);
    // Stdout is line-buffered: without a buffer of our own, pretty JSON for 100,000
    // organizations would be two million write calls.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Write human text to stdout.
pub fn print_text(text: &str) -> anyhow::Result<()> {
    // Every renderer escapes the values it shows; this catches whatever one missed.
    print_painted(&crate::text::shown::terminal_text(text))
}

/// Text a `style::Painter` made (each piece already guarded) to stdout.
pub fn print_painted(text: &str) -> anyhow::Result<()> {
    let mut lock = std::io::stdout().lock();
    lock.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(lock)?;
    }
    lock.flush()?;
    Ok(())
}

/// A command's outcome: as JSON with --json, else the text `text` makes for people.
pub fn print_outcome<T: Serialize>(out: &Output, outcome: &T, text: impl FnOnce() -> String) -> anyhow::Result<()> {
    if out.json {
        return print_json(outcome);
    }
    print_text(&text())
}

/// A plan shown before a prompt or a write: for people only (with --json the whole
/// outcome is printed once, at the end).
pub fn print_plan(out: &Output, text: impl FnOnce() -> String) -> anyhow::Result<()> {
    if out.json {
        return Ok(());
    }
    print_text(&text())
}

/// Raw bytes to stdout (generated scripts and pages).
pub fn print_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// A status mark: symbols with colour, plain words without (NO_COLOR, no terminal).
pub fn mark(status: crate::outcome::checks::Status, out: &Output) -> &'static str {
    use crate::outcome::checks::Status;
    match (status, out.color) {
        (Status::Pass, true) => "✓",
        (Status::Warn, true) => "!",
        (Status::Fail, true) => "✗",
        (Status::Skip, true) => "-",
        (Status::Pass, false) => "PASS",
        (Status::Warn, false) => "WARN",
        (Status::Fail, false) => "FAIL",
        (Status::Skip, false) => "SKIP",
    }
}

/// A listing of the backups of `place`: the document as JSON, or a sentence when it lists
/// nothing, or a titled table whose columns are the id, time and operation, then `rest`.
pub fn render_backups<T: Serialize>(
    out: &Output,
    document: &T,
    place: &str,
    rest: &[&str],
    rows: Vec<Vec<comfy_table::Cell>>,
) -> anyhow::Result<()> {
    if out.json {
        return print_json(document);
    }
    if rows.is_empty() {
        return print_text(&format!("No backups of {place}.\n"));
    }
    let mut table = out.table();
    table.set_header([&["ID", "Time (UTC)", "Operation"], rest].concat());
    for row in rows {
        table.add_row(row);
    }
    // A backup id, a time and an email are pasted and read whole: never wrapped.
    let whole = |i: usize| i < 2 || (i >= 3 && rest.get(i - 3).is_some_and(|h| h.contains("Signed in as")));
    for column in (0..3 + rest.len()).filter(|i| whole(*i)) {
        if let Some(c) = table.column_mut(column) {
            c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
    print_text(&format!("Backups of {place}:\n{table}\n"))
}

/// The first cells of a backup's row in a listing: id, time, and the operation ("rollback
/// of ID" for a rollback), then `rest`.
pub fn backup_row(
    listed: &crate::outcome::change::ListedBackup,
    restores: Option<&str>,
    rest: Vec<comfy_table::Cell>,
) -> Vec<comfy_table::Cell> {
    let operation = match restores {
        Some(restored) => format!("{} of {restored}", listed.operation),
        None => listed.operation.clone(),
    };
    let mut row = vec![
        comfy_table::Cell::new(&listed.id),
        comfy_table::Cell::new(to_the_second(&listed.created_at)),
        comfy_table::Cell::new(operation),
    ];
    row.extend(rest);
    row
}

/// An RFC 3339 UTC time as people read it, to the second: `2026-12-01 11:07:11`.
pub fn to_the_second(rfc3339: &str) -> String {
    match rfc3339.get(..19) {
        Some(head) if rfc3339.as_bytes().get(10) == Some(&b'T') => head.replacen('T', " ", 1),
        _ => rfc3339.to_string(),
    }
}

/// "on"/"off" for a setting.
pub fn on_off(value: bool) -> &'static str {
    if value {
        "on"
    } else {
        "off"
    }
}
