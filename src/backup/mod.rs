//! Backups: the exact prior state of every row a change touches, written and synced
//! before the change commits, so every change can be undone by `lsauth rollback`.
//!
//! A backup is one JSON file, mode 0600, in a 0700 directory, named by its UTC time and
//! operation and never overwritten: `{"checksum": "sha256:...", "body": {...}}`, where
//! the checksum covers the body's exact bytes, so an edited or truncated file is caught.

pub mod api;
pub mod env;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::config::environment::Environment;
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

/// A row on disk: `[api_tokens_enabled, legacy_api_tokens_enabled, api_token_ttl_days,
/// created_at, updated_at]`, each timestamp an index into the backup's table of
/// timestamps (`lsauth-backup/1` wrote the texts in place). Compact because a backup of
/// `--all` on 100,000 organizations is written while the lock is held and read back,
/// checked and parsed before a rollback: four texts made up 110 of a row's 125 bytes,
/// and a change of `--all` has only a few distinct ones.
type WireRow<'a> = (bool, bool, i64, Stamp<'a>, Stamp<'a>);

/// A timestamp on disk: an index into the table (`lsauth-backup/2`) or the text itself
/// (`/1`), borrowed from the backup's bytes when it holds no escape.
enum Stamp<'a> {
    At(u64),
    Text(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Stamp<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Stamp<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a timestamp or its index in the table of timestamps")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Stamp::At(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Stamp::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Stamp::Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A change on disk: `[organization_id, before, after]`, `null` for "no row".
type WireChange<'a> = (i64, Option<WireRow<'a>>, Option<WireRow<'a>>);

/// The distinct timestamps of a list of changes, in order of first use, and each
/// change's four indexes into them (created and updated, before and after).
struct TimeTable<'a> {
    times: Vec<&'a str>,
    indexes: Vec<[u32; 4]>,
}

impl<'a> TimeTable<'a> {
    fn of(changes: &'a [RowChange]) -> Self {
        let mut at: HashMap<&'a str, u32> = HashMap::new();
        let mut times = Vec::new();
        let mut index_of = |t: &'a Timestamp| -> u32 {
            *at.entry(&**t).or_insert_with(|| {
                times.push(&**t);
                (times.len() - 1) as u32
            })
        };
        let mut pair = |side: &'a Option<StoredRow>| match side {
            Some(r) => [index_of(&r.created_at), index_of(&r.updated_at)],
            None => [0, 0],
        };
        let indexes = changes
            .iter()
            .map(|change| {
                let (before, after) = (pair(&change.before), pair(&change.after));
                [before[0], before[1], after[0], after[1]]
            })
            .collect();
        TimeTable { times, indexes }
    }
}

/// The rows as `lsauth-backup/2` writes them: `{"times": [...], "changes": [...]}`.
struct TabledRows<'a>(&'a [RowChange]);

struct IndexedChanges<'a> {
    changes: &'a [RowChange],
    indexes: &'a [[u32; 4]],
}

struct IndexedSide<'a>(&'a Option<StoredRow>, [u32; 2]);

impl Serialize for IndexedSide<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        match self.0 {
            None => s.serialize_none(),
            Some(r) => {
                let mut t = s.serialize_tuple(5)?;
                t.serialize_element(&r.api_tokens_enabled)?;
                t.serialize_element(&r.legacy_api_tokens_enabled)?;
                t.serialize_element(&r.api_token_ttl_days)?;
                t.serialize_element(&self.1[0])?;
                t.serialize_element(&self.1[1])?;
                t.end()
            }
        }
    }
}

impl Serialize for IndexedChanges<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.changes.len()))?;
        for (c, [a, b, d, e]) in self.changes.iter().zip(self.indexes) {
            seq.serialize_element(&(
                c.organization_id,
                IndexedSide(&c.before, [*a, *b]),
                IndexedSide(&c.after, [*d, *e]),
            ))?;
        }
        seq.end()
    }
}

impl Serialize for TabledRows<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let table = TimeTable::of(self.0);
        let mut m = s.serialize_struct("Rows", 2)?;
        m.serialize_field("times", &table.times)?;
        m.serialize_field("changes", &IndexedChanges { changes: self.0, indexes: &table.indexes })?;
        m.end()
    }
}

/// Where a backup's timestamps come from while its rows are read.
enum Times {
    /// `lsauth-backup/1`: the texts are in the rows; equal ones met close together are
    /// shared.
    InPlace(SharedTimes),
    /// `lsauth-backup/2`: the rows hold indexes into this table.
    Table(Vec<Timestamp>),
}

impl Times {
    fn get<E: serde::de::Error>(&mut self, stamp: Stamp<'_>, same_as: Option<&Timestamp>) -> Result<Timestamp, E> {
        match (self, stamp) {
            (Times::InPlace(shared), Stamp::Text(t)) => Ok(shared.get(&t, same_as)),
            (Times::Table(table), Stamp::At(i)) => {
                usize::try_from(i).ok().and_then(|i| table.get(i)).cloned().ok_or_else(|| {
                    E::custom(format!("timestamp {i} is not in the table of {} timestamps", table.len()))
                })
            }
            (Times::InPlace(_), Stamp::At(_)) => Err(E::custom("a timestamp index where lsauth-backup/1 has a text")),
            (Times::Table(_), Stamp::Text(_)) => Err(E::custom("a timestamp text where lsauth-backup/2 has an index")),
        }
    }

    fn change<E: serde::de::Error>(
        &mut self,
        (organization_id, before, after): WireChange<'_>,
    ) -> Result<RowChange, E> {
        let mut row = |w: Option<WireRow>, like: Option<&StoredRow>| -> Result<Option<StoredRow>, E> {
            w.map(|(api, legacy, ttl, created_at, updated_at)| {
                Ok(StoredRow {
                    organization_id,
                    api_tokens_enabled: api,
                    legacy_api_tokens_enabled: legacy,
                    api_token_ttl_days: ttl,
                    created_at: self.get(created_at, like.map(|r| &r.created_at))?,
                    updated_at: self.get(updated_at, like.map(|r| &r.updated_at))?,
                })
            })
            .transpose()
        };
        let before = row(before, None)?;
        let after = row(after, before.as_ref())?;
        Ok(RowChange { organization_id, before, after })
    }
}

/// The changes of a backup, each converted as soon as it is parsed: at 100,000 rows no
/// list of the file's rows is built beside the list of rows.
struct ChangesSeed(Times);

impl<'de> serde::de::DeserializeSeed<'de> for ChangesSeed {
    type Value = Vec<RowChange>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChangesSeed {
    type Value = Vec<RowChange>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of [organization_id, before, after]")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(wire) = seq.next_element::<WireChange<'de>>()? {
            rows.push(self.0.change(wire)?);
        }
        Ok(rows)
    }
}

/// A backup's rows as read: `lsauth-backup/2`'s `{"times": [...], "changes": [...]}`
/// or `/1`'s list of changes with the texts in place, and which of the two it was.
struct RowsFromWire {
    rows: Vec<RowChange>,
    tabled: bool,
}

impl<'de> Deserialize<'de> for RowsFromWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = RowsFromWire;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("{\"times\": [...], \"changes\": [...]} or a list of changes")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let rows = ChangesSeed(Times::InPlace(SharedTimes::default())).visit_seq(seq)?;
                Ok(RowsFromWire { rows, tabled: false })
            }
            // The table is written before the changes, which refer to it; the checksum
            // covers the exact bytes, so no other order is ever read.
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                use serde::de::Error;
                if map.next_key::<Cow<str>>()?.as_deref() != Some("times") {
                    return Err(A::Error::custom("the rows do not start with their table of timestamps"));
                }
                let times: Vec<Stamp<'de>> = map.next_value()?;
                let table = times
                    .into_iter()
                    .map(|t| match t {
                        Stamp::Text(t) => Ok(Timestamp::from(&*t)),
                        Stamp::At(_) => Err(A::Error::custom("the table of timestamps holds a number")),
                    })
                    .collect::<Result<_, _>>()?;
                if map.next_key::<Cow<str>>()?.as_deref() != Some("changes") {
                    return Err(A::Error::custom("the table of timestamps is not followed by the changes"));
                }
                let rows = map.next_value_seed(ChangesSeed(Times::Table(table)))?;
                if map.next_key::<Cow<str>>()?.is_some() {
                    return Err(A::Error::custom("the rows hold more than times and changes"));
                }
                Ok(RowsFromWire { rows, tabled: true })
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The file: `{"body": {...}, "checksum": "sha256:..."}`. The checksum comes last so the
/// body can be streamed to disk while it is hashed.
#[derive(Deserialize)]
struct BackupFile<'a> {
    checksum: String,
    #[serde(borrow)]
    body: &'a RawValue,
}

/// A writer that hashes what passes through it (behind a buffer: serde writes a few
/// bytes at a time, and the hash is fastest over large blocks).
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha256,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
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

fn hex_checksum(digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn checksum(bytes: &[u8]) -> String {
    hex_checksum(&Sha256::digest(bytes))
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

/// Write and sync a new backup, streamed and hashed on the way; returns its id and path.
pub fn write(dir: &Path, id: &str, body: &BackupBody<&[RowChange]>) -> anyhow::Result<(String, PathBuf)> {
    write_checked(dir, id, &body.with_rows(TabledRows(body.rows)))
}

/// Write and sync `{"body": BODY, "checksum": "sha256:..."}` as the new file `ID.json`
/// (mode 0600, in a private directory), the body streamed and hashed on the way.
pub(crate) fn write_checked<T: Serialize>(dir: &Path, id: &str, body: &T) -> anyhow::Result<(String, PathBuf)> {
    fsutil::ensure_private_dir(dir)?;
    let path = fsutil::write_new_file_with(dir, id, ".json", 0o600, |out| {
        out.write_all(b"{\"body\":")?;
        let mut hashing = Hashing { inner: out, hasher: Sha256::new() };
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut hashing);
        serde_json::to_writer(&mut buffered, body)?;
        buffered.flush()?;
        drop(buffered);
        let sum = hex_checksum(&hashing.hasher.finalize());
        out.write_all(format!(",\"checksum\":\"{sum}\"}}\n").as_bytes())?;
        Ok(())
    })?;
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok((id, path))
}

/// Parse a checked file's body with `parse`, once its checksum matched. The body is
/// parsed where it lies in the file's bytes (a 100,000-row backup is not copied).
pub(crate) fn read_checked<T>(path: &Path, parse: impl FnOnce(&str) -> serde_json::Result<T>) -> anyhow::Result<T> {
    let shown = path.display();
    let bytes = crate::fsutil::read_regular_file(path, crate::fsutil::BACKUP_LIMIT)
        .map_err(|e| bad_input(format!("backup: {e}")))?;
    let (body, sum) = match split_as_written(&bytes) {
        Some(found) => found,
        None => {
            let file: BackupFile = serde_json::from_slice(&bytes)
                .map_err(|e| bad_input(format!("backup {shown} is corrupt (not a backup document: {e})")))?;
            (file.body.get(), file.checksum)
        }
    };
    // Hashed on a second thread while this one parses (both take time on a large backup:
    // docs/performance.md); what was parsed is used only once the checksum matched.
    let (matches, parsed) = std::thread::scope(|s| {
        let hashing = s.spawn(|| checksum(body.as_bytes()) == sum);
        let parsed = parse(body);
        (hashing.join().unwrap_or(false), parsed)
    });
    if !matches {
        return Err(bad_input(format!("backup {shown} is corrupt or was edited: its checksum does not match")));
    }
    parsed.map_err(|e| bad_input(format!("backup {shown} is corrupt: {e}")))
}

/// The body and checksum of a file laid out exactly as `write_checked` writes it, found
/// by position instead of by parsing the whole file first: the body of a 100,000-row
/// backup is then parsed once (after its checksum matched), not twice. Any other
/// layout of the same document is read by parsing it.
fn split_as_written(bytes: &[u8]) -> Option<(&str, String)> {
    const SUM_LEN: usize = "sha256:".len() + 64;
    let inner = bytes.strip_prefix(b"{\"body\":")?.strip_suffix(b"\"}\n")?;
    let (body, tail) = inner.split_at(inner.len().checked_sub(b",\"checksum\":\"".len() + SUM_LEN)?);
    let sum = tail.strip_prefix(b",\"checksum\":\"")?;
    Some((std::str::from_utf8(body).ok()?, String::from_utf8(sum.to_vec()).ok()?))
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

#[cfg(test)]
mod tests {
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
