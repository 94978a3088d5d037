//! SQLite, as `label-studio start` uses it.
//!
//! The file is opened without `SQLITE_OPEN_CREATE`, so a wrong path can never leave an
//! empty database behind; inspection opens it read-only, so it works while Label Studio
//! runs. A busy timeout waits for Django's locks instead of failing at once.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

use super::sql::{
    CREATORS_WITHOUT_KEY_SQL, INSERT_COLUMNS, JTI_SQL, JWT_MIGRATIONS_SQL, LEGACY_KEY_OF_SQL, LEGACY_OWNER_SQL,
    LIVE_PATS_SQL, ORGANIZATIONS_SQL, PROJECT_SQL, SCOPE_IDS_SQL, UPSERT_SET, USER_BY_ID_SQL, USER_SQL,
};
use super::{
    batch_changes, check_tables, wanted_tables, Access, Database, DbTarget, DoctorFacts, JtiState, LockWait,
    LockedSettings, OpenOptions, Opened, OrgScope, ProjectFacts, SqlValue, UserFacts, UserLookup, Visit,
};
use crate::exit::{bad_input, bad_input_from};
use crate::settings::DbIdentity;
use crate::settings::{JwtSchema, JwtSettings, OrgRecord};
use crate::settings::{OrgSettings, RowChange, SharedTimes, StoredRow};

pub struct SqliteDb {
    conn: Connection,
    opened: Opened,
}

/// The rows of a list of organizations, the ids passed as one JSON parameter. SQLite
/// keeps Django's text timestamps as they are.
fn ids_scope_sql() -> String {
    SCOPE_IDS_SQL
        .replace("{ids}", "(SELECT value AS id FROM json_each(?1)) j")
        .replace("{created}", "CAST(s.created_at AS TEXT)")
        .replace("{updated}", "CAST(s.updated_at AS TEXT)")
}

fn read_scope(conn: &Connection, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
    read_scope_rows(conn, scope, visit).map_err(not_as_label_studio_writes)
}

/// A value or column Label Studio never writes (NULL or text in a boolean, a column that
/// is not there: SQLite keeps whatever it is given): exit 3 naming the table and column,
/// instead of rusqlite's words and exit 1 (which `upgrade-check` uses for "the upgrade
/// breaks tokens"). lsauth does not guess what such a value means.
fn not_as_label_studio_writes(err: anyhow::Error) -> anyhow::Error {
    let found = match err.downcast_ref::<rusqlite::Error>() {
        Some(rusqlite::Error::InvalidColumnType(_, name, ty)) => {
            let what = match ty {
                rusqlite::types::Type::Null => "NULL",
                rusqlite::types::Type::Text => "text",
                rusqlite::types::Type::Real => "a real number",
                rusqlite::types::Type::Blob => "a blob",
                rusqlite::types::Type::Integer => "an integer",
            };
            Some(super::sql::holds_what_label_studio_never_writes(name, what))
        }
        Some(rusqlite::Error::SqliteFailure(_, Some(msg)) | rusqlite::Error::SqlInputError { msg, .. }) => {
            msg.strip_prefix("no such column: ").map(super::sql::column_missing)
        }
        _ => None,
    };
    found.unwrap_or(err)
}

fn read_scope_rows(conn: &Connection, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
    match scope {
        OrgScope::All => read_all(conn, visit),
        OrgScope::Ids(ids) => {
            let mut shared = SharedTimes::default();
            let mut stmt = conn.prepare(&ids_scope_sql())?;
            let mut rows = stmt.query([ids_json(ids)])?;
            while let Some(r) = rows.next()? {
                visit(org_settings(r, &mut shared)?)?;
            }
            Ok(())
        }
    }
}

/// Every organization with its row, as two scans merged by id: the join looks each
/// organization's row up through the index, which is slower at scale (measured in
/// docs/performance.md), and this read is made while the write lock is held.
fn read_all(conn: &Connection, visit: &mut Visit<'_>) -> anyhow::Result<()> {
    let mut shared = SharedTimes::default();
    let mut rows: Vec<StoredRow> = conn
        .prepare(
            "SELECT organization_id, api_tokens_enabled, legacy_api_tokens_enabled, api_token_ttl_days, \
             CAST(created_at AS TEXT), CAST(updated_at AS TEXT) FROM jwt_auth_jwtsettings",
        )?
        .query_map([], |r| stored_row(r, 0, &mut shared))?
        .collect::<rusqlite::Result<_>>()?;
    rows.sort_unstable_by_key(|r| r.organization_id);
    let mut rows = rows.into_iter().peekable();
    let mut stmt = conn.prepare("SELECT id, title FROM organization ORDER BY id")?;
    let mut orgs = stmt.query([])?;
    while let Some(o) = orgs.next()? {
        let id: i64 = o.get(0)?;
        // A row of an organization that no longer exists is not part of any scope.
        while rows.next_if(|r| r.organization_id < id).is_some() {}
        visit(OrgSettings { id, title: Some(o.get(1)?), row: rows.next_if(|r| r.organization_id == id) })?;
    }
    Ok(())
}

/// A settings row from the columns starting at `first`: organization_id, the two
/// switches, the ttl and the two timestamps (read in place, allocated only when new).
fn stored_row(r: &rusqlite::Row<'_>, first: usize, shared: &mut SharedTimes) -> rusqlite::Result<StoredRow> {
    let created_at = shared.get(r.get_ref(first + 4)?.as_str()?, None);
    let updated_at = shared.get(r.get_ref(first + 5)?.as_str()?, Some(&created_at));
    Ok(StoredRow {
        organization_id: r.get(first)?,
        api_tokens_enabled: r.get(first + 1)?,
        legacy_api_tokens_enabled: r.get(first + 2)?,
        api_token_ttl_days: r.get(first + 3)?,
        created_at,
        updated_at,
    })
}

fn org_settings(r: &rusqlite::Row<'_>, shared: &mut SharedTimes) -> rusqlite::Result<OrgSettings> {
    let row_id: Option<i64> = r.get(2)?;
    Ok(OrgSettings { id: r.get(0)?, title: r.get(1)?, row: row_id.map(|_| stored_row(r, 2, shared)).transpose()? })
}

fn ids_json(ids: &[i64]) -> String {
    serde_json::to_string(ids).expect("ids serialize")
}

fn bind(value: SqlValue<'_>) -> rusqlite::types::Value {
    match value {
        SqlValue::Bool(b) => rusqlite::types::Value::Integer(b as i64),
        SqlValue::Int(i) => rusqlite::types::Value::Integer(i),
        SqlValue::Timestamp(t) => rusqlite::types::Value::Text(t.to_string()),
    }
}

/// The changes as a few statements whatever the number of rows (see `batch_changes`):
/// id lists and rows travel as one JSON parameter that json_each turns into a table.
fn apply_changes(conn: &Connection, changes: &[RowChange]) -> rusqlite::Result<()> {
    let batches = batch_changes(changes);
    if !batches.deletes.is_empty() {
        conn.execute(
            "DELETE FROM jwt_auth_jwtsettings WHERE organization_id IN (SELECT value FROM json_each(?1))",
            [ids_json(&batches.deletes)],
        )?;
    }
    for update in &batches.updates {
        let set = update.assignments();
        let columns: Vec<String> = set.iter().enumerate().map(|(i, (c, _))| format!("{c} = ?{}", i + 2)).collect();
        let sql = format!(
            "UPDATE jwt_auth_jwtsettings SET {} WHERE organization_id IN (SELECT value FROM json_each(?1))",
            columns.join(", ")
        );
        let mut params = vec![rusqlite::types::Value::Text(ids_json(&update.ids))];
        params.extend(set.into_iter().map(|(_, v)| bind(v)));
        conn.execute(&sql, rusqlite::params_from_iter(params))?;
    }
    for insert in &batches.inserts {
        let t = &insert.template;
        conn.execute(
            &format!("{INSERT_COLUMNS} SELECT value, ?2, ?3, ?4, ?5, ?6 FROM json_each(?1)"),
            rusqlite::params![
                ids_json(&insert.ids),
                t.api_tokens_enabled,
                t.api_token_ttl_days,
                t.created_at,
                t.updated_at,
                t.legacy_api_tokens_enabled
            ],
        )?;
    }
    if !batches.upserts.is_empty() {
        // Built by hand: one compact array per row, no intermediate JSON values.
        let mut rows = String::with_capacity(batches.upserts.len() * 80 + 2);
        rows.push('[');
        for (i, r) in batches.upserts.iter().enumerate() {
            use std::fmt::Write;
            let text = |s: &str| serde_json::to_string(s).expect("a string serializes");
            let _ = write!(
                rows,
                "{}[{},{},{},{},{},{}]",
                if i == 0 { "" } else { "," },
                r.organization_id,
                r.api_tokens_enabled as i64,
                r.api_token_ttl_days,
                text(&r.created_at),
                text(&r.updated_at),
                r.legacy_api_tokens_enabled as i64
            );
        }
        rows.push(']');
        conn.execute(
            &format!(
                "{INSERT_COLUMNS} \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 \
                   FROM json_each(?1) WHERE true \
                 {UPSERT_SET}"
            ),
            [rows],
        )?;
    }
    Ok(())
}

/// Why the first read of a database failed, in the words an operator needs: a lock held
/// past `--lock-timeout` and a crashed writer's hot journal are "cannot reach it now"
/// (exit 3, as for a write), anything else is "this is no database lsauth can read".
fn first_read_error(path: &Path, err: rusqlite::Error, waited: Duration) -> anyhow::Error {
    let shown = path.display().to_string();
    let code = err.sqlite_error_code();
    let journal = PathBuf::from(format!("{shown}-journal"));
    if matches!(code, Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)) {
        return super::lock_timeout_error(&shown, waited);
    }
    if code == Some(ErrorCode::ReadOnly) && journal.exists() {
        return crate::exit::unreachable_error(format!(
            "{} is a hot journal: a writer (Label Studio, or anything else) stopped in the middle of a \
             transaction, and SQLite must roll it back before {shown} can be read, which lsauth's read-only open \
             does not do. The next writer rolls it back at its first access: start Label Studio (or run \
             sqlite3 {shown} 'PRAGMA quick_check' as the file's owner), then run lsauth again; nothing was changed",
            crate::text::shown::outside(&journal.display().to_string())
        ));
    }
    bad_input(format!("cannot read {shown}: {err}"))
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// "; did you mean DIR/NAME?" for a path one slip away from a file beside it (a letter
/// off, a wrong extension), or empty. Only names are read: nothing is opened.
fn sibling_suggestion(path: &Path) -> String {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return String::new() };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else { return String::new() };
    let names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    match crate::text::suggest::did_you_mean(name, &names) {
        Some(found) => {
            format!(
                "; did you mean {}?",
                crate::text::shown::outside(&path.with_file_name(found).display().to_string())
            )
        }
        None => String::new(),
    }
}

/// Say precisely why a path cannot be a database, before SQLite sees it.
fn check_file(path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad_input(format!("no such database file: {shown}{}", sibling_suggestion(path))))
        }
        Err(e) => return Err(bad_input_from(format!("cannot access {shown}"), e)),
    };
    if !meta.is_file() {
        return Err(bad_input(format!(
            "{shown} is {}, not a SQLite database file",
            crate::fsutil::describe_type(&meta)
        )));
    }
    let mut header = [0u8; 16];
    // Non-blocking, and checked on the descriptor: a FIFO put in its place meanwhile
    // cannot hang the read.
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY).open(path)
    }
    .map_err(|e| bad_input_from(format!("cannot read {shown}"), e))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(bad_input(format!("{shown} is not a regular file, not a SQLite database file")));
    }
    let read = file.read(&mut header).map_err(|e| bad_input_from(format!("cannot read {shown}"), e))?;
    if read > 0 && (read < 16 || &header != SQLITE_MAGIC) {
        return Err(bad_input(format!("{shown} is not a SQLite database file")));
    }
    Ok(())
}

impl SqliteDb {
    pub fn open(path: &Path, options: OpenOptions) -> anyhow::Result<Self> {
        check_file(path)?;
        let mode = match options.access {
            Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
            Access::ReadWrite => OpenFlags::SQLITE_OPEN_READ_WRITE,
        };
        // Never SQLITE_OPEN_CREATE, never URI interpretation of the path.
        let conn = Connection::open_with_flags(path, mode | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| bad_input(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(options.lock_timeout)?;
        let shown = path.display().to_string();
        let present = table_names(&conn).map_err(|e| first_read_error(path, e, options.lock_timeout))?;
        let settings_table = check_tables(&shown, &present, options.before_jwt)?;
        let migrations = conn
            .prepare(JWT_MIGRATIONS_SQL)
            .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>())
            .map_err(|e| first_read_error(path, e, options.lock_timeout))
            .with_context(|| format!("reading django_migrations in {shown}"))?;
        Ok(SqliteDb {
            conn,
            opened: Opened {
                target: DbTarget::Sqlite { path: PathBuf::from(path) },
                schema: JwtSchema { migrations },
                lock_timeout: options.lock_timeout,
                settings_table,
            },
        })
    }
}

fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let wanted = wanted_tables();
    let placeholders = vec!["?"; wanted.len()].join(", ");
    let sql = format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({placeholders})");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(wanted), |r| r.get::<_, String>(0))?;
    rows.collect()
}

impl SqliteDb {
    /// The first row `sql` finds for `param`, if any, as `row` makes it.
    fn first_row<T>(
        &self,
        sql: &str,
        param: impl rusqlite::ToSql,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> anyhow::Result<Option<T>> {
        Ok(self.conn.prepare(sql)?.query_row([param], row).optional()?)
    }
}

fn user_facts(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserFacts> {
    Ok(UserFacts { id: r.get(0)?, email: r.get(1)?, is_active: r.get(2)?, active_organization_id: r.get(3)? })
}

fn project_facts(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProjectFacts> {
    Ok(ProjectFacts {
        id: r.get(0)?,
        title: r.get(1)?,
        organization_id: r.get(2)?,
        project_creator: r.get(3)?,
        organization_creator: r.get(4)?,
    })
}

impl Database for SqliteDb {
    fn opened(&self) -> &Opened {
        &self.opened
    }

    fn organizations(&mut self) -> anyhow::Result<Vec<OrgRecord>> {
        let sql = if self.opened.settings_table {
            ORGANIZATIONS_SQL.into()
        } else {
            super::sql::without_settings_table(ORGANIZATIONS_SQL)
        };
        let mut stmt = self.conn.prepare(&sql).map_err(|e| not_as_label_studio_writes(e.into()))?;
        let rows = stmt.query_map([], |r| {
            let has_row: bool = r.get(4)?;
            Ok(OrgRecord {
                id: r.get(0)?,
                title: r.get(1)?,
                creator_email: r.get(2)?,
                active_members: r.get(3)?,
                stored: if has_row {
                    Some(JwtSettings {
                        api_tokens_enabled: r.get(5)?,
                        legacy_api_tokens_enabled: r.get(6)?,
                        api_token_ttl_days: r.get(7)?,
                    })
                } else {
                    None
                },
                legacy_token_holders: r.get(8)?,
                inactive_legacy_token_holders: r.get(9)?,
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| not_as_label_studio_writes(e.into()))
            .with_context(|| format!("reading organizations from {}", self.opened.target.location()))
    }

    fn identity(&self) -> DbIdentity {
        let path = match &self.opened.target {
            DbTarget::Sqlite { path } => path.clone(),
            DbTarget::Postgres(_) => unreachable!("a SqliteDb holds a SQLite target"),
        };
        let absolute = std::fs::canonicalize(&path).unwrap_or(path);
        DbIdentity { kind: "sqlite".into(), location: absolute.display().to_string() }
    }

    fn legacy_key_owner(&mut self, key: &str) -> anyhow::Result<Option<UserFacts>> {
        self.first_row(&LEGACY_OWNER_SQL.replace("{key}", "?1"), key, user_facts)
    }

    fn user_by_id(&mut self, id: i64) -> anyhow::Result<Option<UserFacts>> {
        self.first_row(&USER_BY_ID_SQL.replace("{id}", "?1"), id, user_facts)
    }

    fn jti_state(&mut self, jti: &str) -> anyhow::Result<JtiState> {
        let found: Option<(Option<i64>, bool)> =
            self.first_row(&JTI_SQL.replace("{jti}", "?1"), jti, |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(match found {
            None => JtiState::Unknown,
            Some((user_id, false)) => JtiState::Outstanding { user_id },
            Some((user_id, true)) => JtiState::Blacklisted { user_id },
        })
    }

    fn ml_backends(&mut self, project_id: i64) -> anyhow::Result<Vec<super::MlBackendRow>> {
        let mut stmt = self.conn.prepare(&super::sql::ML_BACKENDS_SQL.replace("{id}", "?1"))?;
        let rows = stmt
            .query_map([project_id], |r| {
                Ok(super::MlBackendRow {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    state: r.get(2)?,
                    error_message: r.get(3)?,
                    title: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn each_task_data(&mut self, project_id: i64, visit: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
        let mut stmt = self.conn.prepare(&super::sql::TASK_DATA_SQL.replace("{id}", "?1"))?;
        let mut rows = stmt.query([project_id])?;
        while let Some(r) = rows.next()? {
            // Read in place: the row's text is not copied.
            if let Ok(data) = r.get_ref(0)?.as_str() {
                visit(data);
            }
        }
        Ok(())
    }

    fn user_emails(&mut self) -> anyhow::Result<Vec<String>> {
        let mut stmt = self.conn.prepare(super::sql::USER_EMAILS_SQL)?;
        let emails = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(emails)
    }

    fn legacy_key_of(&mut self, user_id: i64) -> anyhow::Result<Option<String>> {
        self.first_row(&LEGACY_KEY_OF_SQL.replace("{id}", "?1"), user_id, |r| r.get(0))
    }

    fn doctor_facts(&mut self) -> anyhow::Result<DoctorFacts> {
        let creators_without_key = self
            .conn
            .prepare(CREATORS_WITHOUT_KEY_SQL)?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        // Django stores UTC text; the same format compares correctly as text.
        let now = crate::settings::django_timestamp(time::OffsetDateTime::now_utc());
        let live_pats_by_org = self
            .conn
            .prepare(&LIVE_PATS_SQL.replace("{now}", "?1"))?
            .query_map([now], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(DoctorFacts { creators_without_key, live_pats_by_org })
    }

    fn project(&mut self, id: i64) -> anyhow::Result<Option<ProjectFacts>> {
        self.first_row(&PROJECT_SQL.replace("{id}", "?1"), id, project_facts)
    }

    fn user_active_org(&mut self, email: &str) -> anyhow::Result<UserLookup> {
        let sql = USER_SQL.replace("{email}", "?1");
        let found: Option<(i64, Option<i64>)> = self.first_row(&sql, email, |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(match found {
            None => UserLookup::NoSuchUser,
            Some((user_id, None)) => UserLookup::NoActiveOrganization { user_id },
            Some((user_id, Some(organization_id))) => UserLookup::Active { user_id, organization_id },
        })
    }

    fn scope_rows(&mut self, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
        read_scope(&self.conn, scope, visit)
    }

    fn lock_wait(&self) -> LockWait {
        LockWait { timeout: self.opened.lock_timeout, ran_out: super::is_sqlite_busy }
    }

    fn lock_settings(&mut self) -> anyhow::Result<Box<dyn LockedSettings + '_>> {
        // IMMEDIATE takes the write lock now (waiting up to the busy timeout), so the
        // rows read next cannot change before the write.
        Ok(Box::new(self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?))
    }
}

impl LockedSettings for rusqlite::Transaction<'_> {
    fn read(&mut self, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
        read_scope(self, scope, visit)
    }

    fn apply(&mut self, changes: &[RowChange]) -> anyhow::Result<()> {
        Ok(apply_changes(self, changes)?)
    }

    fn commit(self: Box<Self>) -> anyhow::Result<()> {
        (*self).commit().context("committing")
    }
}
