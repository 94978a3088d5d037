//! The Label Studio database: one trait, a SQLite and a PostgreSQL implementation.
//!
//! Opening a database also checks that it is Label Studio's and that it is recent
//! enough to have `jwt_auth_jwtsettings`; every command can then rely on the tables.

pub(crate) mod libpq;
mod postgres;
pub mod sql;
mod sqlite;
pub mod target;
mod tls;

mod facts;
/// What the domain judges of a token, read here (`token_facts`): the types are the
/// domain's, so that the token checks never look up at the database.
pub use crate::token::check::{JtiState, UserFacts};
pub use facts::token_facts;

use anyhow::Context;
use std::time::Duration;

use crate::exit::bad_input;
use crate::settings::DbIdentity;
use crate::settings::{Decide, OrgSettings, RowChange, StoredRow};
use crate::settings::{JwtSchema, OrgRecord};

pub use target::{parse_spec, DbTarget, Located, PgHost, PgTarget, SslMode, DEFAULT_CONNECT_TIMEOUT};

/// How the database will be used: inspection never takes a write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    pub access: Access,
    /// How long to wait for a lock held by Label Studio (SQLite busy timeout,
    /// PostgreSQL lock_timeout).
    pub lock_timeout: Duration,
    /// Accept a database from before Label Studio 1.17 (no `jwt_auth_jwtsettings`): only
    /// `upgrade-check` reads one; everything else has nothing to do there.
    pub before_jwt: bool,
}

/// What every opened database knows of itself, whatever its backend: where it is, the
/// `jwt_auth` migrations and whether the settings table exists, found when opening, and
/// how long a lock is waited for.
#[derive(Debug, Clone)]
pub struct Opened {
    pub target: DbTarget,
    pub schema: JwtSchema,
    pub settings_table: bool,
    pub lock_timeout: Duration,
}

/// A connected Label Studio database.
pub trait Database {
    /// What it knows of itself since it was opened.
    fn opened(&self) -> &Opened;
    fn target(&self) -> &DbTarget {
        &self.opened().target
    }
    /// The `jwt_auth` migrations found when opening.
    fn jwt_schema(&self) -> &JwtSchema {
        &self.opened().schema
    }
    /// A sentence on how the connection is secured (PostgreSQL TLS), if it applies.
    fn transport(&self) -> Option<String> {
        None
    }
    /// Every organization with its settings row (if any) and counts, ordered by id.
    fn organizations(&mut self) -> anyhow::Result<Vec<OrgRecord>>;

    /// Whether `jwt_auth_jwtsettings` exists (false only when opened with `before_jwt`).
    fn has_settings_table(&self) -> bool {
        self.opened().settings_table
    }

    /// Which database this is, for backups: kind and absolute path or host:port/db.
    fn identity(&self) -> DbIdentity;

    /// The owner of a legacy key, if the key exists.
    fn legacy_key_owner(&mut self, key: &str) -> anyhow::Result<Option<UserFacts>>;

    /// A user by id (PAT claims carry the id as text).
    fn user_by_id(&mut self, id: i64) -> anyhow::Result<Option<UserFacts>>;

    /// What the token blacklist tables know of a PAT's `jti`.
    fn jti_state(&mut self, jti: &str) -> anyhow::Result<JtiState>;

    /// A project's ML backends.
    fn ml_backends(&mut self, project_id: i64) -> anyhow::Result<Vec<MlBackendRow>>;

    /// The data (JSON text) of a project's first `sql::TASK_SAMPLE` tasks, handed to `visit`
    /// one task at a time as the rows arrive (a task's data may be megabytes: never all
    /// held at once).
    fn each_task_data(&mut self, project_id: i64, visit: &mut dyn FnMut(&str)) -> anyhow::Result<()>;

    /// Every user's email (an error path's "did you mean").
    fn user_emails(&mut self) -> anyhow::Result<Vec<String>>;

    /// A user's legacy key (a secret: callers mask it).
    fn legacy_key_of(&mut self, user_id: i64) -> anyhow::Result<Option<String>>;

    /// Facts doctor needs beyond `organizations()`.
    fn doctor_facts(&mut self) -> anyhow::Result<DoctorFacts>;

    /// A project with its organization and the two users whose legacy keys Label Studio
    /// uses on the server side: the project's creator (ML backend `/setup`) and the
    /// organization's creator (exports with media).
    fn project(&mut self, id: i64) -> anyhow::Result<Option<ProjectFacts>>;

    /// A user's active organization (the one Label Studio consults for their token).
    fn user_active_org(&mut self, email: &str) -> anyhow::Result<UserLookup>;

    /// The organizations of `scope` with their rows, ordered by id (no lock taken).
    fn read_scope(&mut self, scope: &OrgScope) -> anyhow::Result<Vec<OrgSettings>> {
        let mut all = Vec::new();
        self.visit_scope(scope, &mut |org| {
            all.push(org);
            Ok(())
        })?;
        Ok(all)
    }

    /// `read_scope`, each organization handed to `visit` as it is read instead of kept.
    fn visit_scope(&mut self, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
        let location = self.target().location();
        self.scope_rows(scope, visit).with_context(|| format!("reading jwt_auth_jwtsettings in {location}"))
    }

    /// `visit_scope` without the context: what each backend implements.
    fn scope_rows(&mut self, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()>;

    /// Begin a transaction that holds the write lock of `jwt_auth_jwtsettings`, waiting
    /// for Label Studio's writers at most the lock timeout: each backend's part of
    /// `write_rows`.
    fn lock_settings(&mut self) -> anyhow::Result<Box<dyn LockedSettings + '_>>;

    /// How long this connection waits for a lock, and how its backend says it waited too long.
    fn lock_wait(&self) -> LockWait;

    /// The one write path: in a single transaction, lock the settings of `scope`, show
    /// each row to `decide` as it is read, let it say which rows change (nothing:
    /// `Ok(None)`, and the transaction ends without a write), write them with set-based
    /// statements, call `before_commit` (which writes and syncs the backup), then commit. Any error
    /// rolls everything back. Waiting for Label Studio's lock longer than the lock
    /// timeout is reported as such (exit 3), whichever backend waited.
    fn write_rows(
        &mut self,
        scope: &OrgScope,
        decide: &mut dyn Decide,
        before_commit: &mut BeforeCommit<'_>,
    ) -> anyhow::Result<Option<Written>> {
        let location = self.target().location();
        let wait = self.lock_wait();
        let written = (|| {
            let mut locked = self.lock_settings()?;
            let locked_at = std::time::Instant::now();
            locked.read(scope, &mut |org| decide.see(org))?;
            if !decide.decide()? {
                return Ok(None);
            }
            let changes = decide.changes();
            let apply = || locked.apply(changes).context("writing jwt_auth_jwtsettings");
            apply_while_backing_up(changes, apply, before_commit)?;
            locked.commit()?;
            Ok(Some(Written { rows: changes.len(), lock_held: locked_at.elapsed() }))
        })();
        written.map_err(|e| if (wait.ran_out)(&e) { lock_timeout_error(&location, wait.timeout) } else { e })
    }
}

/// A transaction holding the write lock of `jwt_auth_jwtsettings`, as a backend takes it.
/// Dropped without `commit`, it rolls back.
pub trait LockedSettings {
    /// The organizations of `scope` with their rows, handed to `visit` in id order: the
    /// latest committed ones, which cannot change before this transaction ends.
    fn read(&mut self, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()>;
    /// Write `changes` with set-based statements.
    fn apply(&mut self, changes: &[RowChange]) -> anyhow::Result<()>;
    /// Commit; a connection lost during COMMIT is `CommitOutcomeUnknown`.
    fn commit(self: Box<Self>) -> anyhow::Result<()>;
}

/// How long a connection waits for a lock, and how its backend's error says the wait ran out.
#[derive(Clone, Copy)]
pub struct LockWait {
    pub timeout: Duration,
    pub ran_out: fn(&anyhow::Error) -> bool,
}

/// A committed write: how many rows were written and how long the lock was held, from
/// taking it to the end of the commit (how long Label Studio's writers of the table
/// waited at most). The rows are the decider's (`Decide::changes`).
#[derive(Debug)]
pub struct Written {
    pub rows: usize,
    pub lock_held: Duration,
}

/// Takes each organization of a scope as it is read, in id order.
pub type Visit<'a> = dyn FnMut(OrgSettings) -> anyhow::Result<()> + 'a;
/// The connection was lost while COMMIT was under way: the database may have committed
/// or not, and only a new connection can tell. The message names the database and why.
#[derive(Debug)]
pub struct CommitOutcomeUnknown(pub String);

impl std::fmt::Display for CommitOutcomeUnknown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CommitOutcomeUnknown {}

/// Called with the rows to write, before the commit: where the backup is written and
/// synced. It runs on a thread of its own while the statements run (`apply_while_backing_up`).
pub type BeforeCommit<'a> = dyn FnMut(&[RowChange]) -> anyhow::Result<()> + Send + 'a;

/// Run the write statements (`apply`, on this thread: the connection stays here) and the
/// backup (`before_commit`, on a second thread) at the same time, and return only when
/// both have finished: the caller commits after this, so the backup is on disk and synced
/// before any commit, and either failing fails the transaction. The backup depends only on
/// the rows decided before the statements run, never on their outcome.
pub fn apply_while_backing_up(
    changes: &[RowChange],
    apply: impl FnOnce() -> anyhow::Result<()>,
    before_commit: &mut BeforeCommit<'_>,
) -> anyhow::Result<()> {
    std::thread::scope(|s| {
        let backup = s.spawn(|| before_commit(changes));
        let applied = apply();
        let backed_up = backup.join().unwrap_or_else(|_| Err(anyhow::anyhow!("writing the backup panicked")));
        applied.and(backed_up)
    })
}

/// Which organizations a read or write covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    All,
    /// Sorted, without duplicates.
    Ids(Vec<i64>),
}

impl OrgScope {
    pub fn ids(mut ids: Vec<i64>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        OrgScope::Ids(ids)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoctorFacts {
    /// Organizations whose creator has no legacy key: `(organization id, creator email)`.
    pub creators_without_key: Vec<(i64, String)>,
    /// Unexpired, unrevoked PATs per organization (of users whose active organization it is).
    pub live_pats_by_org: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFacts {
    pub id: i64,
    pub title: Option<String>,
    pub organization_id: Option<i64>,
    pub project_creator: Option<i64>,
    pub organization_creator: Option<i64>,
}

/// One row of `ml_mlbackend`: an ML backend connected to a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlBackendRow {
    pub id: i64,
    pub url: String,
    /// `CO` connected, `DI` disconnected, `ER` error, `TR` training, `PR` predicting.
    pub state: String,
    pub error_message: Option<String>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLookup {
    NoSuchUser,
    NoActiveOrganization { user_id: i64 },
    Active { user_id: i64, organization_id: i64 },
}

/// A lock wait that ran out: Label Studio (or someone) held the lock too long. Exit 3
/// (`db::status_of` knows lock waits), whether a read or a write met it.
#[derive(Debug)]
pub struct LockTimeout {
    pub location: String,
    pub waited: Duration,
}

impl std::fmt::Display for LockTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} stayed locked by another writer for {:.1}s (--lock-timeout); nothing was changed",
            self.location,
            self.waited.as_secs_f64()
        )
    }
}

impl std::error::Error for LockTimeout {}

pub(crate) fn lock_timeout_error(location: &str, waited: Duration) -> anyhow::Error {
    LockTimeout { location: location.to_string(), waited }.into()
}

/// SQLite gave up waiting for a lock (its busy timeout is `--lock-timeout`).
pub(crate) fn is_sqlite_busy(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<rusqlite::Error>()
            .and_then(|e| e.sqlite_error_code())
            .is_some_and(|code| matches!(code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
    })
}

/// PostgreSQL cancelled a statement at `lock_timeout` (55P03).
pub(crate) fn is_pg_lock_timeout(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<::postgres::Error>().and_then(|e| e.code())
            == Some(&::postgres::error::SqlState::LOCK_NOT_AVAILABLE)
    })
}

/// Whether an error is a lock wait that ran out anywhere in its chain (lsauth's own
/// `LockTimeout`, SQLite busy or locked, PostgreSQL's lock_timeout): whatever read or write
/// met it, the database could not be reached in time, exit 3.
pub fn is_lock_wait(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.is::<LockTimeout>()) || is_sqlite_busy(err) || is_pg_lock_timeout(err)
}

/// The status an error maps to: its markers' (`exit::status_of`), and 3 for a lock wait
/// that ran out (the database could not be reached in time, whichever read or write met
/// it, however it was wrapped). What every caller above the database asks.
pub fn status_of(err: &anyhow::Error) -> crate::exit::ExitStatus {
    match crate::exit::status_of(err) {
        crate::exit::ExitStatus::Problem if is_lock_wait(err) => crate::exit::ExitStatus::Unreachable,
        status => status,
    }
}

/// Open the database and check it is a Label Studio database with JWT settings.
pub fn open(target: &DbTarget, options: OpenOptions) -> anyhow::Result<Box<dyn Database>> {
    match target {
        DbTarget::Sqlite { path } => Ok(Box::new(sqlite::SqliteDb::open(path, options)?)),
        DbTarget::Postgres(pg) => Ok(Box::new(postgres::PgDb::open(pg, options)?)),
    }
}

/// Tables whose presence says "this is Label Studio".
const LABEL_STUDIO_TABLES: [&str; 4] = ["organization", "htx_user", "authtoken_token", "django_migrations"];
const SETTINGS_TABLE: &str = "jwt_auth_jwtsettings";

/// All the tables lsauth looks for, in one list for one catalog query.
fn wanted_tables() -> Vec<&'static str> {
    let mut all = LABEL_STUDIO_TABLES.to_vec();
    all.push(SETTINGS_TABLE);
    all
}

/// Decide from the tables present whether lsauth can work on this database; `Ok(false)`
/// for one from before 1.17, when `before_jwt` accepts it.
fn check_tables(location: &str, present: &[String], before_jwt: bool) -> anyhow::Result<bool> {
    let missing: Vec<&str> = LABEL_STUDIO_TABLES.iter().copied().filter(|t| !present.iter().any(|p| p == t)).collect();
    if !missing.is_empty() {
        return Err(bad_input(format!("{location} is not a Label Studio database (no table {})", missing.join(", "))));
    }
    if !present.iter().any(|p| p == SETTINGS_TABLE) {
        if before_jwt {
            return Ok(false);
        }
        return Err(before_jwt_error(location));
    }
    Ok(true)
}

/// A database from before 1.17, where a command needs the token settings (exit 2).
pub fn before_jwt_error(location: &str) -> anyhow::Error {
    bad_input(format!(
        "{location} is a Label Studio database older than 1.17: it has no {SETTINGS_TABLE} table, so legacy \
         tokens are the only kind and are always accepted; nothing for lsauth to fix (upgrade Label Studio to get \
         Personal Access Tokens; lsauth upgrade-check --to RELEASE says what an upgrade will do)"
    ))
}

/// A list of row changes as few statements: the same columns set to the same values on
/// many rows is one UPDATE, many new rows alike but for the id one INSERT ... SELECT,
/// and the rest (a rollback restoring rows that differ) one multi-row upsert.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct WriteBatches<'a> {
    pub deletes: Vec<i64>,
    pub updates: Vec<ColumnUpdate>,
    pub inserts: Vec<InsertBatch>,
    pub upserts: Vec<&'a StoredRow>,
}

/// `UPDATE ... SET <the Some columns> WHERE organization_id IN ids`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ColumnUpdate {
    pub ids: Vec<i64>,
    pub api_tokens_enabled: Option<bool>,
    pub legacy_api_tokens_enabled: Option<bool>,
    pub api_token_ttl_days: Option<i64>,
    pub created_at: Option<crate::settings::Timestamp>,
    pub updated_at: Option<crate::settings::Timestamp>,
}

/// `INSERT ... SELECT id, <template values> FROM ids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InsertBatch {
    pub ids: Vec<i64>,
    pub template: StoredRow,
}

/// More groups than this are written row by row values in the one upsert instead.
const MAX_STATEMENT_GROUPS: usize = 8;

/// What an update sets: each column that differs from before to after, with its new
/// value. Borrowed, so that comparing the keys of 100,000 rows touches no reference count
/// (the backup thread reads the same shared timestamps meanwhile).
type UpdateKey<'k> = (Option<bool>, Option<bool>, Option<i64>, Option<&'k str>, Option<&'k str>);

fn update_key<'k>(b: &StoredRow, a: &'k StoredRow) -> UpdateKey<'k> {
    (
        (a.api_tokens_enabled != b.api_tokens_enabled).then_some(a.api_tokens_enabled),
        (a.legacy_api_tokens_enabled != b.legacy_api_tokens_enabled).then_some(a.legacy_api_tokens_enabled),
        (a.api_token_ttl_days != b.api_token_ttl_days).then_some(a.api_token_ttl_days),
        (a.created_at != b.created_at).then_some(&*a.created_at),
        (a.updated_at != b.updated_at).then_some(&*a.updated_at),
    )
}

/// Rows grouped by key, in order of first appearance. A row with the key of the row before
/// (every row of a toggle) joins that group without hashing the key again.
struct Groups<'r, K> {
    groups: Vec<(K, Vec<&'r StoredRow>)>,
    index: std::collections::HashMap<K, usize>,
    last: Option<usize>,
}

impl<'r, K: std::hash::Hash + Eq + Copy> Groups<'r, K> {
    fn new() -> Self {
        Groups { groups: Vec::new(), index: std::collections::HashMap::new(), last: None }
    }

    fn add(&mut self, key: K, row: &'r StoredRow) {
        let at = match self.last {
            Some(at) if self.groups[at].0 == key => at,
            _ => *self.index.entry(key).or_insert_with(|| {
                self.groups.push((key, Vec::new()));
                self.groups.len() - 1
            }),
        };
        self.groups[at].1.push(row);
        self.last = Some(at);
    }

    /// The groups, largest first (ties: by first organization id), for the statements.
    fn largest_first(mut self) -> Vec<(K, Vec<&'r StoredRow>)> {
        self.groups.sort_by(|x, y| {
            y.1.len().cmp(&x.1.len()).then_with(|| x.1[0].organization_id.cmp(&y.1[0].organization_id))
        });
        self.groups
    }
}

pub(crate) fn batch_changes(changes: &[RowChange]) -> WriteBatches<'_> {
    let mut batches = WriteBatches::default();
    let mut updates = Groups::new();
    let mut inserts = Groups::new();
    for change in changes {
        match (&change.before, &change.after) {
            (_, None) => batches.deletes.push(change.organization_id),
            (None, Some(a)) => {
                let key = (
                    a.api_tokens_enabled,
                    a.legacy_api_tokens_enabled,
                    a.api_token_ttl_days,
                    &*a.created_at,
                    &*a.updated_at,
                );
                inserts.add(key, a);
            }
            (Some(b), Some(a)) if a == b => {}
            (Some(b), Some(a)) => updates.add(update_key(b, a), a),
        }
    }
    let ids = |rows: &[&StoredRow]| rows.iter().map(|r| r.organization_id).collect();
    for (i, (key, rows)) in updates.largest_first().into_iter().enumerate() {
        if i < MAX_STATEMENT_GROUPS {
            batches.updates.push(ColumnUpdate::from_key(key, ids(&rows)));
        } else {
            batches.upserts.extend(rows);
        }
    }
    for (i, (_, rows)) in inserts.largest_first().into_iter().enumerate() {
        if i < MAX_STATEMENT_GROUPS {
            batches.inserts.push(InsertBatch { ids: ids(&rows), template: rows[0].clone() });
        } else {
            batches.upserts.extend(rows);
        }
    }
    batches
}

impl ColumnUpdate {
    fn from_key(key: UpdateKey<'_>, ids: Vec<i64>) -> ColumnUpdate {
        let (api_tokens_enabled, legacy_api_tokens_enabled, api_token_ttl_days, created_at, updated_at) = key;
        ColumnUpdate {
            ids,
            api_tokens_enabled,
            legacy_api_tokens_enabled,
            api_token_ttl_days,
            created_at: created_at.map(Into::into),
            updated_at: updated_at.map(Into::into),
        }
    }

    /// `(column, value)` pairs to set, in a fixed order.
    pub fn assignments(&self) -> Vec<(&'static str, SqlValue<'_>)> {
        let mut set = Vec::new();
        if let Some(v) = self.api_tokens_enabled {
            set.push(("api_tokens_enabled", SqlValue::Bool(v)));
        }
        if let Some(v) = self.legacy_api_tokens_enabled {
            set.push(("legacy_api_tokens_enabled", SqlValue::Bool(v)));
        }
        if let Some(v) = self.api_token_ttl_days {
            set.push(("api_token_ttl_days", SqlValue::Int(v)));
        }
        if let Some(v) = &self.created_at {
            set.push(("created_at", SqlValue::Timestamp(v)));
        }
        if let Some(v) = &self.updated_at {
            set.push(("updated_at", SqlValue::Timestamp(v)));
        }
        set
    }
}

/// A value bound into a write statement; each backend binds it its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlValue<'a> {
    Bool(bool),
    Int(i64),
    /// UTC text in Django's SQLite format.
    Timestamp(&'a str),
}

#[cfg(test)]
mod tests {

    /// A lock wait is exit 3 wherever it is met, however it was wrapped on the way up.
    #[test]
    fn lock_waits_are_unreachable_wherever_they_are_met() {
        use crate::exit::ExitStatus;
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        let read = anyhow::Error::from(busy).context("reading organizations from x.sqlite3");
        assert!(is_lock_wait(&read));
        assert_eq!(status_of(&read), ExitStatus::Unreachable);
        let ours = lock_timeout_error("x.sqlite3", Duration::from_secs(1)).context("enable-legacy");
        assert_eq!(status_of(&ours), ExitStatus::Unreachable);
        assert!(format!("{ours:#}").contains("stayed locked by another writer for 1.0s"));
        assert_eq!(status_of(&anyhow::anyhow!("something else")), ExitStatus::Problem);
    }

    use super::*;
    use crate::settings::test_row as row;

    type Side = fn(i64) -> Option<StoredRow>;

    fn changes_of(ids: std::ops::RangeInclusive<i64>, before: Side, after: Side) -> Vec<RowChange> {
        ids.map(|id| RowChange { organization_id: id, before: before(id), after: after(id) }).collect()
    }

    #[test]
    fn a_toggle_is_one_update_and_one_insert() {
        let changes = changes_of(
            1..=6,
            |id| (id % 2 == 0).then(|| row(id, false, &format!("old{id}"))),
            |id| Some(row(id, true, "now")),
        );
        let b = batch_changes(&changes);
        assert_eq!(b.updates.len(), 1);
        assert_eq!(b.updates[0].ids, vec![2, 4, 6]);
        assert_eq!(
            b.updates[0].assignments(),
            vec![("legacy_api_tokens_enabled", SqlValue::Bool(true)), ("updated_at", SqlValue::Timestamp("now"))]
        );
        assert_eq!(b.inserts.len(), 1);
        assert_eq!(b.inserts[0].ids, vec![1, 3, 5]);
        assert!(b.upserts.is_empty() && b.deletes.is_empty());
    }

    #[test]
    fn a_rollback_of_differing_rows_is_an_upsert_and_deletes() {
        let changes = changes_of(
            1..=20,
            |id| Some(row(id, true, "now")),
            |id| (id > 2).then(|| row(id, false, &format!("old{id}"))),
        );
        let b = batch_changes(&changes);
        assert_eq!(b.deletes, vec![1, 2]);
        assert_eq!(b.updates.len(), MAX_STATEMENT_GROUPS);
        assert_eq!(b.upserts.len(), 18 - MAX_STATEMENT_GROUPS);
        let written: usize = b.updates.iter().map(|u| u.ids.len()).sum::<usize>() + b.upserts.len();
        assert_eq!(written, 18);
    }

    #[test]
    fn rows_alike_join_one_group_even_when_interleaved() {
        // Two kinds of update taking turns: each row's key differs from the row before.
        let changes = changes_of(
            1..=6,
            |id| Some(row(id, false, "old")),
            |id| Some(row(id, true, if id % 2 == 0 { "even" } else { "odd" })),
        );
        let b = batch_changes(&changes);
        let mut groups: Vec<Vec<i64>> = b.updates.iter().map(|u| u.ids.clone()).collect();
        groups.sort();
        assert_eq!(groups, vec![vec![1, 3, 5], vec![2, 4, 6]]);
        assert!(b.upserts.is_empty() && b.inserts.is_empty());
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn foreign_and_old_databases_are_refused() {
        let err = check_tables("x.db", &names(&["notes"]), false).unwrap_err();
        assert!(format!("{err:#}").contains("not a Label Studio database"));
        let err = check_tables("x.db", &names(&LABEL_STUDIO_TABLES), false).unwrap_err();
        assert!(format!("{err:#}").contains("older than 1.17"));
        assert!(check_tables("x.db", &names(&wanted_tables()), false).unwrap());
        assert!(!check_tables("x.db", &names(&LABEL_STUDIO_TABLES), true).unwrap(), "before 1.17, when asked");
    }
}
