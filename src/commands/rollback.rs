//! `lsauth rollback`: list backups, or restore the rows of one, after a conflict check,
//! taking a backup of the current state first so a rollback can itself be undone.

use serde::Serialize;

use super::{write_with_backup, BackupRef, Ctx, WriteLabel};
use crate::backup::{self, Backup, DbIdentity};
use crate::change::{plan_restore, RestorePlan};
use crate::cli::RollbackArgs;
use crate::db::{Access, OrgScope};
use crate::exit::{bad_input, refused, ExitStatus};
use crate::report;
use crate::terminal;

#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub id: String,
    pub created_at: String,
    pub operation: String,
    pub command: String,
    pub rows: usize,
    pub restores: Option<String>,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupList {
    pub database: DbIdentity,
    pub backup_dir: String,
    pub backups: Vec<BackupSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackOutcome {
    pub database: DbIdentity,
    pub backup: String,
    pub dry_run: bool,
    pub force: bool,
    pub plan: RestorePlan,
    pub restored: usize,
    /// The backup of the state before this rollback (to roll the rollback back).
    pub undo_backup: Option<BackupRef>,
}

fn summary(b: &Backup) -> BackupSummary {
    BackupSummary {
        id: b.id.clone(),
        created_at: b.body.created_at.clone(),
        operation: b.body.operation.clone(),
        command: b.body.command.join(" "),
        rows: b.body.rows.len(),
        restores: b.body.restores.clone(),
        path: b.path.display().to_string(),
    }
}

/// This database's backups, oldest first; corrupt files are reported on stderr.
fn backups_of(ctx: &Ctx, dir: &std::path::Path, identity: &DbIdentity) -> anyhow::Result<Vec<Backup>> {
    let mut mine = Vec::new();
    for entry in backup::list(dir)? {
        match entry {
            Ok(b) if &b.body.database == identity => mine.push(b),
            Ok(_) => {}
            Err((path, why)) => ctx.out.note(format!("lsauth: warning: skipping {}: {why}", path.display())),
        }
    }
    Ok(mine)
}

pub fn run(ctx: &Ctx, args: &RollbackArgs) -> anyhow::Result<ExitStatus> {
    let dir = backup::resolve_dir(args.change.backup_dir.as_deref(), &ctx.env)?;
    let read_only = args.which.list || args.change.dry_run;
    let (mut db, _) = ctx.open_db(if read_only { Access::ReadOnly } else { Access::ReadWrite })?;
    let identity = db.identity();
    if args.which.list {
        let backups = backups_of(ctx, &dir, &identity)?.iter().map(summary).collect();
        let list = BackupList { database: identity, backup_dir: dir.display().to_string(), backups };
        report::change::render_backup_list(&list, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    let chosen = match &args.which.id {
        Some(id) => backup::load(&dir, id)?,
        None => backups_of(ctx, &dir, &identity)?
            .pop()
            .ok_or_else(|| bad_input(format!("no backup of {identity} in {}", dir.display())))?,
    };
    if chosen.body.database != identity {
        return Err(bad_input(format!(
            "backup {} belongs to {}, not to this database ({identity}); nothing was restored",
            chosen.id, chosen.body.database
        )));
    }
    let scope = OrgScope::ids(chosen.body.rows.iter().map(|r| r.organization_id).collect());
    let plan = plan_restore(&db.read_scope(&scope)?, &chosen.body.rows);
    let mut outcome = RollbackOutcome {
        database: identity.clone(),
        backup: chosen.id.clone(),
        dry_run: args.change.dry_run,
        force: args.force,
        plan,
        restored: 0,
        undo_backup: None,
    };
    if outcome.plan.conflicts() > 0 && !args.force {
        report::change::render_rollback(&outcome, &ctx.out)?;
        return Err(refused(format!(
            "{} row(s) changed since backup {} was taken; nothing was restored (--force restores them anyway)",
            outcome.plan.conflicts(),
            chosen.id
        )));
    }
    if outcome.plan.changes(args.force).is_empty() || args.change.dry_run {
        report::change::render_rollback(&outcome, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    report::change::render_rollback_plan(&outcome, &ctx.out)?;
    terminal::confirm(
        &format!("Restore {} row(s) from backup {}?", outcome.plan.changes(args.force).len(), chosen.id),
        args.change.yes,
    )?;

    let shown = outcome.plan.decision();
    let force = args.force;
    let label = WriteLabel { operation: "rollback", toggle: None, restores: Some(chosen.id.clone()) };
    let written = write_with_backup(db.as_mut(), &scope, &dir, label, &mut |current| {
        let plan = plan_restore(current, &chosen.body.rows);
        if plan.decision() != shown {
            return Err(refused("the settings changed while the plan was shown; nothing was restored: run again"));
        }
        Ok(Some(plan.changes(force)))
    })?;
    if let Some((changes, backup)) = written {
        outcome.restored = changes.len();
        outcome.undo_backup = Some(backup);
    }
    report::change::render_rollback(&outcome, &ctx.out)?;
    Ok(ExitStatus::Ok)
}
