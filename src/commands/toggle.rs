//! `lsauth enable-legacy | disable-legacy | enable-pat | disable-pat`: change
//! `jwt_auth_jwtsettings` for the selected organizations, after showing the plan and
//! writing a backup, in one transaction.

use super::Ctx;
use crate::api::session;
use crate::cli::{Selection, ToggleArgs};
use crate::db::{Access, Database, OrgScope, UserLookup};
use crate::exit::{bad_input, ExitStatus};
use crate::outcome::change::{ApiToggleOutcome, LiveCheck, ToggleOutcome};
use crate::report;
use crate::report::terminal;
use crate::settings::{Plan, Setting, Toggle, TogglePlanner};
use crate::text::secrets::mask;
use crate::token::diagnosis::{self, Cause, ExplainContext};
use crate::token::{self, TokenKind};
use crate::write::api::{api_target, write_api_settings, ApiSession, ApiWrite};
use crate::write::database::{write_with_backup, Confirmed, WriteLabel};

/// Turn `--org`, `--all`, `--user` into the organizations to read.
fn resolve(db: &mut dyn Database, selection: &Selection) -> anyhow::Result<OrgScope> {
    if selection.all {
        return Ok(OrgScope::All);
    }
    let mut ids = selection.orgs.clone();
    for email in &selection.users {
        match db.user_active_org(email)? {
            UserLookup::Active { organization_id, .. } => ids.push(organization_id),
            UserLookup::NoSuchUser => {
                let emails = db.user_emails()?;
                let hint = match crate::text::suggest::did_you_mean(email, &emails) {
                    Some(found) => format!("; did you mean {}?", crate::text::shown::outside(found)),
                    None => String::new(),
                };
                return Err(bad_input(format!("no user with email {email}{hint}")));
            }
            UserLookup::NoActiveOrganization { .. } => {
                return Err(bad_input(format!(
                    "{email} has no active organization: Label Studio checks no organization settings for \
                     that user's legacy token; select organizations with --org"
                )))
            }
        }
    }
    if !selection.orgs.is_empty() {
        // An id that names no organization is a usage error, said with the ids there are
        // (the rows of the selected ids only: the list is read on this error path alone).
        let missing: Vec<i64> = db
            .read_scope(&OrgScope::ids(selection.orgs.clone()))?
            .into_iter()
            .filter(|o| o.title.is_none())
            .map(|o| o.id)
            .collect();
        if !missing.is_empty() {
            let known: Vec<String> = db.organizations()?.iter().map(|o| o.id.to_string()).collect();
            let listed = match known.len() {
                0 => "this database has no organizations".to_string(),
                n if n <= 20 => format!("the organizations are {}", known.join(", ")),
                n => format!(
                    "{n} organizations, {}, ... ({} lists them)",
                    known[..20].join(", "),
                    crate::text::paste::lsauth("orgs")
                ),
            };
            let ids: Vec<String> = missing.iter().map(i64::to_string).collect();
            return Err(bad_input(format!("no organization with id {}: {listed}", ids.join(", "))));
        }
    }
    Ok(OrgScope::ids(ids))
}

/// What a database change does to the selected organizations: a toggle, or a pin.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    Toggle(Toggle),
    Pin,
}

impl Change {
    pub fn operation(self) -> &'static str {
        match self {
            Change::Toggle(t) => t.operation(),
            Change::Pin => "pin",
        }
    }

    fn planner(self, schema: &crate::settings::JwtSchema) -> TogglePlanner {
        match self {
            Change::Toggle(t) => TogglePlanner::stamped_now(schema, t),
            Change::Pin => TogglePlanner::pinning_now(schema),
        }
    }

    fn toggle(self) -> Option<Toggle> {
        match self {
            Change::Toggle(t) => Some(t),
            Change::Pin => None,
        }
    }
}

pub fn run(ctx: &Ctx, toggle: Toggle, args: &ToggleArgs) -> anyhow::Result<ExitStatus> {
    let s = &args.selection;
    if args.api.via_api && (s.all || !s.orgs.is_empty() || !s.users.is_empty()) {
        // Checked here rather than by clap: the selection is shared with pin, which has no
        // --via-api for a clap group to conflict with.
        return Err(bad_input(
            "--via-api changes the signed-in user's active organization: it takes no --org, --all or --user (those \
             select organizations in the database)",
        ));
    }
    if args.api.via_api {
        return run_via_api(ctx, toggle, args);
    }
    if args.api.any() {
        return Err(bad_input(format!(
            "--url, --login and --token-stdin are for changes through the API: add --via-api (lsauth {} --via-api \
             --url URL --login EMAIL changes the signed-in user's active organization), or leave them out to \
             change the database",
            toggle.operation()
        )));
    }
    if !s.all && s.orgs.is_empty() && s.users.is_empty() {
        return Err(bad_input(format!(
            "select organizations: --org ID, --all, or --user EMAIL (or, without database access, --via-api: lsauth \
             {} --via-api --url URL --login EMAIL)",
            toggle.operation()
        )));
    }
    run_in_database(ctx, Change::Toggle(toggle), &args.selection, &args.change)
}

/// `lsauth pin`: explicit rows with today's values for the selected organizations without
/// one, with the plan, prompt, backup and rollback of every change.
pub fn run_pin(ctx: &Ctx, args: &crate::cli::PinArgs) -> anyhow::Result<ExitStatus> {
    let s = &args.selection;
    if !s.all && s.orgs.is_empty() && s.users.is_empty() {
        return Err(bad_input("select organizations: --org ID, --all, or --user EMAIL"));
    }
    run_in_database(ctx, Change::Pin, s, &args.change)
}

/// A change in the database: plan, prompt, re-plan under the lock, backup, write.
fn run_in_database(
    ctx: &Ctx,
    change: Change,
    selection: &Selection,
    args: &crate::cli::ChangeArgs,
) -> anyhow::Result<ExitStatus> {
    let dry_run = args.dry_run;
    let opened = ctx.open_db(if dry_run { Access::ReadOnly } else { Access::ReadWrite });
    let (mut db, _) = match change {
        // A pin writes the database's own defaults: there is no API way to it.
        Change::Pin => opened?,
        Change::Toggle(_) => opened.map_err(|e| super::suggest_via_api(ctx, e, change.operation()))?,
    };
    let scope = resolve(db.as_mut(), selection)?;
    let schema = db.jwt_schema().clone();
    let identity = db.identity();
    let outcome = |plan: Plan| ToggleOutcome {
        operation: change.operation(),
        database: identity.clone(),
        dry_run,
        plan,
        changed: 0,
        backup: None,
    };

    // A person must see the plan before being asked, so it is read once without the lock.
    // With --yes nobody is asked: the plan is made from the rows read under the lock.
    let shown = if dry_run || !args.yes {
        let mut planner = change.planner(&schema);
        db.read_scope(&scope)?.into_iter().for_each(|org| planner.see(org));
        let plan = planner.finish_checked()?;
        let preview = outcome(plan);
        if preview.plan.pin && preview.plan.lines.iter().any(|l| l.before_unknown) {
            report::change::render_toggle(&preview, &ctx.out)?;
            return Err(unpinned(0));
        }
        if preview.plan.changed() == 0 || dry_run {
            report::change::render_toggle(&preview, &ctx.out)?;
            return Ok(ExitStatus::Ok);
        }
        report::change::render_toggle_plan(&preview, &ctx.out)?;
        let question = format!(
            "Apply {} to {}?",
            preview.operation,
            crate::report::style::count_s(preview.plan.changed(), "organization")
        );
        terminal::confirm(&question, args.yes, ctx.out.json)?;
        Some(preview.plan)
    } else {
        None
    };

    let dir = ctx.backup_dir_for_writing(args.backup_dir.as_deref())?;
    let mut deciding = Confirmed::new(change.planner(&schema), shown.as_ref());
    let label = WriteLabel { operation: change.operation(), toggle: change.toggle(), restores: None };
    let written = write_with_backup(db.as_mut(), &scope, &dir, label, &mut deciding)?;
    let mut result = outcome(deciding.into_plan().expect("the plan was made under the lock"));
    if let Some(committed) = written {
        ctx.note_lock_held(&committed);
        result.changed = committed.rows;
        result.backup = Some(committed.backup);
        if shown.is_none() {
            report::change::render_toggle_plan(&result, &ctx.out)?;
        }
    }
    report::change::render_toggle(&result, &ctx.out)?;
    let unpinned_left = result.plan.pin && result.plan.lines.iter().any(|l| l.before_unknown);
    let changed = result.changed;
    super::skip_freeing(result);
    if unpinned_left {
        return Err(unpinned(changed));
    }
    Ok(ExitStatus::Ok)
}

/// A pin that could not tell today's values of organizations without a row: said as it
/// is, with the others (`pinned` of them) pinned or nothing changed.
fn unpinned(pinned: usize) -> anyhow::Error {
    crate::exit::problem(format!(
        "some selected organizations have no row and the database records no jwt_auth migration: lsauth cannot tell \
         today's values to pin; {}",
        if pinned > 0 {
            format!(
                "{} pinned",
                crate::report::style::count(pinned, "other organization was", "other organizations were")
            )
        } else {
            "nothing was changed".into()
        }
    ))
}

/// `--via-api`: the signed-in user's active organization, through `/api/jwt/settings`,
/// with the same plan, prompt, backup and report as the database path, then a read-back
/// and a live test of the token at hand.
fn run_via_api(ctx: &Ctx, toggle: Toggle, args: &ToggleArgs) -> anyhow::Result<ExitStatus> {
    let mut session = ctx.sign_in_api(&args.api, args.env_file.as_deref(), None)?;
    let target = api_target(&session)?;
    let signed = &session.signed;
    let before = signed.api.block_on(session::read_settings(&signed.caller(), &signed.who()))?;
    let after = before.toggled(toggle);
    let mut outcome = ApiToggleOutcome {
        operation: toggle.operation(),
        via: "api",
        target,
        dry_run: args.change.dry_run,
        before,
        after,
        changed: 0,
        backup: None,
        read_back: None,
        live_check: None,
        warnings: Vec::new(),
        warnings_shown: 0,
        undo: None,
    };
    if signed.kind.needs() == Some(toggle.setting) && !toggle.enable && before != after {
        outcome.warnings.push(format!(
            "{} signs in with {}: once this is applied it no longer authenticates; sign in with --login to undo it",
            outcome.target.account.user_email.as_deref().unwrap_or("this user"),
            signed.kind.describe()
        ));
    }
    if before == after || args.change.dry_run {
        report::api_change::render_api_toggle(&outcome, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    report::api_change::render_api_toggle_plan(&outcome, &ctx.out)?;
    outcome.warnings_shown = outcome.warnings.len();
    let question = format!(
        "Apply {} to organization {} through the API?",
        outcome.operation, outcome.target.account.organization_id
    );
    terminal::confirm(&question, args.change.yes, ctx.out.json)?;

    let dir = ctx.backup_dir_for_writing(args.change.backup_dir.as_deref())?;
    let write = ApiWrite {
        operation: toggle.operation(),
        toggle: Some(toggle),
        restores: None,
        target: &outcome.target,
        before,
        after,
    };
    let written = write_api_settings(&mut session, &dir, write)?;
    outcome.changed = 1;
    outcome.undo = Some(written.undo);
    outcome.backup = Some(written.backup);
    outcome.read_back = written.read_back;
    outcome.warnings.extend(written.warnings);
    if toggle.enable {
        outcome.live_check = live_check(&session, toggle);
    }
    report::api_change::render_api_toggle(&outcome, &ctx.out)?;
    Ok(match &outcome.live_check {
        Some(check) if !check.passes => ExitStatus::Problem,
        _ => ExitStatus::Ok,
    })
}

/// After an enable: the token at hand of the kind just enabled, tested as its clients
/// use it. `None` when no such token is at hand.
fn live_check(session: &ApiSession, toggle: Toggle) -> Option<LiveCheck> {
    let source = session.token_at_hand.as_ref()?;
    let inspection = token::inspect(&source.value, crate::token::check::now_secs());
    let wanted = match toggle.setting {
        Setting::LegacyApiTokensEnabled => inspection.kind == TokenKind::Legacy,
        Setting::ApiTokensEnabled => inspection.kind == TokenKind::Pat,
    };
    if !wanted {
        return None;
    }
    // A client of its own: the token is tested as its integration sends it, after the
    // change, with no session cookie and nothing read before.
    let api = &session.signed.api.token_client().ok()?;
    let version = api.block_on(api.get("api/version", crate::api::Auth::None));
    let finding = api.block_on(crate::api::probes::probe(api, &inspection, &crate::api::answers::version(&version)));
    let context = ExplainContext { variable: source.variable.clone(), ..ExplainContext::default() };
    let (why, fix) = diagnosis::explain(&finding, &context);
    let passes = finding.cause == Cause::Ok;
    Some(LiveCheck {
        token: mask(&inspection.token),
        source: source.source.clone(),
        cause: finding.cause,
        passes,
        explanation: if passes { why } else { format!("{why} Fix: {fix}.") },
    })
}
