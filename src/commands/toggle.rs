//! `lsauth enable-legacy | disable-legacy | enable-pat | disable-pat`: change
//! `jwt_auth_jwtsettings` for the selected organizations, after showing the plan and
//! writing a backup, in one transaction.

use super::{write_with_backup, Ctx, WriteLabel};
use crate::change::{self, Plan, Toggle};
use crate::cli::{Selection, ToggleArgs};
use crate::db::{Access, Database, OrgScope, UserLookup};
use crate::exit::{bad_input, refused, ExitStatus};
use crate::outcome::change::ToggleOutcome;
use crate::report;
use crate::terminal;

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
    let dry_run = args.change.dry_run;
    let (mut db, _) = ctx.open_db(if dry_run { Access::ReadOnly } else { Access::ReadWrite })?;
    let scope = resolve(db.as_mut(), &args.selection)?;
    let schema = db.jwt_schema().clone();
    let identity = db.identity();
    let outcome = |plan: Plan| ToggleOutcome {
        operation: toggle.operation(),
        database: identity.clone(),
        dry_run,
        plan,
        changed: 0,
        backup: None,
    };

    // A person must see the plan before being asked, so it is read once without the lock.
    // With --yes nobody is asked: the plan is made from the rows read under the lock.
    let shown = if dry_run || !args.change.yes {
        let plan = change::plan_toggle_checked(db.read_scope(&scope)?, &schema, toggle)?;
        let preview = outcome(plan);
        if preview.plan.changed() == 0 || dry_run {
            report::change::render_toggle(&preview, &ctx.out)?;
            return Ok(ExitStatus::Ok);
        }
        report::change::render_toggle_plan(&preview, &ctx.out)?;
        let question = format!("Apply {} to {} organization(s)?", preview.operation, preview.plan.changed());
        terminal::confirm(&question, args.change.yes, ctx.out.json)?;
        Some(preview.plan)
    } else {
        None
    };

    let dir = ctx.backup_dir(args.change.backup_dir.as_deref())?;
    let mut applied: Option<Plan> = None;
    let label = WriteLabel { operation: toggle.operation(), toggle: Some(toggle), restores: None };
    let written = write_with_backup(db.as_mut(), &scope, &dir, label, &mut |current| {
        let plan = change::plan_toggle_checked(current, &schema, toggle)?;
        if let Some(shown) = &shown {
            if plan.decision() != shown.decision() {
                return Err(refused(
                    "the settings changed while the plan was shown; nothing was changed: run the command again",
                ));
            }
        }
        let mut plan = plan;
        let changes = (plan.changed() > 0).then(|| std::mem::take(&mut plan.changes));
        applied = Some(plan);
        Ok(changes)
    })?;
    let mut result = outcome(applied.expect("the plan was made under the lock"));
    if let Some((changes, backup)) = written {
        result.changed = changes.len();
        result.backup = Some(backup);
        if shown.is_none() {
            report::change::render_toggle_plan(&result, &ctx.out)?;
        }
    }
    report::change::render_toggle(&result, &ctx.out)?;
    Ok(ExitStatus::Ok)
}
