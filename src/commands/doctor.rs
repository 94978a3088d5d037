//! `lsauth doctor`: every known cause of a failing token, with the exact fix. Never
//! changes anything. Each check records a finding and the run goes on; a check that
//! crashes is reported as failed.

use std::path::{Path, PathBuf};

use super::Ctx;
use crate::api::{self, Api, Auth};
use crate::cli::DoctorArgs;
use crate::db::{self, Access, Database, Located, OpenOptions};
use crate::diagnosis::{self, Cause, ExplainContext};
use crate::envfile::EnvDocument;
use crate::exit::{status_of, ExitStatus};
use crate::findings::{Checks, Section};
use crate::outcome::doctor::DoctorReport;
use crate::paste;
use crate::report;
use crate::report::style::{count, count_s};
use crate::secrets::mask;
use crate::settings::{parse_bool, JwtFlag, OrgStatus, JWT_FLAG};
use crate::sources::{self, TokenSource};
use crate::token::{self, Inspection, TokenKind};
use crate::tokencheck::{self, DbFacts, SignatureState};

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
    let mut lines: Vec<String> =
        orgs.iter().take(LIST_LIMIT).map(|o| format!("organization {} {:?}: {}", o.id, o.title, what(o))).collect();
    if orgs.len() > LIST_LIMIT {
        lines.push(format!("... and {} more ({} lists them all)", orgs.len() - LIST_LIMIT, paste::lsauth("orgs")));
    }
    lines.join("\n")
}

struct Sources {
    env_doc: Option<(PathBuf, EnvDocument)>,
    /// The migrate-env command for the given `.env`, where moving it to a PAT is a way out.
    migrate_env: Option<String>,
    /// Where the SECRET_KEY lsauth found came from, when the configured PAT verifies with it.
    verified_with: Option<String>,
    /// The rollback that restores the `.env`'s previous key, when lsauth has a backup of it.
    env_rollback: Option<String>,
    url: Option<(String, String)>,
    token: Option<TokenSource>,
}

/// The paste-ready migrate-env that mints a new PAT for the `.env` in place of a dead one
/// (signed in as its owner through the web login, revoking the old PAT on a 409), where
/// migrate-env takes that file.
fn new_pat_command(sources: &Sources, facts: Option<&DbFacts>) -> Option<String> {
    let owner = facts.and_then(|f| f.owner.as_ref()).map(|o| paste::shell_quote(&o.email));
    Some(format!(
        "{} --login {} --revoke-existing",
        sources.migrate_env.as_ref()?,
        owner.unwrap_or("OWNER_EMAIL".into())
    ))
}

/// Where the URL and the token come from; `None` when nothing configures them (doctor
/// then checks what the database allows, without guessing a URL).
fn sources(ctx: &Ctx, args: &DoctorArgs) -> anyhow::Result<Sources> {
    let env_doc =
        args.env_file.as_deref().map(|p| sources::read_env_file(p).map(|d| (p.to_path_buf(), d))).transpose()?;
    let doc_ref = env_doc.as_ref().map(|(p, d)| (p.as_path(), d));
    let (url, url_from) = sources::url_source(args.url.as_deref(), doc_ref, &ctx.env);
    let url = (!url_from.is_default()).then_some((url, url_from.to_string()));
    let token = sources::token_source(None, false, doc_ref, &ctx.env).ok();
    let migrate_env = env_doc.as_ref().and_then(|(p, d)| sources::migrate_env_command(p, d));
    let env_rollback = env_doc.as_ref().and_then(|(p, _)| ctx.env_rollback_command(p));
    Ok(Sources { env_doc, migrate_env, verified_with: None, env_rollback, url, token })
}

fn configuration(
    checks: &mut Checks,
    ctx: &Ctx,
    located: &Result<Located, String>,
    s: &Sources,
    data_dir: Option<&Path>,
) {
    let sec = Section::Configuration;
    match located {
        Ok(l) => {
            checks.pass("config.database", sec, format!("database: {}", l.target)).detail(format!("from {}", l.source));
        }
        Err(e) => {
            checks
                .skip("config.database", sec, "no database to check")
                .detail(e.clone())
                .fix("run doctor on the Label Studio host, or give --db PATH|postgres://... (LSAUTH_DB)");
        }
    }
    match &s.url {
        Some((url, from)) => {
            checks
                .pass("config.url", sec, format!("Label Studio URL: {}", crate::secrets::mask_url(url)))
                .detail(format!("from {from}"));
        }
        None => {
            checks
                .skip("config.url", sec, "no Label Studio URL: API checks skipped")
                .fix("give --url, --env-file with LABEL_STUDIO_URL, or set LABEL_STUDIO_URL");
        }
    }
    if let Some(warning) = s.env_doc.as_ref().and_then(|(p, d)| sources::bom_warning(p, d)) {
        checks
            .warn("config.env_file_bom", sec, "the env file starts with a byte order mark")
            .detail(warning)
            .fix("save the file as UTF-8 without a BOM (sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)");
    }
    match &s.token {
        Some(t) => {
            let shown = if ctx.out.show_secrets { t.value.clone() } else { mask(t.value.trim()) };
            checks.pass("config.token", sec, format!("token {shown}")).detail(format!("from {}", t.source));
        }
        None => {
            checks
                .skip("config.token", sec, "no token: token checks skipped")
                .fix(format!("give --env-file with {} or set one of them", sources::TOKEN_VARIABLES.join(" / ")));
        }
    }
    match ctx.secret_key(data_dir) {
        Some((_, from)) => {
            checks.pass("config.secret_key", sec, format!("SECRET_KEY persisted in {from}"));
        }
        None => {
            let dir = data_dir.map(Path::to_path_buf).or_else(|| ctx.data_dir());
            match dir.filter(|d| d.is_dir()) {
                Some(d) => {
                    checks
                        .warn("config.secret_key", sec, "SECRET_KEY is not persisted")
                        .detail(format!(
                            "neither the SECRET_KEY variable nor {}/.env holds it: Label Studio generates one at start and \
                             writes it there; if that fails, every restart makes a new key and invalidates every PAT",
                            d.display()
                        ))
                        .fix(format!("make {}/.env writable by Label Studio, or set SECRET_KEY in its environment", d.display()));
                }
                None => {
                    checks
                        .skip("config.secret_key", sec, "SECRET_KEY not found (not on the Label Studio host?)")
                        .fix("set SECRET_KEY or give --ls-data-dir to check PAT signatures");
                }
            }
        }
    }
}

fn database_checks(checks: &mut Checks, ctx: &Ctx, db: &mut dyn Database) -> anyhow::Result<Vec<OrgStatus>> {
    let sec = Section::Database;
    let schema = db.jwt_schema().clone();
    checks.pass("database.schema", sec, schema.version_hint()).detail(format!(
        "jwt_auth migrations: {}",
        if schema.migrations.is_empty() { "none".into() } else { schema.migrations.join(", ") }
    ));
    let flag = JwtFlag::from_env(&ctx.env);
    match &flag {
        JwtFlag::Off { variable } => {
            checks
                .warn("database.feature_flag", sec, format!("{variable} is off: JWT authentication is disabled"))
                .detail("with the flag off Label Studio accepts legacy tokens whatever the settings and refuses every PAT's access token")
                .fix(format!("unset {variable} in Label Studio's environment to use PATs"));
        }
        JwtFlag::On { variable } => {
            checks.pass("database.feature_flag", sec, format!("JWT authentication on ({variable} set)"));
        }
        JwtFlag::Unreadable { variable, value } => {
            checks
                .warn("database.feature_flag", sec, format!("{variable}={value:?} is neither on nor off"))
                .fix(format!("set {variable} to true or false in Label Studio's environment"));
        }
        JwtFlag::Default => {
            checks
                .skip(
                    "database.feature_flag",
                    sec,
                    "JWT feature flag: no override in lsauth's environment (Label Studio's default is on)",
                )
                .detail(format!(
                    "lsauth cannot see the server's environment: if {JWT_FLAG} is off there, legacy tokens are accepted \
                     and PATs refused whatever the settings say"
                ));
        }
    }
    let orgs: Vec<OrgStatus> = {
        let defaults = schema.model_defaults();
        db.organizations()?.into_iter().map(|r| OrgStatus::from_record(r, defaults, &flag)).collect()
    };
    if let Some(found) = ctx.env.label_studio("ENABLE_LEGACY_API_TOKEN") {
        let on = parse_bool(&found.value).unwrap_or(false);
        let off_orgs = orgs.iter().filter(|o| !o.legacy_api_tokens_enabled).count();
        if on && off_orgs > 0 {
            checks
                .warn(
                    "database.enable_legacy_env",
                    sec,
                    format!("{}={} does not fix existing organizations", found.var, found.value),
                )
                .detail(format!(
                    "it only sets legacy tokens on for organizations created afterwards, on Label Studio 1.18 or later \
                     (1.17.0 has no such setting); {} them off (the fix turns them on for all; --org ID for some)",
                    count(off_orgs, "existing organization has", "existing organizations have")
                ))
                .fix(paste::lsauth("enable-legacy --all"));
        } else {
            checks.pass(
                "database.enable_legacy_env",
                sec,
                format!(
                    "{}={} (applies to organizations created afterwards, from Label Studio 1.18; 1.17.0 has no such \
                     setting)",
                    found.var,
                    crate::shown::outside(&found.value)
                ),
            );
        }
    } else if !flag.is_off() {
        next_organizations_check(checks, &schema, &orgs);
    }
    Ok(orgs)
}

/// database.enable_legacy_env, unset: integrations that depend on legacy keys keep working
/// in today's organizations, but every organization created from now on (a new instance,
/// one made through the API) gets legacy tokens off unless the server's environment sets
/// LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true (from 1.18; 1.17.0 has no such setting).
fn next_organizations_check(checks: &mut Checks, schema: &crate::settings::JwtSchema, orgs: &[OrgStatus]) {
    let relying: i64 = orgs.iter().filter(|o| o.legacy_api_tokens_enabled).map(|o| o.legacy_token_holders).sum();
    if relying == 0 {
        return;
    }
    let flipped = crate::releases::Generation::of(Some(schema)) == crate::releases::Generation::Flipped;
    let fix = if flipped {
        "set LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true in Label Studio's environment (or start it with \
         --enable-legacy-api-token), then restart it"
            .to_string()
    } else {
        "on Label Studio 1.18-1.21 set LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true in its environment (or start it \
         with --enable-legacy-api-token); 1.17.0 has no such setting: run lsauth enable-legacy --org ID for each new \
         organization"
            .to_string()
    };
    checks
        .warn(
            "database.enable_legacy_env",
            Section::Database,
            format!(
                "{} today's organizations; organizations created from now on will reject them",
                count(relying as usize, "legacy token works in", "legacy tokens work in")
            ),
        )
        .detail(
            "Label Studio gives a new organization legacy tokens off unless LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
             is set in its environment; lsauth does not see it set here, and cannot see the server's environment \
             when it runs elsewhere (a container, another host): if it is set there, nothing is wrong",
        )
        .fix(fix);
}

fn organization_checks(
    checks: &mut Checks,
    ctx: &Ctx,
    db: &mut dyn Database,
    orgs: &[OrgStatus],
    migrate_env: Option<&str>,
) -> anyhow::Result<()> {
    legacy_disabled_check(checks, orgs, JwtFlag::from_env(&ctx.env).is_off(), migrate_env);
    missing_row_check(checks, db.jwt_schema(), orgs);
    upgrade_risk_check(checks, ctx, db.jwt_schema(), orgs);
    let facts = db.doctor_facts()?;
    pat_disabled_check(checks, &facts, orgs);
    creator_check(checks, &facts);
    Ok(())
}

/// orgs.upgrade_risk (Label Studio 1.17 to 1.21 only): organizations without a row whose
/// users hold legacy tokens keep them now and lose them on 1.22+, which gives a row-less
/// organization its new defaults. `lsauth pin` writes today's values first.
fn upgrade_risk_check(checks: &mut Checks, ctx: &Ctx, schema: &crate::settings::JwtSchema, orgs: &[OrgStatus]) {
    use crate::releases::Generation;
    // With the JWT flag off (as lsauth sees it) legacy tokens are accepted whatever the row.
    let flag_off = JwtFlag::from_env(&ctx.env).is_off();
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
fn missing_row_check(checks: &mut Checks, schema: &crate::settings::JwtSchema, orgs: &[OrgStatus]) {
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
                format!("organization {org}: creator {} has no legacy token", crate::shown::outside(email))
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

fn token_checks(
    checks: &mut Checks,
    source: &TokenSource,
    inspection: &Inspection,
    facts: Option<&DbFacts>,
    secret: Option<(String, String)>,
    flag: &JwtFlag,
    new_pat: Option<String>,
) {
    let sec = Section::Tokens;
    let breaking: Vec<String> =
        inspection.blemishes.iter().filter(|b| b.breaks_clients()).map(|b| b.describe()).collect();
    match inspection.kind {
        TokenKind::Legacy | TokenKind::Pat if breaking.is_empty() => {
            checks.pass("token.format", sec, inspection.kind.describe());
        }
        TokenKind::Legacy | TokenKind::Pat => {
            checks
                .fail(
                    "token.format",
                    sec,
                    format!("{}, but the value carries {}", inspection.kind.describe(), breaking.join(" and ")),
                )
                .fix(format!("set {} to the bare token", source.variable.as_deref().unwrap_or("the variable")))
                .covers("format");
        }
        kind => {
            let (why, fix) = diagnosis::explain(
                &diagnosis::Finding::of(match kind {
                    TokenKind::Access => Cause::NotARefreshToken,
                    TokenKind::TruncatedPat => Cause::PatTruncated,
                    _ => Cause::Malformed,
                }),
                &ExplainContext { variable: source.variable.clone(), ..ExplainContext::default() },
            );
            checks.fail("token.format", sec, kind.describe()).detail(why).fix(fix).covers("format");
        }
    }
    if inspection.expired == Some(true) {
        checks
            .fail("token.expiry", sec, "the token has expired")
            .fix("create a new PAT (Account & Settings)")
            .covers("expired");
    }
    let signature = tokencheck::check_signature(inspection, secret);
    let issued_here = matches!(facts.and_then(|f| f.jti.as_ref()), Some(db::JtiState::Outstanding { .. }));
    match signature.state {
        SignatureState::Valid => {
            checks.pass("token.signature", sec, signature.note);
        }
        SignatureState::Invalid if issued_here => {
            // The outstanding-token table proves this instance issued it: the key changed.
            let key_from = signature.secret_key_source.unwrap_or_default();
            checks
                .fail(
                    "token.signature",
                    sec,
                    format!(
                        "this instance issued the PAT, but it is not signed by the SECRET_KEY from {key_from}: \
                         SECRET_KEY changed since, and Label Studio rejects it (\"Token is invalid\")"
                    ),
                )
                .detail(format!(
                    "putting back the SECRET_KEY that signed it revives this PAT and every other one issued before \
                     the change (where SECRET_KEY is set: {key_from}, or the server's environment); or mint a new \
                     PAT for this integration, revoking the dead one{}",
                    if new_pat.is_some() { " (the fix)" } else { "" }
                ))
                .fix(
                    new_pat
                        .unwrap_or_else(|| "create a new PAT (Account & Settings), and keep SECRET_KEY stable".into()),
                )
                .covers("signature");
        }
        SignatureState::Invalid => {
            checks
                .fail(
                    "token.signature",
                    sec,
                    "signed by another SECRET_KEY: this instance rejects it (\"Token is invalid\")",
                )
                .detail(signature.note)
                .fix(new_pat.unwrap_or_else(|| {
                    "create a new PAT on this instance, and keep SECRET_KEY stable across restarts".into()
                }))
                .covers("signature");
        }
        _ if matches!(inspection.kind, TokenKind::Pat) => {
            checks.skip("token.signature", sec, signature.note);
        }
        _ => {}
    }
    if let Some(f) = facts {
        let problems = tokencheck::database_problems(inspection, f, flag);
        let owner = f.owner.as_ref().map(|o| {
            format!(
                "owner {} (active organization {})",
                crate::shown::outside(&o.email),
                o.active_organization_id.map(|i| i.to_string()).unwrap_or("none".into())
            )
        });
        if problems.is_empty() {
            checks.pass("token.database", sec, owner.unwrap_or_else(|| "the database knows nothing against it".into()));
        } else {
            let summary = problems.iter().map(|p| p.what.as_str()).collect::<Vec<_>>().join("; ");
            let check = checks.fail("token.database", sec, summary);
            for cause in problems.iter().filter_map(|p| p.cause.clone()) {
                check.because(cause);
            }
            if problems.iter().any(|p| p.cause.is_none()) {
                // A problem no other check names keeps this check a cause of its own.
                check.because("token.database");
            }
            if let Some(o) = owner {
                check.detail(o);
            }
            if let Some(fix) = problems.iter().find_map(|p| p.fix.clone()) {
                check.fix(fix);
            }
        }
    }
}

fn api_and_live_checks(
    checks: &mut Checks,
    api: &Api,
    sources: &Sources,
    inspection: Option<&Inspection>,
    facts: Option<&DbFacts>,
    schema: Option<&crate::settings::JwtSchema>,
    other_keys: &[String],
) -> bool {
    let token = sources.token.as_ref().zip(inspection);
    let env_file = sources.env_doc.as_ref().map(|(p, _)| p.as_path());
    let migrate_env = sources.migrate_env.as_deref();
    let sec = Section::Api;
    let base = api.base().clone();
    let (version, finding, clients) = api.block_on(async {
        let version = diagnosis::version(&api.get("api/version", Auth::None).await);
        let probe = async {
            match token {
                Some((_, inspection)) => {
                    let variable = token.and_then(|(s, _)| s.variable.as_deref());
                    let (finding, clients) = tokencheck::probe_all(api, inspection, &version, variable).await;
                    (Some(finding), clients)
                }
                None => (None, Vec::new()),
            }
        };
        // Legacy keys other checks test live, with the probe (answered once, kept by the
        // client); the configured key itself is the probe's.
        let configured = token.map(|(_, i)| i.token.as_str());
        let others = other_keys.iter().filter(|k| Some(k.as_str()) != configured && version.is_ok());
        let whoamis = others.map(|k| api.get_once("api/current-user/whoami", Auth::Token(k)));
        let ((finding, clients), _) = futures_util::future::join(probe, futures_util::future::join_all(whoamis)).await;
        (version, finding, clients)
    });
    let reachable = !matches!(&version, Err(f) if f.cause == Cause::Unreachable);
    match &version {
        Ok(v) => {
            let sub = if base.path() != "/" { format!(" under the sub-path {}", base.path()) } else { String::new() };
            checks.pass(
                "api.reachable",
                sec,
                format!(
                    "Label Studio {} answers at {}{sub}",
                    crate::shown::outside(v),
                    crate::secrets::shown_url(&base)
                ),
            );
            match schema.map(|s| crate::settings::release_mismatch(v, s)) {
                Some(Some(why)) => {
                    checks.warn("api.release", sec, why).fix("point --db and --url at the same instance");
                }
                Some(None) => {
                    checks.pass(
                        "api.release",
                        sec,
                        format!("the database's jwt_auth migrations fit Label Studio {}", crate::shown::outside(v)),
                    );
                }
                None => {}
            }
        }
        Err(f) => {
            let (why, fix) = diagnosis::explain(f, &ExplainContext::default());
            checks.fail("api.reachable", sec, why).fix(fix);
        }
    }
    let in_container = env_file.is_some_and(|f| !sources::container_files(f).is_empty());
    for warning in tokencheck::url_warnings(&base, in_container) {
        checks.warn("api.transport", sec, warning).fix(if base.scheme() == "http" && !api::is_loopback(&base) {
            "use https:// for Label Studio behind a TLS proxy".to_string()
        } else {
            "use the host name the container can reach (e.g. host.docker.internal or the service name)".to_string()
        });
    }
    if let (Some((source, inspection)), Some(finding)) = (token, finding) {
        let pats_on_in_db = facts.and_then(|f| f.organization.as_ref()).map(|o| o.settings.api_tokens_enabled);
        let finding = diagnosis::refine(finding, pats_on_in_db);
        let context = ExplainContext {
            organization_id: facts.and_then(|f| f.owner.as_ref().and_then(|o| o.active_organization_id)),
            owner_email: facts.and_then(|f| f.owner.as_ref().map(|o| o.email.clone())),
            variable: source.variable.clone(),
            via_api_url: facts.is_none().then(|| crate::secrets::shown_url(&base)),
            migrate_env: migrate_env.map(String::from),
        };
        let (why, fix) = diagnosis::explain(&finding, &context);
        if finding.cause == Cause::Ok {
            let who = crate::shown::outside(finding.user.as_ref().and_then(|u| u.email.as_deref()).unwrap_or_default())
                .into_owned();
            checks.pass("token.live", Section::Tokens, format!("the server accepts the token ({who})"));
        } else if matches!(finding.cause, Cause::Unreachable | Cause::NotLabelStudio | Cause::Redirected) {
            checks.skip("token.live", Section::Tokens, "not tested: the API did not answer as Label Studio");
        } else if matches!(finding.cause, Cause::PatTruncated | Cause::Malformed) && !inspection.blemishes.is_empty() {
            checks.skip("token.live", Section::Tokens, "not tested: see token.format");
        } else if let (Cause::PatInvalidSignature, Some(from)) = (finding.cause, &sources.verified_with) {
            // token.signature passed: the server signs with another key than the one lsauth read.
            let (why, fix) = diagnosis::server_key_differs(from);
            checks.fail("token.live", Section::Tokens, format!("pat_invalid_signature: {why}")).fix(fix);
        } else {
            let check =
                checks.fail("token.live", Section::Tokens, format!("{}: {why}", finding.cause.as_str())).fix(fix);
            // The organization Label Studio consulted: the owner's active one, known from
            // the database, else the signed-in user's ("active", api.jwt_settings).
            let org = context.organization_id.map(|o| o.to_string()).unwrap_or("active".into());
            match finding.cause {
                Cause::LegacyDisabled => check.because(format!("legacy_off:{org}")),
                Cause::ApiTokensDisabled => check.because(format!("pat_off:{org}")),
                Cause::PatInvalidSignature => check.because("signature"),
                Cause::PatExpired => check.because("expired"),
                Cause::NotARefreshToken | Cause::PatTruncated | Cause::Malformed => check.because("format"),
                _ => check,
            };
        }
    }
    client_check(checks, &clients, sources, sources.env_rollback.clone());
    reachable
}

/// token.clients: how each kind of client fares with the configured key, measured. A key
/// the SDK accepts can still fail where an ML backend downloads task data.
fn client_check(
    checks: &mut Checks,
    clients: &[crate::clients::ClientResult],
    sources: &Sources,
    rollback: Option<String>,
) {
    if clients.is_empty() {
        return;
    }
    let lines: Vec<String> = clients
        .iter()
        .map(|c| {
            let result = match (c.ok, c.status) {
                (true, _) => "ok".to_string(),
                (false, Some(status)) => format!("{status} {}", c.detail.clone().unwrap_or_default()),
                (false, None) => c.detail.clone().unwrap_or("no answer".into()),
            };
            format!("{}: sends {}: {result}", c.id.as_str(), c.sends)
        })
        .collect();
    let variable = sources.token.as_ref().and_then(|t| t.variable.as_deref());
    let integration = sources.env_doc.as_ref().and_then(|(p, d)| crate::clients::integration_of(p, d));
    let failing: Vec<&str> = clients.iter().filter(|c| !c.ok).map(|c| c.id.as_str()).collect();
    let this = integration.as_ref().and_then(|i| clients.iter().find(|c| c.id == i.client).map(|c| (i, c)));
    match this {
        // The integration's own client decides: the others are listed under it.
        Some((i, c)) if !c.ok && failing.len() < clients.len() => {
            let (why, fix) = diagnosis::client_refused(i.client, c, variable, rollback.as_deref());
            checks
                .fail(
                    "token.clients",
                    Section::Tokens,
                    format!("this integration ({}, from {}) cannot use this key", i.client.as_str(), i.from),
                )
                .detail(format!("{why}\n{}", lines.join("\n")))
                .fix(fix);
        }
        _ if failing.is_empty() => {
            checks
                .pass("token.clients", Section::Tokens, "every kind of client is accepted with this key")
                .detail(lines.join("\n"));
        }
        Some((i, _)) => {
            checks
                .pass(
                    "token.clients",
                    Section::Tokens,
                    format!("this integration ({}, from {}) is accepted with this key", i.client.as_str(), i.from),
                )
                .detail(lines.join("\n"));
        }
        None if failing.len() < clients.len() => {
            checks
                .warn("token.clients", Section::Tokens, format!("refused for some clients: {}", failing.join(", ")))
                .detail(format!(
                    "a PAT works only in clients that refresh it (the SDK's LabelStudio client, the current ML backend \
                     with it in LABEL_STUDIO_API_KEY); a client holding a PAT it cannot refresh needs the legacy key \
                     back in its file (enable-legacy alone does not help it), or an upgrade\n{}",
                    lines.join("\n")
                ))
                .fix(rollback.unwrap_or_else(|| "set the variable back to the owner's legacy token".into()));
        }
        None => {}
    }
}

fn project_checks(
    checks: &mut Checks,
    ctx: &Ctx,
    db: &mut dyn Database,
    project_id: i64,
    api: Option<&Api>,
    label_studio_url: Option<&str>,
) -> anyhow::Result<()> {
    let sec = Section::Project;
    let Some(project) = db.project(project_id)? else {
        checks.fail("project.exists", sec, format!("no project {project_id} in this database"));
        return Ok(());
    };
    let Some(org_id) = project.organization_id else {
        checks.fail("project.exists", sec, format!("project {project_id} belongs to no organization"));
        return Ok(());
    };
    checks.pass(
        "project.exists",
        sec,
        format!("project {} {:?} → organization {org_id}", project.id, project.title.clone().unwrap_or_default()),
    );
    // Label Studio sends the project creator's legacy key to an ML backend's /setup, in the
    // body: /setup does not authenticate with it (it answers 200 whatever the settings);
    // label-studio-ml 1.0.x backends then download task data with it. Exports with media
    // use the organization creator's key. (AUTH-FACTS, "ML backends, measured".)
    let roles = [
        (
            "project.ml_backend_key",
            "label-studio-ml 1.0.x downloads (the key Label Studio sends to /setup)",
            "the project's creator",
            project.project_creator,
        ),
        ("project.export_key", "exports with media", "the organization's creator", project.organization_creator),
    ];
    let flag_off = JwtFlag::from_env(&ctx.env).is_off();
    for (id, feature, who, user_id) in roles {
        let mut chain = vec![format!("project {project_id}")];
        let role = role_key(db, user_id)?;
        let Some(user) = role.user else {
            checks.fail(id, sec, format!("{feature}: {who} is unknown (deleted user)"));
            continue;
        };
        let email = crate::shown::outside(&user.email).into_owned();
        chain.push(format!("{who} {email} (id {})", user.id));
        let Some(key) = role.key else {
            let summary = if id == "project.ml_backend_key" {
                // Seen on 1.23.2: 500 "User has no auth_token." and /setup is never called.
                format!(
                    "{who} {email} has no legacy token: Label Studio cannot connect an ML backend to this project \
                     (it answers 500 \"User has no auth_token.\" and never calls /setup)"
                )
            } else {
                format!("{feature}: {who} {email} has no legacy token")
            };
            checks
                .fail(id, sec, summary)
                .detail(chain.join(" → "))
                .fix(format!("sign in as {email} and create an access token under Account & Settings"));
            continue;
        };
        let shown = crate::secrets::shown_token(&key, ctx.out.show_secrets);
        chain.push(format!("legacy token {shown}"));
        let Some(active) = user.active_organization_id else {
            chain.push("no active organization: the token is accepted".into());
            checks.pass(id, sec, format!("{feature}: {who}'s legacy token is accepted")).detail(chain.join(" → "));
            continue;
        };
        let legacy_on = role.legacy_on;
        chain.push(format!("active organization {active}: legacy tokens {}", report::on_off(legacy_on)));
        if !legacy_on && !flag_off {
            checks
                .fail(
                    id,
                    sec,
                    if id == "project.ml_backend_key" {
                        format!(
                            "{who}'s legacy token is rejected by organization {active}: label-studio-ml 1.0.x \
                             backends download task data with it and get 401 (/setup itself answers 200: the backend \
                             shows Connected)"
                        )
                    } else {
                        format!("{feature} will get 401: {who}'s legacy token is rejected by organization {active}")
                    },
                )
                .detail(chain.join(" → "))
                .fix(paste::lsauth(&format!("enable-legacy --org {active}")))
                .because(format!("legacy_off:{active}"));
            continue;
        }
        if let Some(api) = api {
            let finding = api.block_on(async {
                diagnosis::whoami_legacy(&api.get_once("api/current-user/whoami", Auth::Token(&key)).await)
            });
            chain.push(format!("live test: {}", finding.cause.as_str()));
            if finding.cause != Cause::Ok {
                let (why, fix) = diagnosis::explain(
                    &finding,
                    &ExplainContext { organization_id: Some(active), ..ExplainContext::default() },
                );
                checks.fail(id, sec, format!("{feature}: {why}")).detail(chain.join(" → ")).fix(fix);
                continue;
            }
        }
        checks.pass(id, sec, format!("{feature}: {who}'s legacy token works")).detail(chain.join(" → "));
    }
    ml_backends_check(checks, db.ml_backends(project_id)?, project_id);
    task_urls_check(checks, &db.task_data_sample(project_id)?, label_studio_url);
    Ok(())
}

/// project.ml_backends: the project's backends as Label Studio stored them (URL, state,
/// its error), what each generation needs, and ML_BLOCK_LOCAL_IP where it applies.
fn ml_backends_check(checks: &mut Checks, backends: Vec<db::MlBackendRow>, project_id: i64) {
    const ID: &str = "project.ml_backends";
    let sec = Section::Project;
    if backends.is_empty() {
        checks.skip(ID, sec, format!("no ML backend is connected to project {project_id}"));
        return;
    }
    let state = |s: &str| match s {
        "CO" => "connected",
        "DI" => "disconnected",
        "ER" => "error",
        "TR" => "training",
        "PR" => "predicting",
        _ => "unknown state",
    };
    let lines: Vec<String> = backends
        .iter()
        .map(|b| {
            let error = b
                .error_message
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(|e| format!(": {}", crate::shown::outside(&e.chars().take(200).collect::<String>())))
                .unwrap_or_default();
            format!(
                "ML backend {}{} at {}: {}{error}",
                b.id,
                b.title.as_deref().map(|t| format!(" {:?}", crate::shown::outside(t))).unwrap_or_default(),
                crate::shown::outside(&crate::secrets::mask_url(&b.url)),
                state(&b.state)
            )
        })
        .collect();
    let needs = "what each generation downloads task data with: the current backend (label-studio-ml-backend from \
                 2026-02-12) LABEL_STUDIO_API_KEY of its .env (a legacy key, or a PAT it refreshes there); one from \
                 before 2026-02-12 that key as it is (a legacy key works, a PAT does not); label-studio-ml 1.0.x the \
                 project creator's legacy key (project.ml_backend_key); lsauth token test --env-file FILE tests a \
                 backend's key";
    let down: Vec<&db::MlBackendRow> = backends.iter().filter(|b| matches!(b.state.as_str(), "DI" | "ER")).collect();
    if down.is_empty() {
        checks
            .pass(ID, sec, format!("{} connected", count(backends.len(), "ML backend is", "ML backends are")))
            .detail(format!("{}\n{needs}", lines.join("\n")));
        return;
    }
    let blocked = down.iter().any(|b| {
        crate::clients::reserved_address(&b.url)
            || b.error_message.as_deref().is_some_and(|e| e.contains("reserved network address"))
    });
    let check = checks
        .warn(ID, sec, format!("{} not connected", count(down.len(), "ML backend is", "ML backends are")))
        .detail(format!("{}\n{needs}", lines.join("\n")));
    if blocked {
        check.fix(
            "set ML_BLOCK_LOCAL_IP=false in Label Studio's environment and restart it, then connect the backend \
             again (Label Studio 1.23.2 refuses backends on loopback or private addresses, which Docker networks are: \
             403 \"URL resolves to a reserved network address\"; with ML_BLOCK_LOCAL_IP=false the connect can still \
             answer that 403 for the backend's webhook while the backend itself is saved, connected and predicting \
             (this check then passes); the webhook, needed only to train on new annotations, also wants \
             SSRF_PROTECTION_ENABLED=false)",
        );
    } else {
        check.fix("check that the backend runs and that Label Studio reaches its URL, then connect it again (the project's Model settings)");
    }
}

/// project.task_urls: the first tasks' URLs to Label Studio's own files against the
/// LABEL_STUDIO_URL lsauth was given (the backend's): on another host the SDK sends no key.
fn task_urls_check(checks: &mut Checks, task_data: &[String], label_studio_url: Option<&str>) {
    const ID: &str = "project.task_urls";
    let sec = Section::Project;
    let Some(ours) = label_studio_url else {
        checks
            .skip(ID, sec, "the tasks' URLs were not compared with the backend's LABEL_STUDIO_URL")
            .fix("give --env-file with the ML backend's .env (or --url) to compare them");
        return;
    };
    let found = crate::clients::task_urls(task_data, ours);
    let tasks = count_s(found.tasks, "task");
    // The hosts come from task data: shown escaped.
    let other_hosts: Vec<(String, usize)> =
        found.other_hosts.iter().map(|(h, n)| (crate::shown::outside(h).into_owned(), *n)).collect();
    let Some((host, n)) = other_hosts.first() else {
        checks.pass(
            ID,
            sec,
            format!(
                "{} in the first {tasks}: relative, or on LABEL_STUDIO_URL's host",
                count_s(found.file_urls, "file URL")
            ),
        );
        return;
    };
    let scheme = if ours.trim_start().starts_with("https://") { "https" } else { "http" };
    let our_host = crate::shown::outside(
        ours.split_once("://").map(|(_, r)| r.split(['/', '?', '#']).next().unwrap_or(r)).unwrap_or(ours),
    );
    checks
        .warn(
            ID,
            sec,
            format!(
                "{n} of {} file URLs in the first {tasks} are on {host}, not on {our_host} (LABEL_STUDIO_URL): the \
                 SDK sends the key only to LABEL_STUDIO_URL's host, so the backend's downloads of them get 401 \
                 \"Authentication credentials were not provided.\"",
                found.file_urls
            ),
        )
        .detail(other_hosts.iter().map(|(h, n)| format!("{h}: {}", count_s(*n, "URL"))).collect::<Vec<_>>().join("\n"))
        .fix(format!(
            "set LABEL_STUDIO_URL in the backend's .env to {scheme}://{host} (the host the tasks use), or import the \
             tasks with relative /data/... URLs"
        ));
}

/// What the database says of one project role's user and legacy key, before any request.
struct RoleKey {
    user: Option<db::UserFacts>,
    key: Option<String>,
    /// Legacy tokens on for the organization Label Studio consults for that user.
    legacy_on: bool,
}

impl RoleKey {
    /// The key the project check tests live, if it gets that far.
    fn live_test(&self, flag_off: bool) -> Option<&str> {
        let user = self.user.as_ref()?;
        (user.active_organization_id.is_some() && (self.legacy_on || flag_off)).then_some(self.key.as_deref()?)
    }
}

fn role_key(db: &mut dyn Database, user_id: Option<i64>) -> anyhow::Result<RoleKey> {
    let user = user_id.map(|u| db.user_by_id(u)).transpose()?.flatten();
    let key = match &user {
        Some(u) => db.legacy_key_of(u.id)?,
        None => None,
    };
    let defaults = db.jwt_schema().model_defaults();
    let legacy_on = match user.as_ref().and_then(|u| u.active_organization_id) {
        Some(active) => db
            .read_scope(&db::OrgScope::ids(vec![active]))?
            .into_iter()
            .next()
            .map(|o| o.effective(defaults).legacy_api_tokens_enabled)
            .unwrap_or(true),
        None => true,
    };
    Ok(RoleKey { user, key, legacy_on })
}

/// The legacy keys `--project`'s checks will test live: asked for together with the
/// configured token's probe, so they add no round trip of their own.
fn project_live_keys(ctx: &Ctx, db: &mut dyn Database, project_id: i64) -> Vec<String> {
    let Ok(Some(project)) = db.project(project_id) else { return Vec::new() };
    if project.organization_id.is_none() {
        return Vec::new();
    }
    let flag_off = JwtFlag::from_env(&ctx.env).is_off();
    let mut keys: Vec<String> = [project.project_creator, project.organization_creator]
        .into_iter()
        .filter_map(|user| role_key(db, user).ok()?.live_test(flag_off).map(String::from))
        .collect();
    keys.dedup();
    keys
}

/// Where the database is, or why there is none to check (`Ctx::database_choice`, the rule
/// every command uses).
fn locate_database(ctx: &Ctx) -> anyhow::Result<Result<Located, String>> {
    Ok(match ctx.database_choice()? {
        super::DbChoice::Named(l) | super::DbChoice::Discovered(l) => Ok(l),
        super::DbChoice::Absent { reason, .. } => Err(reason),
    })
}

/// database.connection: open the database read-only, or say why not. The flag says the
/// open met a lock held past --lock-timeout (the run then exits 3).
fn open_database(
    checks: &mut Checks,
    ctx: &Ctx,
    located: &Result<Located, String>,
) -> anyhow::Result<(Option<Box<dyn Database>>, bool)> {
    let Ok(l) = located else {
        checks.skip("database.connection", Section::Database, "no database");
        return Ok((None, false));
    };
    let opened = ctx.lock_timeout().and_then(|t| {
        db::open(&l.target, OpenOptions { access: Access::ReadOnly, lock_timeout: t, before_jwt: false })
    });
    match opened {
        Ok(db) => {
            let transport = db.transport().map(|t| format!(" ({t})")).unwrap_or_default();
            checks.pass("database.connection", Section::Database, format!("{}{transport}", l.target));
            Ok((Some(db), false))
        }
        Err(e) if ctx.db_given_explicitly() && status_of(&e) == ExitStatus::BadInput => Err(e),
        Err(e) => {
            let text = format!("{e:#}");
            let fix = if db::is_lock_wait(&e) {
                "run doctor again when Label Studio's write is done, or give --lock-timeout SECONDS".to_string()
            } else if text.contains("PGPASSWORD") {
                "give the password in --db (postgres://USER:PASSWORD@host/db), in PGPASSWORD, or in ~/.pgpass".into()
            } else {
                "check --db (LSAUTH_DB) and that the database server runs and admits this user".into()
            };
            checks
                .fail("database.connection", Section::Database, format!("cannot use {}", l.target))
                .detail(text)
                .fix(fix);
            Ok((None, db::is_lock_wait(&e)))
        }
    }
}

/// api.*: the API checks, when a URL is configured. Returns the client and whether the
/// server answered.
fn api_checks(
    checks: &mut Checks,
    args: &DoctorArgs,
    sources: &Sources,
    inspection: Option<&Inspection>,
    facts: Option<&DbFacts>,
    schema: Option<&crate::settings::JwtSchema>,
    other_keys: &[String],
) -> (Option<Api>, bool) {
    let Some((url, _)) = &sources.url else {
        checks.skip("api.reachable", Section::Api, "no URL configured");
        return (None, false);
    };
    if let Some(warning) = crate::clients::subpath_warning(url) {
        checks.warn("api.sub_path", Section::Api, warning).fix("end LABEL_STUDIO_URL with a slash");
    }
    match api::parse_base_url(url).and_then(|base| Api::new(base, args.timeout.duration())) {
        Ok(api) => {
            let reachable = api_and_live_checks(checks, &api, sources, inspection, facts, schema, other_keys);
            (Some(api), reachable)
        }
        Err(e) => {
            checks
                .fail("api.reachable", Section::Api, format!("invalid URL: {e:#}"))
                .fix("set LABEL_STUDIO_URL to http(s)://host[:port][/sub-path]");
            (None, false)
        }
    }
}

/// api.jwt_settings, with no database: the active organization's token settings read
/// through the API, signed in with --login or else the configured token. Fails when the
/// configured token's kind is switched off there.
fn jwt_settings_check(
    checks: &mut Checks,
    ctx: &Ctx,
    args: &DoctorArgs,
    api: Api,
    token: Option<&TokenSource>,
    inspection: Option<&Inspection>,
) -> anyhow::Result<()> {
    const ID: &str = "api.jwt_settings";
    let sec = Section::Api;
    let base = api.base().clone();
    let url = crate::secrets::shown_url(&base);
    let timeout = args.timeout.duration();
    let signed = match (&args.login, token) {
        (Some(email), _) => {
            let password = ctx.login_password(email, args.password_stdin)?;
            crate::remote::sign_in_with_login(base.clone(), timeout, email, &password)
        }
        // The probe's client: its whoami with this token is not sent again.
        (None, Some(t)) => crate::remote::sign_in_with_token(api, &t.value),
        (None, None) => {
            checks.skip(ID, sec, "not read: no token and no --login to sign in with");
            return Ok(());
        }
    };
    let signed = match signed {
        Ok(s) => s,
        Err(e) if args.login.is_some() => {
            checks.warn(ID, sec, format!("not read: {e:#}")).fix("check the --login email and password");
            return Ok(());
        }
        Err(_) => {
            checks
                .skip(ID, sec, "the organization's token settings were not read: the configured token cannot sign in")
                .fix("give --login EMAIL (the web login) to read them");
            return Ok(());
        }
    };
    let who = signed.who();
    let settings = match signed.api.block_on(crate::remote::read_settings(&signed.caller(), &who)) {
        Ok(s) => s,
        Err(e) => {
            checks.warn(ID, sec, format!("not read: {e:#}"));
            return Ok(());
        }
    };
    let org = signed.user.active_organization.map(|o| format!("organization {o}")).unwrap_or("no organization".into());
    let read = format!("{org} (the active organization of {who}): {settings}");
    let email = signed.user.email.clone().unwrap_or_else(|| "EMAIL".into());
    let via_api = |operation: &str| {
        paste::lsauth(&format!(
            "{operation} --via-api --url {} --login {}",
            paste::shell_quote(&url),
            paste::shell_quote(&email)
        ))
    };
    let configured = inspection.map(|i| i.kind);
    // Judged as the database path judges: legacy tokens off fails (its users' legacy
    // tokens are rejected), PATs off warns unless the configured token is a PAT.
    if configured == Some(TokenKind::Pat) && !settings.api_tokens_enabled {
        checks
            .fail(ID, sec, format!("the configured token is a Personal Access Token, and PATs are off for {read}"))
            .fix(via_api("enable-pat"))
            .covers("pat_off:active");
    } else if !settings.legacy_api_tokens_enabled {
        let what = match configured {
            Some(TokenKind::Legacy) => "the configured token is a legacy token, and legacy tokens are off",
            _ => "legacy tokens are off: every legacy token of its users is rejected (401 \"legacy token authentication has been disabled\")",
        };
        checks.fail(ID, sec, format!("{what} for {read}")).fix(via_api("enable-legacy")).covers("legacy_off:active");
    } else if !settings.api_tokens_enabled {
        checks
            .warn(ID, sec, format!("Personal Access Tokens are off for {read}"))
            .fix(via_api("enable-pat"))
            .covers("pat_off:active");
    } else {
        checks.pass(ID, sec, read);
    }
    Ok(())
}

pub fn run(ctx: &Ctx, args: &DoctorArgs) -> anyhow::Result<ExitStatus> {
    let mut checks = Checks::default();
    let mut sources = sources(ctx, args)?;
    let located = locate_database(ctx)?;
    if let (Err(why), None) = (&located, &sources.url) {
        // A token alone can only be read, not checked against anything: token inspect does that.
        let token_only = if sources.token.is_some() { " (lsauth token inspect reads the token offline)" } else { "" };
        return Err(crate::exit::bad_input(format!(
            "nothing to check: {why}, and no Label Studio URL is configured; give the database \
             (--db PATH|postgres://...), the server (--url URL), or an integration's .env with its \
             LABEL_STUDIO_URL (--env-file FILE){token_only}"
        )));
    }
    configuration(&mut checks, ctx, &located, &sources, args.ls_data_dir.as_deref());
    let (mut db_handle, mut lock_waited) = open_database(&mut checks, ctx, &located)?;
    let db_reachable = db_handle.is_some();

    // A read that met a lock past --lock-timeout: the database could not be reached in
    // time (exit 3), as on every other path.
    if let Some(db) = db_handle.as_deref_mut() {
        let mut orgs = Vec::new();
        let errors = [
            checks.guard("database.error", Section::Database, |c| {
                orgs = database_checks(c, ctx, db)?;
                Ok(())
            }),
            checks.guard("orgs.error", Section::Organizations, |c| {
                organization_checks(c, ctx, db, &orgs, sources.migrate_env.as_deref())
            }),
        ];
        lock_waited |= errors.iter().flatten().any(db::is_lock_wait);
    }

    let inspection = sources.token.as_ref().map(|t| token::inspect(&t.value, tokencheck::now_secs()));
    let mut facts = None;
    if let (Some(source), Some(inspection)) = (&sources.token, &inspection) {
        if let Some(db) = db_handle.as_deref_mut() {
            let failed = checks.guard("token.error", Section::Tokens, |_| {
                facts = Some(tokencheck::gather_db_facts(db, inspection)?);
                Ok(())
            });
            lock_waited |= failed.as_ref().is_some_and(db::is_lock_wait);
        }
        let secret = ctx.secret_key(args.ls_data_dir.as_deref());
        let local = tokencheck::check_signature(inspection, secret.clone());
        if local.state == SignatureState::Valid {
            sources.verified_with = local.secret_key_source;
        }
        let new_pat = new_pat_command(&sources, facts.as_ref());
        token_checks(&mut checks, source, inspection, facts.as_ref(), secret, &JwtFlag::from_env(&ctx.env), new_pat);
    }

    let schema = db_handle.as_deref().map(|db| db.jwt_schema().clone());
    let project_keys = match (args.project, db_handle.as_deref_mut()) {
        (Some(project), Some(db)) => project_live_keys(ctx, db, project),
        _ => Vec::new(),
    };
    let (mut api_client, api_reachable) =
        api_checks(&mut checks, args, &sources, inspection.as_ref(), facts.as_ref(), schema.as_ref(), &project_keys);

    if db_handle.is_none() && api_reachable {
        // No database: no project checks either, so the client goes to the sign-in.
        if let Some(api) = api_client.take() {
            jwt_settings_check(&mut checks, ctx, args, api, sources.token.as_ref(), inspection.as_ref())?;
        }
    }

    if let Some(project) = args.project {
        match db_handle.as_deref_mut() {
            Some(db) => {
                let failed = checks.guard("project.error", Section::Project, |c| {
                    project_checks(
                        c,
                        ctx,
                        db,
                        project,
                        api_client.as_ref(),
                        sources.url.as_ref().map(|(u, _)| u.as_str()),
                    )
                });
                lock_waited |= failed.as_ref().is_some_and(db::is_lock_wait);
            }
            None => {
                checks
                    .skip(
                        "project.exists",
                        Section::Project,
                        "the project was not checked: --project reads the database",
                    )
                    .fix("run doctor on the Label Studio host, or give --db PATH|postgres://...");
            }
        }
    }

    checks.group();
    let report = DoctorReport { counts: checks.counts(), causes: checks.causes(), checks: checks.checks.clone() };
    report::doctor::render(&report, &ctx.out)?;
    let nothing_reached = !db_reachable && !api_reachable && (located.is_ok() || sources.url.is_some());
    if nothing_reached || lock_waited {
        return Ok(ExitStatus::Unreachable);
    }
    Ok(checks.exit_status(args.strict))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_list_few_orgs_by_id_and_many_as_all() {
        assert_eq!(org_flags(&[2, 5], 10), "--org 2 --org 5");
        assert_eq!(org_flags(&(1..=11).collect::<Vec<_>>(), 20), "--all");
        assert_eq!(org_flags(&[1, 2], 2), "--all");
        assert_eq!(org_flags(&[1], 1), "--org 1");
    }

    #[test]
    fn flag_values() {
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
