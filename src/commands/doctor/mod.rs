//! `lsauth doctor`: every known cause of a failing token, with the exact fix. Never
//! changes anything.
//!
//! Two steps. `gather` reads everything first (the `.env`, the database read-only, the
//! API) into one `Inputs` value; then each section's checks, pure functions of it, add
//! their findings in the order the report shows them: configuration, database,
//! organizations, token, API, project. A read that fails is the finding of the check that
//! needed it ("this check could not run"), and the run goes on.
//!
//! A new check is one function in its section's file, given `&Inputs` (and a field there
//! plus its read in `gather` when it needs new data), a unit test beside it, and a row in
//! the README's table of checks (docs/architecture.md walks through one).

mod api;
mod configuration;
mod database;
mod gather;
mod inputs;
mod organizations;
mod project;
mod tokens;

use super::Ctx;
use crate::cli::DoctorArgs;
use crate::exit::ExitStatus;
use crate::outcome::checks::Checks;
use crate::outcome::doctor::DoctorReport;
use crate::report;

pub use inputs::Inputs;

pub fn run(ctx: &Ctx, args: &DoctorArgs) -> anyhow::Result<ExitStatus> {
    let sources = gather::sources(ctx, args)?;
    let choice = ctx.database_choice()?;
    if let (crate::commands::DbChoice::Absent { reason: why, .. }, None) = (&choice, &sources.url) {
        // A token alone can only be read, not checked against anything: token inspect does that.
        let token_only = if sources.token.is_some() { " (lsauth token inspect reads the token offline)" } else { "" };
        return Err(crate::exit::bad_input(format!(
            "nothing to check: {why}, and no Label Studio URL is configured; give the database \
             (--db PATH|postgres://...), the server (--url URL), or an integration's .env with its \
             LABEL_STUDIO_URL (--env-file FILE){token_only}"
        )));
    }
    let gathered = gather::gather(ctx, args, sources, choice)?;
    let checks = check(&gathered.inputs);
    let report = DoctorReport { counts: checks.counts(), causes: checks.causes(), checks: checks.checks.clone() };
    report::doctor::render(&report, &ctx.out)?;
    if nothing_reached(&gathered.inputs) || gathered.lock_waited {
        return Ok(ExitStatus::Unreachable);
    }
    Ok(checks.exit_status(args.strict))
}

/// Every check, in the report's order, each cause grouped with its symptoms.
pub fn check(inputs: &Inputs) -> Checks {
    let mut checks = Checks::default();
    configuration::checks(&mut checks, inputs);
    database::checks(&mut checks, inputs);
    organizations::checks(&mut checks, inputs);
    tokens::offline_checks(&mut checks, inputs);
    api::checks(&mut checks, inputs);
    api::jwt_settings_check(&mut checks, inputs);
    project::checks(&mut checks, inputs);
    checks.group();
    checks
}

/// A database or a server was named, and neither answered: exit 3.
fn nothing_reached(inputs: &Inputs) -> bool {
    let db_reached =
        matches!(inputs.database, inputs::DatabaseInputs::Open(_) | inputs::DatabaseInputs::BeforeJwt { .. });
    let api_reached = matches!(&inputs.api, inputs::ApiInputs::Probed(a) if a.reachable());
    !db_reached && !api_reached && (inputs.located().is_some() || inputs.sources.url.is_some())
}
