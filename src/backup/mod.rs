//! Backups: the exact prior state of every row a change touches, written and synced
//! before the change commits, so every change can be undone by `lsauth rollback`.
//!
//! A backup is one JSON file, mode 0600, in a 0700 directory, named by its UTC time and
//! operation and never overwritten: `{"checksum": "sha256:...", "body": {...}}`, where
//! the checksum covers the body's exact bytes, so an edited or truncated file is caught.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::change::{RowChange, Toggle};
use crate::environment::Environment;
use crate::exit::bad_input;
use crate::fsutil;

pub const FORMAT: &str = "lsauth-backup/1";

/// Which database a backup belongs to: a rollback refuses any other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbIdentity {
    /// `sqlite` or `postgresql`.
    pub kind: String,
    /// The absolute SQLite path, or `host:port/dbname`.
    pub location: String,
}

impl std::fmt::Display for DbIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.location)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupBody {
    pub format: String,
    /// When the change was made, RFC 3339 UTC.
    pub created_at: String,
    /// `enable-legacy`, `disable-pat`, ..., or `rollback`.
    pub operation: String,
    /// The command line, secrets masked.
    pub command: Vec<String>,
    pub database: DbIdentity,
    /// The toggle applied, for enable/disable operations.
    pub toggle: Option<Toggle>,
    /// For a rollback: the backup it restored.
    pub restores: Option<String>,
    /// Each touched row: before (`null` = there was no row) and after.
    pub rows: Vec<RowChange>,
}

#[derive(Serialize, Deserialize)]
struct BackupFile<'a> {
    checksum: String,
    #[serde(borrow)]
    body: &'a RawValue,
}

/// A backup read back and verified.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The file name without `.json`: what `lsauth rollback ID` takes.
    pub id: String,
    pub path: PathBuf,
    pub body: BackupBody,
}

fn checksum(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// `--backup-dir`, else `LSAUTH_BACKUP_DIR`, else `$XDG_STATE_HOME/lsauth/backups`
/// (`~/.local/state/lsauth/backups`).
pub fn resolve_dir(flag: Option<&Path>, env: &Environment) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = env.get("LSAUTH_BACKUP_DIR").filter(|s| !s.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(state) = env.get("XDG_STATE_HOME").filter(|s| !s.is_empty()) {
        return Ok(PathBuf::from(state).join("lsauth/backups"));
    }
    let home = env.home().ok_or_else(|| bad_input("HOME is not set: give --backup-dir"))?;
    Ok(home.join(".local/state/lsauth/backups"))
}

/// A backup id: sortable UTC time to the microsecond, then the operation.
pub fn new_id(now: time::OffsetDateTime, operation: &str) -> String {
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second][subsecond digits:6]Z");
    format!("{}-{operation}", now.format(&f).expect("formatting a UTC time"))
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && !id.starts_with('.') && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Write and sync a new backup; returns it as it will be read back.
pub fn write(dir: &Path, id: &str, body: &BackupBody) -> anyhow::Result<Backup> {
    fsutil::ensure_private_dir(dir)?;
    let raw = serde_json::to_string(body)?;
    let file = BackupFile { checksum: checksum(raw.as_bytes()), body: &RawValue::from_string(raw.clone())? };
    let mut bytes = serde_json::to_vec(&file)?;
    bytes.push(b'\n');
    let path = fsutil::write_new_file(dir, id, ".json", &bytes, 0o600)?;
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Backup { id, path, body: body.clone() })
}

/// Read a backup file and check its checksum and format.
pub fn read(path: &Path) -> anyhow::Result<Backup> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| bad_input(format!("cannot read backup {shown}: {e}")))?;
    let file: BackupFile = serde_json::from_slice(&bytes)
        .map_err(|e| bad_input(format!("backup {shown} is corrupt (not a backup document: {e})")))?;
    if checksum(file.body.get().as_bytes()) != file.checksum {
        return Err(bad_input(format!("backup {shown} is corrupt or was edited: its checksum does not match")));
    }
    let body: BackupBody =
        serde_json::from_str(file.body.get()).map_err(|e| bad_input(format!("backup {shown} is corrupt: {e}")))?;
    if body.format != FORMAT {
        return Err(bad_input(format!("backup {shown} has format {:?}; this lsauth reads {FORMAT}", body.format)));
    }
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(Backup { id, path: path.to_path_buf(), body })
}

/// A backup by id.
pub fn load(dir: &Path, id: &str) -> anyhow::Result<Backup> {
    let id = id.strip_suffix(".json").unwrap_or(id);
    if !valid_id(id) {
        return Err(bad_input(format!("{id:?} is not a backup id (see lsauth rollback --list)")));
    }
    let path = dir.join(format!("{id}.json"));
    if !path.exists() {
        return Err(bad_input(format!("no backup {id} in {}", dir.display())));
    }
    read(&path)
}

/// Every backup in `dir`, oldest first; unreadable or corrupt files are returned as
/// errors so they can be reported rather than silently skipped.
pub fn list(dir: &Path) -> anyhow::Result<Vec<Result<Backup, (PathBuf, String)>>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading backup directory {}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
        .collect();
    paths.sort();
    Ok(paths.into_iter().map(|p| read(&p).map_err(|e| (p.clone(), format!("{e:#}")))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::StoredRow;
    use std::os::unix::fs::PermissionsExt;

    fn body() -> BackupBody {
        BackupBody {
            format: FORMAT.into(),
            created_at: "2026-11-22T12:00:00.000001Z".into(),
            operation: "enable-legacy".into(),
            command: vec!["lsauth".into(), "enable-legacy".into(), "--all".into()],
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

    #[test]
    fn round_trip_and_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let written = write(&dir.path().join("b"), "20261122T120000000001Z-enable-legacy", &body()).unwrap();
        assert_eq!(std::fs::metadata(&written.path).unwrap().permissions().mode() & 0o777, 0o600);
        let back = load(&dir.path().join("b"), &written.id).unwrap();
        assert_eq!(back.body, body());
        assert_eq!(list(&dir.path().join("b")).unwrap().len(), 1);
    }

    #[test]
    fn an_edited_backup_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let written = write(dir.path(), "x", &body()).unwrap();
        let text = std::fs::read_to_string(&written.path).unwrap();
        std::fs::write(
            &written.path,
            text.replace("\"legacy_api_tokens_enabled\":true", "\"legacy_api_tokens_enabled\":false"),
        )
        .unwrap();
        let err = load(dir.path(), "x").unwrap_err();
        assert!(format!("{err:#}").contains("checksum"), "{err:#}");
        std::fs::write(&written.path, &text[..text.len() / 2]).unwrap();
        assert!(format!("{:#}", load(dir.path(), "x").unwrap_err()).contains("corrupt"));
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
