//! PostgreSQL, as Label Studio's Docker and Helm deployments use it.
//!
//! The `postgres` crate runs its own tokio runtime internally, so this module must never
//! be called from inside another runtime (see DESIGN.md, "Async boundary").

use anyhow::Context;
use postgres::{Client, NoTls};

use super::target::{PgHost, PgTarget, SslMode};
use super::{
    check_tables, tls, wanted_tables, Database, DbTarget, OpenOptions, JWT_MIGRATIONS_SQL,
    ORGANIZATIONS_SQL,
};
use crate::exit::{bad_input, unreachable};
use crate::settings::{JwtSchema, JwtSettings, OrgRecord};

pub struct PgDb {
    client: Client,
    target: DbTarget,
    schema: JwtSchema,
    transport: String,
}

/// The server's reason for a failed connection, in one line, never with the password.
fn connect_reason(err: &postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut reason = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !reason.contains(&text) {
            reason = format!("{reason}: {text}");
        }
        source = cause.source();
    }
    reason
}

impl PgDb {
    pub fn open(target: &PgTarget, options: OpenOptions) -> anyhow::Result<Self> {
        let mut config = postgres::Config::new();
        config
            .user(&target.user)
            .dbname(&target.dbname)
            .port(target.port);
        config
            .application_name("lsauth")
            .connect_timeout(target.connect_timeout);
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
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                postgres::config::SslMode::Require
            }
        });
        let location = DbTarget::Postgres(target.clone()).location();
        let (connected, transport) = if target.sslmode == SslMode::Disable {
            (
                config.connect(NoTls),
                "sslmode=disable: not encrypted".to_string(),
            )
        } else {
            let plan = tls::client_config(target.sslmode, target.sslrootcert.as_deref())?;
            (
                config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(plan.config)),
                plan.description,
            )
        };
        let mut client = connected.map_err(|e| {
            unreachable(format!(
                "cannot connect to PostgreSQL at {location}: {}",
                connect_reason(&e)
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
        check_tables(&location, &present)?;
        let migrations = client
            .query(JWT_MIGRATIONS_SQL, &[])
            .with_context(|| format!("reading django_migrations in {location}"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(PgDb {
            client,
            target: DbTarget::Postgres(target.clone()),
            schema: JwtSchema { migrations },
            transport,
        })
    }
}

impl Database for PgDb {
    fn target(&self) -> &DbTarget {
        &self.target
    }

    fn jwt_schema(&self) -> &JwtSchema {
        &self.schema
    }

    fn transport(&self) -> Option<String> {
        Some(self.transport.clone())
    }

    fn organizations(&mut self) -> anyhow::Result<Vec<OrgRecord>> {
        let rows = self
            .client
            .query(ORGANIZATIONS_SQL, &[])
            .with_context(|| format!("reading organizations from {}", self.target.location()))?;
        Ok(rows
            .iter()
            .map(|r| {
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
                }
            })
            .collect())
    }
}
