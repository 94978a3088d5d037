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

use crate::backup::{self, BackupBody};
use crate::change::{Action, Decide, OrgSettings, Plan, RowChange, Setting, Toggle, TogglePlanner};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::db::{self, Access, Database, Located, OpenOptions, OrgScope};
use crate::environment::Environment;
use crate::exit::ExitStatus;
use crate::outcome::change::BackupRef;
use crate::report::Output;

/// The database a run uses (`Ctx::database_choice`).
#[derive(Debug)]
pub enum DbChoice {
    /// Named on the command line or in LSAUTH_DB: failing to open it is an error.
    Named(Located),
    /// Found the way Label Studio finds its own: failing to open it is a finding.
    Discovered(Located),
    /// None here: not a Label Studio host, or discovery failed (`reason` says which).
    /// `named_by_label_studio`: Label Studio's own variables pointed at it.
    Absent { reason: String, named_by_label_studio: bool },
}

/// What every command gets: the environment, the global options, the output.
pub struct Ctx {
    pub env: Environment,
    pub global: GlobalArgs,
    pub out: Output,
}

pub fn run(cli: Cli, env: Environment) -> anyhow::Result<ExitStatus> {
    let out = Output::new(&cli.global, &env);
    crate::paste::carry(crate::paste::Carried {
        db: cli.global.db.as_deref().map(crate::secrets::without_password),
        backup_dir: cli.command.backup_dir().map(|d| d.display().to_string()),
    });
    let ctx = Ctx { env, global: cli.global, out };
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

/// What a backed-up write is, for the backup's header.
pub struct WriteLabel<'a> {
    pub operation: &'a str,
    pub toggle: Option<Toggle>,
    pub restores: Option<String>,
}

/// A write that committed: how many rows were written, their backup, and how long the
/// write held the database lock.
pub struct Committed {
    pub rows: usize,
    pub backup: BackupRef,
    pub lock_held: std::time::Duration,
}

/// Run `decide` under the database's write lock and, when it returns rows to write,
/// write them and a backup of them (synced before the commit). A backup whose write
/// did not commit is removed again. `Ok(None)`: `decide` wanted no write.
pub fn write_with_backup(
    db: &mut dyn Database,
    scope: &OrgScope,
    backup_dir: &std::path::Path,
    label: WriteLabel<'_>,
    decide: &mut dyn Decide,
) -> anyhow::Result<Option<Committed>> {
    let identity = db.identity();
    let mut written: Option<(String, std::path::PathBuf)> = None;
    let result = db.write_rows(scope, decide, &mut |changes| {
        let now = time::OffsetDateTime::now_utc();
        let body = BackupBody {
            header: backup::Header::new(backup::FORMAT, now, label.operation)?,
            database: identity.clone(),
            toggle: label.toggle,
            restores: label.restores.clone(),
            rows: changes,
        };
        written = Some(backup::write(backup_dir, &backup::new_id(now, label.operation), &body)?);
        Ok(())
    });
    match result {
        Ok(Some(db::Written { rows, lock_held })) => {
            let (id, path) = written.expect("a committed write has a backup");
            Ok(Some(Committed { rows, backup: BackupRef { id, path: path.display().to_string() }, lock_held }))
        }
        Ok(None) => Ok(None),
        Err(err) if err.downcast_ref::<db::CommitOutcomeUnknown>().is_some() => {
            Err(commit_outcome_unknown(db.target(), scope, written, err))
        }
        Err(err) => {
            if let Some((_, path)) = written {
                let _ = std::fs::remove_file(path);
            }
            Err(err)
        }
    }
}

/// After a COMMIT whose answer never came: the backup stays (marked unconfirmed beside
/// it), and a new connection reads the rows again to tell the user which state the
/// database is in. Always an error (exit 3): the command could not finish its work.
fn commit_outcome_unknown(
    target: &db::DbTarget,
    scope: &OrgScope,
    written: Option<(String, std::path::PathBuf)>,
    err: anyhow::Error,
) -> anyhow::Error {
    let Some((id, path)) = written else { return err };
    let marker = path.with_extension("json.unconfirmed");
    let _ = std::fs::write(&marker, "the COMMIT of this change was not confirmed by the database\n");
    let state = backup::read(&path).and_then(|b| {
        let mut fresh = db::open(
            target,
            OpenOptions { access: Access::ReadOnly, lock_timeout: Duration::from_secs(10), before_jwt: false },
        )?;
        let now = fresh.read_scope(scope)?;
        Ok(crate::change::commit_state(&now, &b.body.rows))
    });
    let said = match state {
        Ok(crate::change::CommitState::Applied) => {
            format!(
                "read again, the database shows the change APPLIED; backup {id} is its undo ({})",
                crate::paste::rollback(&id)
            )
        }
        Ok(crate::change::CommitState::NotApplied) => format!(
            "read again, the database shows the change NOT applied: nothing was changed; backup {id} was kept \
             (unconfirmed) and restores nothing"
        ),
        Ok(crate::change::CommitState::Other) => format!(
            "read again, the rows match neither the state before nor after (changed by someone else meanwhile); \
             backup {id} was kept (unconfirmed): check with {}",
            crate::paste::lsauth("orgs")
        ),
        Err(e) => format!(
            "and reading the rows again failed too ({e:#}): whether the change was applied is unknown; backup {id} \
             was kept (unconfirmed) at {}: check with {}",
            path.display(),
            crate::paste::lsauth("orgs")
        ),
    };
    crate::exit::unreachable_error(format!("{err}: {said}"))
}

/// Apply `toggle` to `scope` under the write lock with its backup, without asking (the
/// caller has shown its own plan and asked). `Ok(None)`: nothing needed changing.
pub fn apply_toggle(
    db: &mut dyn Database,
    scope: &OrgScope,
    toggle: Toggle,
    backup_dir: &std::path::Path,
) -> anyhow::Result<Option<BackupRef>> {
    let mut deciding = Toggling::new(TogglePlanner::stamped_now(db.jwt_schema(), toggle), None);
    let label = WriteLabel { operation: toggle.operation(), toggle: Some(toggle), restores: None };
    let written = write_with_backup(db, scope, backup_dir, label, &mut deciding)?;
    Ok(written.map(|committed| committed.backup))
}

/// A toggle decided under the lock: planned as the rows are read, and when a person was
/// shown a plan first, refused unless it decides the same (which orgs, which action).
pub struct Toggling {
    planner: Option<TogglePlanner>,
    shown: Option<Vec<(i64, Action)>>,
    /// The plan made under the lock, once decided.
    pub applied: Option<Plan>,
}

impl Toggling {
    pub fn new(planner: TogglePlanner, shown: Option<&Plan>) -> Self {
        Toggling { planner: Some(planner), shown: shown.map(Plan::decision), applied: None }
    }
}

impl Decide for Toggling {
    fn see(&mut self, org: OrgSettings) -> anyhow::Result<()> {
        self.planner.as_mut().expect("rows are seen before the decision").see(org);
        Ok(())
    }

    fn decide(&mut self) -> anyhow::Result<bool> {
        let plan = self.planner.take().expect("decided once").finish_checked()?;
        if self.shown.as_ref().is_some_and(|shown| *shown != plan.decision()) {
            return Err(crate::exit::refused(
                "the settings changed while the plan was shown; nothing was changed: run the command again",
            ));
        }
        let changed = plan.changed() > 0;
        self.applied = Some(plan);
        Ok(changed)
    }

    fn changes(&self) -> &[RowChange] {
        self.applied.as_ref().map_or(&[], |plan| &plan.changes)
    }
}

use crate::paste::shell_quote;

/// Leave a change's outcome to the end of the process instead of freeing it: the command
/// returns to `main`, which exits, and freeing a large plan one allocation at a time
/// takes time (docs/performance.md) that gives nothing back, as the operating system
/// takes the memory back at once. Only plain data is left: the database
/// connection and every file are closed as usual.
pub fn leave_for_exit<T>(outcome: T) {
    std::mem::forget(outcome);
}

fn toggle(setting: Setting, enable: bool) -> Toggle {
    Toggle { setting, enable }
}

impl Ctx {
    /// The web-login password of `email`: from standard input when `from_stdin`, else asked
    /// (hidden) on a terminal; without one it is a usage error. One rule for every --login.
    pub fn login_password(&self, email: &str, from_stdin: bool) -> anyhow::Result<String> {
        let given = if from_stdin { Some(crate::sources::read_secret_stdin("password")?) } else { None };
        self.password_or_prompt(email, given)
    }

    /// `given`, else the password asked on a terminal (not with --json), else a usage error.
    pub fn password_or_prompt(&self, email: &str, given: Option<String>) -> anyhow::Result<String> {
        match given {
            Some(p) => Ok(p),
            None if crate::terminal::interactive() && !self.out.json => {
                crate::terminal::secret_prompt(&format!("Password for {}", crate::shown::outside(email)))
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
        (!records.is_empty()).then(|| crate::report::migrate::env_rollback(&env_file.display().to_string(), "--latest"))
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
        let explicit = self.db_given_explicitly();
        let named_by_label_studio =
            ["DJANGO_DB", "DATABASE_NAME", "BASE_DATA_DIR"].iter().any(|v| self.env.label_studio(v).is_some());
        let located = match db::locate(self.global.db.as_deref(), &self.env) {
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
    /// exactly what `db::locate` honours).
    pub fn db_given_explicitly(&self) -> bool {
        self.global.db.is_some() || self.env.get("LSAUTH_DB").is_some_and(|s| !s.is_empty())
    }

    /// Label Studio's SECRET_KEY and where it came from (see `secret_key::find`).
    pub fn secret_key(&self, explicit_dir: Option<&std::path::Path>) -> Option<(String, String)> {
        crate::secret_key::find(explicit_dir, self.data_dir(), &self.env).map(|k| (k.value, k.source))
    }

    /// Label Studio's data directory, whose `.env` holds SECRET_KEY: the one the named
    /// SQLite database lives in (`--db`, LSAUTH_DB), else the one Label Studio would use.
    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        if self.db_given_explicitly() {
            if let Ok(db::Located { target: db::DbTarget::Sqlite { path }, .. }) =
                db::locate(self.global.db.as_deref(), &self.env)
            {
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
                return Some(dir.to_path_buf());
            }
        }
        db::target::base_data_dir(&self.env).ok().map(|d| d.0)
    }

    pub fn lock_timeout(&self) -> anyhow::Result<Duration> {
        Ok(self.global.lock_timeout.duration())
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
        let located = db::locate(self.global.db.as_deref(), &self.env)?;
        self.out.verbose(format!("database: {} (from {})", located.target, located.source));
        let db = db::open(&located.target, OpenOptions { access, lock_timeout: self.lock_timeout()?, before_jwt })?;
        if let Some(transport) = db.transport() {
            self.out.verbose(format!("connection: {transport}"));
        }
        self.out.verbose(format!("jwt_auth migrations: {}", db.jwt_schema().version_hint()));
        Ok((db, located))
    }
}

/// Someone signed in for `--via-api`, and a token at hand to test after the change.
pub struct ApiSession {
    pub signed: crate::remote::SignedIn,
    /// The base URL as shown (never with credentials).
    pub url: String,
    /// The token of `--env-file`, else the one read with `--token-stdin`.
    pub token_at_hand: Option<crate::sources::TokenSource>,
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
        use crate::sources::{self, TokenSource};
        let doc = env_file.map(sources::read_env_file).transpose()?;
        let doc_ref = env_file.zip(doc.as_ref());
        let (url_text, url_from) = sources::url_source(creds.url.as_deref().or(url_hint), doc_ref, &self.env);
        let base = crate::api::parse_base_url(&url_text)?;
        let url = crate::secrets::shown_url(&base);
        self.out.verbose(format!("Label Studio: {url} (from {url_from})"));
        let env_token = match doc_ref {
            Some(d) => Some(sources::token_source(None, false, Some(d), &self.env)?),
            None => None,
        };
        let timeout = creds.timeout();
        let (signed, stdin_token) = if creds.token_stdin {
            let token = sources::read_secret_stdin("token")?;
            let signed = crate::remote::sign_in_with_token(crate::api::Api::new(base, timeout)?, &token)?;
            (signed, Some(TokenSource { value: token, source: "standard input".into(), variable: None }))
        } else if let Some(email) = &creds.login {
            if !creds.password_stdin {
                crate::remote::reach(&crate::api::Api::new(base.clone(), timeout)?)?;
            }
            let password = self.login_password(email, creds.password_stdin)?;
            (crate::remote::sign_in_with_login(base, timeout, email, &password)?, None)
        } else if let Some(token) = &env_token {
            (crate::remote::sign_in_with_token(crate::api::Api::new(base, timeout)?, &token.value)?, None)
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
    let (text, from) = crate::sources::url_source(None, None, &ctx.env);
    let url = crate::api::parse_base_url(&text)
        .ok()
        .filter(|_| !from.is_default())
        .map(|u| crate::secrets::shown_url(&u))
        .unwrap_or_else(|| "URL".into());
    crate::exit::Classified {
        status: crate::exit::status_of(&err),
        message: format!(
            "{err:#}\nNo database at hand (Docker, Kubernetes)? Change the settings through Label Studio's API as a \
             signed-in user: lsauth {operation} --via-api --url {url} --login EMAIL"
        ),
    }
    .into()
}

/// One write of the active organization's settings through the API.
pub struct ApiWrite<'a> {
    pub operation: &'a str,
    pub toggle: Option<Toggle>,
    pub restores: Option<String>,
    pub target: &'a crate::outcome::change::ApiTarget,
    /// What the plan was made from, and what is to be written.
    pub before: crate::change::ApiSettings,
    pub after: crate::change::ApiSettings,
}

/// What a write through the API left.
pub struct ApiWritten {
    pub backup: BackupRef,
    /// The settings read again (`None`: the credential the change switched off can no
    /// longer read them; Label Studio's answer to the write confirmed them).
    pub read_back: Option<crate::change::ApiSettings>,
    pub warnings: Vec<String>,
}

/// Write settings through the API as the database path writes rows: re-read (a change
/// made while the plan was shown is refused), back up and sync, POST, then read back.
/// A write that certainly did not happen leaves no backup; one whose answer was lost is
/// read again to say which it was.
pub fn write_api_settings(
    session: &mut ApiSession,
    backup_dir: &std::path::Path,
    write: ApiWrite<'_>,
) -> anyhow::Result<ApiWritten> {
    use crate::exit::{refused, unreachable_error, ExitStatus};
    use crate::remote;
    session.signed.renew()?;
    let who = session.signed.who();
    let signed = &session.signed;
    let caller = signed.caller();
    let now_settings = signed.api.block_on(remote::read_settings(&caller, &who))?;
    if now_settings != write.before {
        return Err(refused(
            "the settings changed while the plan was shown; nothing was changed: run the command again",
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let body = backup::api::ApiBackupBody {
        header: backup::Header::new(backup::api::FORMAT, now, write.operation)?,
        via: "api".into(),
        account: write.target.account.clone(),
        toggle: write.toggle,
        restores: write.restores.clone(),
        before: write.before,
        after: write.after,
    };
    let (id, path) = backup::api::write(backup_dir, now, &body)?;
    let backup = BackupRef { id: id.clone(), path: path.display().to_string() };
    let mut warnings = Vec::new();
    let posted = signed.api.block_on(remote::post_settings(&caller, write.after));
    // Whatever this client read before the change (whoami, an access token) is read anew
    // after it: the read-back and the live check must see the server as it is now.
    signed.api.forget();
    match remote::settings_from("changing the token settings", &who, &posted) {
        Ok(stored) if stored == write.after => {}
        Ok(stored) => {
            return Err(refused(format!(
                "Label Studio stored \"{stored}\" instead of \"{}\": the settings CHANGED, differently than planned; \
                 backup {id} holds them as they were ({} --force restores them)",
                write.after,
                api_undo_command(&id, write.target)
            )))
        }
        Err(e) if crate::exit::status_of(&e) != ExitStatus::Unreachable => {
            let _ = std::fs::remove_file(&path);
            return Err(e.context("nothing was changed"));
        }
        // No answer: read again to tell whether the change happened.
        Err(e) => match signed.api.block_on(remote::read_settings(&caller, &who)).ok() {
            Some(now) if now == write.after => {
                warnings.push(format!("the answer to the change was lost ({e:#}); read again, the change is applied"));
            }
            Some(now) if now == write.before => {
                let _ = std::fs::remove_file(&path);
                return Err(unreachable_error(format!("{e:#}; read again, nothing was changed")));
            }
            _ => {
                let _ = std::fs::write(path.with_extension("json.unconfirmed"), "the change was not confirmed\n");
                return Err(unreachable_error(format!(
                    "{e:#}: whether the settings changed is unknown; backup {id} was kept (unconfirmed): check with \
                     lsauth {} --via-api --dry-run",
                    write.operation
                )));
            }
        },
    }
    let switched_off_own = signed.kind.needs().is_some_and(|s| !write.after.get(s));
    let read_back = match signed.api.block_on(remote::read_settings(&caller, &who)) {
        Ok(s) if s == write.after => Some(s),
        Ok(s) => {
            warnings.push(format!("read again, the settings are \"{s}\": someone changed them right after lsauth did"));
            Some(s)
        }
        Err(_) if switched_off_own => None,
        Err(e) => {
            warnings.push(format!(
                "the settings could not be read again ({e:#}); Label Studio's answer to the change confirmed them"
            ));
            None
        }
    };
    Ok(ApiWritten { backup, read_back, warnings })
}

/// The command that undoes a change made through the API. The web login always works,
/// so it is named when the email is known.
pub fn api_undo_command(backup_id: &str, target: &crate::outcome::change::ApiTarget) -> String {
    let who = match &target.account.user_email {
        Some(email) => format!("--login {}", shell_quote(email)),
        None => "--token-stdin".into(),
    };
    crate::paste::rollback(&format!("{} --url {} {who}", shell_quote(backup_id), shell_quote(&target.account.url)))
}

/// Where the change goes: the URL, the signed-in user's active organization and its
/// title, who signed in.
pub fn api_target(session: &ApiSession) -> anyhow::Result<crate::outcome::change::ApiTarget> {
    let signed = &session.signed;
    let organization_id = signed.user.active_organization.ok_or_else(|| {
        crate::exit::refused(format!(
            "{} has no active organization: Label Studio's settings endpoint changes the signed-in user's active \
             organization only; sign in as a member of the organization to change",
            signed.who()
        ))
    })?;
    let organization_title = signed.api.block_on(crate::remote::organization_title(&signed.caller(), organization_id));
    let account = crate::change::ApiAccount {
        url: session.url.clone(),
        organization_id,
        organization_title,
        user_id: signed.user.id,
        user_email: signed.user.email.clone(),
    };
    Ok(crate::outcome::change::ApiTarget { account, credential: signed.kind })
}
