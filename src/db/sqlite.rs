//! SQLite, as `label-studio start` uses it.
//!
//! The file is opened without `SQLITE_OPEN_CREATE`, so a wrong path can never leave an
//! empty database behind; inspection opens it read-only, so it works while Label Studio
//! runs. A busy timeout waits for Django's locks instead of failing at once.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};

use super::{
    check_tables, wanted_tables, Access, Database, DbTarget, OpenOptions, JWT_MIGRATIONS_SQL,
    ORGANIZATIONS_SQL,
};
use crate::exit::bad_input;
use crate::settings::{JwtSchema, JwtSettings, OrgRecord};

pub struct SqliteDb {
    conn: Connection,
    target: DbTarget,
    schema: JwtSchema,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Say precisely why a path cannot be a database, before SQLite sees it.
fn check_file(path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad_input(format!("no such database file: {shown}")))
        }
        Err(e) => return Err(bad_input(format!("cannot access {shown}: {e}"))),
    };
    if meta.is_dir() {
        return Err(bad_input(format!(
            "{shown} is a directory, not a SQLite database file"
        )));
    }
    let mut header = [0u8; 16];
    let mut file =
        std::fs::File::open(path).map_err(|e| bad_input(format!("cannot read {shown}: {e}")))?;
    let read = file
        .read(&mut header)
        .map_err(|e| bad_input(format!("cannot read {shown}: {e}")))?;
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
        let present =
            table_names(&conn).map_err(|e| bad_input(format!("cannot read {shown}: {e}")))?;
        check_tables(&shown, &present)?;
        let migrations = conn
            .prepare(JWT_MIGRATIONS_SQL)
            .and_then(|mut st| {
                st.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .with_context(|| format!("reading django_migrations in {shown}"))?;
        Ok(SqliteDb {
            conn,
            target: DbTarget::Sqlite {
                path: PathBuf::from(path),
            },
            schema: JwtSchema { migrations },
        })
    }
}

fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let wanted = wanted_tables();
    let placeholders = vec!["?"; wanted.len()].join(", ");
    let sql =
        format!("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({placeholders})");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(wanted), |r| {
        r.get::<_, String>(0)
    })?;
    rows.collect()
}

impl Database for SqliteDb {
    fn target(&self) -> &DbTarget {
        &self.target
    }

    fn jwt_schema(&self) -> &JwtSchema {
        &self.schema
    }

    fn organizations(&mut self) -> anyhow::Result<Vec<OrgRecord>> {
        let mut stmt = self.conn.prepare(ORGANIZATIONS_SQL)?;
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
            })
        })?;
        rows.collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("reading organizations from {}", self.target.location()))
    }
}
