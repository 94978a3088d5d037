//! The outcome of `lsauth orgs`: every organization as stored and as Label Studio applies it.

use serde::Serialize;

use crate::settings::{JwtFlag, JwtSettings, OrgStatus};

/// Which database was read, for people and for `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseInfo {
    pub kind: &'static str,
    pub location: String,
    pub source: String,
    pub transport: Option<String>,
    pub jwt_auth_migrations: Vec<String>,
    pub label_studio_generation: &'static str,
    /// What Label Studio applies to an organization that has no settings row.
    pub defaults_without_row: JwtSettings,
    /// False when no `jwt_auth` migration is recorded: `defaults_without_row` is then a
    /// guess, and a change inserts explicit rows.
    pub defaults_known: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OrgsSummary {
    pub organizations: usize,
    pub without_settings_row: usize,
    pub legacy_disabled: usize,
    pub pat_disabled: usize,
    pub rejected_legacy_tokens: i64,
    /// Legacy tokens of inactive users: refused for that, not for the settings.
    pub inactive_legacy_token_holders: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgsReport {
    pub database: DatabaseInfo,
    /// The JWT feature flag as far as lsauth can see it (its own environment).
    pub feature_flag: JwtFlag,
    pub organizations: Vec<OrgStatus>,
    pub summary: OrgsSummary,
}
