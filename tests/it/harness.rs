//! The test harness: Label Studio databases built from the real 1.23.2 DDL (SQLite
//! files, databases on a throwaway PostgreSQL cluster), seeding helpers that work on
//! both, and a runner for the lsauth binary with a controlled environment.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

pub const SQLITE_DDL: &str = include_str!("../../schema/schema-1.23.2.sqlite.sql");
pub const POSTGRES_DDL: &str = include_str!("../../schema/schema-1.23.2.postgres.sql");
pub const MIGRATIONS: &str = include_str!("../../schema/django-migrations-1.23.2.txt");

pub const TS: &str = "2025-06-01 10:00:00.000000";

// ---------------------------------------------------------------- running lsauth

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// lsauth with an empty environment (a fresh HOME in a temp dir, so no real Label
/// Studio is ever discovered), plus what the test adds.
pub struct Lsauth {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    stdin: Option<Vec<u8>>,
    as_user: Option<String>,
    /// Run `sh` with the args, in this directory (see `pasted`).
    shell_in: Option<PathBuf>,
    /// The working directory of lsauth itself.
    cwd: Option<PathBuf>,
}

pub fn lsauth<I, S>(args: I) -> Lsauth
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut env = BTreeMap::new();
    env.insert("PATH".to_string(), std::env::var("PATH").unwrap_or_default());
    env.insert("HOME".to_string(), scratch_home().display().to_string());
    Lsauth {
        args: args.into_iter().map(|a| a.as_ref().to_string()).collect(),
        env,
        stdin: None,
        as_user: None,
        shell_in: None,
        cwd: None,
    }
}

/// A command line lsauth printed (a fix, an undo), pasted into `sh` as a user would, with
/// `extra` appended (`--yes`: a test has no terminal to confirm at), from `cwd`, with the
/// lsauth under test first on PATH. The printed line is all it gets: nothing is added
/// but `extra`, so a fix that forgets `--db` fails here as it would for the user.
pub fn pasted(line: &str, extra: &str, cwd: &Path) -> Lsauth {
    assert!(line.starts_with("lsauth "), "not a command to paste: {line:?}");
    let bin = Path::new(env!("CARGO_BIN_EXE_lsauth")).parent().unwrap().display().to_string();
    let mut run = lsauth(["-c", &format!("{line} {extra}")]);
    run.env.insert("PATH".into(), format!("{bin}:{}", std::env::var("PATH").unwrap_or_default()));
    run.shell_in = Some(cwd.to_path_buf());
    run
}

fn scratch_home() -> &'static Path {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| tempfile::Builder::new().prefix("lsauth-home-").tempdir().unwrap()).path()
}

impl Lsauth {
    pub fn env(mut self, key: &str, value: impl AsRef<str>) -> Self {
        self.env.insert(key.to_string(), value.as_ref().to_string());
        self
    }

    #[allow(dead_code)]
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// Run in `dir` (the guides run in a scratch directory).
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// Run as another (unprivileged) user: how a root test can see a permission error.
    pub fn run_as(mut self, user: &str) -> Self {
        self.as_user = Some(user.to_string());
        self
    }

    pub fn command(&self) -> Command {
        let exe = env!("CARGO_BIN_EXE_lsauth");
        if let Some(dir) = &self.shell_in {
            let mut cmd = Command::new("sh");
            cmd.args(&self.args).env_clear().envs(&self.env).current_dir(dir);
            return cmd;
        }
        let mut cmd = match &self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--", exe]);
                c
            }
            None => Command::new(exe),
        };
        cmd.args(&self.args).env_clear().envs(&self.env);
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    pub fn run(self) -> Run {
        let mut cmd = self.command();
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn lsauth");
        if let Some(input) = &self.stdin {
            use std::io::Write;
            // A run may end before it reads its input (a refusal that comes first): the
            // broken pipe is then no failure; its exit code and output say what happened.
            match child.stdin.take().unwrap().write_all(input) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                written => written.unwrap(),
            }
        }
        let out = child.wait_with_output().unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        if !self.args.iter().any(|a| a == "--show-secrets") {
            assert_no_known_secret(&self.args, &run);
        }
        run
    }
}

/// lsauth on a pseudo-terminal (util-linux `script`), typing `keys` only once the screen shows `prompt` (a Ctrl-C typed
/// before the prompt waits would reach a process not yet listening).
pub fn on_terminal_at_prompt(args: &[String], env: &[(&str, &str)], prompt: &str, keys: &str) -> (i32, String) {
    on_terminal_at_prompt_then(args, env, prompt, keys, "")
}

/// As `on_terminal_at_prompt`, with the shell command `after` run on the same terminal once
/// lsauth has ended (the shell itself survives a Ctrl-C): `stty -a` tells what lsauth left.
pub fn on_terminal_at_prompt_then(
    args: &[String],
    env: &[(&str, &str)],
    prompt: &str,
    keys: &str,
    after: &str,
) -> (i32, String) {
    use std::io::{Read, Write};
    let exe = env!("CARGO_BIN_EXE_lsauth");
    let mut line = std::iter::once(exe.to_string()).chain(args.iter().cloned()).collect::<Vec<_>>().join(" ");
    if !after.is_empty() {
        line = format!("trap true INT; {line}; echo \"lsauth exited $?\"; {after}");
    }
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs lsauth on a terminal");
    let mut stdout = child.stdout.take().unwrap();
    let mut screen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&screen).contains(prompt) {
        let n = stdout.read(&mut buf).unwrap();
        assert!(n > 0, "the prompt never came: {}", String::from_utf8_lossy(&screen));
        screen.extend_from_slice(&buf[..n]);
    }
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(keys.as_bytes()).unwrap();
    stdout.read_to_end(&mut screen).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), String::from_utf8_lossy(&screen).into_owned())
}

// ---------------------------------------------------------------- secrets

/// Every token, password and SECRET_KEY the fixtures hand out. Every lsauth run in the
/// suite (but those with --show-secrets) is checked against all of them.
static SECRETS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Register a fixture secret and give it back.
pub fn secret(value: impl Into<String>) -> String {
    let value = value.into();
    let mut all = SECRETS.lock().unwrap();
    if !all.contains(&value) {
        all.push(value.clone());
    }
    value
}

#[track_caller]
pub fn assert_no_known_secret(args: &[String], run: &Run) {
    let all = SECRETS.lock().unwrap().clone();
    let output = run.all_output();
    for s in all.iter().chain([PG_PASSWORD.to_string()].iter()) {
        // Short values (a test password like "pw") would match ordinary words.
        if s.len() >= 8 && output.contains(s.as_str()) {
            panic!("lsauth {args:?} printed a secret ({}…):\n{output}", &s[..4]);
        }
    }
}

pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

// ---------------------------------------------------------------- fixtures

/// A Label Studio database of either kind, with helpers that write portable SQL.
pub trait Fixture {
    /// The `--db` value that opens it.
    fn db_arg(&self) -> String;
    fn kind(&self) -> &'static str;
    fn exec(&self, sql: &str);
    /// Rows of a query whose columns are all cast to text by the caller.
    fn query(&self, sql: &str) -> Vec<Vec<Option<String>>>;

    /// An organization; its creator is set later with `set_creator` (the foreign keys
    /// between organization and htx_user run both ways).
    fn add_org(&self, id: i64, title: &str) {
        self.exec(&format!(
            "INSERT INTO organization (id, title, created_at, updated_at, created_by_id, token, contact_info) \
             VALUES ({id}, '{title}', '{TS}', '{TS}', NULL, 'invite-{id}', NULL)"
        ));
    }

    fn set_creator(&self, org: i64, user: i64) {
        self.exec(&format!("UPDATE organization SET created_by_id = {user} WHERE id = {org}"));
    }

    fn add_user(&self, id: i64, email: &str, active_org: Option<i64>) {
        let org = active_org.map(|c| c.to_string()).unwrap_or_else(|| "NULL".into());
        self.exec(&format!(
            "INSERT INTO htx_user (id, password, last_login, is_superuser, username, email, first_name, last_name, \
             is_staff, is_active, date_joined, last_activity, activity_at, phone, avatar, active_organization_id, \
             allow_newsletters, custom_hotkeys) VALUES ({id}, '!', NULL, FALSE, '{email}', '{email}', '', '', \
             FALSE, TRUE, '{TS}', '{TS}', '{TS}', '', '', {org}, NULL, NULL)"
        ));
    }

    fn add_member(&self, org: i64, user: i64, deleted: bool) {
        let deleted_at = if deleted { format!("'{TS}'") } else { "NULL".into() };
        self.exec(&format!(
            "INSERT INTO organizations_organizationmember (created_at, updated_at, organization_id, user_id, deleted_at) \
             VALUES ('{TS}', '{TS}', {org}, {user}, {deleted_at})"
        ));
    }

    fn add_legacy_token(&self, user: i64, key: &str) {
        secret(key);
        self.exec(&format!("INSERT INTO authtoken_token (key, created, user_id) VALUES ('{key}', '{TS}', {user})"));
    }

    fn set_settings(&self, org: i64, api: bool, legacy: bool, ttl: i64) {
        self.exec(&format!(
            "INSERT INTO jwt_auth_jwtsettings (organization_id, api_tokens_enabled, api_token_ttl_days, created_at, \
             updated_at, legacy_api_tokens_enabled) VALUES ({org}, {api}, {ttl}, '{TS}', '{TS}', {legacy})"
        ));
    }

    /// SQL for a timestamp column as UTC text in Django's SQLite format.
    fn ts_text(&self, col: &str) -> String;

    /// Every settings row in full, timestamps included, as text: for "exactly as before".
    fn settings_full(&self) -> Vec<Vec<Option<String>>> {
        self.query(&format!(
            "SELECT CAST(organization_id AS TEXT), CASE WHEN api_tokens_enabled THEN '1' ELSE '0' END, \
             CASE WHEN legacy_api_tokens_enabled THEN '1' ELSE '0' END, CAST(api_token_ttl_days AS TEXT), {}, {} \
             FROM jwt_auth_jwtsettings ORDER BY organization_id",
            self.ts_text("created_at"),
            self.ts_text("updated_at")
        ))
    }

    /// `n` organizations; the even ones have a row with legacy tokens off, the odd ones
    /// none: the half-and-half picture of a large upgraded instance.
    fn seed_many(&self, n: i64) {
        self.exec(&format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) \
             INSERT INTO organization (id, title, created_at, updated_at, created_by_id, token, contact_info) \
             SELECT x, 'org ' || x, '{TS}', '{TS}', NULL, 'invite-' || x, NULL FROM c"
        ));
        self.reset_many(n);
    }

    /// Put the settings of `seed_many` back.
    fn reset_many(&self, n: i64) {
        self.exec(&format!(
            "DELETE FROM jwt_auth_jwtsettings; \
             WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) \
             INSERT INTO jwt_auth_jwtsettings (organization_id, api_tokens_enabled, api_token_ttl_days, created_at, \
             updated_at, legacy_api_tokens_enabled) SELECT x, TRUE, 73000, '{TS}', '{TS}', FALSE FROM c WHERE x % 2 = 0"
        ));
    }

    /// The settings rows as (org, api, legacy, ttl), ordered by org.
    fn settings_rows(&self) -> Vec<(i64, bool, bool, i64)> {
        self.query(
            "SELECT CAST(organization_id AS TEXT), CASE WHEN api_tokens_enabled THEN '1' ELSE '0' END, \
             CASE WHEN legacy_api_tokens_enabled THEN '1' ELSE '0' END, CAST(api_token_ttl_days AS TEXT) \
             FROM jwt_auth_jwtsettings ORDER BY organization_id",
        )
        .into_iter()
        .map(|r| {
            let v = |i: usize| r[i].clone().unwrap();
            (v(0).parse().unwrap(), v(1) == "1", v(2) == "1", v(3).parse().unwrap())
        })
        .collect()
    }

    /// The classic picture after upgrades, shared by many tests:
    /// - org 1 "Acme": row from a fresh 1.22+ install, legacy off; admin (user 1) holds a
    ///   legacy token; user 5 is active there without a token; a deleted member.
    /// - org 2 "Beta": no settings row (legacy off by default on 1.22+); users 2 and 3
    ///   hold legacy tokens.
    /// - org 3 "Gamma": row from the 1.17-1.21 era, legacy on, PATs off; user 4 holds a
    ///   token.
    fn seed_classic(&self) {
        self.add_org(1, "Acme");
        self.add_org(2, "Beta");
        self.add_org(3, "Gamma");
        self.add_user(1, "admin@acme.test", Some(1));
        self.add_user(2, "bob@beta.test", Some(2));
        self.add_user(3, "carol@beta.test", Some(2));
        self.add_user(4, "dan@gamma.test", Some(3));
        self.add_user(5, "erin@acme.test", Some(1));
        self.add_user(6, "gone@acme.test", Some(1));
        self.set_creator(1, 1);
        self.set_creator(2, 2);
        self.set_creator(3, 4);
        for (org, user, deleted) in
            [(1, 1, false), (1, 5, false), (1, 6, true), (2, 2, false), (2, 3, false), (3, 4, false)]
        {
            self.add_member(org, user, deleted);
        }
        self.add_legacy_token(1, "1111111111111111111111111111111111111111");
        self.add_legacy_token(2, "2222222222222222222222222222222222222222");
        self.add_legacy_token(3, "3333333333333333333333333333333333333333");
        self.add_legacy_token(4, "4444444444444444444444444444444444444444");
        self.set_settings(1, true, false, 73000);
        self.set_settings(3, false, true, 73000);
    }
}

fn migration_inserts() -> String {
    MIGRATIONS
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(app, name)| {
            format!("INSERT INTO django_migrations (app, name, applied) VALUES ('{app}', '{name}', '{TS}');\n")
        })
        .collect()
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct SqliteFixture {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl SqliteFixture {
    /// A fresh Label Studio 1.23.2 SQLite database with every migration recorded.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("lsauth-sqlite-").tempdir().unwrap();
        let path = dir.path().join("label_studio.sqlite3");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(SQLITE_DDL).unwrap();
        conn.execute_batch(&migration_inserts()).unwrap();
        SqliteFixture { dir, path }
    }

    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path).unwrap()
    }
}

impl Fixture for SqliteFixture {
    fn db_arg(&self) -> String {
        self.path.display().to_string()
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn ts_text(&self, col: &str) -> String {
        format!("CAST({col} AS TEXT)")
    }

    fn exec(&self, sql: &str) {
        self.conn().execute_batch(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Option<String>>(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

// ---------------------------------------------------------------- PostgreSQL

pub const PG_PASSWORD: &str = "pg-test-Secret-9";

/// A throwaway PostgreSQL cluster for the whole test run: TLS on (a test CA), password
/// authentication over TCP, the Label Studio schema loaded once into a template.
pub struct PgCluster {
    pub port: u16,
    pub ca_pem: PathBuf,
    pub other_ca_pem: PathBuf,
}

pub fn pg_cluster() -> &'static PgCluster {
    static CLUSTER: OnceLock<PgCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| PgCluster::start().unwrap_or_else(|e| panic!("cannot start the test PostgreSQL: {e}")))
}

fn pg_bin() -> PathBuf {
    if let Ok(dir) = std::env::var("LSAUTH_TEST_PGBIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|p| {
        p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
    });
    found.pop().expect("no PostgreSQL server binaries under /usr/lib/postgresql: apt-get install postgresql")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Run a server binary, as the `postgres` user when we are root (initdb refuses root).
fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn check(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn write_certificates(dir: &Path) -> Result<(String, String, String, String), String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let make_ca = |name: &str| -> Result<(rcgen::Certificate, KeyPair), rcgen::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate()?;
        Ok((params.self_signed(&key)?, key))
    };
    let (ca, ca_key) = make_ca("lsauth test CA").map_err(|e| e.to_string())?;
    let (other_ca, _) = make_ca("some other CA").map_err(|e| e.to_string())?;
    // The server certificate names only "localhost": connecting to 127.0.0.1 is then a
    // host-name mismatch, which verify-ca forgives and verify-full does not.
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(|e| e.to_string())?;
    params.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let cert = params.signed_by(&key, &ca, &ca_key).map_err(|e| e.to_string())?;
    let _ = dir;
    Ok((ca.pem(), other_ca.pem(), cert.pem(), key.serialize_pem()))
}

fn postgres_ids() -> Option<(u32, u32)> {
    let out = Command::new("id").args(["-u", "postgres"]).output().ok()?;
    let uid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    let out = Command::new("id").args(["-g", "postgres"]).output().ok()?;
    let gid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some((uid, gid))
}

impl PgCluster {
    fn start() -> Result<PgCluster, String> {
        let bin = pg_bin();
        let port = free_port();
        // Not under root's home: the postgres user must reach it.
        let dir = PathBuf::from(format!("/tmp/lsauth-test-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
        let data = dir.join("data");
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, PG_PASSWORD).map_err(|e| e.to_string())?;
        let owner = if running_as_root() { postgres_ids() } else { None };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
        }
        check(
            as_postgres(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"])
                .arg(format!("--pwfile={}", pwfile.display())),
        )?;
        let (ca, other_ca, cert, key) = write_certificates(&dir)?;
        let ca_pem = dir.join("ca.pem");
        let other_ca_pem = dir.join("other-ca.pem");
        std::fs::write(&ca_pem, ca).map_err(|e| e.to_string())?;
        std::fs::write(&other_ca_pem, other_ca).map_err(|e| e.to_string())?;
        for (name, body) in [("server.crt", cert), ("server.key", key)] {
            let path = data.join(name);
            std::fs::write(&path, body).map_err(|e| e.to_string())?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
            if let Some((uid, gid)) = owner {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            }
        }
        check(
            as_postgres(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("log"))
                .args(["-w", "-t", "60", "-o"])
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c ssl=on -c fsync=off -c max_connections=200",
                    dir.display()
                ))
                .arg("start"),
        )?;
        // The cluster outlives no test run: a watchdog stops it when this process is gone,
        // however the process ends (panic, SIGKILL, Ctrl-C).
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            stop = if running_as_root() {
                format!("runuser -u postgres -- {}", bin.join("pg_ctl").display())
            } else {
                bin.join("pg_ctl").display().to_string()
            },
            data = data.display(),
            dir = dir.display(),
        );
        Command::new("setsid")
            .args(["sh", "-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let cluster = PgCluster { port, ca_pem, other_ca_pem };
        cluster.load_template()?;
        Ok(cluster)
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres:{PG_PASSWORD}@127.0.0.1:{}/{db}?sslmode=disable", self.port)
    }

    pub fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).unwrap_or_else(|e| panic!("connect {db}: {e}"))
    }

    fn load_template(&self) -> Result<(), String> {
        let mut admin = self.client("postgres");
        admin.batch_execute("CREATE DATABASE ls_template").map_err(|e| e.to_string())?;
        let mut tpl = self.client("ls_template");
        // psql meta-commands (\restrict) are not SQL.
        let ddl: String = POSTGRES_DDL.lines().filter(|l| !l.starts_with('\\')).map(|l| format!("{l}\n")).collect();
        tpl.batch_execute(&ddl).map_err(|e| format!("loading the Label Studio schema: {e}"))?;
        tpl.batch_execute("SELECT pg_catalog.set_config('search_path', 'public', false)").map_err(|e| e.to_string())?;
        tpl.batch_execute(&migration_inserts()).map_err(|e| e.to_string())?;
        drop(tpl);
        Ok(())
    }
}

pub struct PgFixture {
    pub name: String,
}

impl PgFixture {
    /// A fresh database copied from the Label Studio template.
    pub fn new() -> Self {
        let cluster = pg_cluster();
        let name = format!("t{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let mut admin = cluster.client("postgres");
        admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE ls_template")).unwrap();
        PgFixture { name }
    }

    pub fn url_with(&self, params: &str) -> String {
        format!("postgres://postgres:{PG_PASSWORD}@127.0.0.1:{}/{}?{params}", pg_cluster().port, self.name)
    }
}

impl Fixture for PgFixture {
    fn db_arg(&self) -> String {
        pg_cluster().url(&self.name)
    }

    fn kind(&self) -> &'static str {
        "postgresql"
    }

    fn ts_text(&self, col: &str) -> String {
        format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
    }

    fn exec(&self, sql: &str) {
        pg_cluster().client(&self.name).batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let rows = pg_cluster().client(&self.name).query(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.iter().map(|r| (0..r.len()).map(|i| r.get::<_, Option<String>>(i)).collect()).collect()
    }
}

/// Seeding for doctor scenarios.
pub trait FixtureExt: Fixture {
    /// A project created by `creator` in `org`.
    /// A task of `project` with `data` (JSON).
    fn add_task(&self, id: i64, project: i64, data: &str) {
        self.exec(&format!(
            "INSERT INTO task (id, data, created_at, updated_at, is_labeled, project_id, overlap, total_annotations, \
             cancelled_annotations, total_predictions, comment_count, unresolved_comment_count) VALUES ({id}, '{}', \
             '{TS}', '{TS}', FALSE, {project}, 1, 0, 0, 0, 0, 0)",
            data.replace('\'', "''")
        ));
    }

    /// An ML backend connected to `project`, in `state` (CO, DI, ER), with Label Studio's error.
    fn add_ml_backend(&self, id: i64, project: i64, url: &str, state: &str, error: Option<&str>) {
        let error = error.map(|e| format!("'{}'", e.replace('\'', "''"))).unwrap_or("NULL".into());
        self.exec(&format!(
            "INSERT INTO ml_mlbackend (id, state, url, error_message, title, created_at, updated_at, project_id, \
             is_interactive, timeout, auto_update, auth_method) VALUES ({id}, '{state}', '{url}', {error}, 'SAM', \
             '{TS}', '{TS}', {project}, FALSE, 100.0, TRUE, 'NONE')"
        ));
    }

    fn add_project(&self, id: i64, org: i64, creator: i64) {
        self.exec(&format!(
            "INSERT INTO project (id, title, organization_id, created_by_id, show_instruction, is_published, created_at, \
             updated_at, show_skip_button, show_collab_predictions, overlap_cohort_percentage, show_overlap_first, \
             result_count, is_draft, enable_empty_annotation, maximum_annotations, min_annotations_to_start_training, \
             show_annotation_history, show_ground_truth_first, evaluate_predictions_automatically, \
             reveal_preannotations_interactively, annotator_evaluation_enabled) VALUES ({id}, 'Project {id}', {org}, \
             {creator}, FALSE, FALSE, '{TS}', '{TS}', TRUE, TRUE, 100, FALSE, 0, FALSE, TRUE, 1, 0, FALSE, FALSE, FALSE, \
             FALSE, FALSE)"
        ));
    }

    /// An issued PAT (`token_blacklist_outstandingtoken`), optionally revoked.
    fn add_outstanding_pat(&self, id: i64, user: i64, jti: &str, revoked: bool) {
        self.exec(&format!(
            "INSERT INTO token_blacklist_outstandingtoken (id, token, created_at, expires_at, user_id, jti) VALUES \
             ({id}, 'truncated', '{TS}', '2225-01-01 00:00:00.000000', {user}, '{jti}')"
        ));
        if revoked {
            self.exec(&format!(
                "INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id) VALUES ('{TS}', {id})"
            ));
        }
    }
}

impl<T: Fixture + ?Sized> FixtureExt for T {}
