//! One module per subcommand. Each gathers data from the sources and hands it to
//! `report` for display; none prints formatting of its own.

pub mod doctor;
pub mod legacy;
pub mod migrate_env;
pub mod orgs;
pub mod rollback;
pub mod token;

use std::time::Duration;

use crate::backup::{self, BackupBody};
use crate::change::RowChange;
use crate::change::{Setting, Toggle};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::db::{self, Access, Database, Located, OpenOptions, OrgScope};
use crate::environment::Environment;
use crate::exit::{bad_input, ExitStatus};
use crate::report::Output;

/// What every command gets: the environment, the global options, the output.
pub struct Ctx {
    pub env: Environment,
    pub global: GlobalArgs,
    pub out: Output,
}

pub fn run(cli: Cli, env: Environment) -> anyhow::Result<ExitStatus> {
    let out = Output::new(&cli.global, &env);
    let ctx = Ctx { env, global: cli.global, out };
    match cli.command {
        Command::Doctor(args) => doctor::run(&ctx, &args),
        Command::Orgs => orgs::run(&ctx),
        Command::EnableLegacy(args) => legacy::run(&ctx, toggle(Setting::LegacyApiTokensEnabled, true), &args),
        Command::DisableLegacy(args) => legacy::run(&ctx, toggle(Setting::LegacyApiTokensEnabled, false), &args),
        Command::EnablePat(args) => legacy::run(&ctx, toggle(Setting::ApiTokensEnabled, true), &args),
        Command::DisablePat(args) => legacy::run(&ctx, toggle(Setting::ApiTokensEnabled, false), &args),
        Command::MigrateEnv(args) => migrate_env::run(&ctx, &args),
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

/// Where a backup was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupRef {
    pub id: String,
    pub path: String,
}

/// What a backed-up write is, for the backup's header.
pub struct WriteLabel<'a> {
    pub operation: &'a str,
    pub toggle: Option<Toggle>,
    pub restores: Option<String>,
}

/// Run `decide` under the database's write lock and, when it returns rows to write,
/// write them and a backup of them (synced before the commit). A backup whose write
/// did not commit is removed again. `Ok(None)`: `decide` wanted no write.
pub fn write_with_backup(
    db: &mut dyn Database,
    scope: &OrgScope,
    backup_dir: &std::path::Path,
    label: WriteLabel<'_>,
    decide: &mut db::Decide<'_>,
) -> anyhow::Result<Option<(Vec<RowChange>, BackupRef)>> {
    let identity = db.identity();
    let command = crate::secrets::this_command_line();
    let mut written: Option<(String, std::path::PathBuf)> = None;
    let result = db.write_rows(scope, decide, &mut |changes| {
        let now = time::OffsetDateTime::now_utc();
        let body = BackupBody {
            format: backup::FORMAT.into(),
            created_at: now.format(&time::format_description::well_known::Rfc3339)?,
            operation: label.operation.into(),
            command: command.clone(),
            database: identity.clone(),
            toggle: label.toggle,
            restores: label.restores.clone(),
            rows: changes,
        };
        written = Some(backup::write(backup_dir, &backup::new_id(now, label.operation), &body)?);
        Ok(())
    });
    match result {
        Ok(Some(changes)) => {
            let (id, path) = written.expect("a committed write has a backup");
            Ok(Some((changes, BackupRef { id, path: path.display().to_string() })))
        }
        Ok(None) => Ok(None),
        Err(err) => {
            if let Some((_, path)) = written {
                let _ = std::fs::remove_file(path);
            }
            Err(err)
        }
    }
}

fn toggle(setting: Setting, enable: bool) -> Toggle {
    Toggle { setting, enable }
}

impl Ctx {
    pub fn lock_timeout(&self) -> anyhow::Result<Duration> {
        let secs = self.global.lock_timeout;
        if !(secs.is_finite() && (0.0..=3600.0).contains(&secs)) {
            return Err(bad_input(format!("--lock-timeout must be between 0 and 3600 seconds, not {secs}")));
        }
        Ok(Duration::from_secs_f64(secs))
    }

    /// Find and open the Label Studio database, saying where it came from with `-v`.
    pub fn open_db(&self, access: Access) -> anyhow::Result<(Box<dyn Database>, Located)> {
        let located = db::locate(self.global.db.as_deref(), &self.env)?;
        self.out.verbose(format!("database: {} (from {})", located.target, located.source));
        let db = db::open(&located.target, OpenOptions { access, lock_timeout: self.lock_timeout()? })?;
        if let Some(transport) = db.transport() {
            self.out.verbose(format!("connection: {transport}"));
        }
        self.out.verbose(format!("jwt_auth migrations: {}", db.jwt_schema().version_hint()));
        Ok((db, located))
    }
}
