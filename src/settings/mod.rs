//! The `jwt_auth_jwtsettings` domain: what a row says, what Label Studio does when an
//! organization has no row, and which organizations reject legacy tokens. Pure.
//!
//! And planning a change to them: `rows` (the settings rows as stored and as written),
//! `toggle` (a toggle's plan), `restore` (a rollback's plan, what an unconfirmed commit
//! left), `api` (the same for a change through Label Studio's API); `releases` (what each
//! release does to them). Pure: the database layer reads and writes, this decides.

mod api;
pub mod releases;
mod restore;
mod rows;
mod toggle;

pub use api::*;
pub use restore::*;
pub use rows::*;
pub use toggle::*;
// The rules that depend on the release (defaults without a row, which migrations a release
// has) are the release table's, in `releases`.
pub use releases::{release_mismatch, CURRENT_DEFAULTS};

use serde::{Deserialize, Serialize};

/// Label Studio's `api_token_ttl_days` default: 200 years, in both migrations.
pub const DEFAULT_TTL_DAYS: i64 = 73000;

/// The three values of a `jwt_auth_jwtsettings` row that decide authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct JwtSettings {
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
    pub api_token_ttl_days: i64,
}

/// The settings Label Studio applies to an organization: its row's, else the model
/// defaults (the row is created lazily with them on first use). The one place that rule
/// lives.
pub fn effective(stored: Option<JwtSettings>, defaults: JwtSettings) -> JwtSettings {
    stored.unwrap_or(defaults)
}

/// Why an organization's stored row says what it says, in terms of Label Studio's
/// history: a row with PATs off and legacy tokens on is what Label Studio 1.17 to 1.21
/// created (jwt_auth 0001's defaults) when a token was first used; 1.22 changed the
/// defaults but not existing rows. Without a row, what Label Studio applies tells the
/// generation: legacy tokens on (`legacy_effective`) is 1.17-1.21's 0001 defaults.
pub fn row_history(stored: Option<JwtSettings>, legacy_effective: bool) -> Option<&'static str> {
    match stored {
        Some(s) if !s.api_tokens_enabled && s.legacy_api_tokens_enabled => Some(
            "its row has Label Studio 1.17-1.21's defaults (PATs off, legacy tokens on), as created on first use \
             under those releases; Label Studio 1.22 changed the defaults but not existing rows",
        ),
        None if legacy_effective => Some(
            "it has no row: Label Studio 1.17-1.21 creates one on first use with jwt_auth 0001's defaults (PATs \
             off, legacy tokens on); upgraded to 1.22 or later before that, it gets 1.22's instead (legacy tokens \
             off): lsauth pin writes today's values now",
        ),
        None => Some(
            "it has no row: Label Studio creates one on first use with the defaults of the release running then \
             (1.22+: legacy tokens off, PATs on), which is how an instance upgraded from before 1.17 loses its \
             legacy tokens on the first request",
        ),
        _ => None,
    }
}

/// A Label Studio release as (major, minor), from `/api/version`'s "1.23.2".
pub fn release_minor(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok()?;
    Some((major, minor))
}

/// The feature flag that switches the whole JWT/legacy machinery on (on by default in
/// Label Studio 1.21 to 1.23.2).
pub const JWT_FLAG: &str = "fflag__feature_develop__prompts__dia_1829_jwt_token_auth";

/// What lsauth can see of that flag: only a variable in its own environment (with
/// Label Studio's prefixes). Label Studio's own environment may differ; `Default` means
/// lsauth saw no override, not that the server has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JwtFlag {
    Default,
    On {
        variable: String,
    },
    Off {
        variable: String,
    },
    /// Set to something Label Studio's boolean parser does not read as on or off.
    Unreadable {
        variable: String,
        value: String,
    },
}

impl JwtFlag {
    pub fn from_env(env: &crate::environment::Environment) -> Self {
        let Some(found) = env.label_studio(JWT_FLAG) else { return JwtFlag::Default };
        match parse_bool(&found.value) {
            Some(true) => JwtFlag::On { variable: found.var },
            Some(false) => JwtFlag::Off { variable: found.var },
            None => JwtFlag::Unreadable { variable: found.var, value: found.value },
        }
    }

    pub fn is_off(&self) -> bool {
        matches!(self, JwtFlag::Off { .. })
    }
}

/// Label Studio's boolean environment values (`core/utils/params.py`).
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "off" | "n" | "f" | "" => Some(false),
        _ => None,
    }
}

/// Which `jwt_auth` migrations a database has, which tells the Label Studio generation
/// and so the model defaults an organization without a row gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JwtSchema {
    /// Applied `jwt_auth` migrations, e.g. `["0001_initial", "0002_alter_..."]`.
    pub migrations: Vec<String>,
}

impl JwtSchema {
    /// Migration 0002 (Label Studio 1.22, 2025-10) flipped the model defaults.
    pub fn has_flipped_defaults(&self) -> bool {
        self.migrations.iter().any(|m| m.starts_with("0002"))
    }
}

/// One organization as the database shows it, before any interpretation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: i64,
    pub title: String,
    pub creator_email: Option<String>,
    pub active_members: i64,
    pub stored: Option<JwtSettings>,
    /// Active users whose *active* organization this is and who hold a legacy token:
    /// the organization Label Studio consults for their token.
    pub legacy_token_holders: i64,
    /// The same for inactive users: their tokens fail anyway ("User inactive or
    /// deleted"), whatever the settings say.
    pub inactive_legacy_token_holders: i64,
}

/// An organization with the values Label Studio will apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgStatus {
    pub id: i64,
    pub title: String,
    pub creator_email: Option<String>,
    pub active_members: i64,
    pub has_settings_row: bool,
    /// Effective values: the row's, or the model defaults when there is no row.
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
    pub api_token_ttl_days: i64,
    /// The row as stored, `null` when there is none.
    pub stored: Option<JwtSettings>,
    pub legacy_token_holders: i64,
    /// Legacy tokens of this org's active users that Label Studio answers with 401
    /// because of the settings.
    pub rejected_legacy_tokens: i64,
    /// Legacy tokens of inactive users (refused for that reason, not counted above).
    pub inactive_legacy_token_holders: i64,
}

impl OrgStatus {
    /// The organization as Label Studio treats it: its row, or the defaults; and with the
    /// JWT feature flag off (where lsauth can see it), legacy tokens accepted whatever the
    /// settings say.
    pub fn from_record(record: OrgRecord, defaults: JwtSettings, flag: &JwtFlag) -> Self {
        let effective = effective(record.stored, defaults);
        let legacy_checked = !flag.is_off() && !effective.legacy_api_tokens_enabled;
        OrgStatus {
            id: record.id,
            title: record.title,
            creator_email: record.creator_email,
            active_members: record.active_members,
            has_settings_row: record.stored.is_some(),
            api_tokens_enabled: effective.api_tokens_enabled,
            legacy_api_tokens_enabled: effective.legacy_api_tokens_enabled,
            api_token_ttl_days: effective.api_token_ttl_days,
            stored: record.stored,
            legacy_token_holders: record.legacy_token_holders,
            rejected_legacy_tokens: if legacy_checked { record.legacy_token_holders } else { 0 },
            inactive_legacy_token_holders: record.inactive_legacy_token_holders,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values() {
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }

    fn schema(m: &[&str]) -> JwtSchema {
        JwtSchema { migrations: m.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn releases_and_migrations_must_agree() {
        let new = schema(&["0001_initial", "0002_alter_jwtsettings_api_tokens_enabled_and_more"]);
        let old = schema(&["0001_initial"]);
        assert_eq!(release_mismatch("1.23.2", &new), None);
        assert_eq!(release_mismatch("1.21.0", &old), None);
        assert!(release_mismatch("1.21.0", &new).unwrap().contains("0001 only"));
        assert!(release_mismatch("1.23.2", &old).unwrap().contains("0001 and 0002"));
        assert_eq!(release_minor("1.22.0rc1"), Some((1, 22)));
        assert_eq!(release_mismatch("garbage", &new), None);
    }

    #[test]
    fn row_history_names_the_releases() {
        let old_row = JwtSettings { api_tokens_enabled: false, legacy_api_tokens_enabled: true, api_token_ttl_days: 1 };
        assert!(row_history(Some(old_row), true).unwrap().contains("1.17-1.21"));
        assert!(row_history(None, false).unwrap().contains("1.22+: legacy tokens off"));
        // On 1.17-1.21 the first request creates 0001's defaults: legacy tokens stay on.
        let rowless_0001 = row_history(None, true).unwrap();
        assert!(rowless_0001.contains("0001's defaults (PATs off, legacy tokens on)"), "{rowless_0001}");
        assert!(rowless_0001.contains("lsauth pin"), "{rowless_0001}");
        assert_eq!(row_history(Some(CURRENT_DEFAULTS), false), None);
    }

    #[test]
    fn defaults_follow_the_0002_flip() {
        let new = schema(&["0001_initial", "0002_alter_jwtsettings_api_tokens_enabled_and_more"]);
        assert_eq!(
            new.model_defaults(),
            JwtSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: false, api_token_ttl_days: 73000 }
        );
        let old = schema(&["0001_initial"]);
        assert_eq!(
            old.model_defaults(),
            JwtSettings { api_tokens_enabled: false, legacy_api_tokens_enabled: true, api_token_ttl_days: 73000 }
        );
        assert!(new.version_hint().contains("1.22"));
        assert!(old.version_hint().contains("1.17"));
    }

    fn record(stored: Option<JwtSettings>, holders: i64) -> OrgRecord {
        OrgRecord {
            id: 7,
            title: "T".into(),
            creator_email: None,
            active_members: 2,
            stored,
            legacy_token_holders: holders,
            inactive_legacy_token_holders: 1,
        }
    }

    #[test]
    fn org_without_row_gets_defaults_and_rejects_legacy_tokens() {
        let defaults = schema(&["0001_initial", "0002_x"]).model_defaults();
        let status = OrgStatus::from_record(record(None, 3), defaults, &JwtFlag::Default);
        assert!(!status.has_settings_row);
        assert!(!status.legacy_api_tokens_enabled);
        assert_eq!(status.rejected_legacy_tokens, 3);
        assert_eq!(status.stored, None);
    }

    #[test]
    fn stored_row_wins_over_defaults() {
        let defaults = schema(&["0001_initial", "0002_x"]).model_defaults();
        let row = JwtSettings { api_tokens_enabled: false, legacy_api_tokens_enabled: true, api_token_ttl_days: 30 };
        let status = OrgStatus::from_record(record(Some(row), 3), defaults, &JwtFlag::Default);
        assert!(status.has_settings_row);
        assert!(status.legacy_api_tokens_enabled && !status.api_tokens_enabled);
        assert_eq!(status.api_token_ttl_days, 30);
        assert_eq!(status.rejected_legacy_tokens, 0);
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
