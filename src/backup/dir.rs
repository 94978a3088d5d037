//! The backup directory: where it is, the ids lsauth names its files with, and finding
//! the backups in it (by id, by kind, the latest of a database).

use super::*;

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

/// Backup files that could not be read, and why: reported, never silently skipped.
pub type Skipped = Vec<(PathBuf, String)>;

/// What a file in the backup directory holds, told from its id alone (lsauth names
/// every file `TIME-OPERATION`), so a listing never has to open the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Rows of a database (`backup::read`).
    Database,
    /// Settings changed through the API (`backup::api`).
    Api,
    /// A `.env` rewrite's record (`backup::env`).
    Env,
}

pub fn kind_of(id: &str) -> Kind {
    let operation = id.split_once("Z-").map(|(_, op)| op).unwrap_or("");
    if operation.starts_with(api::ID_PREFIX) {
        Kind::Api
    } else if operation.starts_with("migrate-env") || operation.starts_with("env-rollback") {
        Kind::Env
    } else {
        Kind::Database
    }
}

/// The ids of one kind in `dir`, oldest first (ids sort by time).
pub fn ids(dir: &Path, kind: Kind) -> anyhow::Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading backup directory {}", dir.display())),
    };
    let mut ids: Vec<String> = entries
        .filter_map(|e| e.ok())
        // A FIFO or device named like a backup is no backup (reading it could hang); a
        // symlink is followed by the read, which checks the file it reaches.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(String::from))
        .filter(|id| !id.starts_with('.') && kind_of(id) == kind)
        .collect();
    ids.sort();
    Ok(ids)
}

/// The path of backup `id` in `dir`, which must exist; ids cannot leave the directory.
pub fn path_of(dir: &Path, id: &str) -> anyhow::Result<PathBuf> {
    let id = id.strip_suffix(".json").unwrap_or(id);
    if !valid_id(id) {
        return Err(bad_input(format!("{id:?} is not a backup id (see {})", crate::text::paste::rollback("--list"))));
    }
    let path = dir.join(format!("{id}.json"));
    if !path.exists() {
        return Err(bad_input(format!("no backup {id} in {}", dir.display())));
    }
    Ok(path)
}

/// A database backup by id.
pub fn load(dir: &Path, id: &str) -> anyhow::Result<Backup> {
    read(&path_of(dir, id)?)
}

/// Every database backup in `dir`, oldest first; unreadable or corrupt files are
/// returned as errors so they can be reported rather than silently skipped.
pub fn list(dir: &Path) -> anyhow::Result<Vec<Result<Backup, (PathBuf, String)>>> {
    Ok(ids(dir, Kind::Database)?
        .into_iter()
        .map(|id| dir.join(format!("{id}.json")))
        .map(|p| read(&p).map_err(|e| (p.clone(), format!("{e:#}"))))
        .collect())
}

/// The newest database backup of `database`: files are opened newest first, and only
/// until one belongs to it. Corrupt files on the way are returned for reporting.
pub fn latest(dir: &Path, database: &DbIdentity) -> anyhow::Result<(Option<Backup>, Skipped)> {
    let newest_first = ids(dir, Kind::Database)?.into_iter().rev();
    let (mut found, skipped) = scan(dir, newest_first, read, |b| &b.body.database == database, Some(1));
    Ok((found.pop(), skipped))
}

/// Open the backups `ids` names, in that order, keeping those `keep` accepts, and stop
/// once `limit` are kept. Files that cannot be read are returned for reporting.
pub(crate) fn scan<T>(
    dir: &Path,
    ids: impl Iterator<Item = String>,
    read: impl Fn(&Path) -> anyhow::Result<T>,
    keep: impl Fn(&T) -> bool,
    limit: Option<usize>,
) -> (Vec<T>, Skipped) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for id in ids {
        if limit.is_some_and(|n| found.len() >= n) {
            break;
        }
        let path = dir.join(format!("{id}.json"));
        match read(&path) {
            Ok(b) if keep(&b) => found.push(b),
            Ok(_) => {}
            Err(e) => skipped.push((path, format!("{e:#}"))),
        }
    }
    (found, skipped)
}
