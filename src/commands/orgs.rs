//! `lsauth orgs`: every organization's token settings, stored and effective.

use super::Ctx;
use crate::db::{Access, Database, Located};
use crate::exit::ExitStatus;
use crate::outcome::orgs::{DatabaseInfo, OrgsReport, OrgsSummary};
use crate::report;
use crate::settings::{JwtFlag, OrgStatus};

/// Which database was read, as the outcome says it.
fn database_info(db: &dyn Database, located: &Located) -> DatabaseInfo {
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
    Ok(OrgsReport { database: database_info(db, located), feature_flag: flag, organizations, summary })
}

pub fn run(ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let (mut db, located) = ctx.open_db(Access::ReadOnly)?;
    let report = gather(db.as_mut(), &located, ctx.jwt_flag.clone())?;
    report::orgs::render(&report, &ctx.out)?;
    Ok(ExitStatus::Ok)
}
