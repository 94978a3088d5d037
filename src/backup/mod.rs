//! Backups: the exact prior state of every row a change touches, written and synced
//! before the change commits, so every change can be undone by `lsauth rollback`.
//!
//! A backup is one JSON file, mode 0600, in a 0700 directory, named by its UTC time and
//! operation and never overwritten: `{"checksum": "sha256:...", "body": {...}}`, where
//! the checksum covers the body's exact bytes, so an edited or truncated file is caught.

pub mod api;
mod dir;
pub mod env;
mod envelope;
mod wire;

pub use dir::*;
pub(crate) use envelope::{read_checked, write_checked};
use wire::{RowsFromWire, TabledRows};

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::environment::Environment;
use crate::exit::bad_input;
use crate::fsutil;
use crate::settings::DbIdentity;
use crate::settings::{RowChange, SharedTimes, StoredRow, Timestamp, Toggle};

/// The format written. Timestamps are kept in a table the rows refer to by index.
pub const FORMAT: &str = "lsauth-backup/2";
/// The first format, with each row's timestamps in place: still read.
pub const FORMAT_1: &str = "lsauth-backup/1";

/// What every record lsauth keeps of a change begins with (database, API and `.env`
/// backups alike): its format, when the change was made, and the command that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    /// When the change was made, RFC 3339 UTC.
    pub created_at: String,
    /// `enable-legacy`, `disable-pat`, `migrate-env`, ..., or `rollback`.
    pub operation: String,
    /// The command line, secrets masked.
    pub command: Vec<String>,
}

impl Header {
    /// The header of a record in `format` of a change this process makes at `now`.
    pub fn new(format: &str, now: time::OffsetDateTime, operation: &str) -> anyhow::Result<Header> {
        Ok(Header {
            format: format.into(),
            created_at: now.format(&time::format_description::well_known::Rfc3339)?,
            operation: operation.into(),
            command: crate::text::secrets::this_command_line(),
        })
    }
}

/// The body of a backup. `Rows` is a slice when writing (no copy of 100,000 rows) and a
/// `Vec` when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupBody<Rows = Vec<RowChange>> {
    #[serde(flatten)]
    pub header: Header,
    pub database: DbIdentity,
    /// The toggle applied, for enable/disable operations.
    pub toggle: Option<Toggle>,
    /// For a rollback: the backup it restored.
    pub restores: Option<String>,
    /// Each touched row: before (`null` = there was no row) and after.
    pub rows: Rows,
}

impl<R> BackupBody<R> {
    fn with_rows<S>(&self, rows: S) -> BackupBody<S> {
        BackupBody {
            header: self.header.clone(),
            database: self.database.clone(),
            toggle: self.toggle,
            restores: self.restores.clone(),
            rows,
        }
    }
}

/// A backup read back and verified.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The file name without `.json`: what `lsauth rollback ID` takes.
    pub id: String,
    pub path: PathBuf,
    pub body: BackupBody,
}

/// Write and sync a new backup, streamed and hashed on the way; returns its id and path.
pub fn write(dir: &Path, id: &str, body: &BackupBody<&[RowChange]>) -> anyhow::Result<(String, PathBuf)> {
    write_checked(dir, id, &body.with_rows(TabledRows(body.rows)))
}

/// Read a backup file and check its checksum and format.
pub fn read(path: &Path) -> anyhow::Result<Backup> {
    let shown = path.display();
    let body = read_checked(path, |text| {
        let mut wire: BackupBody<RowsFromWire> = serde_json::from_str(text)?;
        let tabled = wire.rows.tabled;
        let rows = std::mem::take(&mut wire.rows.rows);
        Ok((wire.with_rows(rows), tabled))
    })?;
    let (body, tabled) = body;
    match (body.header.format.as_str(), tabled) {
        (FORMAT, true) | (FORMAT_1, false) => {}
        (FORMAT | FORMAT_1, _) => {
            return Err(bad_input(format!(
                "backup {shown} is corrupt: its rows are not laid out as {}",
                body.header.format
            )))
        }
        (other, _) => {
            return Err(bad_input(format!(
                "backup {shown} has format {other:?}; this lsauth reads {FORMAT} and {FORMAT_1}"
            )))
        }
    }
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Backup { id, path: path.to_path_buf(), body })
}

#[cfg(test)]
mod tests {
    use super::envelope::{checksum, BackupFile};
    use super::*;
    use crate::settings::StoredRow;
    use std::os::unix::fs::PermissionsExt;

    /// The header of a record made on 2026-11-22 by `lsauth OPERATION ARGS...`.
    pub(crate) fn header(format: &str, operation: &str, args: &[&str]) -> Header {
        let command = ["lsauth", operation].iter().chain(args).map(|a| a.to_string()).collect();
        Header {
            format: format.into(),
            created_at: "2026-11-22T12:00:00.000001Z".into(),
            operation: operation.into(),
            command,
        }
    }

    fn body() -> BackupBody {
        BackupBody {
            header: header(FORMAT, "enable-legacy", &["--all"]),
            database: DbIdentity { kind: "sqlite".into(), location: "/data/ls.sqlite3".into() },
            toggle: None,
            restores: None,
            rows: vec![RowChange {
                organization_id: 1,
                before: None,
                after: Some(StoredRow {
                    organization_id: 1,
                    api_tokens_enabled: true,
                    legacy_api_tokens_enabled: true,
                    api_token_ttl_days: 73000,
                    created_at: "2026-11-22 12:00:00.000001".into(),
                    updated_at: "2026-11-22 12:00:00.000001".into(),
                }),
            }],
        }
    }

    /// Backups are checked by their exact bytes: the shared header is a Rust grouping,
    /// and the body begins as every /2 backup does.
    #[test]
    fn the_header_is_written_in_place_at_the_head_of_the_body() {
        let text = serde_json::to_string(&body()).unwrap();
        let head = [
            r#"{"format":"lsauth-backup/2","created_at":"2026-11-22T12:00:00.000001Z","operation":"enable-legacy","#,
            r#""command":["lsauth","enable-legacy","--all"],"database":{"kind":"sqlite","location":"/data/ls.sqlite3"},"#,
            r#""toggle":null,"restores":null,"rows":"#,
        ]
        .concat();
        assert!(text.starts_with(&head), "{text}");
    }

    fn as_written(b: &BackupBody) -> BackupBody<&[RowChange]> {
        b.with_rows(&b.rows[..])
    }

    #[test]
    fn round_trip_and_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let (id, path) =
            write(&dir.path().join("b"), "20261122T120000000001Z-enable-legacy", &as_written(&body())).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let back = load(&dir.path().join("b"), &id).unwrap();
        assert_eq!(back.body, body());
        assert_eq!(list(&dir.path().join("b")).unwrap().len(), 1);
    }

    #[test]
    fn an_edited_backup_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (_, path) = write(dir.path(), "x", &as_written(&body())).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[1,null,[true,true,73000,"), "{text}");
        std::fs::write(&path, text.replace("[1,null,[true,true,", "[1,null,[true,false,")).unwrap();
        let err = load(dir.path(), "x").unwrap_err();
        assert!(format!("{err:#}").contains("checksum"), "{err:#}");
        std::fs::write(&path, &text[..text.len() / 2]).unwrap();
        assert!(format!("{:#}", load(dir.path(), "x").unwrap_err()).contains("corrupt"));
    }

    #[test]
    fn a_backup_in_another_layout_or_with_escaped_texts_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let mut odd = body();
        let after = odd.rows[0].after.as_mut().unwrap();
        after.updated_at = "2026-11-22 \"12:00\"\\".into();
        let (_, path) = write(dir.path(), "x", &as_written(&odd)).unwrap();
        assert_eq!(load(dir.path(), "x").unwrap().body, odd, "escaped texts are read back owned");
        // The same document with the checksum first and spaces: parsed as a whole.
        let bytes = std::fs::read(&path).unwrap();
        let file: BackupFile = serde_json::from_slice(&bytes).unwrap();
        let relaid = format!("{{ \"checksum\": \"{}\", \"body\": {} }}", file.checksum, file.body.get());
        std::fs::write(&path, relaid).unwrap();
        assert_eq!(load(dir.path(), "x").unwrap().body, odd);
    }

    /// A backup file holding `body` exactly, with its checksum, as another lsauth
    /// (or an older one) would have written it.
    fn write_raw(dir: &Path, id: &str, body: &str) -> PathBuf {
        let path = dir.join(format!("{id}.json"));
        std::fs::write(&path, format!("{{\"body\":{body},\"checksum\":\"{}\"}}\n", checksum(body.as_bytes()))).unwrap();
        path
    }

    const HEADER: &str = r#""created_at":"2026-11-22T12:00:00.000001Z","operation":"enable-legacy","command":["lsauth","enable-legacy","--all"],"database":{"kind":"sqlite","location":"/data/ls.sqlite3"},"toggle":null,"restores":null"#;

    #[test]
    fn timestamps_are_written_once_in_a_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut many = body();
        let stamped = many.rows[0].clone();
        many.rows = (1..=100)
            .map(|id| {
                let mut c = stamped.clone();
                c.organization_id = id;
                c.after.as_mut().unwrap().organization_id = id;
                if id % 2 == 0 {
                    let mut before = c.after.clone().unwrap();
                    before.legacy_api_tokens_enabled = false;
                    before.created_at = "2025-01-01 00:00:00.000000".into();
                    before.updated_at = before.created_at.clone();
                    c.after.as_mut().unwrap().created_at = before.created_at.clone();
                    c.before = Some(before);
                }
                c
            })
            .collect();
        let (_, path) = write(dir.path(), "x", &as_written(&many)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains(r#""rows":{"times":["2026-11-22 12:00:00.000001","2025-01-01 00:00:00.000000"],"changes":[[1,null,[true,true,73000,0,0]],[2,[true,false,73000,1,1],[true,true,73000,1,0]],"#),
            "{}",
            &text[..400]
        );
        assert_eq!(text.matches("2025-01-01").count(), 1, "each text once");
        let back = load(dir.path(), "x").unwrap().body;
        assert_eq!(back, many);
        let after = back.rows[1].after.as_ref().unwrap();
        assert!(std::sync::Arc::ptr_eq(&after.created_at, &back.rows[1].before.as_ref().unwrap().created_at));
    }

    #[test]
    fn a_backup_of_the_first_format_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let rows = r#"[[1,null,[true,true,73000,"2026-11-22 12:00:00.000001","2026-11-22 12:00:00.000001"]]]"#;
        write_raw(dir.path(), "old", &format!(r#"{{"format":"lsauth-backup/1",{HEADER},"rows":{rows}}}"#));
        let back = load(dir.path(), "old").unwrap().body;
        assert_eq!(back, BackupBody { header: Header { format: FORMAT_1.into(), ..body().header }, ..body() });
    }

    #[test]
    fn a_backup_whose_rows_do_not_match_its_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let v1_rows = r#"[[1,null,[true,true,73000,"2026-11-22 12:00:00.000001","2026-11-22 12:00:00.000001"]]]"#;
        let tabled = |changes: &str| format!(r#"{{"times":["2026-11-22 12:00:00.000001"],"changes":{changes}}}"#);
        let cases = [
            ("lsauth-backup/2", v1_rows.to_string(), "not laid out as lsauth-backup/2"),
            ("lsauth-backup/1", tabled("[[1,null,[true,true,73000,0,0]]]"), "not laid out as lsauth-backup/1"),
            ("lsauth-backup/2", tabled("[[1,null,[true,true,73000,0,1]]]"), "timestamp 1 is not in the table of 1"),
            ("lsauth-backup/2", tabled(r#"[[1,null,[true,true,73000,0,"2026-11-22"]]]"#), "a timestamp text where"),
            ("lsauth-backup/2", r#"{"changes":[],"times":[]}"#.to_string(), "do not start with their table"),
            ("lsauth-backup/3", tabled("[]"), "has format \"lsauth-backup/3\"; this lsauth reads"),
        ];
        for (format, rows, expected) in cases {
            write_raw(dir.path(), "x", &format!(r#"{{"format":"{format}",{HEADER},"rows":{rows}}}"#));
            let err = format!("{:#}", load(dir.path(), "x").unwrap_err());
            assert!(err.contains(expected), "{format} {rows}: {err}");
            assert_eq!(crate::exit::status_of(&load(dir.path(), "x").unwrap_err()), crate::exit::ExitStatus::BadInput);
        }
    }

    #[test]
    fn ids_cannot_escape_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        for id in ["../etc/passwd", "", ".hidden", "a/b"] {
            assert!(load(dir.path(), id).is_err(), "{id}");
        }
        assert!(format!("{:#}", load(dir.path(), "nope").unwrap_err()).contains("no backup nope"));
    }

    #[test]
    fn ids_sort_by_time() {
        let a = new_id(time::macros::datetime!(2026-11-22 09:00:00.5 UTC), "enable-legacy");
        let b = new_id(time::macros::datetime!(2026-11-22 10:00:00 UTC), "rollback");
        assert_eq!(a, "20261122T090000500000Z-enable-legacy");
        assert!(a < b);
    }
}
