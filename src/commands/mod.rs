//! One module per subcommand. Each gathers data from the sources and hands it to
//! `report` for display; none prints formatting of its own.

pub mod doctor;
pub mod migrate_env;
pub mod orgs;
pub mod rollback;
pub mod toggle;
pub mod token;
pub mod upgrade_check;

use std::time::Duration;

use crate::backup;
use crate::cli::{Cli, Command, GlobalArgs};
use crate::db::{self, Access, Database, Located, OpenOptions};
use crate::environment::Environment;
use crate::exit::ExitStatus;
use crate::report::Output;
use crate::settings::{Setting, Toggle};
use crate::write::api::ApiSession;
use crate::write::database::Committed;

/// The database a run uses (`Ctx::database_choice`).
#[derive(Debug, Clone)]
pub enum DbChoice {
    /// Named on the command line or in LSAUTH_DB: failing to open it is an error.
    Named(Located),
    /// Found the way Label Studio finds its own: failing to open it is a finding.
    Discovered(Located),
    /// None here: not a Label Studio host, or discovery failed (`reason` says which).
    /// `named_by_label_studio`: Label Studio's own variables pointed at it.
    Absent { reason: String, named_by_label_studio: bool },
}

/// What every command gets: the environment, the global options, the output, and what
/// they decide for every command, resolved once after parsing.
pub struct Ctx {
    pub env: Environment,
    pub global: GlobalArgs,
    pub out: Output,
    /// The JWT feature flag as lsauth's environment sets it.
    pub jwt_flag: crate::settings::JwtFlag,
    /// How long a read or write waits for Label Studio's write lock (--lock-timeout).
    pub lock_timeout: Duration,
    /// The database this run uses (`database_choice`), chosen once when first asked.
    database: std::cell::OnceCell<DbChoice>,
}

pub fn run(cli: Cli, env: Environment) -> anyhow::Result<ExitStatus> {
    let out = Output::new(&cli.global, &env);
    crate::text::paste::carry(crate::text::paste::Carried {
        db: cli.global.db.as_deref().map(crate::text::secrets::without_password),
        backup_dir: cli.command.backup_dir().map(|d| d.display().to_string()),
    });
    let ctx = Ctx {
        jwt_flag: crate::settings::JwtFlag::from_env(&env),
        lock_timeout: cli.global.lock_timeout.duration(),
        database: std::cell::OnceCell::new(),
        env,
        global: cli.global,
        out,
    };
    match cli.command {
        Command::Doctor(args) => doctor::run(&ctx, &args),
        Command::Orgs => orgs::run(&ctx),
        Command::EnableLegacy(args) => toggle::run(&ctx, toggle(Setting::LegacyApiTokensEnabled, true), &args),
        Command::DisableLegacy(args) => toggle::run(&ctx, toggle(Setting::LegacyApiTokensEnabled, false), &args),
        Command::EnablePat(args) => toggle::run(&ctx, toggle(Setting::ApiTokensEnabled, true), &args),
        Command::DisablePat(args) => toggle::run(&ctx, toggle(Setting::ApiTokensEnabled, false), &args),
        Command::MigrateEnv(args) => migrate_env::run(&ctx, &args),
        Command::UpgradeCheck(args) => upgrade_check::run(&ctx, &args),
        Command::Pin(args) => toggle::run_pin(&ctx, &args),
        Command::Rollback(args) => rollback::run(&ctx, &args),
        Command::Completions { shell } => {
            crate::report::print_bytes(&crate::cli::completions(shell))?;
            Ok(ExitStatus::Ok)
        }
        Command::Manpage => {
            crate::report::print_bytes(&crate::cli::manpage()?)?;
            Ok(ExitStatus::Ok)
        }
        Command::Token(args) => token::run(&ctx, &args),
    }
}

/// Leave a change's outcome unfreed, to the end of the process: the command
/// returns to `main`, which exits, and freeing a large plan one allocation at a time
/// takes time (docs/performance.md) that gives nothing back, as the operating system
/// takes the memory back at once. Only plain data is left: the database
/// connection and every file are closed as usual.
pub fn skip_freeing<T>(outcome: T) {
    std::mem::forget(outcome);
}

fn toggle(setting: Setting, enable: bool) -> Toggle {
    Toggle { setting, enable }
}

impl Ctx {
    /// The web-login password of `email`: from standard input when `from_stdin`, else asked
    /// (hidden) on a terminal; without one it is a usage error. One rule for every --login.
    pub fn login_password(&self, email: &str, from_stdin: bool) -> anyhow::Result<String> {
        let given = if from_stdin { Some(crate::config::sources::read_secret_stdin("password")?) } else { None };
        self.password_or_prompt(email, given)
    }

    /// `given`, else the password asked on a terminal (not with --json), else a usage error.
    pub fn password_or_prompt(&self, email: &str, given: Option<String>) -> anyhow::Result<String> {
        match given {
            Some(p) => Ok(p),
            None if crate::report::terminal::interactive() && !self.out.json => {
                crate::report::terminal::secret_prompt(&format!("Password for {}", crate::text::shown::outside(email)))
            }
            None => Err(crate::exit::bad_input("give the password with --password-stdin (no terminal to ask)")),
        }
    }

    /// With -v: how long the last write held the database lock (how long Label Studio's
    /// writers of the table waited at most).
    pub fn note_lock_held(&self, committed: &Committed) {
        let held = committed.lock_held.as_secs_f64() * 1000.0;
        self.out.verbose(format!("write lock held for {held:.1} ms"));
    }

    /// The rollback that puts `env_file`'s previous content back (the key before lsauth
    /// moved it), when lsauth keeps a backup of it in the default backup directory.
    pub fn env_rollback_command(&self, env_file: &std::path::Path) -> Option<String> {
        let dir = backup::resolve_dir(None, &self.env).ok()?;
        let records = backup::env::records_for(&dir, env_file).ok()?;
        (!records.is_empty()).then(|| crate::text::paste::env_rollback(&env_file.display().to_string(), "--latest"))
    }

    /// The backup directory (flag, LSAUTH_BACKUP_DIR, default), with a warning on stderr
    /// when it exists and is open to group or others (it is never re-permissioned).
    pub fn backup_dir(&self, flag: Option<&std::path::Path>) -> anyhow::Result<std::path::PathBuf> {
        let dir = backup::resolve_dir(flag, &self.env)?;
        if let Some(warning) = crate::fsutil::exposed_dir_warning(&dir) {
            self.out.note(format!("lsauth: warning: {warning}"));
        }
        Ok(dir)
    }

    /// The backup directory a change is about to write to, probed to take files (or, when
    /// it does not exist yet, its nearest existing parent: it is created, 0700, only when a
    /// backup is written), so that a directory that cannot hold the backup is exit 2 before
    /// anything changes. Temporary files an interrupted run left there are cleared
    /// (`fsutil::clear_stale_temp_files` says which are stale).
    pub fn backup_dir_for_writing(&self, flag: Option<&std::path::Path>) -> anyhow::Result<std::path::PathBuf> {
        let dir = self.backup_dir(flag)?;
        let why = "lsauth writes the backup there before any change; give a --backup-dir that takes files (nothing \
                   was changed)";
        match crate::fsutil::nearest_existing(&dir) {
            Some(parent) if parent.is_dir() => crate::fsutil::probe_takes_files(&parent, why)?,
            Some(blocker) => {
                return Err(crate::exit::bad_input(format!(
                    "the backup directory {} cannot be made: {} is not a directory; {why}",
                    dir.display(),
                    blocker.display()
                )))
            }
            None => {}
        }
        let cleared = crate::fsutil::clear_stale_temp_files(&dir);
        if cleared > 0 {
            self.out
                .verbose(format!("removed {cleared} temporary file(s) an interrupted run left in {}", dir.display()));
        }
        Ok(dir)
    }

    /// The database when the user pointed at one (`--db`, `LSAUTH_DB`) or Label Studio's
    /// own data is on this host; `None` when there is none to use. Token and migration
    /// commands work without it. An explicitly named database that cannot be opened is
    /// an error; an implicit one is a warning in `warnings`.
    pub fn optional_db(&self, access: Access, warnings: &mut Vec<String>) -> anyhow::Result<Option<Box<dyn Database>>> {
        match self.database_choice()? {
            DbChoice::Named(_) => Ok(Some(self.open_db(access)?.0)),
            DbChoice::Discovered(_) => match self.open_db(access) {
                Ok((db, _)) => Ok(Some(db)),
                Err(e) => {
                    warnings.push(format!("database not used: {e:#}"));
                    Ok(None)
                }
            },
            DbChoice::Absent { reason, named_by_label_studio } => {
                if named_by_label_studio {
                    warnings.push(format!("database not used: {reason}"));
                }
                Ok(None)
            }
        }
    }

    /// Which database this run uses, by one rule for every command (doctor included): the
    /// one named (`--db`, LSAUTH_DB: an error when it cannot even be parsed), else the one
    /// Label Studio's environment or default location gives, when a PostgreSQL target or an
    /// existing SQLite file is there; else none, with why.
    pub fn database_choice(&self) -> anyhow::Result<DbChoice> {
        if let Some(chosen) = self.database.get() {
            return Ok(chosen.clone());
        }
        let chosen = self.choose_database()?;
        Ok(self.database.get_or_init(|| chosen).clone())
    }

    fn choose_database(&self) -> anyhow::Result<DbChoice> {
        let explicit = self.db_given_explicitly();
        let named_by_label_studio =
            ["DJANGO_DB", "DATABASE_NAME", "BASE_DATA_DIR"].iter().any(|v| self.env.label_studio(v).is_some());
        let located = match crate::config::label_studio::locate(self.global.db.as_deref(), &self.env) {
            Ok(l) => l,
            Err(e) if explicit => return Err(e),
            Err(e) => return Ok(DbChoice::Absent { reason: format!("{e:#}"), named_by_label_studio }),
        };
        if explicit {
            return Ok(DbChoice::Named(located));
        }
        if matches!(&located.target, db::DbTarget::Sqlite { path } if !path.exists()) {
            let reason = format!("no Label Studio database at {} ({})", located.target.location(), located.source);
            return Ok(DbChoice::Absent { reason, named_by_label_studio });
        }
        Ok(DbChoice::Discovered(located))
    }

    /// Whether the user named a database (`--db`, or a non-empty `LSAUTH_DB`, which is
    /// exactly what `config::label_studio::locate` honours).
    pub fn db_given_explicitly(&self) -> bool {
        self.global.db.is_some() || self.env.get("LSAUTH_DB").is_some_and(|s| !s.is_empty())
    }

    /// Label Studio's SECRET_KEY and where it came from (see `secret_key::find`).
    pub fn secret_key(&self, explicit_dir: Option<&std::path::Path>) -> Option<(String, String)> {
        crate::config::secret_key::find(explicit_dir, self.data_dir(), &self.env).map(|k| (k.value, k.source))
    }

    /// Label Studio's data directory, whose `.env` holds SECRET_KEY: the one the named
    /// SQLite database lives in (`--db`, LSAUTH_DB), else the one Label Studio would use.
    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        if let Ok(DbChoice::Named(db::Located { target: db::DbTarget::Sqlite { path }, .. })) = self.database_choice() {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            return Some(dir.to_path_buf());
        }
        crate::config::label_studio::base_data_dir(&self.env).ok().map(|d| d.0)
    }

    /// Find and open the Label Studio database, saying where it came from with `-v`.
    pub fn open_db(&self, access: Access) -> anyhow::Result<(Box<dyn Database>, Located)> {
        self.open_db_with(access, false)
    }

    /// As `open_db`, accepting a database from before Label Studio 1.17 (no settings table).
    pub fn open_db_any_release(&self, access: Access) -> anyhow::Result<(Box<dyn Database>, Located)> {
        self.open_db_with(access, true)
    }

    fn open_db_with(&self, access: Access, before_jwt: bool) -> anyhow::Result<(Box<dyn Database>, Located)> {
        let located = crate::config::label_studio::locate(self.global.db.as_deref(), &self.env)?;
        self.out.verbose(format!("database: {} (from {})", located.target, located.source));
        let db = db::open(&located.target, OpenOptions { access, lock_timeout: self.lock_timeout, before_jwt })?;
        if let Some(transport) = db.transport() {
            self.out.verbose(format!("connection: {transport}"));
        }
        self.out.verbose(format!("jwt_auth migrations: {}", db.jwt_schema().version_hint()));
        Ok((db, located))
    }
}

impl Ctx {
    /// Sign in for `--via-api`: `--token-stdin`, else `--login` (the password from
    /// `--password-stdin` or asked on a terminal), else the token of `env_file`. The URL:
    /// `--url`, else `url_hint` (a backup's own), else the env file's or the
    /// environment's LABEL_STUDIO_URL, else http://localhost:8080.
    pub fn sign_in_api(
        &self,
        creds: &crate::cli::ApiCredentials,
        env_file: Option<&std::path::Path>,
        url_hint: Option<&str>,
    ) -> anyhow::Result<ApiSession> {
        use crate::config::sources::{self, TokenSource};
        let doc = env_file.map(sources::read_env_file).transpose()?;
        let doc_ref = env_file.zip(doc.as_ref());
        let (url_text, url_from) = sources::url_source(creds.url.as_deref().or(url_hint), doc_ref, &self.env);
        let base = crate::api::parse_base_url(&url_text)?;
        let url = crate::text::secrets::shown_url(&base);
        self.out.verbose(format!("Label Studio: {url} (from {url_from})"));
        let env_token = match doc_ref {
            Some(d) => Some(sources::token_source(None, false, Some(d), &self.env)?),
            None => None,
        };
        let timeout = creds.timeout();
        let (signed, stdin_token) = if creds.token_stdin {
            let token = sources::read_secret_stdin("token")?;
            let signed = crate::api::session::sign_in_with_token(crate::api::Api::new(base, timeout)?, &token)?;
            (signed, Some(TokenSource { value: token, source: "standard input".into(), variable: None }))
        } else if let Some(email) = &creds.login {
            if !creds.password_stdin {
                crate::api::session::reach(&crate::api::Api::new(base.clone(), timeout)?)?;
            }
            let password = self.login_password(email, creds.password_stdin)?;
            (crate::api::session::sign_in_with_login(base, timeout, email, &password)?, None)
        } else if let Some(token) = &env_token {
            (crate::api::session::sign_in_with_token(crate::api::Api::new(base, timeout)?, &token.value)?, None)
        } else {
            return Err(crate::exit::bad_input(
                "--via-api needs someone to sign in: --login EMAIL (the web login), --token-stdin (a PAT, or a \
                 legacy token that still works), or --env-file with a token",
            ));
        };
        self.out.verbose(format!("signed in as {}", signed.who()));
        Ok(ApiSession { signed, url, token_at_hand: env_token.or(stdin_token) })
    }
}

/// A database that could not be found or opened, when the user did not name one: the
/// same error (same exit status), with the way that needs no database.
pub fn suggest_via_api(ctx: &Ctx, err: anyhow::Error, operation: &str) -> anyhow::Error {
    if ctx.db_given_explicitly() {
        return err;
    }
    let (text, from) = crate::config::sources::url_source(None, None, &ctx.env);
    let url = crate::api::parse_base_url(&text)
        .ok()
        .filter(|_| !from.is_default())
        .map(|u| crate::text::secrets::shown_url(&u))
        .unwrap_or_else(|| "URL".into());
    crate::exit::Classified::new(
        crate::db::status_of(&err),
        format!(
            "{err:#}\nNo database at hand (Docker, Kubernetes)? Change the settings through Label Studio's API as a \
             signed-in user: lsauth {operation} --via-api --url {url} --login EMAIL"
        ),
    )
    .into()
}
