//! Planning a settings change: which organizations change, from what to what, and the
//! exact rows before and after. Pure: the database layer reads and writes, this decides.

use serde::{Deserialize, Serialize};

use crate::settings::{JwtSchema, JwtSettings};

/// The two switches lsauth toggles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    /// `legacy_api_tokens_enabled`: `Authorization: Token <40 hex>`.
    LegacyApiTokensEnabled,
    /// `api_tokens_enabled`: Personal Access Tokens (JWT).
    ApiTokensEnabled,
}

impl Setting {
    pub fn label(self) -> &'static str {
        match self {
            Setting::LegacyApiTokensEnabled => "legacy tokens",
            Setting::ApiTokensEnabled => "PATs",
        }
    }

    pub fn get(self, s: &JwtSettings) -> bool {
        match self {
            Setting::LegacyApiTokensEnabled => s.legacy_api_tokens_enabled,
            Setting::ApiTokensEnabled => s.api_tokens_enabled,
        }
    }

    pub fn set(self, s: &mut JwtSettings, value: bool) {
        match self {
            Setting::LegacyApiTokensEnabled => s.legacy_api_tokens_enabled = value,
            Setting::ApiTokensEnabled => s.api_tokens_enabled = value,
        }
    }
}

/// "Turn this setting on (or off)".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Toggle {
    pub setting: Setting,
    pub enable: bool,
}

impl Toggle {
    /// The subcommand's name, used in backups and output.
    pub fn operation(self) -> &'static str {
        match (self.setting, self.enable) {
            (Setting::LegacyApiTokensEnabled, true) => "enable-legacy",
            (Setting::LegacyApiTokensEnabled, false) => "disable-legacy",
            (Setting::ApiTokensEnabled, true) => "enable-pat",
            (Setting::ApiTokensEnabled, false) => "disable-pat",
        }
    }
}

/// A timestamp as UTC text. Shared, not copied: a change at 100,000 organizations stamps
/// every row with the same `now`, and keeps each row's `created_at` before and after.
pub type Timestamp = std::sync::Arc<str>;

/// Timestamps as they are read (from a database or a backup), shared when equal to
/// `same_as` or to one of the few texts met last: a row keeps its `created_at` from
/// before to after, a row never changed has `created_at` = `updated_at`, and after a
/// change of `--all` every row has the same `updated_at`, met again every other text.
/// At 100,000 rows, up to 300,000 texts fewer to allocate, keep and free.
#[derive(Default)]
pub struct SharedTimes {
    recent: [Option<Timestamp>; SharedTimes::RECENT],
    /// Where the next new text goes (the oldest is replaced).
    next: usize,
}

impl SharedTimes {
    const RECENT: usize = 4;

    /// `text` as a timestamp: `same_as` or a recent one if equal, else new.
    pub fn get(&mut self, text: &str, same_as: Option<&Timestamp>) -> Timestamp {
        if let Some(t) = same_as.filter(|t| ***t == *text) {
            return t.clone();
        }
        if let Some(t) = self.recent.iter().flatten().find(|t| ***t == *text) {
            return t.clone();
        }
        let t: Timestamp = text.into();
        self.recent[self.next] = Some(t.clone());
        self.next = (self.next + 1) % Self::RECENT;
        t
    }
}

/// A `jwt_auth_jwtsettings` row exactly as stored. Timestamps are UTC text in Django's
/// SQLite format (`YYYY-MM-DD HH:MM:SS.ffffff`) on both backends, so rows compare and
/// restore byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRow {
    pub organization_id: i64,
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
    pub api_token_ttl_days: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl OrgSettings {
    /// What Label Studio applies: the row's settings, else `defaults`.
    pub fn effective(&self, defaults: JwtSettings) -> JwtSettings {
        crate::settings::effective(self.row.as_ref().map(StoredRow::settings), defaults)
    }

    /// As `effective`, when the defaults may be unknown: `None` for an organization
    /// without a row then.
    pub fn effective_if_known(&self, defaults: Option<JwtSettings>) -> Option<JwtSettings> {
        self.row.as_ref().map(StoredRow::settings).or(defaults)
    }
}

impl StoredRow {
    pub fn settings(&self) -> JwtSettings {
        JwtSettings {
            api_tokens_enabled: self.api_tokens_enabled,
            legacy_api_tokens_enabled: self.legacy_api_tokens_enabled,
            api_token_ttl_days: self.api_token_ttl_days,
        }
    }

    fn with_settings(&self, s: JwtSettings, updated_at: &Timestamp) -> StoredRow {
        StoredRow {
            organization_id: self.organization_id,
            api_tokens_enabled: s.api_tokens_enabled,
            legacy_api_tokens_enabled: s.legacy_api_tokens_enabled,
            api_token_ttl_days: s.api_token_ttl_days,
            created_at: self.created_at.clone(),
            updated_at: updated_at.clone(),
        }
    }
}

/// One organization and its row (if any), as read for a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSettings {
    pub id: i64,
    /// `None` when the organization itself no longer exists.
    pub title: Option<String>,
    pub row: Option<StoredRow>,
}

/// What happens to one organization's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowChange {
    pub organization_id: i64,
    pub before: Option<StoredRow>,
    pub after: Option<StoredRow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Already in the wanted state.
    None,
    Update,
    /// No row yet: one is inserted with Label Studio's values plus the change.
    Insert,
}

/// One line of the plan a person confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanLine {
    pub organization_id: i64,
    pub title: String,
    pub has_settings_row: bool,
    pub before: bool,
    pub after: bool,
    pub action: Action,
    /// The organization has no row and the database does not say which Label Studio
    /// defaults apply (no `jwt_auth` migration recorded): `before` is a guess, and an
    /// explicit row is inserted whatever it is.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub before_unknown: bool,
    /// A pin's row: both values it writes (those Label Studio applies today).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<Pinned>,
}

/// The two values a pinned row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pinned {
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub toggle: Toggle,
    /// A pin (`lsauth pin`): rows written with the values Label Studio applies today, for
    /// the organizations without one; `toggle` then names legacy tokens, as the lines do.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pin: bool,
    pub lines: Vec<PlanLine>,
    /// The rows that change (no-ops left out), for the backup and the write; taken out
    /// of the plan when it is applied.
    #[serde(skip)]
    pub changes: Vec<RowChange>,
    #[serde(skip)]
    changed: usize,
}

impl Plan {
    /// How many organizations change.
    pub fn changed(&self) -> usize {
        self.changed
    }

    /// The decision a person agreed to: which orgs, which action. Other columns of a
    /// row may move between showing the plan and applying it without changing that.
    pub fn decision(&self) -> Vec<(i64, Action)> {
        self.lines.iter().map(|l| (l.organization_id, l.action)).collect()
    }
}

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

/// Ids for a message: the first ten, then how many more (a message never lists 100,000).
pub fn id_list(ids: &[i64]) -> String {
    const SHOWN: usize = 10;
    let shown: Vec<String> = ids.iter().take(SHOWN).map(i64::to_string).collect();
    match ids.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{} and {more} more", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// Deciding a write from the rows read under the lock, shown one at a time in id order
/// (at 100,000 organizations they are never all held at once): `see` each row, then
/// `decide` whether to write, and which rows (`changes`).
pub trait Decide {
    fn see(&mut self, org: OrgSettings) -> anyhow::Result<()>;
    /// Once every row was seen: whether anything is to be written.
    fn decide(&mut self) -> anyhow::Result<bool>;
    /// The rows to write, once `decide` said so.
    fn changes(&self) -> &[RowChange];
}

/// `TogglePlanner` over rows read now, stamped now, refusing ids that name no organization.
pub fn plan_toggle_checked(orgs: Vec<OrgSettings>, schema: &JwtSchema, toggle: Toggle) -> anyhow::Result<Plan> {
    let mut planner = TogglePlanner::stamped_now(schema, toggle);
    orgs.into_iter().for_each(|org| planner.see(org));
    planner.finish_checked()
}

/// `TogglePlanner` over a list.
#[cfg(test)]
pub fn plan_toggle(orgs: Vec<OrgSettings>, defaults: Option<JwtSettings>, toggle: Toggle, now: &str) -> Plan {
    let mut planner = TogglePlanner::new(defaults, toggle, now);
    orgs.into_iter().for_each(|org| planner.see(org));
    planner.finish()
}

/// Decides what `toggle` does to each organization, one at a time, as the rows are read.
/// `now` stamps `updated_at` (and `created_at` of inserted rows), as Django's auto_now
/// fields would. `defaults` are what Label Studio gives an organization without a row;
/// `None` when the database does not tell, and then every organization without a row gets
/// an explicit one (the other columns with Label Studio 1.22+'s values), since its current
/// state is unknown. Takes each row by value: its title and row move into the plan
/// instead of being copied.
pub struct TogglePlanner {
    toggle: Toggle,
    /// Pin instead: see `Plan::pin`.
    pin: bool,
    defaults: Option<JwtSettings>,
    now: Timestamp,
    lines: Vec<PlanLine>,
    changes: Vec<RowChange>,
    /// Ids read that name no organization.
    missing: Vec<i64>,
}

impl TogglePlanner {
    pub fn new(defaults: Option<JwtSettings>, toggle: Toggle, now: &str) -> Self {
        TogglePlanner {
            toggle,
            pin: false,
            defaults,
            now: now.into(),
            lines: Vec::new(),
            changes: Vec::new(),
            missing: Vec::new(),
        }
    }

    /// A planner for `lsauth pin`: an explicit row, with the values Label Studio applies
    /// today, for every organization without one, so that no release's change of defaults
    /// reaches it. Organizations with a row, and a database whose defaults are unknown, are
    /// left as they are.
    pub fn pinning(defaults: Option<JwtSettings>, now: &str) -> Self {
        let legacy = Toggle { setting: Setting::LegacyApiTokensEnabled, enable: true };
        TogglePlanner { pin: true, ..Self::new(defaults, legacy, now) }
    }

    /// `pinning` for the database of `schema`, stamped now.
    pub fn pinning_now(schema: &JwtSchema) -> Self {
        Self::pinning(schema.known_defaults(), &django_timestamp(time::OffsetDateTime::now_utc()))
    }

    /// A planner for the database of `schema`, stamping rows with the time now.
    pub fn stamped_now(schema: &JwtSchema, toggle: Toggle) -> Self {
        Self::new(schema.known_defaults(), toggle, &django_timestamp(time::OffsetDateTime::now_utc()))
    }

    pub fn see(&mut self, org: OrgSettings) {
        let (toggle, defaults) = (self.toggle, self.defaults);
        if org.title.is_none() {
            self.missing.push(org.id);
        }
        let before_unknown = org.row.is_none() && defaults.is_none();
        let current = org.effective(defaults.unwrap_or(crate::settings::CURRENT_DEFAULTS));
        let before = toggle.setting.get(&current);
        let action = if self.pin {
            if org.row.is_some() || before_unknown || org.title.is_none() {
                Action::None
            } else {
                Action::Insert
            }
        } else if before == toggle.enable && !before_unknown {
            Action::None
        } else if org.row.is_some() {
            Action::Update
        } else {
            Action::Insert
        };
        let mut wanted = current;
        if !self.pin {
            toggle.setting.set(&mut wanted, toggle.enable);
        }
        let now = &self.now;
        let after_row = match (&org.row, action) {
            (_, Action::None) => None,
            (Some(row), _) => Some(row.with_settings(wanted, now)),
            (None, _) => Some(StoredRow {
                organization_id: org.id,
                api_tokens_enabled: wanted.api_tokens_enabled,
                legacy_api_tokens_enabled: wanted.legacy_api_tokens_enabled,
                api_token_ttl_days: wanted.api_token_ttl_days,
                created_at: now.clone(),
                updated_at: now.clone(),
            }),
        };
        let has_settings_row = org.row.is_some();
        if let Some(after) = after_row {
            self.changes.push(RowChange { organization_id: org.id, before: org.row, after: Some(after) });
        }
        self.lines.push(PlanLine {
            organization_id: org.id,
            title: org.title.unwrap_or_default(),
            has_settings_row,
            before,
            after: if self.pin { before } else { toggle.enable },
            action,
            before_unknown,
            pinned: (self.pin && action == Action::Insert).then_some(Pinned {
                api_tokens_enabled: wanted.api_tokens_enabled,
                legacy_api_tokens_enabled: wanted.legacy_api_tokens_enabled,
            }),
        });
    }

    pub fn finish(self) -> Plan {
        let changed = self.changes.len();
        Plan { toggle: self.toggle, pin: self.pin, lines: self.lines, changes: self.changes, changed }
    }

    /// `finish`, refusing ids that name no organization (usage: exit 2).
    pub fn finish_checked(self) -> anyhow::Result<Plan> {
        if !self.missing.is_empty() {
            return Err(crate::exit::bad_input(format!("no organization with id {}", id_list(&self.missing))));
        }
        Ok(self.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-22 12:00:00.000001";

    fn defaults() -> Option<JwtSettings> {
        Some(JwtSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: false, api_token_ttl_days: 73000 })
    }

    fn row(id: i64, api: bool, legacy: bool) -> StoredRow {
        StoredRow {
            organization_id: id,
            api_tokens_enabled: api,
            legacy_api_tokens_enabled: legacy,
            api_token_ttl_days: 30,
            created_at: "2025-01-01 00:00:00.000000".into(),
            updated_at: "2025-01-02 00:00:00.000000".into(),
        }
    }

    fn org(id: i64, r: Option<StoredRow>) -> OrgSettings {
        OrgSettings { id, title: Some(format!("org {id}")), row: r }
    }

    const ENABLE_LEGACY: Toggle = Toggle { setting: Setting::LegacyApiTokensEnabled, enable: true };

    #[test]
    fn effective_settings_are_the_row_else_the_defaults_when_known() {
        let with_row = org(1, Some(row(1, false, true)));
        let without = org(2, None);
        let d = defaults().unwrap();
        assert!(!with_row.effective(d).api_tokens_enabled, "the row wins");
        assert_eq!(without.effective(d), d);
        assert_eq!(without.effective_if_known(None), None, "no row and unknown defaults: unknown");
        assert_eq!(with_row.effective_if_known(None).map(|s| s.legacy_api_tokens_enabled), Some(true));
    }

    #[test]
    fn commit_state_tells_applied_from_not_applied() {
        let plan = plan_toggle(vec![org(1, Some(row(1, true, false))), org(2, None)], defaults(), ENABLE_LEGACY, NOW);
        let before = vec![org(1, Some(row(1, true, false))), org(2, None)];
        assert_eq!(commit_state(&before, &plan.changes), CommitState::NotApplied);
        let after: Vec<OrgSettings> = plan
            .changes
            .iter()
            .map(|c| OrgSettings { id: c.organization_id, title: None, row: c.after.clone() })
            .collect();
        assert_eq!(commit_state(&after, &plan.changes), CommitState::Applied);
        let other = vec![org(1, Some(row(1, false, false))), org(2, None)];
        assert_eq!(commit_state(&other, &plan.changes), CommitState::Other);
    }

    #[test]
    fn update_keeps_other_columns_and_stamps_updated_at() {
        let plan = plan_toggle(vec![org(1, Some(row(1, true, false)))], defaults(), ENABLE_LEGACY, NOW);
        assert_eq!(plan.lines[0].action, Action::Update);
        let after = plan.changes[0].after.clone().unwrap();
        assert!(after.legacy_api_tokens_enabled && after.api_tokens_enabled);
        assert_eq!(after.api_token_ttl_days, 30);
        assert_eq!(&*after.created_at, "2025-01-01 00:00:00.000000");
        assert_eq!(&*after.updated_at, NOW);
        assert_eq!(plan.changes[0].before, Some(row(1, true, false)));
    }

    #[test]
    fn missing_row_is_inserted_with_label_studio_values() {
        let plan = plan_toggle(vec![org(2, None)], defaults(), ENABLE_LEGACY, NOW);
        assert_eq!(plan.lines[0].action, Action::Insert);
        assert!(!plan.lines[0].before);
        let change = &plan.changes[0];
        assert_eq!(change.before, None);
        assert_eq!(
            change.after,
            Some(StoredRow {
                organization_id: 2,
                api_tokens_enabled: true,
                legacy_api_tokens_enabled: true,
                api_token_ttl_days: 73000,
                created_at: NOW.into(),
                updated_at: NOW.into(),
            })
        );
    }

    #[test]
    fn ids_that_name_no_organization_are_refused() {
        let orgs = vec![org(1, None), OrgSettings { id: 7, title: None, row: None }];
        let schema = JwtSchema { migrations: vec!["0001_initial".into()] };
        let err = plan_toggle_checked(orgs, &schema, ENABLE_LEGACY).unwrap_err();
        assert!(err.to_string().contains("no organization with id 7"), "{err}");
    }

    #[test]
    fn wanted_state_is_a_no_op_with_or_without_a_row() {
        let toggle = Toggle { setting: Setting::ApiTokensEnabled, enable: true };
        let plan = plan_toggle(vec![org(1, Some(row(1, true, false))), org(2, None)], defaults(), toggle, NOW);
        assert!(plan.lines.iter().all(|l| l.action == Action::None));
        assert_eq!(plan.changed(), 0);
        // Disabling PATs on an org without a row does need an insert.
        let toggle = Toggle { setting: Setting::ApiTokensEnabled, enable: false };
        let plan = plan_toggle(vec![org(2, None)], defaults(), toggle, NOW);
        assert_eq!(plan.lines[0].action, Action::Insert);
        assert!(!plan.changes[0].after.as_ref().unwrap().api_tokens_enabled);
        assert!(!plan.changes[0].after.as_ref().unwrap().legacy_api_tokens_enabled);
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

/// A row for tests: PATs on, `legacy` as given, created at the start of 2025.
#[cfg(test)]
pub fn test_row(id: i64, legacy: bool, updated: &str) -> StoredRow {
    StoredRow {
        organization_id: id,
        api_tokens_enabled: true,
        legacy_api_tokens_enabled: legacy,
        api_token_ttl_days: 73000,
        created_at: "2025-01-01 00:00:00.000000".into(),
        updated_at: updated.into(),
    }
}

#[cfg(test)]
mod restore_tests {
    use super::*;

    use super::test_row as row;

    fn org(id: i64, r: Option<StoredRow>) -> OrgSettings {
        OrgSettings { id, title: Some("t".into()), row: r }
    }

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
        assert_eq!(lines, vec![(2, Some("t"), Restore), (3, None, AlreadyRestored), (5, None, Conflict)]);
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

/// A UTC time in the text form Django stores in SQLite (`2026-11-22 12:00:00.000001`).
pub fn django_timestamp(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:6]");
    t.to_offset(time::UtcOffset::UTC).format(&f).expect("formatting a UTC time")
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn django_format() {
        let t = time::macros::datetime!(2026-11-22 09:05:03.25 UTC);
        assert_eq!(super::django_timestamp(t), "2026-11-22 09:05:03.250000");
    }
}

/// Where a change through the API acts: the Label Studio, the signed-in user, and that
/// user's active organization (the only one `/api/jwt/settings` changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiAccount {
    /// Label Studio's base URL, never with `user:password@`.
    pub url: String,
    pub organization_id: i64,
    pub organization_title: Option<String>,
    pub user_id: i64,
    pub user_email: Option<String>,
}

/// The two switches as `/api/jwt/settings` reads and writes them, for the caller's
/// active organization (the endpoint shows nothing else: no row, no ttl, no times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSettings {
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
}

impl ApiSettings {
    pub fn get(self, setting: Setting) -> bool {
        match setting {
            Setting::LegacyApiTokensEnabled => self.legacy_api_tokens_enabled,
            Setting::ApiTokensEnabled => self.api_tokens_enabled,
        }
    }

    /// These settings with `toggle` applied.
    pub fn toggled(self, toggle: Toggle) -> ApiSettings {
        let mut after = self;
        match toggle.setting {
            Setting::LegacyApiTokensEnabled => after.legacy_api_tokens_enabled = toggle.enable,
            Setting::ApiTokensEnabled => after.api_tokens_enabled = toggle.enable,
        }
        after
    }
}

impl std::fmt::Display for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        write!(f, "PATs {}, legacy tokens {}", on(self.api_tokens_enabled), on(self.legacy_api_tokens_enabled))
    }
}

/// What restoring an API backup means now, from the settings the server shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRestore {
    /// The settings are already what the backup holds: nothing to do.
    AlreadyRestored,
    /// The settings are what the change wrote: put the old ones back.
    Restore,
    /// The settings are neither: changed by someone since (restored only with --force).
    Conflict,
}

pub fn plan_api_restore(current: ApiSettings, before: ApiSettings, after: ApiSettings) -> ApiRestore {
    if current == before {
        ApiRestore::AlreadyRestored
    } else if current == after {
        ApiRestore::Restore
    } else {
        ApiRestore::Conflict
    }
}

#[cfg(test)]
mod api_tests {
    use super::*;

    const LEGACY_OFF: ApiSettings = ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: false };

    #[test]
    fn a_toggle_changes_one_switch_only() {
        let on = Toggle { setting: Setting::LegacyApiTokensEnabled, enable: true };
        let after = LEGACY_OFF.toggled(on);
        assert_eq!(after, ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: true });
        assert!(after.get(Setting::LegacyApiTokensEnabled) && after.get(Setting::ApiTokensEnabled));
        assert_eq!(after.toggled(on), after, "applying it twice changes nothing more");
        let pat_off = Toggle { setting: Setting::ApiTokensEnabled, enable: false };
        assert_eq!(
            LEGACY_OFF.toggled(pat_off),
            ApiSettings { api_tokens_enabled: false, legacy_api_tokens_enabled: false }
        );
    }

    #[test]
    fn a_restore_puts_back_only_what_the_change_left() {
        let after = ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: true };
        assert_eq!(plan_api_restore(after, LEGACY_OFF, after), ApiRestore::Restore);
        assert_eq!(plan_api_restore(LEGACY_OFF, LEGACY_OFF, after), ApiRestore::AlreadyRestored);
        let someone_else = ApiSettings { api_tokens_enabled: false, legacy_api_tokens_enabled: true };
        assert_eq!(plan_api_restore(someone_else, LEGACY_OFF, after), ApiRestore::Conflict);
    }
}

/// Which database a backup belongs to: a rollback refuses any other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbIdentity {
    /// `sqlite` or `postgresql`.
    pub kind: String,
    /// The absolute SQLite path, or `host:port/dbname`.
    pub location: String,
}

impl std::fmt::Display for DbIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.location)
    }
}
