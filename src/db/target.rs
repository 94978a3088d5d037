//! Which database to open, and where that choice came from.
//!
//! Precedence: `--db`, then `LSAUTH_DB`, then Label Studio's own environment, read
//! exactly as `core/settings/base.py` and `core/settings/label_studio.py` read it:
//! `DJANGO_DB` (default `sqlite` for `label-studio start`), `DATABASE_NAME` (default
//! `<BASE_DATA_DIR>/label_studio.sqlite3`, `BASE_DATA_DIR` defaulting to the user data
//! dir), and `POSTGRE_NAME/USER/PASSWORD/HOST/PORT`. Label Studio passes no TLS options to
//! PostgreSQL, so libpq's own `PGSSLMODE`/`PGSSLROOTCERT` (default `prefer`) apply there.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::libpq::{default_root_cert, libpq_tls_env, pgpass_lookup};
use crate::environment::Environment;
use crate::exit::{bad_input, bad_input_from};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite { path: PathBuf },
    Postgres(PgTarget),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgHost {
    Tcp(String),
    /// A directory holding the server's Unix socket (libpq's `host=/var/run/postgresql`).
    Socket(PathBuf),
}

#[derive(Clone, PartialEq, Eq)]
pub struct PgTarget {
    pub host: PgHost,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub sslmode: SslMode,
    pub sslrootcert: Option<PathBuf>,
    pub connect_timeout: Duration,
}

// Written by hand so that a `{:?}` anywhere can never print the password.
impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .finish()
    }
}

/// libpq's `sslmode` values, with libpq's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(value: &str) -> anyhow::Result<Self> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" | "allow" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(bad_input(format!(
                    "invalid sslmode {other:?}: use disable, prefer, require, verify-ca or verify-full"
                )))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for PgHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgHost::Tcp(h) if h.contains(':') => write!(f, "[{h}]"),
            PgHost::Tcp(h) => f.write_str(h),
            PgHost::Socket(p) => write!(f, "{}", p.display()),
        }
    }
}

impl DbTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            DbTarget::Sqlite { .. } => "sqlite",
            DbTarget::Postgres(_) => "postgresql",
        }
    }

    /// Where the database is, with no secret in it: a path, or user@host:port/db.
    pub fn location(&self) -> String {
        match self {
            DbTarget::Sqlite { path } => path.display().to_string(),
            DbTarget::Postgres(pg) => format!("{}@{}:{}/{}", pg.user, pg.host, pg.port, pg.dbname),
        }
    }
}

impl fmt::Display for DbTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.location())
    }
}

/// The chosen database and a sentence saying why that one.
#[derive(Debug, Clone)]
pub struct Located {
    pub target: DbTarget,
    pub source: String,
}

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A `--db` value: a SQLite path, `sqlite:///abs/path`, or a `postgres://` URL.
pub fn parse_spec(spec: &str, env: &Environment) -> anyhow::Result<DbTarget> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Err(bad_input("--db is empty: give a SQLite path or a postgres:// URL"));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        return parse_postgres_url(spec, env).map(DbTarget::Postgres);
    }
    if let Some(rest) = spec.strip_prefix("sqlite://") {
        if rest.is_empty() {
            return Err(bad_input("sqlite:// URL without a path: use sqlite:///absolute/path"));
        }
        // `sqlite://user:password@/path`: SQLite has no users; the userinfo is refused,
        // never taken for part of the path (and never shown).
        // A path starts with '/' (sqlite:///abs); before it, an '@' anywhere is userinfo,
        // whatever it holds ('/' and '@' included): only what follows the last is shown.
        if let Some(at) = rest.rfind('@').filter(|_| !rest.starts_with('/')) {
            let path = &rest[at + 1..];
            return Err(bad_input(format!(
                "a SQLite URL takes no user or password (SQLite has none): use sqlite://{path} or the path itself"
            )));
        }
        return Ok(DbTarget::Sqlite { path: PathBuf::from(rest) });
    }
    if let Some((scheme, _)) = spec.split_once("://") {
        if scheme.starts_with("mysql") {
            return Err(bad_input("MySQL databases are not supported: lsauth reads SQLite and PostgreSQL"));
        }
        return Err(bad_input(format!(
            "unsupported database URL scheme {scheme:?}: use a SQLite path, sqlite:///path or postgres://"
        )));
    }
    Ok(DbTarget::Sqlite { path: env.expand_tilde(spec) })
}

fn parse_postgres_url(spec: &str, env: &Environment) -> anyhow::Result<PgTarget> {
    // The url crate does not know the postgres scheme's authority rules, but parses
    // user:password@host:port/db?query generically, which is all a libpq URL is.
    let url = url::Url::parse(spec).map_err(|e| bad_input_from("invalid PostgreSQL URL", e))?;
    let decode = |s: &str| -> anyhow::Result<String> {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|v| v.into_owned())
            .map_err(|_| bad_input("invalid percent-encoding in PostgreSQL URL (not UTF-8)"))
    };
    let user = if url.username().is_empty() { "postgres".to_string() } else { decode(url.username())? };
    let password = url.password().map(decode).transpose()?;
    let mut host = url.host_str().map(|h| PgHost::Tcp(h.trim_start_matches('[').trim_end_matches(']').to_string()));
    let port = url.port().unwrap_or(5432);
    let path = url.path().trim_start_matches('/');
    let dbname = if path.is_empty() { "postgres".to_string() } else { decode(path)? };
    let mut sslmode = None;
    let mut sslrootcert = None;
    let mut connect_timeout = DEFAULT_CONNECT_TIMEOUT;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "sslmode" => sslmode = Some(SslMode::parse(&value)?),
            "sslrootcert" => sslrootcert = Some(PathBuf::from(value.as_ref())),
            "host" if value.starts_with('/') => host = Some(PgHost::Socket(PathBuf::from(value.as_ref()))),
            "host" => host = Some(PgHost::Tcp(value.into_owned())),
            "connect_timeout" => {
                let secs: u64 = value
                    .parse()
                    .map_err(|_| bad_input(format!("connect_timeout must be whole seconds, not {value:?}")))?;
                connect_timeout = Duration::from_secs(secs.max(1));
            }
            "application_name" => {}
            other => {
                return Err(bad_input(format!(
                    "unknown PostgreSQL URL parameter {other:?} (lsauth understands sslmode, sslrootcert, host, connect_timeout)"
                )))
            }
        }
    }
    let (env_mode, env_root) = libpq_tls_env(env)?;
    let host = host.unwrap_or_else(|| PgHost::Tcp("localhost".into()));
    // As libpq: the URL's password, else PGPASSWORD, else the password file, so that
    // nobody has to put a password on the command line (where `ps` shows it).
    let password = password
        .or_else(|| env.get("PGPASSWORD").filter(|p| !p.is_empty()).map(String::from))
        .or_else(|| pgpass_lookup(env, &host, port, &dbname, &user));
    Ok(PgTarget {
        host,
        port,
        user,
        password,
        dbname,
        sslmode: sslmode.or(env_mode).unwrap_or(SslMode::Prefer),
        sslrootcert: sslrootcert.or(env_root).or_else(|| default_root_cert(env)),
        connect_timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::label_studio::locate;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().copied())
    }

    fn pg(t: DbTarget) -> PgTarget {
        match t {
            DbTarget::Postgres(p) => p,
            other => panic!("expected postgres, got {other:?}"),
        }
    }

    #[test]
    fn default_is_the_label_studio_start_sqlite_file() {
        let found = locate(None, &env(&[("HOME", "/home/ann")])).unwrap();
        assert_eq!(
            found.target,
            DbTarget::Sqlite { path: "/home/ann/.local/share/label-studio/label_studio.sqlite3".into() }
        );
        assert!(found.source.contains("DJANGO_DB unset"), "{}", found.source);
    }

    #[test]
    fn xdg_data_home_and_base_data_dir() {
        let found = locate(None, &env(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x")])).unwrap();
        assert_eq!(found.target, DbTarget::Sqlite { path: "/x/label-studio/label_studio.sqlite3".into() });
        let found =
            locate(None, &env(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x"), ("HEARTEX_BASE_DATA_DIR", "/data")])).unwrap();
        assert_eq!(found.target, DbTarget::Sqlite { path: "/data/label_studio.sqlite3".into() });
        assert!(found.source.contains("HEARTEX_BASE_DATA_DIR"));
    }

    #[test]
    fn database_name_wins_over_data_dir() {
        let found = locate(None, &env(&[("BASE_DATA_DIR", "/data"), ("LABEL_STUDIO_DATABASE_NAME", "/db/ls.sqlite3")]))
            .unwrap();
        assert_eq!(found.target, DbTarget::Sqlite { path: "/db/ls.sqlite3".into() });
        assert!(found.source.contains("LABEL_STUDIO_DATABASE_NAME"));
    }

    #[test]
    fn postgres_from_label_studio_env_with_defaults() {
        let found =
            locate(None, &env(&[("DJANGO_DB", "default"), ("POSTGRE_HOST", "db"), ("HEARTEX_POSTGRE_PASSWORD", "pw")]))
                .unwrap();
        let p = pg(found.target);
        assert_eq!(p.host, PgHost::Tcp("db".into()));
        assert_eq!((p.port, p.user.as_str(), p.dbname.as_str()), (5432, "postgres", "postgres"));
        assert_eq!(p.password.as_deref(), Some("pw"));
        assert_eq!(p.sslmode, SslMode::Prefer);
        assert!(found.source.contains("DJANGO_DB=default"));
        assert!(!found.source.contains("pw"));
    }

    #[test]
    fn postgresql_engine_name_and_libpq_tls_env() {
        let found = locate(
            None,
            &env(&[
                ("LABEL_STUDIO_DJANGO_DB", "postgresql"),
                ("POSTGRE_PORT", "6543"),
                ("PGSSLMODE", "verify-full"),
                ("PGSSLROOTCERT", "/ca.pem"),
            ]),
        )
        .unwrap();
        let p = pg(found.target);
        assert_eq!(p.port, 6543);
        assert_eq!(p.sslmode, SslMode::VerifyFull);
        assert_eq!(p.sslrootcert, Some(PathBuf::from("/ca.pem")));
    }

    #[test]
    fn flag_beats_lsauth_db_beats_label_studio_env() {
        let e = env(&[("LSAUTH_DB", "/from/env.sqlite3"), ("DJANGO_DB", "default")]);
        let found = locate(Some("/from/flag.sqlite3"), &e).unwrap();
        assert_eq!(found.target, DbTarget::Sqlite { path: "/from/flag.sqlite3".into() });
        assert_eq!(found.source, "--db");
        let found = locate(None, &e).unwrap();
        assert_eq!(found.target, DbTarget::Sqlite { path: "/from/env.sqlite3".into() });
        assert_eq!(found.source, "LSAUTH_DB");
    }

    #[test]
    fn sqlite_url_forms() {
        let e = env(&[("HOME", "/h")]);
        assert_eq!(parse_spec("sqlite:///abs/ls.db", &e).unwrap(), DbTarget::Sqlite { path: "/abs/ls.db".into() });
        assert_eq!(parse_spec("~/ls.db", &e).unwrap(), DbTarget::Sqlite { path: "/h/ls.db".into() });
        assert_eq!(parse_spec("rel/ls.db", &e).unwrap(), DbTarget::Sqlite { path: "rel/ls.db".into() });
    }

    #[test]
    fn postgres_url_parts() {
        let e = Environment::default();
        let p = pg(parse_spec(
            "postgresql://ann:p%40ss%2Bw@db.example.com:6432/label%20studio?sslmode=verify-ca&sslrootcert=/ca.pem",
            &e,
        )
        .unwrap());
        assert_eq!(p.user, "ann");
        assert_eq!(p.password.as_deref(), Some("p@ss+w"));
        assert_eq!(p.host, PgHost::Tcp("db.example.com".into()));
        assert_eq!(p.port, 6432);
        assert_eq!(p.dbname, "label studio");
        assert_eq!(p.sslmode, SslMode::VerifyCa);
        assert_eq!(p.sslrootcert, Some(PathBuf::from("/ca.pem")));
        let p = pg(parse_spec("postgres://[::1]/x?host=/run/postgresql", &e).unwrap());
        assert_eq!(p.host, PgHost::Socket("/run/postgresql".into()));
        let p = pg(parse_spec("postgres://[::1]:5433/x", &e).unwrap());
        assert_eq!(p.host, PgHost::Tcp("::1".into()));
        assert_eq!(DbTarget::Postgres(p).location(), "postgres@[::1]:5433/x");
    }

    #[test]
    fn bad_specs_are_bad_input() {
        let e = Environment::default();
        for spec in [
            "",
            "mysql://root@db/ls",
            "ftp://x/y",
            "postgres://h/db?sslmode=strict",
            "postgres://h/db?sslmdoe=require",
            "sqlite://",
        ] {
            let err = parse_spec(spec, &e).unwrap_err();
            assert_eq!(crate::exit::status_of(&err), crate::exit::ExitStatus::BadInput, "{spec}: {err:#}");
        }
        let err = locate(None, &env(&[("DJANGO_DB", "mysql")])).unwrap_err();
        assert!(format!("{err:#}").contains("MySQL"));
        let err = locate(None, &env(&[("DJANGO_DB", "default"), ("POSTGRE_PORT", "x")])).unwrap_err();
        assert!(format!("{err:#}").contains("POSTGRE_PORT"));
    }

    #[test]
    fn raw_ampersand_in_a_password_is_kept_and_pgpass_is_read() {
        let p = pg(parse_spec("postgres://ann:p&ss%3Aw@db:5433/ls", &env(&[])).unwrap());
        assert_eq!(p.password.as_deref(), Some("p&ss:w"));
        let p = pg(parse_spec("postgres://ann@db/ls", &env(&[("PGPASSWORD", "from-env")])).unwrap());
        assert_eq!(p.password.as_deref(), Some("from-env"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "# comment\nother:*:*:*:no\ndb:5432:ls:ann:pa\\:ss\n*:*:*:*:fallback\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = env(&[("PGPASSFILE", file.to_str().unwrap())]);
        assert_eq!(pg(parse_spec("postgres://ann@db/ls", &e).unwrap()).password.as_deref(), Some("pa:ss"));
        assert_eq!(pg(parse_spec("postgres://bob@db2/x", &e).unwrap()).password.as_deref(), Some("fallback"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(pg(parse_spec("postgres://ann@db/ls", &e).unwrap()).password, None, "ignored like libpq");
    }

    #[test]
    fn location_never_shows_the_password() {
        let t = parse_spec("postgres://u:hunter2@h/db", &Environment::default()).unwrap();
        assert!(!t.to_string().contains("hunter2"));
        assert!(!t.location().contains("hunter2"));
    }
}
