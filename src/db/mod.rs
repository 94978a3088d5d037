//! The Label Studio database: one trait, a SQLite and a PostgreSQL implementation.
//!
//! Opening a database also checks that it is Label Studio's and that it is recent
//! enough to have `jwt_auth_jwtsettings`; every command can then rely on the tables.

mod postgres;
mod sqlite;
pub mod target;
mod tls;

use std::time::Duration;

use crate::backup::DbIdentity;
use crate::change::{OrgSettings, RowChange};
use crate::exit::bad_input;
use crate::settings::{JwtSchema, OrgRecord};

pub use target::{locate, DbTarget, Located, PgHost, PgTarget, SslMode};

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
}

/// A connected Label Studio database.
pub trait Database {
    fn target(&self) -> &DbTarget;
    /// The `jwt_auth` migrations found when opening.
    fn jwt_schema(&self) -> &JwtSchema;
    /// A sentence on how the connection is secured (PostgreSQL TLS), if it applies.
    fn transport(&self) -> Option<String> {
        None
    }
    /// Every organization with its settings row (if any) and counts, ordered by id.
    fn organizations(&mut self) -> anyhow::Result<Vec<OrgRecord>>;

    /// Which database this is, for backups: kind and absolute path or host:port/db.
    fn identity(&self) -> DbIdentity;

    /// A user's active organization (the one Label Studio consults for their token).
    fn user_active_org(&mut self, email: &str) -> anyhow::Result<UserLookup>;

    /// The organizations of `scope` with their rows, ordered by id (no lock taken).
    fn read_scope(&mut self, scope: &OrgScope) -> anyhow::Result<Vec<OrgSettings>>;

    /// The one write path: in a single transaction, lock the settings of `scope`, read
    /// them, let `decide` say which rows change (nothing: `Ok(None)`, and the
    /// transaction ends without a write), write them with set-based statements, call
    /// `before_commit` (which writes and syncs the backup), then commit. Any error
    /// rolls everything back.
    fn write_rows(
        &mut self,
        scope: &OrgScope,
        decide: &mut Decide<'_>,
        before_commit: &mut BeforeCommit<'_>,
    ) -> anyhow::Result<Option<Vec<RowChange>>>;
}

/// Given the rows read under the lock, the rows to write (`None`: write nothing).
pub type Decide<'a> = dyn FnMut(&[OrgSettings]) -> anyhow::Result<Option<Vec<RowChange>>> + 'a;
/// Called after the write and before the commit: where the backup is written and synced.
pub type BeforeCommit<'a> = dyn FnMut(&[RowChange]) -> anyhow::Result<()> + 'a;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserLookup {
    NoSuchUser,
    NoActiveOrganization { user_id: i64 },
    Active { user_id: i64, organization_id: i64 },
}

/// A lock wait that ran out: Label Studio (or someone) held the lock too long.
fn lock_timeout_error(location: &str, waited: Duration) -> anyhow::Error {
    crate::exit::unreachable(format!(
        "{location} stayed locked by another writer for {:.1}s (--lock-timeout); nothing was changed",
        waited.as_secs_f64()
    ))
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

/// Decide from the tables present whether lsauth can work on this database.
fn check_tables(location: &str, present: &[String]) -> anyhow::Result<()> {
    let missing: Vec<&str> = LABEL_STUDIO_TABLES.iter().copied().filter(|t| !present.iter().any(|p| p == t)).collect();
    if !missing.is_empty() {
        return Err(bad_input(format!("{location} is not a Label Studio database (no table {})", missing.join(", "))));
    }
    if !present.iter().any(|p| p == SETTINGS_TABLE) {
        return Err(bad_input(format!(
            "{location} is a Label Studio database older than 1.17: it has no {SETTINGS_TABLE} table, \
             so legacy tokens are the only kind and are always accepted; nothing for lsauth to fix \
             (upgrade Label Studio to get Personal Access Tokens)"
        )));
    }
    Ok(())
}

const JWT_MIGRATIONS_SQL: &str = "SELECT name FROM django_migrations WHERE app = 'jwt_auth' ORDER BY name";

/// One query for every organization: row, creator, active members and the legacy
/// token holders whose active organization it is (the org Label Studio consults).
/// Correlated counts use Label Studio's own indexes on organization_id and
/// active_organization_id, so this stays one pass at 100,000 organizations.
const ORGANIZATIONS_SQL: &str = "\
SELECT o.id, o.title, u.email,
       (SELECT COUNT(*) FROM organizations_organizationmember m
         WHERE m.organization_id = o.id AND m.deleted_at IS NULL),
       s.organization_id IS NOT NULL, s.api_tokens_enabled, s.legacy_api_tokens_enabled,
       s.api_token_ttl_days,
       (SELECT COUNT(*) FROM htx_user h JOIN authtoken_token t ON t.user_id = h.id
         WHERE h.active_organization_id = o.id)
  FROM organization o
  LEFT JOIN htx_user u ON u.id = o.created_by_id
  LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = o.id
 ORDER BY o.id";

/// The rows of a scope, with timestamps as UTC text. `{ids}` is replaced by each
/// backend's way of passing an id list as one parameter.
const SCOPE_ALL_SQL: &str = "\
SELECT o.id, o.title, s.organization_id, s.api_tokens_enabled, s.legacy_api_tokens_enabled,
       s.api_token_ttl_days, {created}, {updated}
  FROM organization o
  LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = o.id
 ORDER BY o.id";

const SCOPE_IDS_SQL: &str = "\
SELECT j.id, o.title, s.organization_id, s.api_tokens_enabled, s.legacy_api_tokens_enabled,
       s.api_token_ttl_days, {created}, {updated}
  FROM {ids}
  LEFT JOIN organization o ON o.id = j.id
  LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = j.id
 ORDER BY j.id";

const USER_SQL: &str = "SELECT id, active_organization_id FROM htx_user WHERE email = {email} \
UNION ALL SELECT id, active_organization_id FROM htx_user WHERE lower(email) = lower({email}) AND email <> {email}";

/// Rows to upsert and organizations whose row is deleted, from a list of changes.
fn split_changes(changes: &[RowChange]) -> (Vec<&crate::change::StoredRow>, Vec<i64>) {
    let upserts = changes.iter().filter_map(|c| c.after.as_ref()).collect();
    let deletes = changes.iter().filter(|c| c.after.is_none()).map(|c| c.organization_id).collect();
    (upserts, deletes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn foreign_and_old_databases_are_refused() {
        let err = check_tables("x.db", &names(&["notes"])).unwrap_err();
        assert!(format!("{err:#}").contains("not a Label Studio database"));
        let err = check_tables("x.db", &names(&LABEL_STUDIO_TABLES)).unwrap_err();
        assert!(format!("{err:#}").contains("older than 1.17"));
        check_tables("x.db", &names(&wanted_tables())).unwrap();
    }
}
