//! A rollback's plan: each backed-up row against the row now, and what a COMMIT whose
//! answer was lost left.

use serde::Serialize;

use super::*;

/// Where the rows stand against a change whose COMMIT went unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitState {
    /// Every row is as the change wrote it.
    Applied,
    /// Every row is as it was before.
    NotApplied,
    /// Neither: somebody else changed them since.
    Other,
}

/// Compare the rows read now with what the change recorded (before and after).
pub fn commit_state(now: &[OrgSettings], recorded: &[RowChange]) -> CommitState {
    let by_id: std::collections::HashMap<i64, &Option<StoredRow>> = now.iter().map(|o| (o.id, &o.row)).collect();
    let matches = |pick: fn(&RowChange) -> &Option<StoredRow>| {
        recorded.iter().all(|c| by_id.get(&c.organization_id).is_some_and(|row| same_values(row, pick(c))))
    };
    if matches(|c| &c.after) {
        CommitState::Applied
    } else if matches(|c| &c.before) {
        CommitState::NotApplied
    } else {
        CommitState::Other
    }
}

/// The same settings (timestamps may be stored with another precision).
fn same_values(a: &Option<StoredRow>, b: &Option<StoredRow>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.settings() == b.settings(),
        _ => false,
    }
}

/// What a rollback does to one organization's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreState {
    /// The row is as the change left it: it goes back to how it was before.
    Restore,
    /// The row is already as it was before the change: nothing to do.
    AlreadyRestored,
    /// Someone changed the row since: restored only with `--force`.
    Conflict,
}

/// One line of a rollback's plan, as reported (`--json` lists every line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreLine<'a> {
    pub organization_id: i64,
    pub title: Option<&'a str>,
    pub state: RestoreState,
    /// The row now (`null`: no row).
    pub current: &'a Option<StoredRow>,
    /// The row as the change wrote it.
    pub written: &'a Option<StoredRow>,
    /// The row it goes back to (`null`: the row is deleted).
    pub restore_to: &'a Option<StoredRow>,
}

/// A rollback's plan: the backup's rows, and beside each what was found now. The rows
/// are kept as a rollback writes them (`before`: as the change wrote it, `after`: as it
/// was before the change), so that when every row is found as the change wrote it (the
/// usual case) they are the rows to write, without a copy. The row found is kept only
/// when it is neither (a conflict): at 100,000 organizations the plan holds the backup's
/// rows once, not three times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestorePlan {
    /// Sorted by organization id.
    rows: Vec<RowChange>,
    /// One per row, in the same order.
    found: Vec<Found>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    title: Option<String>,
    now: Now,
}

/// The row found now, against the backup's.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Now {
    /// As it was before the change.
    AsBefore,
    /// As the change wrote it.
    AsWritten,
    /// Neither.
    Other(Box<Option<StoredRow>>),
}

impl Found {
    /// `row` found now against `undo` (a backup's row turned around).
    fn judge(undo: &RowChange, title: Option<String>, row: Option<StoredRow>) -> Found {
        let now = if row == undo.after {
            Now::AsBefore
        } else if row == undo.before {
            Now::AsWritten
        } else {
            Now::Other(Box::new(row))
        };
        Found { title, now }
    }
}

impl Serialize for RestorePlan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Lines<'a>(&'a RestorePlan);
        impl Serialize for Lines<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.lines())
            }
        }
        let mut plan = serializer.serialize_struct("RestorePlan", 1)?;
        plan.serialize_field("lines", &Lines(self))?;
        plan.end()
    }
}

impl RestorePlan {
    /// The lines in organization id order.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = RestoreLine<'_>> + '_ {
        self.rows.iter().zip(&self.found).map(|(undo, found)| {
            let (state, current) = match &found.now {
                Now::AsBefore => (RestoreState::AlreadyRestored, &undo.after),
                Now::AsWritten => (RestoreState::Restore, &undo.before),
                Now::Other(row) => (RestoreState::Conflict, &**row),
            };
            RestoreLine {
                organization_id: undo.organization_id,
                title: found.title.as_deref(),
                state,
                current,
                written: &undo.before,
                restore_to: &undo.after,
            }
        })
    }

    pub fn conflicts(&self) -> usize {
        self.found.iter().filter(|f| matches!(f.now, Now::Other(_))).count()
    }

    fn writes(line: &RestoreLine<'_>, force: bool) -> bool {
        line.state == RestoreState::Restore || (force && line.state == RestoreState::Conflict)
    }

    /// How many rows `changes(force)` writes.
    pub fn to_restore(&self, force: bool) -> usize {
        self.lines().filter(|l| Self::writes(l, force)).count()
    }

    /// The rows to write when every row is found as the change wrote it (the usual case):
    /// the plan's own, without a copy (a second copy of every row at scale; the memory
    /// figures are in docs/performance.md). Else `None`:
    /// see `changes`.
    pub fn all_restored_as_written(&self) -> Option<&[RowChange]> {
        self.found.iter().all(|f| f.now == Now::AsWritten).then_some(&self.rows[..])
    }

    /// The rows to write: those to restore, and the conflicts too when forced.
    pub fn changes(&self, force: bool) -> Vec<RowChange> {
        let mut changes = Vec::with_capacity(self.to_restore(force));
        changes.extend(self.lines().filter(|l| Self::writes(l, force)).map(|l| RowChange {
            organization_id: l.organization_id,
            before: l.current.clone(),
            after: l.restore_to.clone(),
        }));
        changes
    }

    /// Whether `other`, planned from the rows read later, found every row as this plan did
    /// (titles aside): what a person saw is what would be written.
    pub fn same_rows_as(&self, other: &RestorePlan) -> bool {
        self.rows.len() == other.rows.len() && self.lines().zip(other.lines()).all(|(a, b)| a.current == b.current)
    }

    /// The organizations (id, title) whose legacy tokens Label Studio accepts now and would
    /// reject once restored, under `defaults` (what this release applies to an
    /// organization without a row): a pin undone after the upgrade to 1.22+ restores "no
    /// row", which is legacy tokens off there.
    /// Borrowed lines, nothing copied: the undo of an --all names 100,000 of them.
    pub fn legacy_rejected_after(
        &self,
        force: bool,
        defaults: super::JwtSettings,
    ) -> impl Iterator<Item = RestoreLine<'_>> + '_ {
        let legacy = move |row: &Option<StoredRow>| {
            super::effective(row.as_ref().map(StoredRow::settings), defaults).legacy_api_tokens_enabled
        };
        self.lines().filter(move |l| Self::writes(l, force) && legacy(l.current) && !legacy(l.restore_to))
    }

    /// A planner for the same backup rows, to plan again from rows read later.
    pub fn plan_again(&self) -> RestorePlanner {
        RestorePlanner::from_undo(self.rows.clone())
    }
}

/// Plans a rollback from the rows now, shown one at a time in id order, against a
/// backed-up change. The backup's rows are sorted by id once; each row read is matched
/// by walking them along (a merge): linear, with no map to build and no list of the rows
/// read. The row read moves into the plan only when it is a conflict.
#[derive(Debug, Default)]
pub struct RestorePlanner {
    plan: RestorePlan,
}

impl RestorePlanner {
    /// For the rows a backup recorded (`before` and `after` the change).
    pub fn new(mut recorded: Vec<RowChange>) -> Self {
        for change in &mut recorded {
            std::mem::swap(&mut change.before, &mut change.after);
        }
        Self::from_undo(recorded)
    }

    fn from_undo(mut rows: Vec<RowChange>) -> Self {
        // Stable, and linear on a backup in id order (as lsauth writes them).
        rows.sort_by_key(|c| c.organization_id);
        let found = Vec::with_capacity(rows.len());
        RestorePlanner { plan: RestorePlan { rows, found } }
    }

    fn next_row(&self) -> Option<&RowChange> {
        self.plan.rows.get(self.plan.found.len())
    }

    pub fn see(&mut self, org: OrgSettings) {
        // Backup rows before this id: their organization was not read (it no longer exists).
        while self.next_row().is_some_and(|c| c.organization_id < org.id) {
            self.judge_next(None, None);
        }
        let (mut title, mut row) = (org.title, org.row);
        while self.next_row().is_some_and(|c| c.organization_id == org.id) {
            let again = self.plan.rows.get(self.plan.found.len() + 1).is_some_and(|c| c.organization_id == org.id);
            if again {
                self.judge_next(title.clone(), row.clone());
            } else {
                self.judge_next(title.take(), row.take());
            }
        }
    }

    fn judge_next(&mut self, title: Option<String>, row: Option<StoredRow>) {
        let found = Found::judge(&self.plan.rows[self.plan.found.len()], title, row);
        self.plan.found.push(found);
    }

    pub fn finish(mut self) -> RestorePlan {
        while self.next_row().is_some() {
            self.judge_next(None, None);
        }
        self.plan
    }
}

/// `RestorePlanner` over a list, in any order.
#[cfg(test)]
pub fn plan_restore(current: Vec<OrgSettings>, recorded: Vec<RowChange>) -> RestorePlan {
    let mut current = current;
    current.sort_by_key(|o| o.id);
    let mut planner = RestorePlanner::new(recorded);
    current.into_iter().for_each(|org| planner.see(org));
    planner.finish()
}

#[cfg(test)]
mod restore_tests {
    use super::*;

    use super::test_row as row;

    use crate::settings::rows::test_org as org;

    #[test]
    fn each_row_is_restored_kept_or_in_conflict() {
        let recorded = vec![
            RowChange { organization_id: 1, before: Some(row(1, false, "a")), after: Some(row(1, true, "b")) },
            RowChange { organization_id: 2, before: None, after: Some(row(2, true, "b")) },
            RowChange { organization_id: 3, before: Some(row(3, false, "a")), after: Some(row(3, true, "b")) },
            RowChange { organization_id: 4, before: Some(row(4, false, "a")), after: Some(row(4, true, "b")) },
        ];
        let current = vec![
            org(1, Some(row(1, true, "b"))),
            org(2, Some(row(2, true, "b"))),
            org(3, Some(row(3, false, "c"))),
            org(4, Some(row(4, false, "a"))),
        ];
        let plan = plan_restore(current.clone(), recorded.clone());
        let states: Vec<_> = plan.lines().map(|l| l.state).collect();
        use RestoreState::*;
        assert_eq!(states, vec![Restore, Restore, Conflict, AlreadyRestored]);
        assert_eq!(plan.conflicts(), 1);
        let changes = plan.changes(false);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].before, Some(row(1, true, "b")), "written back over the row the change wrote");
        assert_eq!(changes[1].after, None, "an inserted row is deleted again");
        assert_eq!(plan.changes(true).len(), 3);
        assert!(plan.same_rows_as(&plan_restore(current.clone(), recorded.clone())));
        let mut moved = current.clone();
        moved[2] = org(3, Some(row(3, false, "d")));
        assert!(!plan.same_rows_as(&plan_restore(moved, recorded.clone())), "a row changed since the plan was shown");
        let mut retitled = current;
        retitled[0].title = Some("renamed".into());
        assert!(plan.same_rows_as(&plan_restore(retitled, recorded)), "a new title changes no row");
    }

    #[test]
    fn backup_rows_find_their_organization_by_id_in_any_order_and_when_it_is_gone() {
        let recorded = vec![
            // Its organization was deleted since: nothing found, not what the change wrote.
            RowChange { organization_id: 5, before: Some(row(5, false, "a")), after: Some(row(5, true, "b")) },
            RowChange { organization_id: 2, before: Some(row(2, false, "a")), after: Some(row(2, true, "b")) },
            // Inserted by the change, its organization deleted since: already as before (no row).
            RowChange { organization_id: 3, before: None, after: Some(row(3, true, "b")) },
        ];
        let mut planner = RestorePlanner::new(recorded);
        // Rows come in id order, with organizations the backup does not name.
        planner.see(org(1, Some(row(1, true, "z"))));
        planner.see(org(2, Some(row(2, true, "b"))));
        planner.see(org(4, None));
        let plan = planner.finish();
        let lines: Vec<_> = plan.lines().map(|l| (l.organization_id, l.title, l.state)).collect();
        use RestoreState::*;
        assert_eq!(lines, vec![(2, Some("Org 2"), Restore), (3, None, AlreadyRestored), (5, None, Conflict)]);
        let line5 = plan.lines().last().unwrap();
        assert_eq!((line5.current, line5.written), (&None, &Some(row(5, true, "b"))));
        assert_eq!(plan.to_restore(false), 1);
        assert_eq!(plan.changes(true).len(), 2, "forced: the gone row is inserted again as it was");
        assert_eq!(plan.changes(true)[1].before, None);
    }

    #[test]
    fn rows_all_as_the_change_wrote_them_are_written_back_without_a_copy() {
        let recorded = vec![
            RowChange { organization_id: 1, before: Some(row(1, false, "a")), after: Some(row(1, true, "b")) },
            RowChange { organization_id: 2, before: None, after: Some(row(2, true, "b")) },
        ];
        let written = vec![org(1, Some(row(1, true, "b"))), org(2, Some(row(2, true, "b")))];
        let plan = plan_restore(written, recorded.clone());
        let own = plan.all_restored_as_written().expect("every row as written");
        assert_eq!(own, &plan.changes(false)[..], "the plan's own rows are the rows to write");
        assert_eq!(own[1], RowChange { organization_id: 2, before: Some(row(2, true, "b")), after: None });
        let one_restored = vec![org(1, Some(row(1, false, "a"))), org(2, Some(row(2, true, "b")))];
        let plan = plan_restore(one_restored, recorded);
        assert!(plan.all_restored_as_written().is_none());
        assert_eq!(plan.changes(false).len(), 1);
    }

    #[test]
    fn timestamps_met_again_are_shared_not_allocated() {
        let mut shared = SharedTimes::default();
        let (a, b) = (shared.get("2025-01-01 00:00:00.000000", None), shared.get("2026-11-23 00:00:00.000000", None));
        for _ in 0..3 {
            assert!(std::sync::Arc::ptr_eq(&a, &shared.get("2025-01-01 00:00:00.000000", None)));
            assert!(std::sync::Arc::ptr_eq(&b, &shared.get("2026-11-23 00:00:00.000000", None)));
        }
        let created = shared.get("2020-05-05 00:00:00.000000", None);
        assert!(std::sync::Arc::ptr_eq(&created, &shared.get("2020-05-05 00:00:00.000000", Some(&created))));
    }

    #[test]
    fn id_lists_in_messages_stay_short() {
        assert_eq!(id_list(&[3, 5]), "3, 5");
        let many: Vec<i64> = (1..=100_000).collect();
        assert_eq!(id_list(&many), "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 99990 more");
    }

    /// The rollback of `--all` at 100,000 organizations: documents that planning is
    /// n log n (a linear lookup per row was quadratic: 10^10 comparisons, minutes even in
    /// release).
    #[test]
    fn a_restore_of_100000_rows_is_planned_without_quadratic_lookups() {
        let n = 100_000;
        let recorded: Vec<RowChange> = (1..=n)
            .map(|id| RowChange {
                organization_id: id,
                before: (id % 2 == 0).then(|| row(id, false, "a")),
                after: Some(row(id, true, "b")),
            })
            .collect();
        // Rows come back from the database in another order than the backup's.
        let current: Vec<OrgSettings> = (1..=n).rev().map(|id| org(id, Some(row(id, true, "b")))).collect();
        let plan = plan_restore(current, recorded);
        assert_eq!(plan.lines().len(), n as usize);
        assert!(plan.lines().all(|l| l.state == RestoreState::Restore));
        assert_eq!(plan.changes(false).iter().filter(|c| c.after.is_none()).count(), n as usize / 2);
    }
}
