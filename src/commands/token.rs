//! `lsauth token inspect` (offline) and `lsauth token test` (against the API).

use futures_util::stream::{self, StreamExt};

use super::Ctx;
use crate::api::probes::{probe, probe_all};
use crate::api::{self, Api, Auth};
use crate::cli::{TokenArgs, TokenInspectArgs, TokenTestArgs};
use crate::config::sources::{read_env_file, token_source, url_source, TokenSource};
use crate::db::Access;
use crate::exit::{bad_input, ExitStatus};
use crate::outcome::token::{InspectReport, TestReport, TokenSubject, Verdict};
use crate::report;
use crate::settings;
use crate::token::check::{check_signature, inspect_problems, now_secs, url_warnings, DbFacts};
use crate::token::diagnosis::{self, Cause, ExplainContext, Finding};
use crate::token::{self, Claims, Inspection, TokenKind};

fn db_facts(ctx: &Ctx, inspection: &Inspection, warnings: &mut Vec<String>) -> anyhow::Result<Option<DbFacts>> {
    match ctx.optional_db(Access::ReadOnly, warnings)? {
        None => Ok(None),
        Some(mut db) => Ok(Some(crate::db::token_facts(db.as_mut(), inspection)?)),
    }
}

// ---------------------------------------------------------------- inspect

fn rfc3339(secs: Option<i64>) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs?).ok()?;
    t.format(&time::format_description::well_known::Rfc3339).ok()
}

pub fn inspect(ctx: &Ctx, args: &TokenInspectArgs) -> anyhow::Result<ExitStatus> {
    let env_doc = args.token.env_file.as_deref().map(|p| read_env_file(p).map(|d| (p.to_path_buf(), d))).transpose()?;
    let source = token_source(
        args.token.token.as_deref(),
        args.token.token_stdin,
        env_doc.as_ref().map(|(p, d)| (p.as_path(), d)),
        &ctx.env,
    )?;
    let inspection = token::inspect(&source.value, now_secs());
    let mut warnings = Vec::new();
    let mut signature = check_signature(&inspection, ctx.secret_key(args.ls_data_dir.as_deref()));
    let database = db_facts(ctx, &inspection, &mut warnings)?;
    if signature.state == crate::token::check::SignatureState::Invalid
        && crate::token::check::issued_here(database.as_ref())
    {
        let from = signature.secret_key_source.clone().unwrap_or_default();
        signature.note =
            format!("NOT signed by the SECRET_KEY from {from}, yet this instance issued it: SECRET_KEY changed since");
    }
    let problems = inspect_problems(&inspection, &signature, database.as_ref(), &ctx.jwt_flag);
    let claims: &Claims = inspection.claims.as_ref().unwrap_or(&EMPTY_CLAIMS);
    let report = InspectReport {
        subject: TokenSubject::new(&inspection, source.source, ctx.out.show_secrets),
        description: inspection.kind.describe(),
        issued_at: rfc3339(claims.iat),
        expires_at: rfc3339(claims.exp),
        inspection: inspection.clone(),
        signature,
        database,
        problems,
        warnings,
    };
    report::token::render_inspect(&report, &ctx.out)?;
    Ok(if report.problems.is_empty() { ExitStatus::Ok } else { ExitStatus::Problem })
}

static EMPTY_CLAIMS: Claims = Claims { token_type: None, user_id: None, jti: None, iat: None, exp: None };

// ---------------------------------------------------------------- test

/// What every test of a run shares.
struct Run<'a> {
    url: &'a str,
    url_source: &'a str,
    version: Option<String>,
    show_secrets: bool,
    /// The migrate-env command that moves the tested `.env` to a PAT, where it applies.
    migrate_env: Option<String>,
}

fn report_for(
    run: &Run<'_>,
    source: &TokenSource,
    inspection: &Inspection,
    finding: Finding,
    database: Option<DbFacts>,
    mut warnings: Vec<String>,
) -> TestReport {
    let pats_on_in_db = database.as_ref().and_then(|d| d.organization.as_ref()).map(|o| o.settings.api_tokens_enabled);
    let mut finding = diagnosis::refine(finding, pats_on_in_db);
    if finding.status.is_none() && diagnosis::offline_cause(inspection) == Some(finding.cause) {
        if let Some(unanswered) = &finding.detail {
            warnings.push(unanswered.clone());
        }
    }
    for b in &inspection.blemishes {
        warnings.push(b.describe());
    }
    // A value clients send verbatim with a prefix or a line break fails even when the
    // cleaned token works.
    if finding.cause == Cause::Ok && inspection.blemishes.iter().any(|b| b.breaks_clients()) {
        finding = Finding { cause: Cause::Malformed, ..finding };
    }
    let context = ExplainContext {
        organization_id: database
            .as_ref()
            .and_then(|d| d.owner.as_ref().and_then(|o| o.active_organization_id))
            .or(finding.user.as_ref().and_then(|u| u.active_organization)),
        owner_email: database.as_ref().and_then(|d| d.owner.as_ref().map(|o| o.email.clone())),
        variable: source.variable.clone(),
        via_api_url: database
            .is_none()
            .then(|| crate::api::parse_base_url(run.url).ok().map(|u| crate::text::secrets::shown_url(&u)))
            .flatten(),
        migrate_env: run.migrate_env.clone(),
    };
    let (mut explanation, mut fix) = diagnosis::explain(&finding, &context);
    if matches!(finding.cause, Cause::ApiTokensDisabled | Cause::LegacyDisabled) {
        let org = database.as_ref().and_then(|d| d.organization.as_ref());
        let history = org.and_then(|o| {
            settings::row_history(o.has_settings_row.then_some(o.settings), o.settings.legacy_api_tokens_enabled)
        });
        if let Some(history) = history {
            explanation =
                format!("{explanation} Why: organization {} {history}.", org.map(|o| o.id).unwrap_or_default());
        }
    }
    if finding.cause == Cause::Malformed && !inspection.blemishes.is_empty() && inspection.kind != TokenKind::Unknown {
        let what: Vec<String> =
            inspection.blemishes.iter().filter(|b| b.breaks_clients()).map(|b| b.describe()).collect();
        explanation = format!(
            "The value carries {}; clients send it verbatim and fail. The token itself works.",
            what.join(" and ")
        );
        fix = format!("set {} to the bare token", source.variable.as_deref().unwrap_or("the variable"));
    }
    TestReport {
        clients: Vec::new(),
        subject: TokenSubject::new(inspection, source.source.clone(), run.show_secrets),
        verdict: Verdict { ok: finding.cause == Cause::Ok, cause: finding.cause, explanation, fix },
        user: finding.user.clone(),
        label_studio_version: run.version.clone(),
        url: run.url.to_string(),
        url_source: run.url_source.to_string(),
        status: finding.status,
        detail: finding.detail.clone(),
        database,
        warnings,
        integration: None,
    }
}

/// Judge the key for this integration's client, when it is known: a key the server
/// accepts that this client cannot send is `client_refused`.
fn judge_for_integration(
    ctx: &Ctx,
    report: &mut TestReport,
    env_file: Option<&std::path::Path>,
    integration: Option<crate::token::clients::Integration>,
    variable: Option<&str>,
) {
    let Some(integration) = integration else { return };
    let measured = report.clients.iter().find(|c| c.id == integration.client).cloned();
    let ok = measured.as_ref().map_or(report.verdict.ok, |m| m.ok);
    if let Some(m) = measured.filter(|m| !m.ok && report.verdict.ok) {
        let rollback = env_file.and_then(|f| ctx.env_rollback_command(f));
        let (explanation, fix) = diagnosis::client_refused(integration.client, &m, variable, rollback.as_deref());
        report.verdict = Verdict { ok: false, cause: Cause::ClientRefused, explanation, fix };
    }
    report.integration = Some(crate::outcome::token::IntegrationResult { integration, ok });
}

fn exit_for(causes: impl IntoIterator<Item = Cause>) -> ExitStatus {
    let causes: Vec<Cause> = causes.into_iter().collect();
    if causes.iter().all(|c| *c == Cause::Ok) {
        ExitStatus::Ok
    } else if causes.iter().all(|c| *c == Cause::Unreachable) {
        ExitStatus::Unreachable
    } else {
        ExitStatus::Problem
    }
}

pub fn test(ctx: &Ctx, args: &TokenTestArgs) -> anyhow::Result<ExitStatus> {
    let env_doc = args.token.env_file.as_deref().map(|p| read_env_file(p).map(|d| (p.to_path_buf(), d))).transpose()?;
    let doc_ref = env_doc.as_ref().map(|(p, d)| (p.as_path(), d));
    let (url_text, url_from) = url_source(args.url.as_deref(), doc_ref, &ctx.env);
    let url_from = url_from.to_string();
    let base = api::parse_base_url(&url_text)?;
    let api = Api::new(base.clone(), args.timeout.duration())?;
    ctx.out.verbose(format!("Label Studio URL: {} (from {url_from})", crate::text::secrets::shown_url(&base)));
    let in_container = env_doc.as_ref().is_some_and(|(p, _)| !crate::config::sources::container_files(p).is_empty());
    let mut warnings = url_warnings(&base, in_container);
    warnings.extend(doc_ref.and_then(|(p, d)| crate::config::sources::bom_warning(p, d)));
    warnings.extend(crate::token::clients::subpath_warning(&url_text));

    if let Some(list) = &args.all_from {
        let shown = crate::text::secrets::shown_url(&base);
        return test_many(ctx, &api, list, args.concurrency, (&shown, &url_from), warnings);
    }

    let source = token_source(args.token.token.as_deref(), args.token.token_stdin, doc_ref, &ctx.env)?;
    ctx.out.verbose(format!("token: from {}", source.source));
    let inspection = token::inspect(&source.value, now_secs());
    let database = db_facts(ctx, &inspection, &mut warnings)?;
    let (version, finding, clients) = api.block_on(async {
        let version = crate::api::answers::version(&api.get("api/version", Auth::None).await);
        let (finding, clients) = probe_all(&api, &inspection, &version, source.variable.as_deref()).await;
        (version.ok(), finding, clients)
    });
    let shown = crate::text::secrets::shown_url(&base);
    let migrate_env = env_doc.as_ref().and_then(|(p, d)| crate::config::sources::migrate_env_command(p, d));
    let run = Run { url: &shown, url_source: &url_from, version, show_secrets: ctx.out.show_secrets, migrate_env };
    let mut report = report_for(&run, &source, &inspection, finding, database, warnings);
    report.clients = clients;
    if report.verdict.cause == Cause::PatInvalidSignature {
        // The local check says the key lsauth read signed it: the server's key is another.
        let local = check_signature(&inspection, ctx.secret_key(None));
        if let (crate::token::check::SignatureState::Valid, Some(from)) = (local.state, local.secret_key_source) {
            let (why, fix) = diagnosis::server_key_differs(&from);
            report.verdict.explanation = format!("{}{}.", why[..1].to_uppercase(), &why[1..]);
            report.verdict.fix = fix;
        }
    }
    let integration = match args.client.client() {
        Some(client) => Some(crate::token::clients::Integration { client, from: "--client".into() }),
        None => env_doc.as_ref().and_then(|(p, d)| crate::config::sources::integration_of(p, d)),
    };
    let env_file = env_doc.as_ref().map(|(p, _)| p.as_path());
    judge_for_integration(ctx, &mut report, env_file, integration, source.variable.as_deref());
    report::token::render_test(&report, &ctx.out)?;
    Ok(exit_for([report.verdict.cause]))
}

/// One token per line (blank lines and `#` comments skipped), tested concurrently over
/// one connection pool.
fn test_many(
    ctx: &Ctx,
    api: &Api,
    list: &std::path::Path,
    concurrency: usize,
    url: (&str, &str),
    warnings: Vec<String>,
) -> anyhow::Result<ExitStatus> {
    let bytes = crate::fsutil::read_regular_file(list, crate::fsutil::ENV_FILE_LIMIT)?;
    let text = String::from_utf8(bytes).map_err(|_| bad_input(format!("{} is not UTF-8 text", list.display())))?;
    let tokens: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect();
    if tokens.is_empty() {
        return Err(bad_input(format!("{} holds no token", list.display())));
    }
    let now = now_secs();
    let reports = api.block_on(async {
        let version = crate::api::answers::version(&api.get("api/version", Auth::None).await);
        let version_ref = &version;
        let results: Vec<(usize, TokenSource, Inspection, Finding)> = stream::iter(tokens)
            .map(|(line, value)| async move {
                let inspection = token::inspect(&value, now);
                let finding = probe(api, &inspection, version_ref).await;
                let source = TokenSource { value, source: format!("{} line {line}", list.display()), variable: None };
                (line, source, inspection, finding)
            })
            .buffer_unordered(concurrency.clamp(1, 64))
            .collect()
            .await;
        let mut results = results;
        results.sort_by_key(|r| r.0);
        let run = Run {
            url: url.0,
            url_source: url.1,
            version: version.clone().ok(),
            show_secrets: ctx.out.show_secrets,
            migrate_env: None,
        };
        results
            .into_iter()
            .map(|(_, source, inspection, finding)| {
                report_for(&run, &source, &inspection, finding, None, warnings.clone())
            })
            .collect::<Vec<_>>()
    });
    report::token::render_many(&reports, &ctx.out)?;
    Ok(exit_for(reports.iter().map(|r| r.verdict.cause)))
}

pub fn run(ctx: &Ctx, args: &TokenArgs) -> anyhow::Result<ExitStatus> {
    match args {
        TokenArgs::Inspect(a) => inspect(ctx, a),
        TokenArgs::Test(a) => test(ctx, a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses() {
        assert_eq!(exit_for([Cause::Ok, Cause::Ok]), ExitStatus::Ok);
        assert_eq!(exit_for([Cause::Ok, Cause::LegacyDisabled]), ExitStatus::Problem);
        assert_eq!(exit_for([Cause::Unreachable]), ExitStatus::Unreachable);
    }
}
