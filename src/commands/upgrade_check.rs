//! `lsauth upgrade-check --to RELEASE`: before an upgrade, what it will reject that works
//! today, for whom, and the fix. Reads only.

use std::collections::HashMap;

use super::Ctx;
use crate::cli::UpgradeCheckArgs;
use crate::db::Access;
use crate::exit::{bad_input, ExitStatus};
use crate::outcome::upgrade::{FixStep, UpgradeReport};
use crate::report;
use crate::settings::releases::{self, Generation, Release};

pub fn run(ctx: &Ctx, args: &UpgradeCheckArgs) -> anyhow::Result<ExitStatus> {
    let target = releases::find(&args.to).map_err(bad_input)?;
    let (mut db, located) = ctx.open_db_any_release(Access::ReadOnly)?;
    let current = Generation::of(db.has_settings_table().then(|| db.jwt_schema()));
    if target.generation < current {
        return Err(bad_input(format!(
            "{} already runs {}: Label Studio {} is older (a downgrade; lsauth predicts upgrades)",
            located.target,
            current.describe(),
            target.version
        )));
    }
    let orgs = db.organizations()?;
    let live_pats: HashMap<i64, i64> = if db.has_settings_table() {
        db.doctor_facts()?.live_pats_by_org.into_iter().collect()
    } else {
        HashMap::new()
    };
    let flag = ctx.jwt_flag.clone();
    let organizations = releases::predict(&orgs, &live_pats, current, &target, flag.is_off());
    let sum = |f: fn(&releases::OrgPrediction) -> i64| organizations.iter().map(f).sum::<i64>();
    let breaking: Vec<i64> = organizations.iter().filter(|o| o.breaks()).map(|o| o.id).collect();
    let mut warnings = Vec::new();
    let unknown_defaults = db.has_settings_table() && db.jwt_schema().known_defaults().is_none();
    if unknown_defaults {
        warnings.push(
            "django_migrations records no jwt_auth migration: lsauth reads the database as Label Studio 1.17-1.21's"
                .into(),
        );
    }
    let report = UpgradeReport {
        to: target.version,
        database: located.target.to_string(),
        now_generation: current,
        to_generation: target.generation,
        breaks: !breaking.is_empty(),
        rejected_legacy_tokens_now: sum(|o| o.rejected_legacy_tokens_now),
        rejected_legacy_tokens_after: sum(|o| o.rejected_legacy_tokens_after),
        rejected_pats_now: sum(|o| o.rejected_pats_now),
        rejected_pats_after: sum(|o| o.rejected_pats_after),
        fix: fix(current, !unknown_defaults, &target, &breaking),
        new_organizations: new_organizations(&target),
        warnings,
        organizations,
    };
    report::upgrade::render(&report, &ctx.out)?;
    Ok(if report.breaks { ExitStatus::Problem } else { ExitStatus::Ok })
}

/// The commands that keep today's tokens through the upgrade. On 1.17-1.21 the row-less
/// organizations get explicit rows now (`pin`); before 1.17 there is no table to write
/// yet, so the rows are written right after the upgrade's migrations, which any
/// `label-studio` command runs (`label-studio version` runs them and serves nothing),
/// before the first `label-studio start` lets an integration in. Where the database does
/// not say which defaults apply today, there is nothing to pin: explicit rows with legacy
/// tokens on are written instead.
fn fix(current: Generation, defaults_known: bool, target: &Release, breaking: &[i64]) -> Vec<FixStep> {
    if breaking.is_empty() {
        return Vec::new();
    }
    let db = crate::text::paste::db_flag();
    let which = if breaking.len() == 1 { format!("--org {}", breaking[0]) } else { "--all".into() };
    match current {
        Generation::BeforeJwt => vec![
            FixStep::new(format!("pip install label-studio=={}", target.version), "the upgrade itself"),
            FixStep::new(
                "label-studio version",
                "with Label Studio's environment: it applies the migrations and serves nothing",
            ),
            FixStep::new(
                format!("lsauth{db} enable-legacy --all --yes"),
                "explicit rows with legacy tokens on, before anything connects",
            ),
            FixStep::new("label-studio start", "now integrations can connect"),
        ],
        _ if !defaults_known => vec![FixStep::new(
            format!("lsauth{db} enable-legacy {which}"),
            "before the upgrade: the database records no jwt_auth migration, so there are no known values to pin; \
             this writes explicit rows with legacy tokens on",
        )],
        _ => vec![FixStep::new(
            format!("lsauth{db} pin {which}"),
            "before the upgrade: explicit rows with today's values, which no release changes",
        )],
    }
}

fn new_organizations(target: &Release) -> String {
    if target.enable_legacy_setting {
        format!(
            "organizations created on {} get PATs on and legacy tokens only with LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
             (or label-studio start --enable-legacy-api-token) in Label Studio's environment",
            target.version
        )
    } else {
        format!(
            "organizations created on {} get PATs on and legacy tokens off (it has no setting for it)",
            target.version
        )
    }
}
