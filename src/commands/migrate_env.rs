//! `lsauth migrate-env`: move an integration's `.env` from a legacy token to a PAT (or to
//! a username and password), verified against the server before a byte is written, with
//! a backup next to the file and an atomic replace.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::token::{self as tok};
use super::Ctx;
use crate::api::{self, Api, Auth};
use crate::backup::{self, env as envbackup};
use crate::cli::{MigrateEnvArgs, MigrateTarget};
use crate::diagnosis::{self, ApiUser, Cause, Context, Finding};
use crate::envfile::EnvDocument;
use crate::exit::{bad_input, refused, ExitStatus};
use crate::fsutil;
use crate::report;
use crate::secrets::mask;
use crate::terminal;
use crate::token::{self, TokenKind};

/// How the new credential was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    PatStdin,
    Prompt,
    MintedWithLegacyToken,
    MintedAfterLogin,
    Password,
    /// A dry run that would mint one.
    NotObtained,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrateOutcome {
    pub env_file: String,
    pub variable: String,
    pub to: &'static str,
    pub url: String,
    pub old_token: String,
    pub old_kind: TokenKind,
    pub credential: CredentialSource,
    /// The new PAT, masked (`null` for --to password or a dry run that would mint).
    pub new_token: Option<String>,
    pub user: Option<ApiUser>,
    pub verified: bool,
    pub dry_run: bool,
    pub diff: String,
    pub backup_file: Option<String>,
    pub backup_id: Option<String>,
    pub mode: Option<String>,
    pub notes: Vec<String>,
}

const PLACEHOLDER: &str = "<PAT to be minted>";

fn read_stdin_line(what: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| bad_input(format!("reading {what} from stdin: {e}")))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r').to_string();
    if line.trim().is_empty() {
        return Err(bad_input(format!("no {what} on standard input")));
    }
    Ok(line)
}

fn on_terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn secret_prompt(what: &str) -> anyhow::Result<String> {
    dialoguer::Password::new()
        .with_prompt(what)
        .interact()
        .map_err(|_| refused(format!("no {what} given: nothing was changed")))
}

/// The --login password: from --password-stdin, else asked on a terminal.
fn login_password(from_stdin: &mut Option<String>, email: &str) -> anyhow::Result<String> {
    match from_stdin.take() {
        Some(p) => Ok(p),
        None if on_terminal() => secret_prompt(&format!("Password for {email}")),
        None => Err(bad_input("give the password with --password-stdin (no terminal to ask)")),
    }
}

/// A failed step, explained with the same words as `lsauth token test`.
fn explained(step: &str, finding: &Finding, ctx: Context) -> anyhow::Error {
    let (why, fix) = diagnosis::explain(finding, &ctx);
    if finding.cause == Cause::Unreachable {
        return crate::exit::unreachable(format!("{step}: {why} Nothing was changed."));
    }
    refused(format!("{step}: {} ({why}) Fix: {fix}. Nothing was changed.", finding.cause.as_str()))
}

/// POST /api/token/ and its 409: with --revoke-existing, blacklist the user's PATs and
/// mint again.
async fn mint(api: &Api, auth: Option<&str>, revoke_existing: bool) -> anyhow::Result<String> {
    for attempt in 0..2 {
        let answer = match auth {
            Some(key) => api.post_json("api/token/", &serde_json::json!({}), Auth::Token(key)).await,
            None => api.post_json_session("api/token/", &serde_json::json!({})).await,
        };
        let answer = match answer {
            Ok(a) => a,
            Err(no) => {
                return Err(crate::exit::unreachable(format!(
                    "minting a PAT: {}: {}. Nothing was changed.",
                    no.url, no.reason
                )))
            }
        };
        match answer.status {
            201 | 200 => {
                return answer
                    .json()
                    .and_then(|j| j.get("token").and_then(|t| t.as_str()).map(String::from))
                    .ok_or_else(|| {
                        refused("minting a PAT: Label Studio answered without a token; nothing was changed")
                    });
            }
            409 if revoke_existing && attempt == 0 => {
                let listed = match auth {
                    Some(key) => api.get("api/token/", Auth::Token(key)).await,
                    None => api.get("api/token/", Auth::None).await,
                };
                let listed = listed.map_err(|no| crate::exit::unreachable(format!("listing PATs: {}", no.reason)))?;
                let tokens: Vec<String> = listed
                    .json()
                    .and_then(|j| j.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|t| t.as_str().map(String::from).or_else(|| t.get("token")?.as_str().map(String::from)))
                    .collect();
                for t in tokens {
                    let _ =
                        api.post_json("api/token/blacklist/", &serde_json::json!({ "refresh": t }), Auth::None).await;
                }
            }
            409 => return Err(refused(
                "this user already has a Personal Access Token (Label Studio answers 409: \"You already have a valid \
                     token\"): give it with --pat-stdin, or add --revoke-existing to revoke it and mint a new one; \
                     nothing was changed",
            )),
            _ => {
                let finding = diagnosis::whoami_legacy(&Ok(answer));
                return Err(explained("minting a PAT with the legacy token", &finding, Context::default()));
            }
        }
    }
    Err(refused("minting a PAT: the existing PAT could not be revoked; nothing was changed"))
}

/// The web login: CSRF cookie, form post, success is the 302.
async fn login(api: &Api, email: &str, password: &str) -> anyhow::Result<()> {
    let unreachable = |no: api::NoAnswer| crate::exit::unreachable(format!("logging in: {}: {}", no.url, no.reason));
    api.get("user/login/", Auth::None).await.map_err(unreachable)?;
    let csrf = api.cookie("csrftoken").unwrap_or_default();
    let answer = api
        .post_form("user/login/", &[("csrfmiddlewaretoken", &csrf), ("email", email), ("password", password)])
        .await
        .map_err(unreachable)?;
    match answer.status {
        302 | 303 => Ok(()),
        200 if answer.body.contains("don&#x27;t match") || answer.body.contains("don't match") => {
            Err(refused(format!("logging in as {email}: the email and password do not match; nothing was changed")))
        }
        403 => Err(refused("logging in: Label Studio refused the CSRF check (403); nothing was changed")),
        status => Err(refused(format!("logging in as {email}: unexpected answer {status}; nothing was changed"))),
    }
}

/// Refresh the PAT and use the access token: the proof that clients will work.
async fn verify_pat(api: &Api, pat: &str) -> Result<ApiUser, Finding> {
    let access = diagnosis::refresh(
        &api.post_json("api/token/refresh/", &serde_json::json!({ "refresh": pat }), Auth::None).await,
    )?;
    let finding = diagnosis::whoami_bearer(&api.get("api/current-user/whoami", Auth::Bearer(&access)).await);
    match (finding.cause, finding.user.clone()) {
        (Cause::Ok, Some(user)) => Ok(user),
        _ => Err(finding),
    }
}

pub fn run(ctx: &Ctx, args: &MigrateEnvArgs) -> anyhow::Result<ExitStatus> {
    let path = args.env_file.clone();
    let doc = tok::read_env_file(&path)?;
    let original = doc.render();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).map(Path::to_path_buf).unwrap_or(PathBuf::from("."));
    if !args.change.dry_run {
        fsutil::check_writable_dir(&dir)
            .map_err(|e| bad_input(format!("{e:#}: the file cannot be replaced safely")))?;
    }
    let variable = match &args.var {
        Some(v) if doc.get(v).is_some() => v.clone(),
        Some(v) => return Err(bad_input(format!("{} does not set {v}", path.display()))),
        None => tok::TOKEN_VARIABLES.iter().find(|v| doc.get(v).is_some()).map(|v| v.to_string()).ok_or_else(|| {
            bad_input(format!(
                "{} sets none of {} (name it with --var)",
                path.display(),
                tok::TOKEN_VARIABLES.join(", ")
            ))
        })?,
    };
    let old_value = doc.get(&variable).unwrap_or_default().to_string();
    let old = token::inspect(&old_value, tok::now_secs());
    let (url_text, url_from) = tok::url_source(args.url.as_deref(), Some((path.as_path(), &doc)), &ctx.env);
    let base = api::parse_base_url(&url_text)?;
    ctx.out.verbose(format!("Label Studio URL: {base} (from {url_from})"));
    let timeout = Duration::from_secs_f64(args.timeout.clamp(0.1, 600.0));
    let api = Api::new(base.clone(), timeout)?;
    let to_password = args.to == MigrateTarget::Password;
    if to_password && args.login.is_none() {
        return Err(bad_input("--to password needs --login EMAIL (written as LABEL_STUDIO_USERNAME)"));
    }
    if args.password_stdin && args.login.is_none() {
        return Err(bad_input("--password-stdin goes with --login EMAIL"));
    }
    if !to_password && old.kind == TokenKind::Pat && !args.pat_stdin && args.login.is_none() {
        if let Ok(user) = api.block_on(verify_pat(&api, &old.token)) {
            ctx.out.note(format!(
                "{variable} already holds a working PAT (user {}): nothing to migrate",
                user.email.unwrap_or_default()
            ));
            return Ok(ExitStatus::Ok);
        }
    }

    // Who the old token belongs to (the new credential must be the same user's), and,
    // when it is rejected, why: asked once, used for both.
    let legacy_check: Option<Finding> = (old.kind == TokenKind::Legacy).then(|| {
        api.block_on(async {
            diagnosis::whoami_legacy(&api.get("api/current-user/whoami", Auth::Token(&old.token)).await)
        })
    });
    if let Some(f) = legacy_check.as_ref().filter(|f| f.cause == Cause::Unreachable) {
        return Err(explained("checking the current token", f, Context::default()));
    }
    let old_user: Option<ApiUser> = legacy_check.as_ref().and_then(|f| f.user.clone());
    let legacy_works = old_user.is_some();

    let mut outcome = MigrateOutcome {
        env_file: path.display().to_string(),
        variable: variable.clone(),
        to: if to_password { "password" } else { "pat" },
        url: base.to_string(),
        old_token: mask(&old.token),
        old_kind: old.kind,
        credential: CredentialSource::NotObtained,
        new_token: None,
        user: None,
        verified: false,
        dry_run: args.change.dry_run,
        diff: String::new(),
        backup_file: None,
        backup_id: None,
        mode: None,
        notes: Vec::new(),
    };

    // Read what comes from stdin now (before any prompt), and say how the credential
    // will be obtained.
    let mut pat_given = if args.pat_stdin { Some(read_stdin_line("PAT")?) } else { None };
    let mut password = if args.password_stdin { Some(read_stdin_line("password")?) } else { None };
    let how = if to_password {
        CredentialSource::Password
    } else if pat_given.is_some() {
        CredentialSource::PatStdin
    } else if args.login.is_some() {
        CredentialSource::MintedAfterLogin
    } else if old.kind == TokenKind::Legacy && legacy_works {
        CredentialSource::MintedWithLegacyToken
    } else if on_terminal() && !args.change.dry_run {
        CredentialSource::Prompt
    } else {
        let why = if let Some(f) = &legacy_check {
            let (why, _) = diagnosis::explain(f, &Context::default());
            format!("the current token cannot mint one ({}: {why})", f.cause.as_str())
        } else {
            format!("{variable} holds no legacy token to mint one with ({})", old.kind.describe())
        };
        return Err(refused(format!(
            "cannot get a PAT: {why} Give a PAT with --pat-stdin, or --login EMAIL (with --password-stdin) to mint one \
             after signing in; nothing was changed"
        )));
    };
    outcome.credential = how;

    let today = time::OffsetDateTime::now_utc().date();
    let note = if to_password {
        format!("replaced by LABEL_STUDIO_USERNAME/LABEL_STUDIO_PASSWORD on {today} by lsauth migrate-env")
    } else {
        format!("legacy token, replaced by a Personal Access Token on {today} by lsauth migrate-env")
    };
    let rewrite = |doc: &EnvDocument, new_value: &str, password: &str| -> EnvDocument {
        let mut d = doc.clone();
        let old_line = d.assignment_text(&variable).unwrap_or_default();
        if !args.drop_legacy {
            d.comment_before(&variable, &format!("{old_line}  # {note}"));
        }
        if to_password {
            d.remove(&variable);
            d.upsert("LABEL_STUDIO_USERNAME", args.login.as_deref().unwrap_or_default());
            d.upsert("LABEL_STUDIO_PASSWORD", password);
        } else {
            d.set_value(&variable, new_value);
        }
        d
    };

    if args.change.dry_run {
        if let Some(pat) = &pat_given {
            let user = api
                .block_on(verify_pat(&api, pat))
                .map_err(|f| explained("verifying the given PAT", &f, Context::default()))?;
            outcome.user = Some(user);
            outcome.verified = true;
            outcome.new_token = Some(mask(pat));
        }
        let shown_new = pat_given.clone().unwrap_or_else(|| PLACEHOLDER.to_string());
        let shown_password = password.clone().unwrap_or_else(|| "<password>".into());
        let new = rewrite(&doc, &shown_new, &shown_password).render();
        let mut secrets =
            vec![old.token.clone(), old_value.clone(), shown_new.clone(), password.clone().unwrap_or_default()];
        secrets.extend(doc.secret_values());
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        outcome.diff = report::diff::unified(&original, &new, &path.display().to_string(), &secrets);
        report::migrate::render(&outcome, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }

    let question = match how {
        CredentialSource::MintedWithLegacyToken => {
            format!("Mint a PAT with the legacy token and rewrite {}?", path.display())
        }
        CredentialSource::MintedAfterLogin => format!("Sign in, mint a PAT and rewrite {}?", path.display()),
        _ => format!("Rewrite {}?", path.display()),
    };
    terminal::confirm(&question, args.change.yes)?;

    // Obtain the credential.
    let new_value = match how {
        CredentialSource::Password => {
            let email = args.login.clone().unwrap_or_default();
            let pw = login_password(&mut password, &email)?;
            let session = Api::with_session(base.clone(), timeout)?;
            session.block_on(login(&session, &email, &pw))?;
            outcome.verified = true;
            password = Some(pw);
            String::new()
        }
        CredentialSource::PatStdin => pat_given.take().expect("read above"),
        CredentialSource::Prompt => secret_prompt("Paste the Personal Access Token")?,
        CredentialSource::MintedWithLegacyToken => api.block_on(mint(&api, Some(&old.token), args.revoke_existing))?,
        CredentialSource::MintedAfterLogin => {
            let email = args.login.clone().unwrap_or_default();
            let pw = login_password(&mut password, &email)?;
            let session = Api::with_session(base.clone(), timeout)?;
            session.block_on(async {
                login(&session, &email, &pw).await?;
                mint(&session, None, args.revoke_existing).await
            })?
        }
        CredentialSource::NotObtained => unreachable!("decided above"),
    };

    if !to_password {
        let pat = token::inspect(&new_value, tok::now_secs());
        if pat.kind != TokenKind::Pat {
            return Err(refused(format!(
                "the new credential is not a PAT ({}); nothing was changed",
                pat.kind.describe()
            )));
        }
        let user = api
            .block_on(verify_pat(&api, &pat.token))
            .map_err(|f| explained("verifying the new PAT", &f, Context::default()))?;
        let expected = old_user
            .as_ref()
            .map(|u| (u.id, u.email.clone()))
            .or_else(|| args.login.as_ref().map(|email| (-1, Some(email.clone()))));
        if let Some((id, email)) = expected {
            let same = if id >= 0 {
                user.id == id
            } else {
                user.email.as_deref().map(str::to_lowercase) == email.as_deref().map(str::to_lowercase)
            };
            if !same {
                return Err(refused(format!(
                    "the new PAT belongs to {} (id {}) but the current token to {} (id {}): nothing was changed",
                    user.email.clone().unwrap_or_default(),
                    user.id,
                    email.unwrap_or_default(),
                    if id >= 0 { id.to_string() } else { "?".into() }
                )));
            }
        }
        outcome.user = Some(user);
        outcome.verified = true;
        outcome.new_token = Some(mask(&pat.token));
    }

    // Write: backup beside the file, then the atomic replace, then the record.
    let new_doc = rewrite(&doc, &new_value, password.as_deref().unwrap_or_default());
    let new_text = new_doc.render();
    let mut secrets =
        vec![old.token.clone(), old_value.clone(), new_value.clone(), password.clone().unwrap_or_default()];
    secrets.extend(doc.secret_values());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    outcome.diff = report::diff::unified(&original, &new_text, &path.display().to_string(), &secrets);
    let now = time::OffsetDateTime::now_utc();
    // The file must still be what was read: an edit meanwhile would be lost.
    let current = std::fs::read(&path).map_err(|e| bad_input(format!("re-reading {}: {e}", path.display())))?;
    if current != original.as_bytes() {
        return Err(refused(format!("{} changed while lsauth worked; nothing was written", path.display())));
    }
    // Order matters for a kill at any point: the copy exists before the record, and the
    // record before the file changes.
    let copy = envbackup::copy_beside(&path, original.as_bytes(), now)?;
    let backup_dir = backup::resolve_dir(args.change.backup_dir.as_deref(), &ctx.env)?;
    let record = envbackup::EnvRecord {
        format: envbackup::FORMAT.into(),
        created_at: now.format(&time::format_description::well_known::Rfc3339)?,
        operation: "migrate-env".into(),
        command: crate::secrets::this_command_line(),
        env_file: envbackup::absolute(&path).display().to_string(),
        backup_file: envbackup::absolute(&copy).display().to_string(),
        before_sha256: envbackup::sha256(original.as_bytes()),
        after_sha256: envbackup::sha256(new_text.as_bytes()),
    };
    outcome.backup_id = Some(envbackup::write_record(&backup_dir, &record, now)?);
    outcome.backup_file = Some(copy.display().to_string());
    let replaced = fsutil::replace_file(&path, new_text.as_bytes(), |m| (m & 0o700) | 0o600)?;
    if replaced.old_mode != replaced.new_mode {
        outcome
            .notes
            .push(format!("mode {:o} -> {:o}: the file holds a credential", replaced.old_mode, replaced.new_mode));
    }
    if !replaced.owner_kept {
        outcome.notes.push("the original owner could not be kept (run as that user or root)".into());
    }
    outcome.mode = Some(format!("{:o}", replaced.new_mode));
    report::migrate::render(&outcome, &ctx.out)?;
    Ok(ExitStatus::Ok)
}
