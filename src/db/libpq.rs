//! libpq's own rules, which Label Studio's psycopg follows too: the password file
//! (`PGPASSFILE`, `~/.pgpass`) and the TLS variables (`PGSSLMODE`, `PGSSLROOTCERT`,
//! `~/.postgresql/root.crt`).

use std::path::PathBuf;

use super::target::{PgHost, SslMode};
use crate::environment::Environment;
use crate::exit::bad_input;

/// The password file libpq reads: `PGPASSFILE`, else `~/.pgpass`. Lines are
/// `host:port:database:user:password`, `*` matches anything, `\:` and `\\` escape; the
/// first matching line wins. Like libpq, a file readable by group or others is ignored.
pub(super) fn pgpass_lookup(env: &Environment, host: &PgHost, port: u16, dbname: &str, user: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let path = match env.get("PGPASSFILE").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => env.home()?.join(".pgpass"),
    };
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let bytes = crate::fsutil::read_regular_file(&path, crate::fsutil::ENV_FILE_LIMIT).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let host_name = match host {
        PgHost::Tcp(h) => h.clone(),
        // libpq matches a Unix-socket connection against "localhost".
        PgHost::Socket(_) => "localhost".to_string(),
    };
    let wanted = [host_name, port.to_string(), dbname.to_string(), user.to_string()];
    text.lines().filter(|l| !l.trim_start().starts_with('#')).find_map(|line| {
        let fields = pgpass_fields(line);
        if fields.len() != 5 {
            return None;
        }
        let matches = fields[..4].iter().zip(&wanted).all(|(f, w)| f == "*" || f == w);
        matches.then(|| fields[4].clone())
    })
}

/// One `.pgpass` line split at unescaped colons, escapes removed.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    fields.last_mut().expect("never empty").push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("never empty").push(c),
        }
    }
    fields
}

/// libpq's default root certificate file, `~/.postgresql/root.crt`, when it exists.
pub(crate) fn default_root_cert(env: &Environment) -> Option<PathBuf> {
    Some(env.home()?.join(".postgresql/root.crt")).filter(|p| p.is_file())
}

/// libpq's own TLS variables, which also apply under Label Studio (psycopg uses libpq).
pub(crate) fn libpq_tls_env(env: &Environment) -> anyhow::Result<(Option<SslMode>, Option<PathBuf>)> {
    let mode = match env.get("PGSSLMODE").filter(|s| !s.is_empty()) {
        Some(m) => Some(SslMode::parse(m).map_err(|e| bad_input(format!("PGSSLMODE: {e}")))?),
        None => None,
    };
    let root = env.get("PGSSLROOTCERT").filter(|s| !s.is_empty()).map(PathBuf::from);
    Ok((mode, root))
}
