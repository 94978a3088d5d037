//! token.*: the configured token, read offline (format, expiry, signature, what the
//! database knows of it), then as the server and each kind of client answer it.

use super::inputs::{ApiAnswers, Inputs, Sources};
use crate::db;
use crate::outcome::checks::{Checks, Section};
use crate::text::paste;
use crate::token::check::{DbFacts, SignatureState};
use crate::token::diagnosis::{self, Cause, ExplainContext};
use crate::token::TokenKind;

/// token.format, token.expiry, token.signature, token.database: what can be told of the
/// configured token without asking the server.
pub fn offline_checks(checks: &mut Checks, inputs: &Inputs) {
    let Some(t) = &inputs.token else { return };
    if let Some(Err(error)) = &t.facts {
        checks.fail("token.error", Section::Tokens, "this check could not run").detail(error.clone());
    }
    format_check(checks, t);
    if t.inspection.expired == Some(true) {
        checks
            .fail("token.expiry", Section::Tokens, "the token has expired")
            .fix("create a new PAT (Account & Settings)")
            .covers("expired");
    }
    signature_check(checks, inputs, t);
    if let Some(f) = t.facts() {
        database_check(checks, inputs, t, f);
    }
}

/// token.format: the kind of key, and what in its value would break a client.
fn format_check(checks: &mut Checks, t: &super::inputs::TokenInputs) {
    let (source, inspection) = (&t.source, &t.inspection);
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
}

/// token.signature: whether the SECRET_KEY lsauth found signed the PAT.
fn signature_check(checks: &mut Checks, inputs: &Inputs, t: &super::inputs::TokenInputs) {
    let (inspection, facts) = (&t.inspection, t.facts());
    let sec = Section::Tokens;
    let new_pat = new_pat_command(&inputs.sources, facts);
    let signature = crate::token::check::check_signature(inspection, inputs.secret_key.clone());
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
}

/// token.database: what the database says against the token (its owner, revocation,
/// the organization's settings).
fn database_check(
    checks: &mut Checks,
    inputs: &Inputs,
    t: &super::inputs::TokenInputs,
    f: &crate::token::check::DbFacts,
) {
    let (inspection, flag, sec) = (&t.inspection, &inputs.flag, Section::Tokens);
    let problems = crate::token::check::database_problems(inspection, f, flag);
    let owner = f.owner.as_ref().map(|o| {
        format!(
            "owner {} (active organization {})",
            crate::text::shown::outside(&o.email),
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

/// token.live: the server's answer to the configured token, explained.
pub fn live_check(checks: &mut Checks, inputs: &Inputs, answers: &ApiAnswers) {
    let (Some(t), Some(finding)) = (&inputs.token, &answers.token) else { return };
    let (source, inspection, facts) = (&t.source, &t.inspection, t.facts());
    let sources = &inputs.sources;
    let migrate_env = sources.migrate_env.as_deref();
    let base = &answers.base;
    {
        let finding = finding.clone();
        let pats_on_in_db = facts.and_then(|f| f.organization.as_ref()).map(|o| o.settings.api_tokens_enabled);
        let finding = diagnosis::refine(finding, pats_on_in_db);
        let context = ExplainContext {
            organization_id: facts.and_then(|f| f.owner.as_ref().and_then(|o| o.active_organization_id)),
            owner_email: facts.and_then(|f| f.owner.as_ref().map(|o| o.email.clone())),
            variable: source.variable.clone(),
            via_api_url: facts.is_none().then(|| crate::text::secrets::shown_url(base)),
            migrate_env: migrate_env.map(String::from),
        };
        let (why, fix) = diagnosis::explain(&finding, &context);
        if finding.cause == Cause::Ok {
            let who =
                crate::text::shown::outside(finding.user.as_ref().and_then(|u| u.email.as_deref()).unwrap_or_default())
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
}

/// token.clients: how each kind of client fares with the configured key, measured. A key
/// the SDK accepts can still fail where an ML backend downloads task data.
pub fn client_check(checks: &mut Checks, inputs: &Inputs, answers: &ApiAnswers) {
    let clients = &answers.clients;
    let sources = &inputs.sources;
    let rollback = sources.env_rollback.clone();
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
    let integration = sources.env_doc.as_ref().and_then(|(p, d)| crate::config::sources::integration_of(p, d));
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

#[cfg(test)]
mod tests {
    use super::super::inputs::tests::inputs;
    use super::super::inputs::{ApiAnswers, TokenInputs};
    use super::*;
    use crate::outcome::checks::Status;
    use crate::token::diagnosis::Finding;
    use crate::token::tests::{jwt, HS256};

    /// A PAT signed with `secret`, as the configured token.
    fn with_pat(secret: &str) -> super::super::Inputs {
        let value = jwt(
            HS256,
            r#"{"token_type":"refresh","exp":4102444800,"iat":1700000000,"jti":"a1b2","user_id":"1"}"#,
            secret,
        );
        let mut i = inputs();
        let source = crate::config::sources::TokenSource {
            value: value.clone(),
            source: "LABEL_STUDIO_API_KEY in .env".into(),
            variable: Some("LABEL_STUDIO_API_KEY".into()),
        };
        i.sources.token = Some(source.clone());
        i.token = Some(TokenInputs {
            source,
            inspection: crate::token::inspect(&value, crate::token::check::now_secs()),
            facts: None,
        });
        i
    }

    /// token.live when the server answered the configured token with `cause`.
    fn live(i: &super::super::Inputs, cause: Cause) -> Checks {
        let answers = ApiAnswers {
            url: "http://ls.example.com/".into(),
            base: url::Url::parse("http://ls.example.com/").unwrap(),
            version: Ok("1.23.2".into()),
            token: Some(Finding::of(cause)),
            clients: Vec::new(),
        };
        let mut c = Checks::default();
        live_check(&mut c, i, &answers);
        c
    }

    fn find<'a>(checks: &'a Checks, id: &str) -> &'a crate::outcome::checks::Check {
        checks.checks.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}"))
    }

    #[test]
    fn a_pat_signed_by_another_secret_key_fails_its_signature() {
        let mut i = with_pat("another-instance-key");
        i.secret_key = Some(("this-instance-key".into(), "/data/.env".into()));
        let mut c = Checks::default();
        offline_checks(&mut c, &i);
        let signature = find(&c, "token.signature");
        assert_eq!(signature.status, Status::Fail);
        assert!(signature.summary.starts_with("signed by another SECRET_KEY"), "{signature:?}");
    }

    #[test]
    fn a_pat_that_verifies_here_but_not_on_the_server_names_the_servers_secret_key() {
        let mut i = with_pat("this-instance-key");
        i.sources.verified_with = Some("/data/.env".into());
        let c = live(&i, Cause::PatInvalidSignature);
        let live = find(&c, "token.live");
        assert_eq!(live.status, Status::Fail);
        assert!(live.summary.contains("the server runs with another SECRET_KEY"), "{live:?}");
    }

    #[test]
    fn a_token_the_server_accepts_passes_live() {
        let c = live(&with_pat("k"), Cause::Ok);
        assert_eq!(find(&c, "token.live").status, Status::Pass);
    }
}
