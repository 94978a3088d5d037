//! Backups of `.env` files: the copy itself lives next to the file
//! (`<file>.backup.YYYYMMDD_HHMMSS`, 0600, never overwritten); a small record in the
//! lsauth backup directory says which file it belongs to and the SHA-256 of the content
//! before and after the change, so a rollback can tell whether the file was edited since.
//! Records hold no secret.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exit::{bad_input, bad_input_from};
use crate::fsutil;

pub const FORMAT: &str = "lsauth-env-backup/1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvRecord {
    /// Its operation is `migrate-env` or `rollback`.
    #[serde(flatten)]
    pub header: super::Header,
    /// The env file, absolute.
    pub env_file: String,
    /// The copy of the file as it was before, absolute.
    pub backup_file: String,
    pub before_sha256: String,
    pub after_sha256: String,
    /// The file's mode before the change, in octal (`"640"`), restored by a rollback.
    /// Absent in records written before lsauth kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EnvBackup {
    pub id: String,
    pub record: EnvRecord,
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| std::env::current_dir().map(|d| d.join(path)).unwrap_or(path.into()))
}

/// Copy the file's current bytes next to it, never overwriting an earlier copy.
pub fn copy_beside(env_file: &Path, bytes: &[u8], now: time::OffsetDateTime) -> anyhow::Result<PathBuf> {
    let f = time::macros::format_description!("[year][month][day]_[hour][minute][second]");
    let name = env_file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| ".env".into());
    let dir = env_file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let stem = format!("{name}.backup.{}", now.format(&f)?);
    let written = fsutil::write_new_file(dir, &stem, "", bytes, 0o600)?;
    // A bare file name gives a bare backup name, not "./name".
    Ok(written.strip_prefix(".").map(Path::to_path_buf).unwrap_or(written))
}

pub fn write_record(backup_dir: &Path, record: &EnvRecord, now: time::OffsetDateTime) -> anyhow::Result<String> {
    fsutil::ensure_private_dir(backup_dir)?;
    let suffix = if record.header.operation == "migrate-env" { "migrate-env" } else { "env-rollback" };
    let id = super::new_id(now, suffix);
    let mut bytes = serde_json::to_vec_pretty(record)?;
    bytes.push(b'\n');
    let path = fsutil::write_new_file(backup_dir, &id, ".json", &bytes, 0o600)?;
    Ok(path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or(id))
}

/// This env file's records, oldest first.
pub fn records_for(backup_dir: &Path, env_file: &Path) -> anyhow::Result<Vec<EnvBackup>> {
    let wanted = absolute(env_file).display().to_string();
    // `ids` lists them oldest first; a record is read only if it is this file's.
    let found = super::ids(backup_dir, super::Kind::Env)?
        .into_iter()
        .filter_map(|id| {
            let bytes = fsutil::read_backup_file(&backup_dir.join(format!("{id}.json")), fsutil::BACKUP_LIMIT).ok()?;
            let record: EnvRecord = serde_json::from_slice(&bytes).ok()?;
            (record.header.format == FORMAT && record.env_file == wanted).then_some(EnvBackup { id, record })
        })
        .collect();
    Ok(found)
}

/// A record by id, checked to belong to `env_file`.
pub fn load(backup_dir: &Path, env_file: &Path, id: &str) -> anyhow::Result<EnvBackup> {
    let id = id.strip_suffix(".json").unwrap_or(id);
    records_for(backup_dir, env_file)?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| bad_input(format!("no backup {id} of {} in {}", env_file.display(), backup_dir.display())))
}

/// What `commit_rewrite` wrote.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The copy of the file as it was, beside it.
    pub backup_file: PathBuf,
    /// The record's id in the backup directory (what `lsauth rollback --env-file` takes).
    pub backup_id: String,
    /// Whether the file was rewritten in place (a mount point) rather than replaced.
    pub in_place: bool,
}

/// A `commit_rewrite` that failed, and what it left.
#[derive(Debug)]
pub struct CommitError {
    pub error: anyhow::Error,
    /// The file is a mount point, written in place.
    pub in_place: bool,
    /// Set when the file may hold part of the change: it could not be put back.
    pub left: Option<LeftPartial>,
}

/// A file left neither as it was nor as intended, and how to put it back.
#[derive(Debug, Clone)]
pub struct LeftPartial {
    pub backup_file: PathBuf,
    pub backup_id: String,
    /// The command that restores the file from `backup_file`.
    pub restore: String,
}

impl From<CommitError> for anyhow::Error {
    fn from(e: CommitError) -> Self {
        e.error
    }
}

/// Replace an env file's content, undoably: the old bytes are copied beside the file and
/// a record (checksums, mode) goes into the backup directory *before* the atomic replace,
/// so a kill at any point leaves the old file, or the new one with its backup. The file
/// must still hold `before` (an edit made meanwhile would be lost: refused). `mode`
/// overrides the mode of the new file (a rollback restores the recorded one). On failure
/// nothing is left behind that the error does not name: the file is as it was and the
/// backup is gone again, or (`CommitError::left`) it could not be put back and its backup
/// and the command that restores it are named.
pub fn commit_rewrite(
    target: &fsutil::ReplaceTarget,
    before: &[u8],
    after: &[u8],
    mode: Option<u32>,
    backup_dir: &Path,
    operation: &str,
) -> Result<Committed, CommitError> {
    let failed = |error| CommitError { error, in_place: target.in_place, left: None };
    let shown = target.path.display();
    let current = fsutil::read_regular_file(&target.real, fsutil::ENV_FILE_LIMIT)
        .map_err(|e| failed(bad_input_from(format!("re-reading {shown}"), e)))?;
    if current != before {
        return Err(failed(crate::exit::problem(format!("{shown} changed while lsauth worked; it was not written"))));
    }
    let now = time::OffsetDateTime::now_utc();
    let copy = copy_beside(&target.path, before, now).map_err(failed)?;
    let record = EnvRecord {
        header: super::Header::new(FORMAT, now, operation).map_err(failed)?,
        env_file: absolute(&target.path).display().to_string(),
        backup_file: absolute(&copy).display().to_string(),
        before_sha256: sha256(before),
        after_sha256: sha256(after),
        mode: Some(format!("{:o}", target.mode)),
    };
    let id = match write_record(backup_dir, &record, now) {
        Ok(id) => id,
        Err(e) => {
            let _ = std::fs::remove_file(&copy);
            return Err(failed(e));
        }
    };
    match fsutil::replace_file(target, before, after, mode) {
        Ok(how) => Ok(Committed { backup_file: copy, backup_id: id, in_place: how == fsutil::Replaced::InPlace }),
        Err(e) if e.touched => {
            // The file may hold part of the change: its backup stays, named, with the
            // command that puts it back (the file matches neither checksum: --force).
            let restore =
                format!("{} --force", crate::text::paste::env_rollback(&target.path.display().to_string(), &id));
            let error = e.error.context(crate::exit::problem(format!(
                "{shown} may hold part of the change: its backup is {} (restore it: {restore})",
                copy.display(),
            )));
            Err(CommitError {
                error,
                in_place: target.in_place,
                left: Some(LeftPartial { backup_file: copy, backup_id: id, restore }),
            })
        }
        Err(e) => {
            // Nothing was replaced (or the old bytes were put back): take the backup away
            // again, so that nothing is left that the output does not mention.
            let _ = std::fs::remove_file(&copy);
            let _ = std::fs::remove_file(backup_dir.join(format!("{id}.json")));
            Err(failed(e.error))
        }
    }
}

/// A recorded mode (`"640"`) as a number.
pub fn parse_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 8).ok().filter(|m| *m <= 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as lsauth has always written it (pretty JSON): read by key into the shared
    /// header, and written again to the same bytes.
    #[test]
    fn a_record_reads_and_writes_as_before() {
        let written = r#"{
  "format": "lsauth-env-backup/1",
  "created_at": "2026-11-22T12:00:00Z",
  "operation": "migrate-env",
  "command": [
    "lsauth",
    "migrate-env",
    "--env-file",
    ".env"
  ],
  "env_file": "/srv/ml/.env",
  "backup_file": "/srv/ml/.env.backup.20261122_120000",
  "before_sha256": "aa",
  "after_sha256": "bb",
  "mode": "640"
}"#;
        let record: EnvRecord = serde_json::from_str(written).unwrap();
        assert_eq!(record.header.operation, "migrate-env");
        assert_eq!(record.header.command.len(), 4);
        assert_eq!(record.mode.as_deref(), Some("640"));
        assert_eq!(serde_json::to_string_pretty(&record).unwrap(), written);
        let older = written.replace(",\n  \"mode\": \"640\"", "");
        assert_eq!(serde_json::from_str::<EnvRecord>(&older).unwrap().mode, None, "records from before the mode");
    }
}
