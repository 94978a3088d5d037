//! A change to the database: the one backed-up write path (`write_with_backup`) and the
//! plan it writes (`Confirmed`): made again from the rows read under the write lock and,
//! when a person was shown a plan and agreed, refused unless it decides the same.

use std::time::Duration;

use crate::backup::{self, BackupBody};
use crate::db::{self, Access, Database, OpenOptions, OrgScope};
use crate::outcome::change::BackupRef;
use crate::settings::{Decide, OrgSettings, Plan, RestorePlan, RestorePlanner, RowChange, Toggle, TogglePlanner};

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
        Ok(crate::settings::commit_state(&now, &b.body.rows))
    });
    let said = match state {
        Ok(crate::settings::CommitState::Applied) => {
            format!(
                "read again, the database shows the change APPLIED; backup {id} is its undo ({})",
                crate::text::paste::rollback(&id)
            )
        }
        Ok(crate::settings::CommitState::NotApplied) => format!(
            "read again, the database shows the change NOT applied: nothing was changed; backup {id} was kept \
             (unconfirmed) and restores nothing"
        ),
        Ok(crate::settings::CommitState::Other) => format!(
            "read again, the rows match neither the state before nor after (changed by someone else meanwhile); \
             backup {id} was kept (unconfirmed): check with {}",
            crate::text::paste::lsauth("orgs")
        ),
        Err(e) => format!(
            "and reading the rows again failed too ({e:#}): whether the change was applied is unknown; backup {id} \
             was kept (unconfirmed) at {}: check with {}",
            path.display(),
            crate::text::paste::lsauth("orgs")
        ),
    };
    crate::exit::outcome_unknown(format!("{err}: {said}"))
}

/// Apply `toggle` to `scope` under the write lock with its backup, without asking (the
/// caller has shown its own plan and asked). `Ok(None)`: nothing needed changing.
pub fn apply_toggle(
    db: &mut dyn Database,
    scope: &OrgScope,
    toggle: Toggle,
    backup_dir: &std::path::Path,
) -> anyhow::Result<Option<BackupRef>> {
    let mut deciding = Confirmed::new(TogglePlanner::stamped_now(db.jwt_schema(), toggle), None);
    let label = WriteLabel { operation: toggle.operation(), toggle: Some(toggle), restores: None };
    let written = write_with_backup(db, scope, backup_dir, label, &mut deciding)?;
    Ok(written.map(|committed| committed.backup))
}

/// A planner that sees each row as it is read under the lock, then makes its plan.
pub trait Replan {
    type Plan: Confirmable;
    fn see(&mut self, org: OrgSettings);
    fn finish(self) -> anyhow::Result<Self::Plan>;
}

/// A plan made under the lock, to be compared with the one a person was shown.
pub trait Confirmable {
    /// The plan as it was shown.
    type Shown;
    /// The refusal when the rows read under the lock decide otherwise than the plan shown.
    const CHANGED_WHILE_SHOWN: &'static str;
    /// Whether it decides as the shown one did (which organizations, what happens to each):
    /// other columns of a row may move between showing and applying without changing that.
    fn decides_as(&self, shown: &Self::Shown) -> bool;
    /// Refuse before anything is written, or ready the rows to write.
    fn ready(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Whether the plan writes anything.
    fn writes(&self) -> bool;
    fn rows(&self) -> &[RowChange];
}

/// A change decided under the lock (toggles, pin, rollback): planned as the rows are read,
/// and when a person was shown a plan first, refused unless it decides the same.
pub struct Confirmed<'s, R: Replan> {
    planner: Option<R>,
    shown: Option<&'s <R::Plan as Confirmable>::Shown>,
    /// The plan made under the lock, once made (kept when it is then refused, to show).
    plan: Option<R::Plan>,
}

impl<'s, R: Replan> Confirmed<'s, R> {
    pub fn new(planner: R, shown: Option<&'s <R::Plan as Confirmable>::Shown>) -> Self {
        Confirmed { planner: Some(planner), shown, plan: None }
    }

    /// The plan made under the lock (`None` when the write never got that far).
    pub fn into_plan(self) -> Option<R::Plan> {
        self.plan
    }
}

impl<R: Replan> Decide for Confirmed<'_, R> {
    fn see(&mut self, org: OrgSettings) -> anyhow::Result<()> {
        self.planner.as_mut().expect("rows are seen before the decision").see(org);
        Ok(())
    }

    fn decide(&mut self) -> anyhow::Result<bool> {
        let mut plan = self.planner.take().expect("decided once").finish()?;
        if self.shown.is_some_and(|shown| !plan.decides_as(shown)) {
            return Err(crate::exit::problem(R::Plan::CHANGED_WHILE_SHOWN));
        }
        let ready = plan.ready();
        let writes = plan.writes();
        self.plan = Some(plan);
        ready.map(|()| writes)
    }

    fn changes(&self) -> &[RowChange] {
        self.plan.as_ref().map_or(&[], |plan| plan.rows())
    }
}

impl Replan for TogglePlanner {
    type Plan = Plan;

    fn see(&mut self, org: OrgSettings) {
        TogglePlanner::see(self, org)
    }

    fn finish(self) -> anyhow::Result<Plan> {
        self.finish_checked()
    }
}

impl Confirmable for Plan {
    type Shown = Plan;
    const CHANGED_WHILE_SHOWN: &'static str =
        "the settings changed while the plan was shown; nothing was changed: run the command again";

    fn decides_as(&self, shown: &Plan) -> bool {
        self.decision() == shown.decision()
    }

    fn writes(&self) -> bool {
        self.changed() > 0
    }

    fn rows(&self) -> &[RowChange] {
        &self.changes
    }
}

/// A rollback's planner, with what --force allows.
pub struct RestoreReplan {
    pub planner: RestorePlanner,
    pub force: bool,
}

/// A rollback's plan made under the lock, and the rows it writes.
pub struct Restore {
    pub plan: RestorePlan,
    force: bool,
    /// The rows to write when they are not the plan's own (see `all_restored_as_written`).
    copied: Option<Vec<RowChange>>,
}

impl Replan for RestoreReplan {
    type Plan = Restore;

    fn see(&mut self, org: OrgSettings) {
        self.planner.see(org)
    }

    fn finish(self) -> anyhow::Result<Restore> {
        Ok(Restore { plan: self.planner.finish(), force: self.force, copied: None })
    }
}

impl Confirmable for Restore {
    type Shown = RestorePlan;
    const CHANGED_WHILE_SHOWN: &'static str =
        "the settings changed while the plan was shown; nothing was restored: run again";

    fn decides_as(&self, shown: &RestorePlan) -> bool {
        self.plan.same_rows_as(shown)
    }

    fn ready(&mut self) -> anyhow::Result<()> {
        if self.plan.conflicts() > 0 && !self.force {
            // Reported with the plan once the transaction has ended.
            return Err(crate::exit::problem("rows changed since the backup was taken; nothing was restored"));
        }
        if self.plan.all_restored_as_written().is_none() {
            self.copied = Some(self.plan.changes(self.force));
        }
        Ok(())
    }

    fn writes(&self) -> bool {
        !self.rows().is_empty()
    }

    fn rows(&self) -> &[RowChange] {
        self.copied.as_deref().or_else(|| self.plan.all_restored_as_written()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{plan_toggle, test_row, Setting};

    const NOW: &str = "2026-12-01 12:00:00.000000";
    const ENABLE_LEGACY: Toggle = Toggle { setting: Setting::LegacyApiTokensEnabled, enable: true };

    fn org(id: i64, legacy: bool) -> OrgSettings {
        crate::settings::test_org(id, Some(test_row(id, legacy, "2025-06-01 10:00:00.000000")))
    }

    /// What the write path does with `confirmed`: hand it the rows read under the lock.
    fn decide<R: Replan>(confirmed: &mut Confirmed<'_, R>, rows: Vec<OrgSettings>) -> anyhow::Result<bool> {
        rows.into_iter().try_for_each(|o| confirmed.see(o))?;
        confirmed.decide()
    }

    #[test]
    fn a_toggle_decided_as_shown_writes_the_rows_read_under_the_lock() {
        let shown = plan_toggle(vec![org(1, false), org(2, true)], None, ENABLE_LEGACY, NOW);
        let mut confirmed = Confirmed::new(TogglePlanner::new(None, ENABLE_LEGACY, NOW), Some(&shown));
        assert!(decide(&mut confirmed, vec![org(1, false), org(2, true)]).unwrap());
        assert_eq!(confirmed.changes().iter().map(|c| c.organization_id).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_toggle_whose_rows_changed_while_shown_is_refused() {
        let shown = plan_toggle(vec![org(1, false), org(2, true)], None, ENABLE_LEGACY, NOW);
        let mut confirmed = Confirmed::new(TogglePlanner::new(None, ENABLE_LEGACY, NOW), Some(&shown));
        // Someone turned organization 2 off meanwhile: the decision for it is another one.
        let err = decide(&mut confirmed, vec![org(1, false), org(2, false)]).unwrap_err();
        assert!(err.to_string().contains("changed while the plan was shown; nothing was changed"), "{err}");
        assert!(confirmed.changes().is_empty());
    }

    #[test]
    fn a_rollback_with_conflicts_is_refused_without_force_and_keeps_its_plan_to_show() {
        let recorded = vec![crate::settings::RowChange {
            organization_id: 1,
            before: Some(test_row(1, false, "2025-06-01 10:00:00.000000")),
            after: Some(test_row(1, true, NOW)),
        }];
        // The row is neither as the change left it nor as it was: someone changed it since.
        let mut changed = test_row(1, true, "2026-12-01 13:00:00.000000");
        changed.api_tokens_enabled = false;
        let now = || vec![OrgSettings { id: 1, title: Some("Org 1".into()), row: Some(changed.clone()) }];
        for (force, refused) in [(false, true), (true, false)] {
            let replan = RestoreReplan { planner: RestorePlanner::new(recorded.clone()), force };
            let mut confirmed = Confirmed::new(replan, None);
            assert_eq!(decide(&mut confirmed, now()).is_err(), refused, "force {force}");
            assert_eq!(confirmed.changes().len(), usize::from(!refused));
            assert_eq!(confirmed.into_plan().unwrap().plan.conflicts(), 1);
        }
    }
}
