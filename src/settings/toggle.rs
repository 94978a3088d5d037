//! A toggle's plan: which organizations change, and the rows before and after.

use serde::{Deserialize, Serialize};

use super::*;
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

/// `TogglePlanner` over rows read now, stamped now, refusing ids that name no organization.
#[cfg(test)]
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

    use crate::settings::rows::test_org as org;

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
