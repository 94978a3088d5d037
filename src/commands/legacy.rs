//! `lsauth enable-legacy | disable-legacy | enable-pat | disable-pat`: change
//! `jwt_auth_jwtsettings` for the selected organizations, after showing the plan and
//! writing a backup, in one transaction.

use serde::Serialize;

use super::Ctx;
use crate::backup::{self, BackupBody, DbIdentity};
use crate::change::{self, plan_toggle, Plan, Setting, Toggle};
use crate::cli::{ChangeArgs, Selection, ToggleArgs};
use crate::db::{Access, Database, OrgScope, UserLookup};
use crate::exit::{bad_input, refused, ExitStatus};
use crate::report;
use crate::terminal;

/// The subcommand's name, used in backups and output.
pub fn operation(toggle: Toggle) -> &'static str {
    match (toggle.setting, toggle.enable) {
        (Setting::LegacyApiTokensEnabled, true) => "enable-legacy",
        (Setting::LegacyApiTokensEnabled, false) => "disable-legacy",
        (Setting::ApiTokensEnabled, true) => "enable-pat",
        (Setting::ApiTokensEnabled, false) => "disable-pat",
    }
}

/// Where a backup was written.
#[derive(Debug, Clone, Serialize)]
pub struct BackupRef {
    pub id: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToggleOutcome {
    pub operation: &'static str,
    pub database: DbIdentity,
    pub dry_run: bool,
    pub plan: Plan,
    /// Rows written (0 for a dry run or when nothing needed changing).
    pub changed: usize,
    pub backup: Option<BackupRef>,
}

/// Turn `--org`, `--all`, `--user` into the organizations to read.
fn resolve(db: &mut dyn Database, selection: &Selection) -> anyhow::Result<OrgScope> {
    if selection.all {
        return Ok(OrgScope::All);
    }
    let mut ids = selection.orgs.clone();
    for email in &selection.users {
        match db.user_active_org(email)? {
            UserLookup::Active { organization_id, .. } => ids.push(organization_id),
            UserLookup::NoSuchUser => return Err(bad_input(format!("no user with email {email}"))),
            UserLookup::NoActiveOrganization { .. } => {
                return Err(bad_input(format!(
                    "{email} has no active organization: Label Studio checks no organization settings for \
                     that user's legacy token; select organizations with --org"
                )))
            }
        }
    }
    Ok(OrgScope::ids(ids))
}

pub fn run(ctx: &Ctx, toggle: Toggle, args: &ToggleArgs) -> anyhow::Result<ExitStatus> {
    let access = if args.change.dry_run { Access::ReadOnly } else { Access::ReadWrite };
    let (mut db, _) = ctx.open_db(access)?;
    let scope = resolve(db.as_mut(), &args.selection)?;
    let defaults = db.jwt_schema().model_defaults();
    let orgs = db.read_scope(&scope)?;
    let missing: Vec<String> = orgs.iter().filter(|o| o.title.is_none()).map(|o| o.id.to_string()).collect();
    if !missing.is_empty() {
        return Err(bad_input(format!("no organization with id {}", missing.join(", "))));
    }
    let plan = plan_toggle(&orgs, defaults, toggle, &change::django_timestamp(time::OffsetDateTime::now_utc()));
    let mut outcome = ToggleOutcome {
        operation: operation(toggle),
        database: db.identity(),
        dry_run: args.change.dry_run,
        plan,
        changed: 0,
        backup: None,
    };
    if outcome.plan.changed() == 0 || args.change.dry_run {
        report::change::render_toggle(&outcome, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    report::change::render_toggle_plan(&outcome, &ctx.out)?;
    terminal::confirm(
        &format!("Apply {} to {} organization(s)?", outcome.operation, outcome.plan.changed()),
        args.change.yes,
    )?;
    let (changed, written) = apply(ctx, db.as_mut(), &scope, &outcome.plan, &args.change)?;
    outcome.changed = changed;
    outcome.backup = Some(written);
    report::change::render_toggle(&outcome, &ctx.out)?;
    Ok(ExitStatus::Ok)
}

/// Apply the plan a person saw, re-deciding under the lock; write the backup before
/// the commit. A backup whose change did not commit is removed again.
fn apply(
    ctx: &Ctx,
    db: &mut dyn Database,
    scope: &OrgScope,
    shown: &Plan,
    args: &ChangeArgs,
) -> anyhow::Result<(usize, BackupRef)> {
    let dir = backup::resolve_dir(args.backup_dir.as_deref(), &ctx.env)?;
    let defaults = db.jwt_schema().model_defaults();
    let identity = db.identity();
    let toggle = shown.toggle;
    let mut written: Option<backup::Backup> = None;
    let result = db.write_rows(
        scope,
        &mut |current| {
            let now = time::OffsetDateTime::now_utc();
            let plan = plan_toggle(current, defaults, toggle, &change::django_timestamp(now));
            if plan.decision() != shown.decision() {
                return Err(refused(
                    "the settings changed while the plan was shown; nothing was changed: run the command again",
                ));
            }
            Ok(Some(plan.changes))
        },
        &mut |changes| {
            let now = time::OffsetDateTime::now_utc();
            let body = BackupBody {
                format: backup::FORMAT.into(),
                created_at: now.format(&time::format_description::well_known::Rfc3339)?,
                operation: operation(toggle).into(),
                command: crate::secrets::masked_command_line(std::env::args()),
                database: identity.clone(),
                toggle: Some(toggle),
                restores: None,
                rows: changes.to_vec(),
            };
            written = Some(backup::write(&dir, &backup::new_id(now, operation(toggle)), &body)?);
            Ok(())
        },
    );
    match result {
        Ok(Some(changes)) => {
            let b = written.expect("a committed change has a backup");
            Ok((changes.len(), BackupRef { id: b.id, path: b.path.display().to_string() }))
        }
        Ok(None) => unreachable!("the decision always writes the shown plan"),
        Err(err) => {
            if let Some(b) = written {
                let _ = std::fs::remove_file(&b.path);
            }
            Err(err)
        }
    }
}
