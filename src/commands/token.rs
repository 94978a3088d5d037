//! `lsauth token inspect` (offline) and `lsauth token test` (against the API).

use std::io::Read;
use std::path::{Path, PathBuf};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::Ctx;
use crate::api::{self, Api, Auth};
use crate::cli::{TokenArgs, TokenInspectArgs, TokenTestArgs};
use crate::db::{self, Access, JtiState, OrgScope, UserFacts};
use crate::diagnosis::{self, ApiUser, Cause, Context, Finding};
use crate::envfile::EnvDocument;
use crate::environment::Environment;
use crate::exit::{bad_input, ExitStatus};
use crate::report;
use crate::secrets::mask;
use crate::settings::{JwtFlag, JwtSettings};
use crate::token::{self, Claims, Inspection, TokenKind};

/// Where clients read the token from, in the order lsauth looks.
pub const TOKEN_VARIABLES: [&str; 3] = ["LABEL_STUDIO_API_KEY", "LABEL_STUDIO_API_TOKEN", "LABEL_STUDIO_ACCESS_TOKEN"];
pub const URL_VARIABLES: [&str; 2] = ["LABEL_STUDIO_URL", "LABEL_STUDIO_HOST"];
pub const DEFAULT_URL: &str = "http://localhost:8080";

/// The token and a sentence on where it came from.
#[derive(Debug, Clone)]
pub struct TokenSource {
    pub value: String,
    pub source: String,
    pub variable: Option<String>,
}

pub fn read_env_file(path: &Path) -> anyhow::Result<EnvDocument> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| bad_input(format!("cannot read env file {shown}: {e}")))?;
    if meta.is_dir() {
        return Err(bad_input(format!("{shown} is a directory, not an env file")));
    }
    let bytes = std::fs::read(path).map_err(|e| bad_input(format!("cannot read env file {shown}: {e}")))?;
    EnvDocument::parse(&bytes).map_err(|e| bad_input(format!("{shown}: {e}")))
}

pub(crate) fn token_source(
    positional: Option<&str>,
    from_stdin: bool,
    env_doc: Option<(&Path, &EnvDocument)>,
    env: &Environment,
) -> anyhow::Result<TokenSource> {
    if let Some(t) = positional {
        return Ok(TokenSource { value: t.to_string(), source: "the command line".into(), variable: None });
    }
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| bad_input(format!("reading the token from stdin: {e}")))?;
        let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").to_string();
        if line.is_empty() {
            return Err(bad_input("--token-stdin: no token on standard input"));
        }
        return Ok(TokenSource { value: line, source: "standard input".into(), variable: None });
    }
    if let Some((path, doc)) = env_doc {
        for var in TOKEN_VARIABLES {
            if let Some(e) = doc.entry(var) {
                return Ok(TokenSource {
                    value: e.value.to_string(),
                    source: format!("{} line {} ({var})", path.display(), e.line),
                    variable: Some(var.to_string()),
                });
            }
        }
        return Err(bad_input(format!("{} sets none of {}", path.display(), TOKEN_VARIABLES.join(", "))));
    }
    for var in TOKEN_VARIABLES {
        if let Some(v) = env.get(var).filter(|v| !v.is_empty()) {
            return Ok(TokenSource {
                value: v.to_string(),
                source: format!("environment ({var})"),
                variable: Some(var.into()),
            });
        }
    }
    Err(bad_input(format!(
        "no token: give it as an argument, with --token-stdin, with --env-file, or in {}",
        TOKEN_VARIABLES.join(" / ")
    )))
}

pub(crate) fn url_source(
    flag: Option<&str>,
    env_doc: Option<(&Path, &EnvDocument)>,
    env: &Environment,
) -> (String, String) {
    if let Some(u) = flag {
        return (u.to_string(), "--url".into());
    }
    if let Some((path, doc)) = env_doc {
        for var in URL_VARIABLES {
            if let Some(e) = doc.entry(var) {
                return (e.value.to_string(), format!("{} line {} ({var})", path.display(), e.line));
            }
        }
    }
    for var in URL_VARIABLES {
        if let Some(v) = env.get(var).filter(|v| !v.is_empty()) {
            return (v.to_string(), format!("environment ({var})"));
        }
    }
    (DEFAULT_URL.into(), "default".into())
}

/// An organization's settings as Label Studio applies them.
#[derive(Debug, Clone, Serialize)]
pub struct OrgEffective {
    pub id: i64,
    pub has_settings_row: bool,
    #[serde(flatten)]
    pub settings: JwtSettings,
}

/// What the database says about a token.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DbFacts {
    pub database: String,
    /// The legacy key's owner, or the PAT's user.
    pub owner: Option<UserFacts>,
    pub organization: Option<OrgEffective>,
    /// For a PAT: its jti in the blacklist tables.
    pub jti: Option<JtiState>,
    /// For a legacy key: false when no authtoken_token row has it.
    pub legacy_key_known: Option<bool>,
}

pub(crate) fn gather_db_facts(db: &mut dyn db::Database, inspection: &Inspection) -> anyhow::Result<DbFacts> {
    let mut facts = DbFacts { database: db.target().to_string(), ..DbFacts::default() };
    match inspection.kind {
        TokenKind::Legacy => {
            facts.owner = db.legacy_key_owner(&inspection.token)?;
            facts.legacy_key_known = Some(facts.owner.is_some());
        }
        TokenKind::Pat | TokenKind::Access | TokenKind::TruncatedPat => {
            let claims = inspection.claims.clone().unwrap_or_default();
            if let Some(id) = claims.user_id.as_deref().and_then(|u| u.parse().ok()) {
                facts.owner = db.user_by_id(id)?;
            }
            if let Some(jti) = claims.jti.as_deref() {
                facts.jti = Some(db.jti_state(jti)?);
            }
        }
        TokenKind::Unknown => {}
    }
    if let Some(org_id) = facts.owner.as_ref().and_then(|o| o.active_organization_id) {
        let defaults = db.jwt_schema().model_defaults();
        if let Some(org) = db.read_scope(&OrgScope::ids(vec![org_id]))?.into_iter().next() {
            facts.organization = Some(OrgEffective {
                id: org.id,
                has_settings_row: org.row.is_some(),
                settings: org.row.as_ref().map(|r| r.settings()).unwrap_or(defaults),
            });
        }
    }
    Ok(facts)
}

fn db_facts(ctx: &Ctx, inspection: &Inspection, warnings: &mut Vec<String>) -> anyhow::Result<Option<DbFacts>> {
    match ctx.optional_db(Access::ReadOnly, warnings)? {
        None => Ok(None),
        Some(mut db) => Ok(Some(gather_db_facts(db.as_mut(), inspection)?)),
    }
}

// ---------------------------------------------------------------- inspect

#[derive(Debug, Clone, Serialize)]
pub struct SignatureCheck {
    /// `valid`, `invalid` (signed with another key), or `not_checked`.
    pub state: &'static str,
    pub secret_key_source: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub token: String,
    pub source: String,
    pub kind: TokenKind,
    pub description: &'static str,
    #[serde(flatten)]
    pub inspection: Inspection,
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
    pub signature: SignatureCheck,
    pub database: Option<DbFacts>,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

fn rfc3339(secs: Option<i64>) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs?).ok()?;
    t.format(&time::format_description::well_known::Rfc3339).ok()
}

pub(crate) fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
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
    let signature = check_signature(&inspection, ctx.secret_key(args.ls_data_dir.as_deref()));
    let database = db_facts(ctx, &inspection, &mut warnings)?;
    let problems = inspect_problems(&inspection, &signature, database.as_ref(), &JwtFlag::from_env(&ctx.env));
    let claims: &Claims = inspection.claims.as_ref().unwrap_or(&EMPTY_CLAIMS);
    let report = InspectReport {
        token: if ctx.out.show_secrets { inspection.token.clone() } else { mask(&inspection.token) },
        source: source.source,
        kind: inspection.kind,
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

/// Whether this instance signed the token, when SECRET_KEY is known.
pub(crate) fn check_signature(inspection: &Inspection, secret: Option<(String, String)>) -> SignatureCheck {
    match (inspection.kind, secret) {
        (TokenKind::Pat | TokenKind::Access, Some((key, from))) => match token::signed_with(&inspection.token, &key) {
            Some(true) => SignatureCheck {
                state: "valid",
                secret_key_source: Some(from),
                note: "signed by this instance's SECRET_KEY".into(),
            },
            Some(false) => SignatureCheck {
                state: "invalid",
                secret_key_source: Some(from),
                note: "NOT signed by this instance's SECRET_KEY: another instance's token, or SECRET_KEY changed since"
                    .into(),
            },
            None => {
                SignatureCheck { state: "not_checked", secret_key_source: Some(from), note: "not an HS256 JWT".into() }
            }
        },
        (TokenKind::Pat | TokenKind::Access, None) => SignatureCheck {
            state: "not_checked",
            secret_key_source: None,
            note: "SECRET_KEY not found (set SECRET_KEY or give --ls-data-dir)".into(),
        },
        (TokenKind::TruncatedPat, _) => {
            SignatureCheck { state: "not_checked", secret_key_source: None, note: "no signature: truncated".into() }
        }
        _ => SignatureCheck { state: "not_checked", secret_key_source: None, note: "not a JWT".into() },
    }
}

static EMPTY_CLAIMS: Claims = Claims { token_type: None, user_id: None, jti: None, iat: None, exp: None };

/// What a database fact says is wrong with the token, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DbProblem {
    pub what: String,
    pub fix: Option<String>,
}

/// What the token's own text says is wrong (format, expiry, signature).
fn token_problems(i: &Inspection, sig: &SignatureCheck) -> Vec<String> {
    let mut problems: Vec<String> = i
        .blemishes
        .iter()
        .filter(|b| b.breaks_clients())
        .map(|b| format!("{}: clients send it verbatim", b.describe()))
        .collect();
    match i.kind {
        TokenKind::Unknown => problems.push("not a Label Studio token".into()),
        TokenKind::TruncatedPat => problems.push("truncated PAT: it can never authenticate".into()),
        TokenKind::Access => problems.push("an access token expires within minutes: configure the PAT instead".into()),
        _ => {}
    }
    if i.expired == Some(true) {
        problems.push("expired".into());
    }
    if sig.state == "invalid" {
        problems.push("signed by another SECRET_KEY: this instance rejects it".into());
    }
    problems
}

/// What the database says is wrong: unknown key, inactive owner, the owner's organization
/// refusing this kind of token, a revoked or foreign PAT. A JWT feature flag that lsauth
/// sees off (in its own environment) overrides the settings, as in Label Studio: legacy
/// tokens pass whatever the settings, PATs never do.
pub(crate) fn database_problems(i: &Inspection, f: &DbFacts, flag: &JwtFlag) -> Vec<DbProblem> {
    let mut problems = Vec::new();
    let mut add = |what: String, fix: Option<String>| problems.push(DbProblem { what, fix });
    if let (JwtFlag::Off { variable }, TokenKind::Pat | TokenKind::Access) = (flag, i.kind) {
        add(
            format!("{variable} is off in this environment: Label Studio running with it refuses every PAT"),
            Some(format!("unset {variable} in Label Studio's environment")),
        );
    }
    if f.legacy_key_known == Some(false) {
        add("no user has this legacy key in this database".into(), None);
    }
    if let Some(owner) = f.owner.as_ref().filter(|o| !o.is_active) {
        add(format!("its user {} is inactive", owner.email), None);
    }
    if let Some(org) = &f.organization {
        if i.kind == TokenKind::Legacy && !org.settings.legacy_api_tokens_enabled && !flag.is_off() {
            add(
                format!("legacy tokens are off for organization {}", org.id),
                Some(format!("lsauth enable-legacy --org {}", org.id)),
            );
        }
        if i.kind == TokenKind::Pat && !org.settings.api_tokens_enabled {
            add(
                format!("PATs are off for organization {}", org.id),
                Some(format!("lsauth enable-pat --org {}", org.id)),
            );
        }
    }
    match &f.jti {
        Some(JtiState::Blacklisted { .. }) => add("revoked (blacklisted) in this database".into(), None),
        Some(JtiState::Unknown) if i.kind == TokenKind::Pat => {
            add("this database never issued it (another instance's PAT?)".into(), None)
        }
        _ => {}
    }
    problems
}

/// Everything that makes this token fail, as far as can be told without the server.
fn inspect_problems(i: &Inspection, sig: &SignatureCheck, facts: Option<&DbFacts>, flag: &JwtFlag) -> Vec<String> {
    let mut problems = token_problems(i, sig);
    for p in facts.map(|f| database_problems(i, f, flag)).unwrap_or_default() {
        problems.push(match p.fix {
            Some(fix) => format!("{} (fix: {fix})", p.what),
            None => p.what,
        });
    }
    problems
}

// ---------------------------------------------------------------- test

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub token: String,
    pub source: String,
    pub kind: TokenKind,
    pub ok: bool,
    pub cause: Cause,
    pub explanation: String,
    pub fix: String,
    pub user: Option<ApiUser>,
    pub label_studio_version: Option<String>,
    pub url: String,
    pub url_source: String,
    /// The HTTP status and detail that decided the cause.
    pub status: Option<u16>,
    pub detail: Option<String>,
    pub database: Option<DbFacts>,
    pub warnings: Vec<String>,
}

/// Test one token the way real clients use it.
pub(crate) async fn probe(api: &Api, inspection: &Inspection, version: &Result<String, Finding>) -> Finding {
    if let Err(f) = version {
        // What the token's own text proves needs no server: that is the cause, and the
        // server that did not answer is said too.
        return match diagnosis::offline_cause(inspection) {
            Some(cause) => Finding {
                detail: Some(format!(
                    "Label Studio did not answer as expected ({}): {}",
                    f.cause.as_str(),
                    f.detail.as_deref().unwrap_or("no answer")
                )),
                ..Finding::of(cause)
            },
            None => f.clone(),
        };
    }
    let token = inspection.token.as_str();
    match inspection.kind {
        TokenKind::Legacy => diagnosis::whoami_legacy(&api.get("api/current-user/whoami", Auth::Token(token)).await),
        TokenKind::Pat | TokenKind::Access => {
            let refreshed = diagnosis::refresh(
                &api.post_json("api/token/refresh/", &serde_json::json!({ "refresh": token }), Auth::None).await,
            );
            match refreshed {
                Ok(access) => {
                    diagnosis::whoami_bearer(&api.get("api/current-user/whoami", Auth::Bearer(&access)).await)
                }
                Err(f) => f,
            }
        }
        TokenKind::TruncatedPat => Finding::of(Cause::PatTruncated),
        TokenKind::Unknown => Finding::of(Cause::Malformed),
    }
}

pub(crate) fn url_warnings(base: &url::Url, variable_from_env_file: bool) -> Vec<String> {
    let mut w = Vec::new();
    if base.scheme() == "http" && !api::is_loopback(base) {
        w.push(format!("plain http to {}: tokens travel unencrypted", base.host_str().unwrap_or("?")));
    }
    if variable_from_env_file && matches!(base.host_str(), Some("localhost" | "127.0.0.1")) {
        w.push(
            "the URL's host is localhost: from inside a container that is the container itself, not Label Studio"
                .into(),
        );
    }
    w
}

/// What every test of a run shares.
struct Run<'a> {
    url: &'a str,
    url_source: &'a str,
    version: Option<String>,
    show_secrets: bool,
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
    let context = Context {
        organization_id: database
            .as_ref()
            .and_then(|d| d.owner.as_ref().and_then(|o| o.active_organization_id))
            .or(finding.user.as_ref().and_then(|u| u.active_organization)),
        owner_email: database.as_ref().and_then(|d| d.owner.as_ref().map(|o| o.email.clone())),
        variable: source.variable.clone(),
    };
    let (mut explanation, mut fix) = diagnosis::explain(&finding, &context);
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
        token: if run.show_secrets { inspection.token.clone() } else { mask(&inspection.token) },
        source: source.source.clone(),
        kind: inspection.kind,
        ok: finding.cause == Cause::Ok,
        cause: finding.cause,
        explanation,
        fix,
        user: finding.user.clone(),
        label_studio_version: run.version.clone(),
        url: run.url.to_string(),
        url_source: run.url_source.to_string(),
        status: finding.status,
        detail: finding.detail.clone(),
        database,
        warnings,
    }
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
    let base = api::parse_base_url(&url_text)?;
    let api = Api::new(base.clone(), args.timeout.duration())?;
    ctx.out.verbose(format!("Label Studio URL: {} (from {url_from})", crate::secrets::shown_url(&base)));
    let warnings = url_warnings(&base, env_doc.is_some());

    if let Some(list) = &args.all_from {
        return test_many(ctx, &api, list, args.concurrency, (&url_text, &url_from), warnings);
    }

    let source = token_source(args.token.token.as_deref(), args.token.token_stdin, doc_ref, &ctx.env)?;
    ctx.out.verbose(format!("token: from {}", source.source));
    let inspection = token::inspect(&source.value, now_secs());
    let mut warnings = warnings;
    let database = db_facts(ctx, &inspection, &mut warnings)?;
    let (version, finding) = api.block_on(async {
        let version = diagnosis::version(&api.get("api/version", Auth::None).await);
        let finding = probe(&api, &inspection, &version).await;
        (version.ok(), finding)
    });
    let shown = crate::secrets::shown_url(&base);
    let run = Run { url: &shown, url_source: &url_from, version, show_secrets: ctx.out.show_secrets };
    let report = report_for(&run, &source, &inspection, finding, database, warnings);
    report::token::render_test(&report, &ctx.out)?;
    Ok(exit_for([report.cause]))
}

/// One token per line (blank lines and `#` comments skipped), tested concurrently over
/// one connection pool.
fn test_many(
    ctx: &Ctx,
    api: &Api,
    list: &PathBuf,
    concurrency: usize,
    url: (&str, &str),
    warnings: Vec<String>,
) -> anyhow::Result<ExitStatus> {
    let text = std::fs::read_to_string(list).map_err(|e| bad_input(format!("cannot read {}: {e}", list.display())))?;
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
        let version = diagnosis::version(&api.get("api/version", Auth::None).await);
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
        let run =
            Run { url: url.0, url_source: url.1, version: version.clone().ok(), show_secrets: ctx.out.show_secrets };
        results
            .into_iter()
            .map(|(_, source, inspection, finding)| {
                report_for(&run, &source, &inspection, finding, None, warnings.clone())
            })
            .collect::<Vec<_>>()
    });
    report::token::render_many(&reports, &ctx.out)?;
    Ok(exit_for(reports.iter().map(|r| r.cause)))
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
    fn warns_about_plain_http_and_localhost_in_env_files() {
        let w = url_warnings(&url::Url::parse("http://ls.internal:8080/").unwrap(), false);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("plain http"));
        assert!(url_warnings(&url::Url::parse("https://ls.example.com/").unwrap(), true).is_empty());
        assert!(url_warnings(&url::Url::parse("http://127.0.0.1:8080/").unwrap(), false).is_empty());
        let w = url_warnings(&url::Url::parse("http://localhost:8080/").unwrap(), true);
        assert!(w[0].contains("container"), "{w:?}");
    }

    #[test]
    fn exit_statuses() {
        assert_eq!(exit_for([Cause::Ok, Cause::Ok]), ExitStatus::Ok);
        assert_eq!(exit_for([Cause::Ok, Cause::LegacyDisabled]), ExitStatus::Problem);
        assert_eq!(exit_for([Cause::Unreachable]), ExitStatus::Unreachable);
    }
}
