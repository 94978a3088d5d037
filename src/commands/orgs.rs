//! `lsauth orgs`: every organization's token settings, stored and effective.

use serde::Serialize;

use super::Ctx;
use crate::db::{Access, Database, Located};
use crate::exit::ExitStatus;
use crate::report;
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

impl DatabaseInfo {
    pub fn of(db: &dyn Database, located: &Located) -> Self {
        let schema = db.jwt_schema();
        DatabaseInfo {
            kind: located.target.kind(),
            location: located.target.location(),
            source: located.source.clone(),
            transport: db.transport(),
            jwt_auth_migrations: schema.migrations.clone(),
            label_studio_generation: schema.version_hint(),
            defaults_without_row: schema.model_defaults(),
            defaults_known: schema.known_defaults().is_some(),
        }
    }
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

/// Read every organization and what Label Studio makes of it.
pub fn gather(db: &mut dyn Database, located: &Located, flag: JwtFlag) -> anyhow::Result<OrgsReport> {
    let defaults = db.jwt_schema().model_defaults();
    let organizations: Vec<OrgStatus> =
        db.organizations()?.into_iter().map(|r| OrgStatus::from_record(r, defaults, &flag)).collect();
    let summary = OrgsSummary {
        organizations: organizations.len(),
        without_settings_row: organizations.iter().filter(|o| !o.has_settings_row).count(),
        legacy_disabled: organizations.iter().filter(|o| !o.legacy_api_tokens_enabled).count(),
        pat_disabled: organizations.iter().filter(|o| !o.api_tokens_enabled).count(),
        rejected_legacy_tokens: organizations.iter().map(|o| o.rejected_legacy_tokens).sum(),
        inactive_legacy_token_holders: organizations.iter().map(|o| o.inactive_legacy_token_holders).sum(),
    };
    Ok(OrgsReport { database: DatabaseInfo::of(db, located), feature_flag: flag, organizations, summary })
}

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let (mut db, located) = ctx.open_db(Access::ReadOnly)?;
    let report = gather(db.as_mut(), &located, JwtFlag::from_env(&ctx.env))?;
    report::orgs::render(&report, &ctx.out)?;
    Ok(ExitStatus::Ok)
}
