//! Where Label Studio keeps its data, read from its environment as Label Studio reads it:
//! the database it would open (`DJANGO_DB`, `DATABASE_NAME`, `POSTGRE_*`) and its data
//! directory (`BASE_DATA_DIR`, else the XDG data directory), whose `.env` holds SECRET_KEY.

use std::path::PathBuf;

use crate::db::{parse_spec, DbTarget, Located, PgHost, PgTarget, SslMode, DEFAULT_CONNECT_TIMEOUT};
use crate::environment::Environment;
use crate::exit::bad_input;

/// Pick the database: the flag, then `LSAUTH_DB`, then Label Studio's environment.
pub fn locate(flag: Option<&str>, env: &Environment) -> anyhow::Result<Located> {
    if let Some(spec) = flag {
        return Ok(Located { target: parse_spec(spec, env)?, source: "--db".into() });
    }
    if let Some(spec) = env.get("LSAUTH_DB").filter(|s| !s.is_empty()) {
        return Ok(Located { target: parse_spec(spec, env)?, source: "LSAUTH_DB".into() });
    }
    database(env)
}

/// The database Label Studio itself would open with this environment.
pub fn database(env: &Environment) -> anyhow::Result<Located> {
    let django_db = env.label_studio("DJANGO_DB");
    let engine = django_db.as_ref().map(|f| f.value.as_str()).unwrap_or("sqlite");
    let engine_source = match &django_db {
        Some(f) => format!("{}={}", f.var, f.value),
        None => "DJANGO_DB unset (label-studio start defaults to sqlite)".to_string(),
    };
    match engine {
        "sqlite" => {
            let (path, why) = if let Some(name) = env.label_studio("DATABASE_NAME") {
                (env.expand_tilde(&name.value), name.var)
            } else {
                let (dir, dir_why) = base_data_dir(env)?;
                (dir.join("label_studio.sqlite3"), format!("{dir_why}/label_studio.sqlite3"))
            };
            Ok(Located { target: DbTarget::Sqlite { path }, source: format!("{engine_source}; {why}") })
        }
        "default" | "postgresql" => {
            let mut used = Vec::new();
            let mut setting = |name: &str, default: &str| match env.label_studio(name) {
                Some(f) => {
                    used.push(f.var);
                    f.value
                }
                None => default.to_string(),
            };
            let dbname = setting("POSTGRE_NAME", "postgres");
            let user = setting("POSTGRE_USER", "postgres");
            let password = setting("POSTGRE_PASSWORD", "postgres");
            let host = setting("POSTGRE_HOST", "localhost");
            let port_text = setting("POSTGRE_PORT", "5432");
            let port: u16 = port_text
                .trim()
                .parse()
                .map_err(|_| bad_input(format!("POSTGRE_PORT is not a port number: {port_text:?}")))?;
            let (env_mode, env_root) = crate::db::libpq::libpq_tls_env(env)?;
            let host = if host.starts_with('/') { PgHost::Socket(PathBuf::from(host)) } else { PgHost::Tcp(host) };
            let vars =
                if used.is_empty() { "no POSTGRE_* set, Label Studio's defaults".to_string() } else { used.join(", ") };
            Ok(Located {
                target: DbTarget::Postgres(PgTarget {
                    host,
                    port,
                    user,
                    password: Some(password),
                    dbname,
                    sslmode: env_mode.unwrap_or(SslMode::Prefer),
                    sslrootcert: env_root.or_else(|| crate::db::libpq::default_root_cert(env)),
                    connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                }),
                source: format!("{engine_source}; {vars}"),
            })
        }
        "mysql" => Err(bad_input(format!(
            "{engine_source}: MySQL databases are not supported; lsauth reads SQLite and PostgreSQL"
        ))),
        other => Err(bad_input(format!(
            "{engine_source}: unknown database engine {other:?} (Label Studio knows sqlite, default, postgresql, mysql)"
        ))),
    }
}

/// Label Studio's data directory: `BASE_DATA_DIR`, else appdirs' user data dir.
pub fn base_data_dir(env: &Environment) -> anyhow::Result<(PathBuf, String)> {
    if let Some(dir) = env.label_studio("BASE_DATA_DIR") {
        return Ok((env.expand_tilde(&dir.value), dir.var));
    }
    if let Some(xdg) = env.get("XDG_DATA_HOME").filter(|s| !s.is_empty()) {
        return Ok((PathBuf::from(xdg).join("label-studio"), "$XDG_DATA_HOME/label-studio".into()));
    }
    let home =
        env.home().ok_or_else(|| bad_input("HOME is not set: cannot find Label Studio's data directory; use --db"))?;
    Ok((home.join(".local/share/label-studio"), "~/.local/share/label-studio".into()))
}
