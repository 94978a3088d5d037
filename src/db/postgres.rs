//! PostgreSQL, as Label Studio's Docker and Helm deployments use it.
//!
//! The `postgres` crate runs its own tokio runtime internally, so this module must never
//! be called from inside another runtime (see DESIGN.md, "Async boundary").

use anyhow::Context;
use postgres::{Client, GenericClient, NoTls};

use super::sql::{
    CREATORS_WITHOUT_KEY_SQL, INSERT_COLUMNS, JTI_SQL, JWT_MIGRATIONS_SQL, LEGACY_KEY_OF_SQL, LEGACY_OWNER_SQL,
    LIVE_PATS_SQL, ORGANIZATIONS_SQL, PROJECT_SQL, SCOPE_ALL_SQL, SCOPE_IDS_SQL, UPSERT_SET, USER_BY_ID_SQL, USER_SQL,
};
use super::target::{PgHost, PgTarget, SslMode};
use super::{
    batch_changes, check_tables, tls, wanted_tables, CommitOutcomeUnknown, Database, DbTarget, DoctorFacts, JtiState,
    LockWait, LockedSettings, OpenOptions, Opened, OrgScope, ProjectFacts, SqlValue, UserFacts, UserLookup, Visit,
};
use crate::exit::{bad_input, unreachable_error};
use crate::settings::DbIdentity;
use crate::settings::{JwtSchema, JwtSettings, OrgRecord};
use crate::settings::{OrgSettings, RowChange, StoredRow};

pub struct PgDb {
    client: Client,
    opened: Opened,
    transport: String,
}

/// An integer column whatever its width (Label Studio mixes int4 ids and int8 counts).
fn int(row: &postgres::Row, idx: usize) -> i64 {
    row.try_get::<_, i64>(idx).or_else(|_| row.try_get::<_, i32>(idx).map(i64::from)).unwrap_or_else(|e| {
        panic!("column {idx} is not an integer: {e}") // the SQL is ours: a bug, not an input error
    })
}

fn opt_int(row: &postgres::Row, idx: usize) -> Option<i64> {
    row.try_get::<_, Option<i64>>(idx)
        .or_else(|_| row.try_get::<_, Option<i32>>(idx).map(|v| v.map(i64::from)))
        .unwrap_or_else(|e| panic!("column {idx} is not an integer: {e}"))
}

fn user_facts(r: &postgres::Row) -> UserFacts {
    UserFacts { id: int(r, 0), email: r.get(1), is_active: r.get(2), active_organization_id: opt_int(r, 3) }
}

/// Timestamps as UTC text in Django's SQLite format, identical on both backends.
fn scope_sql(scope: &OrgScope) -> String {
    let ts = |col: &str| format!("to_char(s.{col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')");
    let sql = match scope {
        OrgScope::All => SCOPE_ALL_SQL.to_string(),
        OrgScope::Ids(_) => SCOPE_IDS_SQL.replace("{ids}", "unnest($1::int8[]) AS j(id)"),
    };
    sql.replace("{created}", &ts("created_at")).replace("{updated}", &ts("updated_at"))
}

/// Run a query and convert its rows one by one as they arrive: at 100,000 organizations
/// the raw rows are never all held at once next to their conversion.
fn stream<T>(
    client: &mut impl GenericClient,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
    mut convert: impl FnMut(&postgres::Row) -> T,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    for_each_row(client, sql, params, |row| {
        out.push(convert(row));
        Ok(())
    })?;
    Ok(out)
}

/// Run a query and hand each row to `each` as it arrives.
fn for_each_row(
    client: &mut impl GenericClient,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
    mut each: impl FnMut(&postgres::Row) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut rows = client.query_raw(sql, params.iter().copied())?;
    while let Some(row) = rows.next()? {
        each(&row)?;
    }
    Ok(())
}

fn read_scope(client: &mut impl GenericClient, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
    let sql = scope_sql(scope);
    let convert = |r: &postgres::Row| OrgSettings {
        id: int(r, 0),
        title: r.get(1),
        row: opt_int(r, 2).map(|organization_id| StoredRow {
            organization_id,
            api_tokens_enabled: r.get(3),
            legacy_api_tokens_enabled: r.get(4),
            api_token_ttl_days: int(r, 5),
            created_at: r.get::<_, &str>(6).into(),
            updated_at: r.get::<_, &str>(7).into(),
        }),
    };
    match scope {
        OrgScope::All => for_each_row(client, &sql, &[], |r| visit(convert(r))),
        OrgScope::Ids(ids) => for_each_row(client, &sql, &[ids], |r| visit(convert(r))),
    }
    .map_err(not_as_label_studio_writes)
}

/// A column Label Studio's schema has, missing: exit 3 naming it (the columns' types are
/// PostgreSQL's to keep, so a NULL or text boolean cannot be stored here).
fn not_as_label_studio_writes(err: anyhow::Error) -> anyhow::Error {
    let missing = err
        .downcast_ref::<postgres::Error>()
        .and_then(|e| e.as_db_error())
        .filter(|db| *db.code() == postgres::error::SqlState::UNDEFINED_COLUMN)
        .and_then(|db| db.message().strip_prefix("column ")?.strip_suffix(" does not exist").map(str::to_string));
    match missing {
        Some(column) => super::sql::column_missing(&column),
        None => err,
    }
}

fn to_i32(v: i64) -> anyhow::Result<i32> {
    i32::try_from(v).map_err(|_| anyhow::anyhow!("{v} does not fit Label Studio's integer column"))
}

fn ids_i32(ids: &[i64]) -> anyhow::Result<Vec<i32>> {
    ids.iter().map(|&id| to_i32(id)).collect()
}

/// The changes as a few statements whatever the number of rows (see `batch_changes`):
/// id lists and rows travel as arrays that unnest turns into tables.
fn apply_changes(client: &mut impl GenericClient, changes: &[RowChange]) -> anyhow::Result<()> {
    let batches = batch_changes(changes);
    if !batches.deletes.is_empty() {
        let ids = ids_i32(&batches.deletes)?;
        client.execute("DELETE FROM jwt_auth_jwtsettings WHERE organization_id = ANY($1::int4[])", &[&ids])?;
    }
    for update in &batches.updates {
        let ids = ids_i32(&update.ids)?;
        let set = update.assignments();
        let mut params: Vec<Box<dyn postgres::types::ToSql + Sync>> = vec![Box::new(ids)];
        let mut columns = Vec::new();
        for (i, (column, value)) in set.into_iter().enumerate() {
            let n = i + 2;
            match value {
                SqlValue::Bool(b) => {
                    columns.push(format!("{column} = ${n}::bool"));
                    params.push(Box::new(b));
                }
                SqlValue::Int(v) => {
                    columns.push(format!("{column} = ${n}::int4"));
                    params.push(Box::new(to_i32(v)?));
                }
                SqlValue::Timestamp(t) => {
                    columns.push(format!("{column} = ${n}::text::timestamp AT TIME ZONE 'UTC'"));
                    params.push(Box::new(t.to_string()));
                }
            }
        }
        let sql =
            format!("UPDATE jwt_auth_jwtsettings SET {} WHERE organization_id = ANY($1::int4[])", columns.join(", "));
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        client.execute(&sql, &refs)?;
    }
    for insert in &batches.inserts {
        let t = &insert.template;
        client.execute(
            &format!(
                "{INSERT_COLUMNS} SELECT x, $2::bool, $3::int4, $4::text::timestamp AT TIME ZONE 'UTC', \
                 $5::text::timestamp AT TIME ZONE 'UTC', $6::bool FROM unnest($1::int4[]) AS x"
            ),
            &[
                &ids_i32(&insert.ids)?,
                &t.api_tokens_enabled,
                &to_i32(t.api_token_ttl_days)?,
                &&*t.created_at,
                &&*t.updated_at,
                &t.legacy_api_tokens_enabled,
            ],
        )?;
    }
    let upserts = &batches.upserts;
    if !upserts.is_empty() {
        let ids = upserts.iter().map(|r| to_i32(r.organization_id)).collect::<anyhow::Result<Vec<_>>>()?;
        let api: Vec<bool> = upserts.iter().map(|r| r.api_tokens_enabled).collect();
        let ttl = upserts.iter().map(|r| to_i32(r.api_token_ttl_days)).collect::<anyhow::Result<Vec<_>>>()?;
        let created: Vec<&str> = upserts.iter().map(|r| &*r.created_at).collect();
        let updated: Vec<&str> = upserts.iter().map(|r| &*r.updated_at).collect();
        let legacy: Vec<bool> = upserts.iter().map(|r| r.legacy_api_tokens_enabled).collect();
        client.execute(
            &format!(
                "{INSERT_COLUMNS} \
                 SELECT x.o, x.a, x.t, x.c::timestamp AT TIME ZONE 'UTC', x.u::timestamp AT TIME ZONE 'UTC', x.l \
                   FROM unnest($1::int4[], $2::bool[], $3::int4[], $4::text[], $5::text[], $6::bool[]) \
                        AS x(o, a, t, c, u, l) \
                 {UPSERT_SET}"
            ),
            &[&ids, &api, &ttl, &created, &updated, &legacy],
        )?;
    }
    Ok(())
}

/// The server's reason for a failed connection, in one line, never with the password.
fn connect_reason(err: &postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    crate::exit::one_line(err)
}

/// What to do about a refused sign-in: where libpq (and lsauth) take the password from.
fn connect_hint(err: &postgres::Error, user: &str) -> String {
    // 28P01 invalid_password; 28000 invalid_authorization_specification (pg_hba, no password).
    let code = err.as_db_error().map(|db| db.code().code().to_string());
    let no_password_given = err.to_string().contains("password missing");
    if matches!(code.as_deref(), Some("28P01")) || no_password_given {
        format!(
            "; give {user}'s password in --db (postgres://{user}:PASSWORD@host/db), in PGPASSWORD, or in ~/.pgpass \
             (host:port:db:{user}:PASSWORD, mode 0600)"
        )
    } else if code.as_deref() == Some("28000") {
        "; the server's pg_hba.conf refuses this user from this host: connect as a user it admits".into()
    } else {
        String::new()
    }
}

impl PgDb {
    pub fn open(target: &PgTarget, options: OpenOptions) -> anyhow::Result<Self> {
        let mut config = postgres::Config::new();
        config.user(&target.user).dbname(&target.dbname).port(target.port);
        config.application_name("lsauth").connect_timeout(target.connect_timeout);
        if let Some(password) = &target.password {
            config.password(password);
        }
        match &target.host {
            PgHost::Tcp(host) => config.host(host),
            PgHost::Socket(dir) => config.host_path(dir),
        };
        config.ssl_mode(match target.sslmode {
            SslMode::Disable => postgres::config::SslMode::Disable,
            SslMode::Prefer => postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => postgres::config::SslMode::Require,
        });
        let location = DbTarget::Postgres(target.clone()).location();
        let (connected, transport) = if target.sslmode == SslMode::Disable {
            (config.connect(NoTls), "sslmode=disable: not encrypted".to_string())
        } else {
            let plan = tls::client_config(target.sslmode, target.sslrootcert.as_deref())?;
            (config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(plan.config)), plan.description)
        };
        let mut client = connected.map_err(|e| {
            unreachable_error(format!(
                "cannot connect to PostgreSQL at {location}: {}{}",
                connect_reason(&e),
                connect_hint(&e, &target.user)
            ))
        })?;
        // Wait for row locks at most this long instead of forever behind a stuck writer.
        let millis = options.lock_timeout.as_millis().max(1);
        client
            .batch_execute(&format!("SET lock_timeout = {millis}"))
            .with_context(|| format!("configuring the session on {location}"))?;
        if options.access == super::Access::ReadOnly {
            client.batch_execute("SET default_transaction_read_only = on")?;
        }
        let present: Vec<String> = client
            .query(
                "SELECT c.relname::text FROM pg_catalog.pg_class c \
                  WHERE c.relkind IN ('r', 'p') AND pg_catalog.pg_table_is_visible(c.oid) \
                    AND c.relname = ANY($1)",
                &[&wanted_tables()],
            )
            .map_err(|e| bad_input(format!("cannot read the catalog of {location}: {e}")))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let settings_table = check_tables(&location, &present, options.before_jwt)?;
        let migrations = client
            .query(JWT_MIGRATIONS_SQL, &[])
            .with_context(|| format!("reading django_migrations in {location}"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(PgDb {
            client,
            opened: Opened {
                target: DbTarget::Postgres(target.clone()),
                schema: JwtSchema { migrations },
                lock_timeout: options.lock_timeout,
                settings_table,
            },
            transport,
        })
    }
}

impl Database for PgDb {
    fn opened(&self) -> &Opened {
        &self.opened
    }

    fn transport(&self) -> Option<String> {
        Some(self.transport.clone())
    }

    fn organizations(&mut self) -> anyhow::Result<Vec<OrgRecord>> {
        let sql = if self.opened.settings_table {
            ORGANIZATIONS_SQL.into()
        } else {
            super::sql::without_settings_table(ORGANIZATIONS_SQL)
        };
        stream(&mut self.client, &sql, &[], |r| {
            let has_row: bool = r.get(4);
            OrgRecord {
                id: i64::from(r.get::<_, i32>(0)),
                title: r.get(1),
                creator_email: r.get(2),
                active_members: r.get(3),
                stored: has_row.then(|| JwtSettings {
                    api_tokens_enabled: r.get(5),
                    legacy_api_tokens_enabled: r.get(6),
                    api_token_ttl_days: i64::from(r.get::<_, i32>(7)),
                }),
                legacy_token_holders: r.get(8),
                inactive_legacy_token_holders: r.get(9),
            }
        })
        .map_err(not_as_label_studio_writes)
        .with_context(|| format!("reading organizations from {}", self.opened.target.location()))
    }

    fn identity(&self) -> DbIdentity {
        let location = match &self.opened.target {
            DbTarget::Postgres(pg) => format!("{}:{}/{}", pg.host, pg.port, pg.dbname),
            DbTarget::Sqlite { .. } => unreachable!("a PgDb holds a PostgreSQL target"),
        };
        DbIdentity { kind: "postgresql".into(), location }
    }

    fn legacy_key_owner(&mut self, key: &str) -> anyhow::Result<Option<UserFacts>> {
        let rows = self.client.query(&LEGACY_OWNER_SQL.replace("{key}", "$1::text"), &[&key])?;
        Ok(rows.first().map(user_facts))
    }

    fn user_by_id(&mut self, id: i64) -> anyhow::Result<Option<UserFacts>> {
        let rows = self.client.query(&USER_BY_ID_SQL.replace("{id}", "$1::int8"), &[&id])?;
        Ok(rows.first().map(user_facts))
    }

    fn jti_state(&mut self, jti: &str) -> anyhow::Result<JtiState> {
        let rows = self.client.query(&JTI_SQL.replace("{jti}", "$1::text"), &[&jti])?;
        Ok(match rows.first() {
            None => JtiState::Unknown,
            Some(r) if r.get::<_, bool>(1) => JtiState::Blacklisted { user_id: opt_int(r, 0) },
            Some(r) => JtiState::Outstanding { user_id: opt_int(r, 0) },
        })
    }

    fn ml_backends(&mut self, project_id: i64) -> anyhow::Result<Vec<super::MlBackendRow>> {
        let sql = super::sql::ML_BACKENDS_SQL.replace("{id}", "$1::int8");
        Ok(self
            .client
            .query(&sql, &[&project_id])?
            .iter()
            .map(|r| super::MlBackendRow {
                id: int(r, 0),
                url: r.get(1),
                state: r.get(2),
                error_message: r.get(3),
                title: r.get(4),
            })
            .collect())
    }

    fn each_task_data(&mut self, project_id: i64, visit: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
        let sql = super::sql::TASK_DATA_SQL.replace("{id}", "$1::int8");
        // Streamed: one row at a time, never the whole sample.
        for_each_row(&mut self.client, &sql, &[&project_id], |r| {
            visit(r.get::<_, &str>(0));
            Ok(())
        })
    }

    fn user_emails(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(self.client.query(super::sql::USER_EMAILS_SQL, &[])?.iter().map(|r| r.get(0)).collect())
    }

    fn legacy_key_of(&mut self, user_id: i64) -> anyhow::Result<Option<String>> {
        let rows = self.client.query(&LEGACY_KEY_OF_SQL.replace("{id}", "$1::int8"), &[&user_id])?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    fn doctor_facts(&mut self) -> anyhow::Result<DoctorFacts> {
        let creators_without_key =
            self.client.query(CREATORS_WITHOUT_KEY_SQL, &[])?.iter().map(|r| (int(r, 0), r.get(1))).collect();
        let live_pats_by_org = self
            .client
            .query(&LIVE_PATS_SQL.replace("{now}", "now()"), &[])?
            .iter()
            .map(|r| (int(r, 0), int(r, 1)))
            .collect();
        Ok(DoctorFacts { creators_without_key, live_pats_by_org })
    }

    fn project(&mut self, id: i64) -> anyhow::Result<Option<ProjectFacts>> {
        let rows = self.client.query(&PROJECT_SQL.replace("{id}", "$1::int8"), &[&id])?;
        Ok(rows.first().map(|r| ProjectFacts {
            id: int(r, 0),
            title: r.get(1),
            organization_id: opt_int(r, 2),
            project_creator: opt_int(r, 3),
            organization_creator: opt_int(r, 4),
        }))
    }

    fn user_active_org(&mut self, email: &str) -> anyhow::Result<UserLookup> {
        let sql = USER_SQL.replace("{email}", "$1::text");
        let rows = self.client.query(&sql, &[&email])?;
        Ok(match rows.first() {
            None => UserLookup::NoSuchUser,
            Some(r) => match opt_int(r, 1) {
                None => UserLookup::NoActiveOrganization { user_id: int(r, 0) },
                Some(organization_id) => UserLookup::Active { user_id: int(r, 0), organization_id },
            },
        })
    }

    fn scope_rows(&mut self, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
        read_scope(&mut self.client, scope, visit)
    }

    fn lock_wait(&self) -> LockWait {
        LockWait { timeout: self.opened.lock_timeout, ran_out: super::is_pg_lock_timeout }
    }

    fn lock_settings(&mut self) -> anyhow::Result<Box<dyn LockedSettings + '_>> {
        let location = self.opened.target.location();
        let mut tx = self.client.transaction()?;
        // Blocks other writers of the table (Label Studio creating a missing row, an
        // admin saving settings) until commit, and waits for theirs first, up to
        // lock_timeout. Readers are not blocked. The rows read next are then the
        // latest committed ones and cannot change under us.
        tx.batch_execute("LOCK TABLE jwt_auth_jwtsettings IN SHARE ROW EXCLUSIVE MODE")?;
        Ok(Box::new(PgLocked { tx, location }))
    }
}

/// A transaction holding the table lock, and where it is (for a commit whose answer is lost).
struct PgLocked<'c> {
    tx: postgres::Transaction<'c>,
    location: String,
}

impl LockedSettings for PgLocked<'_> {
    fn read(&mut self, scope: &OrgScope, visit: &mut Visit<'_>) -> anyhow::Result<()> {
        read_scope(&mut self.tx, scope, visit)
    }

    fn apply(&mut self, changes: &[RowChange]) -> anyhow::Result<()> {
        apply_changes(&mut self.tx, changes)
    }

    fn commit(self: Box<Self>) -> anyhow::Result<()> {
        let PgLocked { mut tx, location } = *self;
        if std::env::var_os("LSAUTH_TEST_LOSE_CONNECTION_AT_COMMIT").is_some() {
            // Test hook: the server ends this connection right before COMMIT, as a
            // failover or a network cut would.
            let _ = tx.batch_execute("SELECT pg_terminate_backend(pg_backend_pid())");
        }
        match tx.commit() {
            Ok(()) => Ok(()),
            // No SQLSTATE: the answer to COMMIT never came (connection closed or
            // broken), so whether it committed is unknown. A server error with a code
            // is a definite failure: nothing was committed.
            Err(e) if e.is_closed() || e.code().is_none() => {
                let why = crate::exit::one_line(&e);
                Err(CommitOutcomeUnknown(format!("the connection to {location} was lost during COMMIT ({why})")).into())
            }
            Err(e) => Err(anyhow::Error::new(e).context("committing")),
        }
    }
}
