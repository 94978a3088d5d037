//! orgs.*: each organization's token settings against the tokens its users hold.

use super::inputs::{DatabaseInputs, Inputs};
use crate::db;
use crate::outcome::checks::{Checks, Section};
use crate::report;
use crate::report::style::{count, count_s};
use crate::settings::{JwtSchema, OrgStatus};
use crate::text::paste;

pub fn checks(checks: &mut Checks, inputs: &Inputs) {
    let DatabaseInputs::Open(read) = &inputs.database else { return };
    // Organizations that could not be read were reported by database.error.
    let orgs = read.orgs.as_deref().unwrap_or(&[]);
    let flag_off = inputs.flag.is_off();
    legacy_disabled_check(checks, orgs, flag_off, inputs.sources.migrate_env.as_deref());
    missing_row_check(checks, &read.schema, orgs);
    upgrade_risk_check(checks, flag_off, &read.schema, orgs);
    match &read.facts {
        Ok(facts) => {
            pat_disabled_check(checks, facts, orgs);
            creator_check(checks, facts);
        }
        Err(error) => {
            checks.fail("orgs.error", Section::Organizations, "this check could not run").detail(error.clone());
        }
    }
}

/// How many organizations a fix lists by id before it says --all.
const LIST_LIMIT: usize = 10;

fn org_flags(ids: &[i64], total_orgs: usize) -> String {
    if ids.len() > LIST_LIMIT || (ids.len() == total_orgs && total_orgs > 1) {
        "--all".into()
    } else {
        ids.iter().map(|id| format!("--org {id}")).collect::<Vec<_>>().join(" ")
    }
}

fn describe_orgs(orgs: &[&OrgStatus], what: impl Fn(&OrgStatus) -> String) -> String {
    let mut lines: Vec<String> = orgs
        .iter()
        .take(LIST_LIMIT)
        .map(|o| format!("organization {} {}: {}", o.id, crate::text::shown::quoted(&o.title), what(o)))
        .collect();
    if orgs.len() > LIST_LIMIT {
        lines.push(format!("... and {} more ({} lists them all)", orgs.len() - LIST_LIMIT, paste::lsauth("orgs")));
    }
    lines.join("\n")
}

/// orgs.upgrade_risk (Label Studio 1.17 to 1.21 only): organizations without a row whose
/// users hold legacy tokens keep them now and lose them on 1.22+, which gives a row-less
/// organization its new defaults. `lsauth pin` writes today's values first.
fn upgrade_risk_check(checks: &mut Checks, flag_off: bool, schema: &JwtSchema, orgs: &[OrgStatus]) {
    use crate::settings::releases::Generation;
    // With the JWT flag off (as lsauth sees it) legacy tokens are accepted whatever the row.
    if Generation::of(Some(schema)) != Generation::Initial || schema.known_defaults().is_none() || flag_off {
        return;
    }
    let sec = Section::Organizations;
    let at_risk: Vec<&OrgStatus> = orgs
        .iter()
        .filter(|o| !o.has_settings_row && o.legacy_api_tokens_enabled && o.legacy_token_holders > 0)
        .collect();
    if at_risk.is_empty() {
        checks.pass("orgs.upgrade_risk", sec, "an upgrade to 1.22+ keeps every legacy token that works today");
        return;
    }
    let tokens: i64 = at_risk.iter().map(|o| o.legacy_token_holders).sum();
    let ids: Vec<i64> = at_risk.iter().map(|o| o.id).collect();
    let which = org_flags(&ids, orgs.len());
    checks
        .warn(
            "orgs.upgrade_risk",
            sec,
            format!(
                "{} without a settings row will reject {} after an upgrade to 1.22 or later",
                count_s(ids.len(), "organization"),
                count_s(tokens as usize, "legacy token")
            ),
        )
        .detail(format!(
            "{}\npin them before upgrading ({} predicts every organization)",
            describe_orgs(&at_risk, |o| {
                format!(
                    "no row: {} accepted now, rejected on 1.22+",
                    count_s(o.legacy_token_holders as usize, "legacy token")
                )
            }),
            paste::lsauth("upgrade-check --to latest")
        ))
        .fix(paste::lsauth(&format!("pin {which}")));
}

/// orgs.legacy_disabled: organizations that reject the legacy tokens their users hold.
fn legacy_disabled_check(checks: &mut Checks, orgs: &[OrgStatus], flag_off: bool, migrate_env: Option<&str>) {
    let sec = Section::Organizations;
    let total = orgs.len();
    let rejecting: Vec<&OrgStatus> = orgs.iter().filter(|o| o.rejected_legacy_tokens > 0).collect();
    if total == 0 {
        checks.skip("orgs.legacy_disabled", sec, "no organizations yet");
    } else if rejecting.is_empty() {
        checks.pass("orgs.legacy_disabled", sec, "no legacy token is rejected by its owner's organization");
    } else if flag_off {
        checks.pass("orgs.legacy_disabled", sec, "legacy tokens are accepted (the JWT feature flag is off)");
    } else {
        let users: i64 = rejecting.iter().map(|o| o.rejected_legacy_tokens).sum();
        let ids: Vec<i64> = rejecting.iter().map(|o| o.id).collect();
        let mut detail = describe_orgs(&rejecting, |o| {
            format!(
                "{} with a legacy token, legacy tokens off{}",
                count_s(o.rejected_legacy_tokens as usize, "user"),
                if o.has_settings_row { "" } else { " (no settings row: the 1.22+ default)" }
            )
        });
        if let Some(command) = migrate_env {
            detail.push_str(&format!("\nor move the integration to a PAT: {command}"));
        }
        let check = checks
            .fail(
                "orgs.legacy_disabled",
                sec,
                format!(
                    "{} the legacy tokens of {} (401 \"legacy token authentication has been disabled\")",
                    count(rejecting.len(), "organization rejects", "organizations reject"),
                    count_s(users as usize, "user")
                ),
            )
            .detail(detail)
            .fix(paste::lsauth(&format!("enable-legacy {}", org_flags(&ids, total))));
        for id in ids {
            check.covers(format!("legacy_off:{id}"));
        }
    }
}

/// orgs.missing_settings_row: organizations Label Studio gives its model defaults.
fn missing_row_check(checks: &mut Checks, schema: &JwtSchema, orgs: &[OrgStatus]) {
    let sec = Section::Organizations;
    let total = orgs.len();
    let rowless: Vec<&OrgStatus> = orgs.iter().filter(|o| !o.has_settings_row).collect();
    if rowless.is_empty() {
        checks.pass("orgs.missing_settings_row", sec, "every organization has a jwt_auth_jwtsettings row");
    } else {
        let d = schema.model_defaults();
        let ids: Vec<i64> = rowless.iter().map(|o| o.id).collect();
        let check = checks
            .warn(
                "orgs.missing_settings_row",
                sec,
                format!(
                    "{} no jwt_auth_jwtsettings row",
                    count(rowless.len(), "organization has", "organizations have")
                ),
            )
            .detail(format!(
                "Label Studio applies its model defaults to them: PATs {}, legacy tokens {} ({}){}\n{}",
                report::on_off(d.api_tokens_enabled),
                report::on_off(d.legacy_api_tokens_enabled),
                schema.version_hint(),
                if d.legacy_api_tokens_enabled { "" } else { "; the fix is for integrations that use legacy tokens" },
                describe_orgs(&rowless, |_| "no row".into())
            ))
            .fix(if d.legacy_api_tokens_enabled {
                // 1.17-1.21: legacy tokens are on for them now; the row keeps them so.
                paste::lsauth(&format!("pin {}", org_flags(&ids, total)))
            } else {
                paste::lsauth(&format!("enable-legacy {}", org_flags(&ids, total)))
            });
        if !d.legacy_api_tokens_enabled {
            // Their legacy tokens rejected are orgs.legacy_disabled's cause, said once there.
            for o in rowless.iter().filter(|o| o.rejected_legacy_tokens > 0) {
                check.because(format!("legacy_off:{}", o.id));
            }
        }
    }
}

/// orgs.pat_disabled: organizations with PATs off (a failure when issued PATs are refused).
fn pat_disabled_check(checks: &mut Checks, facts: &db::DoctorFacts, orgs: &[OrgStatus]) {
    let sec = Section::Organizations;
    let total = orgs.len();
    let pat_off: Vec<&OrgStatus> = orgs.iter().filter(|o| !o.api_tokens_enabled).collect();
    let live_pats = |id: i64| facts.live_pats_by_org.iter().find(|(o, _)| *o == id).map(|(_, n)| *n).unwrap_or(0);
    let blocked: Vec<&OrgStatus> = pat_off.iter().copied().filter(|o| live_pats(o.id) > 0).collect();
    if pat_off.is_empty() {
        checks.pass("orgs.pat_disabled", sec, "Personal Access Tokens are on in every organization");
    } else {
        let ids: Vec<i64> = pat_off.iter().map(|o| o.id).collect();
        let check = if blocked.is_empty() {
            checks.warn(
                "orgs.pat_disabled",
                sec,
                format!(
                    "{} Personal Access Tokens off",
                    count(pat_off.len(), "organization has", "organizations have")
                ),
            )
        } else {
            let n: i64 = blocked.iter().map(|o| live_pats(o.id)).sum();
            checks.fail(
                "orgs.pat_disabled",
                sec,
                format!(
                    "{} cannot work: their users' organizations have PATs off",
                    count(n as usize, "issued PAT", "issued PATs")
                ),
            )
        };
        for id in &ids {
            check.covers(format!("pat_off:{id}"));
        }
        check
            .detail(describe_orgs(&pat_off, |o| {
                let n = live_pats(o.id);
                let history = crate::settings::row_history(o.stored, o.legacy_api_tokens_enabled)
                    .map(|h| format!(": {h}"))
                    .unwrap_or_default();
                format!(
                    "PATs off{}{history}",
                    if n > 0 {
                        format!(", {} refused", count(n as usize, "issued PAT", "issued PATs"))
                    } else {
                        String::new()
                    }
                )
            }))
            .fix(paste::lsauth(&format!("enable-pat {}", org_flags(&ids, total))));
    }
}

/// orgs.creator_without_legacy_token: exports with media need the creator's legacy key.
fn creator_check(checks: &mut Checks, facts: &db::DoctorFacts) {
    let sec = Section::Organizations;
    if facts.creators_without_key.is_empty() {
        checks.pass("orgs.creator_without_legacy_token", sec, "every organization creator has a legacy token");
    } else {
        let lines: Vec<String> = facts
            .creators_without_key
            .iter()
            .take(LIST_LIMIT)
            .map(|(org, email)| {
                format!("organization {org}: creator {} has no legacy token", crate::text::shown::outside(email))
            })
            .collect();
        checks
            .warn(
                "orgs.creator_without_legacy_token",
                sec,
                format!(
                    "{} no legacy token",
                    count(facts.creators_without_key.len(), "organization creator has", "organization creators have")
                ),
            )
            .detail(format!(
                "exports with media use the organization creator's legacy key (and the ML backend /setup call the project creator's); they fail without one\n{}",
                lines.join("\n")
            ))
            .fix("sign in as that user and create an access token under Account & Settings");
    }
}

#[cfg(test)]
mod tests {
    use super::super::inputs::tests::{inputs, open_database};
    use super::*;
    use crate::outcome::checks::Status;

    #[test]
    fn fixes_list_few_orgs_by_id_and_many_as_all() {
        assert_eq!(org_flags(&[2, 5], 10), "--org 2 --org 5");
        assert_eq!(org_flags(&(1..=11).collect::<Vec<_>>(), 20), "--all");
        assert_eq!(org_flags(&[1, 2], 2), "--all");
        assert_eq!(org_flags(&[1], 1), "--org 1");
    }

    #[test]
    fn an_organization_rejecting_its_users_legacy_tokens_is_the_cause_with_one_fix() {
        let mut i = inputs();
        i.database = open_database(&["0001_initial", "0002_alter_jwtsettings_defaults"], &[(1, Some(false), 3)]);
        let mut c = Checks::default();
        checks(&mut c, &i);
        let legacy = c.checks.iter().find(|c| c.id == "orgs.legacy_disabled").unwrap();
        assert_eq!(legacy.status, Status::Fail);
        assert!(legacy.summary.starts_with("1 organization rejects the legacy tokens of 3 users"), "{legacy:?}");
        assert_eq!(legacy.fix.as_deref(), Some("lsauth enable-legacy --org 1"));
    }

    #[test]
    fn rowless_organizations_on_1_21_are_pinned_and_on_1_22_enabled() {
        for (migrations, fix) in [
            (&["0001_initial"][..], "lsauth pin --org 1"),
            (&["0001_initial", "0002_alter_jwtsettings_defaults"][..], "lsauth enable-legacy --org 1"),
        ] {
            let mut i = inputs();
            i.database = open_database(migrations, &[(1, None, 2)]);
            let mut c = Checks::default();
            checks(&mut c, &i);
            let rowless = c.checks.iter().find(|c| c.id == "orgs.missing_settings_row").unwrap();
            assert_eq!(rowless.fix.as_deref(), Some(fix), "{migrations:?}");
        }
    }

    #[test]
    fn an_unread_organization_list_still_reports_the_facts_read() {
        let mut i = inputs();
        i.database = open_database(&["0001_initial"], &[]);
        if let DatabaseInputs::Open(read) = &mut i.database {
            read.facts = Err("no such table: organization".into());
        }
        let mut c = Checks::default();
        checks(&mut c, &i);
        let error = c.checks.iter().find(|c| c.id == "orgs.error").unwrap();
        assert_eq!((error.status, error.detail.as_deref()), (Status::Fail, Some("no such table: organization")));
    }
}
