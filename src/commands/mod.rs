//! One module per subcommand. Each gathers data from the sources and hands it to
//! `report` for display; none prints formatting of its own.

pub mod legacy;
pub mod orgs;
pub mod rollback;

use std::time::Duration;

use crate::change::{Setting, Toggle};
use crate::cli::{Cli, Command, GlobalArgs};
use crate::db::{self, Access, Database, Located, OpenOptions};
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
        Command::Orgs => orgs::run(&ctx),
        Command::EnableLegacy(args) => legacy::run(&ctx, toggle(Setting::LegacyApiTokensEnabled, true), &args),
        Command::DisableLegacy(args) => legacy::run(&ctx, toggle(Setting::LegacyApiTokensEnabled, false), &args),
        Command::EnablePat(args) => legacy::run(&ctx, toggle(Setting::ApiTokensEnabled, true), &args),
        Command::DisablePat(args) => legacy::run(&ctx, toggle(Setting::ApiTokensEnabled, false), &args),
        Command::Rollback(args) => rollback::run(&ctx, &args),
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
