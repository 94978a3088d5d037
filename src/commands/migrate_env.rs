//! `lsauth migrate-env`: move an integration's `.env` from a legacy token to a PAT (or to
//! a username and password), verified against the server before a byte is written, with
//! a backup next to the file and an atomic replace.
//!
//! The server and the file change together, or the user is told exactly what changed:
//! every server-side change (a PAT minted, an existing PAT revoked, PATs enabled) goes
//! into a ledger as it happens; a PAT minted and not written is revoked again on every
//! failure path; the last words of every run say what the ledger holds, and "nothing was
//! changed" only when it is empty and the file was not written.
//!
//! The steps: setup (file, variable, URL) → who owns the old token → how the credential
//! will be obtained → preflight (will a new PAT work for that owner's organization?) →
//! plan and confirmation → obtain → verify → commit the file → report.

use std::path::PathBuf;

use super::Ctx;
use crate::api::pats::{Minted, Revoked};
use crate::api::session::{login, same_email, unreachable_at, Caller};
use crate::api::{self, Api, Auth};
use crate::backup::env as envbackup;
use crate::cli::{ClientKind, MigrateEnvArgs, MigrateTarget};
use crate::config::envfile::EnvDocument;
use crate::config::sources;
use crate::db::status_of;
use crate::db::{Access, Database, JtiState, OrgScope};
use crate::exit::{bad_input, problem, Classified, ExitStatus};
use crate::fsutil;
use crate::outcome::migrate::{
    capitalize, summarize, CredentialSource, EnvClient, ExistingPat, FileChange, MigrateOutcome, MigrateResult,
    MigrateTo, NewCredential, Owner, OwnerSource, PartialWrite, Preflight, PreflightSource, ServerAction, ServerChange,
};
use crate::report;
use crate::report::terminal;
use crate::settings::{Setting, Toggle};
use crate::text::secrets::mask;
use crate::token::diagnosis::{self, ApiUser, Cause, ExplainContext, Finding};
use crate::token::{self, Inspection, TokenKind};

const PLACEHOLDER: &str = "<PAT to be minted>";
/// A value shaped like a PAT (base64url parts and dots), for checking before the mint that
/// the rewrite of the real one will read back.
const PAT_SHAPED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2hhcGUtb25seQ";

/// Everything one run knows and has done.
struct Migration<'a> {
    ctx: &'a Ctx,
    args: &'a MigrateEnvArgs,
    outcome: MigrateOutcome,
    /// Full PATs minted and not (yet) written to the file: revoked again on failure.
    unwritten: Vec<String>,
    /// The Label Studio URL as configured (credentials included), once setup read it: what
    /// a failed run uses to revoke what it minted.
    base: Option<url::Url>,
    /// Secrets to mask in any text shown.
    secrets: Vec<String>,
}

/// The parts of setup every later step uses.
struct Setup {
    path: PathBuf,
    doc: EnvDocument,
    variable: String,
    old: Inspection,
    base: url::Url,
    api: Api,
}

/// A failed step, explained with the same words as `lsauth token test`.
fn explained(step: &str, finding: &Finding, ctx: &ExplainContext) -> anyhow::Error {
    let (why, fix) = diagnosis::explain(finding, ctx);
    if finding.cause == Cause::Unreachable {
        return crate::exit::unreachable_error(format!("{step}: {why}"));
    }
    problem(format!("{step}: {} ({why}) Fix: {fix}.", finding.cause.as_str()))
}

/// What whoami says of the file's legacy key (`None` for another kind); an unreachable
/// server is exit 3 now, before anything else is asked.
fn legacy_check(s: &Setup) -> anyhow::Result<Option<Finding>> {
    if s.old.kind != TokenKind::Legacy {
        return Ok(None);
    }
    let finding = s.api.block_on(async {
        crate::api::answers::whoami_legacy(&s.api.get("api/current-user/whoami", Auth::Token(&s.old.token)).await)
    });
    if finding.cause == Cause::Unreachable {
        return Err(explained("checking the current token", &finding, &ExplainContext::default()));
    }
    Ok(Some(finding))
}

/// Refresh the PAT and use the access token: the proof that clients will work.
async fn verify_pat(api: &Api, pat: &str) -> Result<ApiUser, Finding> {
    let finding = crate::api::probes::refresh_then_whoami(api, pat).await;
    match (finding.cause, finding.user.clone()) {
        (Cause::Ok, Some(user)) => Ok(user),
        _ => Err(finding),
    }
}

/// The `jti` (shortened) and issue date of a PAT as Label Studio lists it.
fn describe_listed(truncated: &str) -> ExistingPat {
    let inspection = token::inspect(truncated, 0);
    let claims = inspection.claims.unwrap_or_default();
    let jti = claims.jti.unwrap_or_default();
    ExistingPat {
        jti_prefix: jti.chars().take(8).collect(),
        created_at: claims
            .iat
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .map(|t| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
        truncated: truncated.to_string(),
    }
}

fn jti_prefix(pat: &str) -> String {
    describe_listed(pat).jti_prefix
}

impl<'a> Migration<'a> {
    fn new(ctx: &'a Ctx, args: &'a MigrateEnvArgs) -> Self {
        let outcome = MigrateOutcome {
            result: MigrateResult::Failed,
            changed: false,
            summary: String::new(),
            error: None,
            env_file: args.env_file.display().to_string(),
            variable: String::new(),
            to: if args.to == MigrateTarget::Password { MigrateTo::Password } else { MigrateTo::Pat },
            url: String::new(),
            old_token: String::new(),
            old_kind: TokenKind::Unknown,
            client: EnvClient::Other,
            ml_backend_markers: Vec::new(),
            owner: None,
            preflight: None,
            plan_shown: false,
            would_revoke: Vec::new(),
            new_credential: NewCredential::none(),
            dry_run: args.change.dry_run,
            file: FileChange::default(),
            server_changes: Vec::new(),
            warnings: Vec::new(),
        };
        Migration { ctx, args, outcome, unwritten: Vec::new(), base: None, secrets: Vec::new() }
    }

    fn record(&mut self, action: ServerAction, detail: String) {
        self.outcome.server_changes.push(ServerChange { action, detail });
    }

    fn to_password(&self) -> bool {
        self.args.to == MigrateTarget::Password
    }

    fn setup(&mut self) -> anyhow::Result<Setup> {
        let path = self.args.env_file.clone();
        let doc = sources::read_env_file(&path)?;
        let variable = match &self.args.var {
            Some(v) if doc.get(v).is_some() => v.clone(),
            Some(v) => return Err(bad_input(format!("{} does not set {v}", path.display()))),
            None => sources::TOKEN_VARIABLES.iter().find(|v| doc.get(v).is_some()).map(|v| v.to_string()).ok_or_else(
                || {
                    bad_input(format!(
                        "{} sets none of {} (name it with --var)",
                        path.display(),
                        sources::TOKEN_VARIABLES.join(", ")
                    ))
                },
            )?,
        };
        // Every variable the migration writes: behind a byte order mark it may be unset for
        // the client whatever lsauth writes.
        let writes = [variable.as_str(), "LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD"];
        if let Some(key) = doc.bom_hidden_key().filter(|k| writes[..if self.to_password() { 3 } else { 1 }].contains(k))
        {
            return Err(bad_input(format!(
                "{} starts with a byte order mark right before {key}: python-dotenv before 1.2.3 reads that \
                 variable as \\ufeff{key}, so clients may not see it at all; save the file as UTF-8 without a \
                 BOM (signature) and run again (nothing was changed)",
                path.display()
            )));
        }
        self.outcome.warnings.extend(sources::bom_warning(&path, &doc));
        let old_value = doc.get(&variable).unwrap_or_default().to_string();
        let old = token::inspect(&old_value, crate::token::check::now_secs());
        self.secrets.extend([old.token.clone(), old_value]);
        self.secrets.extend(doc.secret_values());
        let (url_text, url_from) =
            sources::url_source(self.args.url.as_deref(), Some((path.as_path(), &doc)), &self.ctx.env);
        let base = api::parse_base_url(&url_text)?;
        self.outcome.warnings.extend(crate::token::clients::subpath_warning(&url_text));
        self.ctx.out.verbose(format!("Label Studio URL: {} (from {url_from})", crate::text::secrets::shown_url(&base)));
        let api = Api::new(base.clone(), self.args.timeout.duration())?;
        if self.to_password() && self.args.login.is_none() {
            return Err(bad_input("--to password needs --login EMAIL (written as LABEL_STUDIO_USERNAME)"));
        }
        if self.args.password_stdin && self.args.login.is_none() {
            return Err(bad_input("--password-stdin goes with --login EMAIL"));
        }
        if self.args.enable_pat && self.to_password() {
            return Err(bad_input("--enable-pat goes with a move to a PAT, not --to password"));
        }
        self.outcome.variable = variable.clone();
        self.outcome.url = crate::text::secrets::shown_url(&base);
        self.base = Some(base.clone());
        self.outcome.old_token = mask(&old.token);
        self.outcome.old_kind = old.kind;
        Ok(Setup { path, doc, variable, old, base, api })
    }

    /// The old token's owner: whoami when it is a working legacy key, else the database
    /// (`authtoken_token` for a legacy key; the outstanding-token table for a PAT this
    /// database issued). `Ok(None)`: nobody can tell.
    fn find_owner(
        &mut self,
        s: &Setup,
        legacy_check: Option<&Finding>,
        db: Option<&mut Box<dyn Database>>,
    ) -> anyhow::Result<Option<Owner>> {
        if let Some(user) = legacy_check.and_then(|f| f.user.clone()) {
            return Ok(Some(Owner { user, source: OwnerSource::Whoami }));
        }
        let Some(db) = db else { return Ok(None) };
        let facts = match s.old.kind {
            TokenKind::Legacy => db.legacy_key_owner(&s.old.token)?,
            TokenKind::Pat | TokenKind::Access | TokenKind::TruncatedPat => {
                let claims = s.old.claims.clone().unwrap_or_default();
                match claims.jti.as_deref().map(|j| db.jti_state(j)).transpose()? {
                    Some(JtiState::Outstanding { user_id: Some(id) } | JtiState::Blacklisted { user_id: Some(id) }) => {
                        db.user_by_id(id)?
                    }
                    _ => None,
                }
            }
            TokenKind::Unknown => None,
        };
        Ok(facts.map(|u| Owner {
            user: ApiUser { id: u.id, email: Some(u.email), active_organization: u.active_organization_id },
            source: OwnerSource::Database,
        }))
    }

    /// An ML backend downloads task data with the key as it is (the SDK's `get_local_path`
    /// sends a JWT as `Bearer <key>` without refreshing): moved to a PAT, every download
    /// gets 401 unless the backend is recent. Refused before anything is minted, with the
    /// safe fix; `--pat-capable` says this backend refreshes PATs itself.
    fn check_client(&mut self, s: &Setup) -> anyhow::Result<()> {
        let markers = sources::ml_backend_evidence(&s.path, &s.doc);
        let is_ml = match self.args.client {
            ClientKind::MlBackend => true,
            ClientKind::Other => false,
            ClientKind::Auto => !markers.is_empty(),
        };
        self.outcome.ml_backend_markers = markers.clone();
        self.outcome.client = if is_ml { EnvClient::MlBackend } else { EnvClient::Other };
        if is_ml && self.args.pat_capable && !self.to_password() {
            if let Some(moved_to) = self.pat_variable(s) {
                self.outcome.warnings.push(format!(
                    "the PAT goes into {moved_to}, not {}: the ML backend refreshes only {moved_to}'s key (a PAT in {} \
                     is sent unrefreshed as Bearer and gets 401); {} is commented out. If docker-compose passes \
                     variables by name, pass {moved_to} there too",
                    s.variable, s.variable, s.variable
                ));
            }
        }
        if !is_ml || self.args.pat_capable {
            return Ok(());
        }
        let why = if markers.is_empty() {
            "--client ml-backend".to_string()
        } else {
            format!("it sets {}", markers.join(", "))
        };
        let fix = match self.outcome.owner.as_ref() {
            // whoami answered with the legacy key: it works, and the file can keep it.
            Some(Owner { source: OwnerSource::Whoami, .. }) => "keep the legacy key, which works now".to_string(),
            Some(Owner { user: ApiUser { active_organization: Some(org), .. }, .. }) => {
                crate::text::paste::lsauth(&format!("enable-legacy --org {org}"))
            }
            Some(Owner { user: ApiUser { email: Some(email), .. }, .. }) => {
                crate::text::paste::lsauth(&format!("enable-legacy --user {}", crate::text::paste::shell_quote(email)))
            }
            _ => crate::text::paste::lsauth("enable-legacy --user OWNER_EMAIL"),
        };
        let what = if self.to_password() {
            "ML backends do not sign in with a username and password, and"
        } else {
            "ML backends"
        };
        Err(problem(format!(
            "{} belongs to an ML backend ({why}): {what} download task data with the key as it is (the SDK's \
             get_local_path sends a PAT as Authorization: Bearer without refreshing it), so every download gets 401 \
             unless the backend is recent. Safe fix: {fix}, or upgrade the backend and run again with --pat-capable",
            s.path.display()
        )))
    }

    /// How the new credential will be obtained, or why it cannot be.
    fn choose_source(
        &self,
        s: &Setup,
        legacy_check: Option<&Finding>,
        pat_given: bool,
    ) -> anyhow::Result<CredentialSource> {
        let legacy_works = legacy_check.is_some_and(|f| f.user.is_some());
        Ok(if self.to_password() {
            CredentialSource::Password
        } else if pat_given {
            CredentialSource::PatStdin
        } else if self.args.login.is_some() {
            CredentialSource::MintedAfterLogin
        } else if s.old.kind == TokenKind::Legacy && legacy_works {
            CredentialSource::MintedWithLegacyToken
        } else if terminal::interactive() && !self.args.change.dry_run && !self.ctx.out.json {
            CredentialSource::Prompt
        } else {
            let why = match legacy_check {
                Some(f) => {
                    let (why, _) = diagnosis::explain(f, &ExplainContext::default());
                    format!("the current token cannot mint one ({}: {why})", f.cause.as_str())
                }
                None => format!("{} holds no legacy token to mint one with ({})", s.variable, s.old.kind.describe()),
            };
            return Err(problem(format!(
                "cannot get a PAT: {why} Give a PAT with --pat-stdin, or --login EMAIL (with --password-stdin) to \
                 mint one after signing in"
            )));
        })
    }

    /// The new credential must be the old token's owner's. Checked before any login or
    /// mint where the owner is known; `None` owner is refused unless --allow-other-user.
    fn check_owner_known(&self, how: CredentialSource) -> anyhow::Result<()> {
        if self.args.allow_other_user || how == CredentialSource::MintedWithLegacyToken {
            return Ok(());
        }
        match (&self.outcome.owner, &self.args.login) {
            (None, _) => Err(problem(
                "cannot tell who owns the current token (it does not work and no database says): the new credential \
                 could belong to another user. Give --db so lsauth can look the owner up, or --allow-other-user",
            )),
            (Some(owner), Some(email)) if !same_email(owner.user.email.as_deref(), email) => Err(problem(format!(
                "the current token belongs to {} (id {}), not to {email}: sign in as the owner, or add \
                 --allow-other-user",
                owner.user.email.as_deref().unwrap_or("?"),
                owner.user.id
            ))),
            _ => Ok(()),
        }
    }

    fn check_same_user(&self, user: &ApiUser) -> anyhow::Result<()> {
        if self.args.allow_other_user {
            return Ok(());
        }
        match &self.outcome.owner {
            Some(owner) if owner.user.id != user.id => Err(problem(format!(
                "the new credential belongs to {} (id {}) but the current token to {} (id {}) (add \
                 --allow-other-user to accept that)",
                user.email.as_deref().unwrap_or("?"),
                user.id,
                owner.user.email.as_deref().unwrap_or("?"),
                owner.user.id
            ))),
            _ => Ok(()),
        }
    }

    /// Will a new PAT work? The owner's active organization's effective
    /// `api_tokens_enabled`, from the database, else from GET /api/jwt/settings as the
    /// owner, else unknown.
    async fn preflight_api(caller: &Caller<'_>) -> Option<bool> {
        crate::api::pats::api_tokens_enabled(caller).await
    }

    fn preflight(&mut self, db: Option<&mut Box<dyn Database>>, caller: &Caller<'_>) -> anyhow::Result<()> {
        let org = self.outcome.owner.as_ref().and_then(|o| o.user.active_organization);
        let mut result = Preflight { organization_id: org, api_tokens_enabled: None, source: PreflightSource::Unknown };
        if let (Some(db), Some(org_id)) = (db, org) {
            let schema = db.jwt_schema().clone();
            if let Some(found) = db.read_scope(&OrgScope::ids(vec![org_id]))?.into_iter().next() {
                let known = found.effective_if_known(schema.known_defaults()).map(|e| e.api_tokens_enabled);
                if known.is_some() {
                    result = Preflight {
                        organization_id: Some(org_id),
                        api_tokens_enabled: known,
                        source: PreflightSource::Database,
                    };
                }
            }
        }
        if result.api_tokens_enabled.is_none() {
            if let Some(on) = caller.api().block_on(Self::preflight_api(caller)) {
                result.api_tokens_enabled = Some(on);
                result.source = PreflightSource::Api;
            }
        }
        self.outcome.preflight = Some(result);
        Ok(())
    }

    /// Refuse before any server change when the preflight says a new PAT would not work,
    /// or cannot say and --revoke-existing would revoke a PAT on that hope.
    fn check_preflight(&self, can_enable: bool) -> anyhow::Result<bool> {
        let p = self.outcome.preflight.as_ref().expect("preflight ran");
        let org = p.organization_id.map(|o| format!("organization {o}")).unwrap_or("the owner's organization".into());
        let fix = match (p.organization_id, &self.base) {
            (Some(o), _) if can_enable => crate::text::paste::lsauth(&format!("enable-pat --org {o}")),
            // No database at hand: through the API, as the owner (whose active
            // organization it is).
            (org, Some(base)) if !can_enable => format!(
                "{}{}",
                crate::text::paste::lsauth(&format!(
                    "enable-pat --via-api --url {} --login {}",
                    crate::text::paste::shell_quote(&crate::text::secrets::shown_url(base)),
                    self.outcome
                        .owner
                        .as_ref()
                        .and_then(|o| o.user.email.as_deref())
                        .map(crate::text::paste::shell_quote)
                        .unwrap_or_else(|| "OWNER_EMAIL".into()),
                )),
                org.map(|o| format!(" (where the database is at hand: lsauth enable-pat --org {o})"))
                    .unwrap_or_default()
            ),
            (Some(o), _) => crate::text::paste::lsauth(&format!("enable-pat --org {o}")),
            (None, _) => crate::text::paste::lsauth("enable-pat --user OWNER_EMAIL"),
        };
        match p.api_tokens_enabled {
            Some(true) => Ok(false),
            Some(false) if self.args.enable_pat && can_enable => Ok(true),
            Some(false) if self.args.enable_pat => Err(problem(format!(
                "Personal Access Tokens are off for {org} and --enable-pat needs the database (give --db); without \
                 it: {fix}, then run migrate-env again"
            ))),
            Some(false) => Err(problem(format!(
                "Personal Access Tokens are off for {org} (the organization Label Studio consults for this user): \
                 a new PAT would be refused. Fix: {fix} (or add --enable-pat to do it in this run), then run \
                 migrate-env again"
            ))),
            None if self.args.revoke_existing => Err(problem(
                "--revoke-existing: lsauth cannot tell whether PATs are on for the owner's organization (no \
                 database, and /api/jwt/settings did not answer), so it will not revoke a working PAT on that \
                 hope. Give --db, or revoke the PAT yourself",
            )),
            None => Ok(false),
        }
    }

    /// The user's existing PATs, for the plan of --revoke-existing.
    fn list_existing(&mut self, caller: &Caller<'_>) -> anyhow::Result<()> {
        let listed = match caller
            .api()
            .block_on(crate::api::pats::list_pats(caller))
            .map_err(|no| unreachable_at("listing PATs", &no))?
        {
            crate::api::pats::Listed::Pats(pats) => pats,
            crate::api::pats::Listed::Refused(status) => {
                return Err(problem(format!("listing the user's PATs: Label Studio answered {status}")))
            }
        };
        self.outcome.would_revoke = listed.iter().map(|t| describe_listed(t)).collect();
        Ok(())
    }

    /// POST /api/token/; with --revoke-existing, a 409 revokes the listed PATs and mints
    /// again. Every change goes into the ledger as it happens.
    fn mint(&mut self, caller: &Caller<'_>) -> anyhow::Result<String> {
        for attempt in 0..2 {
            let minted = caller
                .api()
                .block_on(crate::api::pats::mint_pat(caller))
                .map_err(|no| unreachable_at("minting a PAT", &no))?;
            match minted {
                Minted::Created(pat) => {
                    self.unwritten.push(pat.clone());
                    self.secrets.push(pat.clone());
                    self.record(ServerAction::PatCreated, format!("a PAT was created (jti {})", jti_prefix(&pat)));
                    return Ok(pat);
                }
                Minted::AlreadyHasOne if self.args.revoke_existing && attempt == 0 => {
                    for existing in self.outcome.would_revoke.clone() {
                        let revoked =
                            caller.api().block_on(crate::api::pats::revoke_pat(caller.api(), &existing.truncated));
                        if matches!(revoked, Ok(Revoked::Now)) {
                            self.record(
                                ServerAction::ExistingPatRevoked,
                                format!(
                                    "your existing PAT (jti {}, created {}) was revoked at your request \
                                     (--revoke-existing)",
                                    existing.jti_prefix,
                                    existing.created_at.as_deref().unwrap_or("?")
                                ),
                            );
                        }
                    }
                }
                Minted::AlreadyHasOne => return Err(problem(self.second_pat_refused())),
                Minted::WithoutToken => return Err(problem("minting a PAT: Label Studio answered without a token")),
                Minted::Refused(answer) => {
                    let finding = crate::api::answers::whoami_legacy(&Ok(answer));
                    return Err(explained("minting a PAT", &finding, &ExplainContext::default()));
                }
            }
        }
        Err(problem("minting a PAT: Label Studio still answers 409 after the existing PATs were revoked"))
    }

    /// The user's PATs as Label Studio lists them: "jti 1a2b3c4d created 2026-...".
    fn existing_pats(&self) -> String {
        let names: Vec<String> = self
            .outcome
            .would_revoke
            .iter()
            .map(|p| format!("jti {} created {}", p.jti_prefix, p.created_at.as_deref().unwrap_or("?")))
            .collect();
        names.join(", ")
    }

    /// What a 409 means and the flag that resolves it. When the file already holds a PAT
    /// (the one that no longer works), giving "it" back with --pat-stdin is no way out.
    fn second_pat_refused(&self) -> String {
        let existing =
            if self.outcome.would_revoke.is_empty() { String::new() } else { format!(" ({})", self.existing_pats()) };
        if self.outcome.old_kind == TokenKind::Pat {
            format!(
                "this user already has a Personal Access Token{existing}, most likely the one in the file that no \
                 longer works (Label Studio answers 409: \"You already have a valid token\"): add --revoke-existing \
                 to revoke it and mint a new one"
            )
        } else {
            format!(
                "this user already has a Personal Access Token{existing} (Label Studio answers 409: \"You already \
                 have a valid token\"): give it with --pat-stdin, or add --revoke-existing to revoke it and mint a \
                 new one"
            )
        }
    }

    /// Save every PAT this run minted and did not write in a file of its own (0600): in the
    /// backup directory, else beside the `.env`, else in the temporary directory (the place
    /// that just failed may be one of them), and say so in the ledger. Each PAT that could
    /// be saved nowhere stays in `unwritten` (and is then revoked, as any unwritten PAT:
    /// with none live, the next run's mint succeeds). False when one could not be saved.
    fn save_unwritten(&mut self, why: &anyhow::Error) -> bool {
        let now = time::OffsetDateTime::now_utc();
        let env_file = self.args.env_file.display().to_string();
        let stem = format!("{}-unwritten-pat", crate::backup::new_id(now, "migrate-env"));
        let mut places: Vec<std::path::PathBuf> =
            self.ctx.backup_dir(self.args.change.backup_dir.as_deref()).into_iter().collect();
        places
            .extend(self.args.env_file.parent().map(|p| if p.as_os_str().is_empty() { ".".into() } else { p.into() }));
        places.push(std::env::temp_dir());
        let mut all_saved = true;
        for pat in std::mem::take(&mut self.unwritten) {
            let text = format!(
                "{pat}\n# A Personal Access Token lsauth migrate-env minted on {now} for {env_file}, and could not \
                 write there: {}.\n# It is live. The first line is the PAT; put it in place with:\n# lsauth \
                 migrate-env --env-file {} --pat-stdin < THIS_FILE\n",
                format!("{why:#}").trim_end_matches('.'),
                crate::text::paste::shell_quote(&env_file)
            );
            let saved = places.iter().find_map(|dir| {
                fsutil::ensure_private_dir(dir)
                    .and_then(|()| fsutil::write_new_file(dir, &stem, ".txt", text.as_bytes(), 0o600))
                    .ok()
            });
            let Some(path) = saved else {
                self.unwritten.push(pat);
                all_saved = false;
                continue;
            };
            let shown = path.display().to_string();
            self.record(
                ServerAction::PatSaved,
                format!(
                    "the PAT created (jti {}) is live and was not written to {env_file}: it was saved in {shown} \
                     (mode 600); put it in place with: lsauth migrate-env --env-file {} --pat-stdin < {}",
                    jti_prefix(&pat),
                    crate::text::paste::shell_quote(&env_file),
                    crate::text::paste::shell_quote(&shown)
                ),
            );
            self.outcome.file.saved_pat_file = Some(shown);
        }
        all_saved
    }

    /// Revoke every PAT this run minted and did not write; say so in the ledger.
    fn revoke_unwritten(&mut self, api: &Api) {
        for pat in std::mem::take(&mut self.unwritten) {
            let jti = jti_prefix(&pat);
            let answer = api.block_on(crate::api::pats::revoke_pat(api, &pat));
            let why = match answer {
                Ok(Revoked::Now | Revoked::AlreadyGone) => {
                    self.record(
                        ServerAction::PatRevokedAgain,
                        format!("the PAT created (jti {jti}) was revoked again, as it was not written"),
                    );
                    continue;
                }
                Ok(Revoked::Refused(status)) => format!("Label Studio answered {status}"),
                Err(no) => no.reason,
            };
            self.record(
                ServerAction::PatRevokeFailed,
                format!(
                    "the PAT created (jti {jti}) could NOT be revoked again ({why}): revoke it in Label Studio \
                     (Account & Settings > Personal Access Token)"
                ),
            );
        }
    }

    /// --enable-pat: the owner's organization gets PATs on, through the same backed-up
    /// write as `lsauth enable-pat --org N`.
    fn enable_pats(&mut self, db: &mut dyn Database, org: i64) -> anyhow::Result<()> {
        let dir = self.ctx.backup_dir(self.args.change.backup_dir.as_deref())?;
        let toggle = Toggle { setting: Setting::ApiTokensEnabled, enable: true };
        if let Some(backup) = crate::write::database::apply_toggle(db, &OrgScope::ids(vec![org]), toggle, &dir)? {
            self.record(
                ServerAction::PatsEnabled,
                format!(
                    "Personal Access Tokens were turned on for organization {org} (backup {}; undo: {})",
                    backup.id,
                    crate::text::paste::rollback(&backup.id)
                ),
            );
        }
        Ok(())
    }

    /// The file's new bytes, checked to read back as intended (`envfile::check_rewrite`):
    /// refused otherwise, before anything is written.
    fn rewritten(&self, s: &Setup, new_value: &str, password: &str) -> anyhow::Result<String> {
        let text = self.rewrite(s, new_value, password).render();
        let login = self.args.login.as_deref().unwrap_or_default();
        let changed: Vec<(&str, Option<&str>)> = if self.to_password() {
            vec![(&s.variable, None), ("LABEL_STUDIO_USERNAME", Some(login)), ("LABEL_STUDIO_PASSWORD", Some(password))]
        } else if let Some(moved_to) = self.pat_variable(s) {
            vec![(&s.variable, None), (moved_to, Some(new_value))]
        } else {
            vec![(&s.variable, Some(new_value))]
        };
        crate::config::envfile::check_rewrite(&s.doc, text.as_bytes(), &changed).map_err(|why| {
            problem(format!(
                "{}: {why}; nothing was written (report this file's layout, without its values, to lsauth)",
                s.path.display()
            ))
        })?;
        Ok(text)
    }

    /// Where an ML backend's PAT must go when its key is in another variable: the current
    /// backend refreshes only LABEL_STUDIO_API_KEY's (measured: a PAT in
    /// LABEL_STUDIO_ACCESS_TOKEN goes out unrefreshed as Bearer, 401). `None`: it stays put.
    fn pat_variable(&self, s: &Setup) -> Option<&'static str> {
        const REFRESHED: &str = "LABEL_STUDIO_API_KEY";
        let ml = self.outcome.client == EnvClient::MlBackend;
        (ml && !self.to_password() && s.variable != REFRESHED).then_some(REFRESHED)
    }

    fn rewrite(&self, s: &Setup, new_value: &str, password: &str) -> EnvDocument {
        let today = time::OffsetDateTime::now_utc().date();
        // What the old value was, as it was: a PAT replaced by a new one is no legacy token.
        let old = if s.old.kind == TokenKind::Pat { "Personal Access Token" } else { "legacy token" };
        let note = if self.to_password() {
            format!("replaced by LABEL_STUDIO_USERNAME/LABEL_STUDIO_PASSWORD on {today} by lsauth migrate-env")
        } else if let Some(moved_to) = self.pat_variable(s) {
            format!("{old}, replaced by a Personal Access Token in {moved_to} on {today} by lsauth migrate-env")
        } else {
            format!("{old}, replaced by a Personal Access Token on {today} by lsauth migrate-env")
        };
        let mut d = s.doc.clone();
        let old_line = d.assignment_text(&s.variable).unwrap_or_default();
        if !self.args.drop_legacy {
            d.comment_before(&s.variable, &format!("{old_line}  # {note}"));
        }
        if self.to_password() {
            d.remove_all(&s.variable);
            d.upsert("LABEL_STUDIO_USERNAME", self.args.login.as_deref().unwrap_or_default());
            d.upsert("LABEL_STUDIO_PASSWORD", password);
        } else if let Some(moved_to) = self.pat_variable(s) {
            d.remove_all(&s.variable);
            d.upsert(moved_to, new_value);
        } else {
            d.set_value(&s.variable, new_value);
        }
        d
    }

    fn diff(&self, s: &Setup, new_text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        report::diff::unified(&s.doc.render(), new_text, &s.path.display().to_string(), &secrets)
    }

    /// The whole migration; every server change is in the ledger when it returns.
    fn execute(&mut self) -> anyhow::Result<ExitStatus> {
        let s = self.setup()?;
        let replace = if self.args.change.dry_run { None } else { Some(fsutil::prepare_replace(&s.path)?) };
        if let Some(w) = replace.as_ref().and_then(fsutil::ReplaceTarget::exposure_warning) {
            self.outcome.warnings.push(w);
        }
        if self.already_migrated(&s) {
            return Ok(ExitStatus::Ok);
        }
        let legacy_check = legacy_check(&s)?;
        let wants_write = self.args.enable_pat && !self.args.change.dry_run;
        let mut db_warnings = Vec::new();
        let mut db =
            self.ctx.optional_db(if wants_write { Access::ReadWrite } else { Access::ReadOnly }, &mut db_warnings)?;
        self.outcome.warnings.extend(db_warnings);
        self.outcome.owner = self.find_owner(&s, legacy_check.as_ref(), db.as_mut())?;
        self.check_client(&s)?;

        let mut pat_given = if self.args.pat_stdin { Some(sources::read_secret_stdin("PAT")?) } else { None };
        let mut password = if self.args.password_stdin { Some(sources::read_secret_stdin("password")?) } else { None };
        let how = self.choose_source(&s, legacy_check.as_ref(), pat_given.is_some())?;
        self.outcome.new_credential.credential = how;
        self.check_owner_known(how)?;

        // Sign in first where the credential comes from a login: it changes nothing, and
        // tells who will own the new credential before anything is minted.
        let session = self.sign_in(&s, how, &mut password)?;

        let mints = matches!(how, CredentialSource::MintedWithLegacyToken | CredentialSource::MintedAfterLogin);
        let mut enable_first = false;
        let caller = match &session {
            Some(session) => Caller::Session(session),
            None => Caller::Token(&s.api, &s.old.token),
        };
        if mints {
            self.preflight(db.as_mut(), &caller)?;
            enable_first = self.check_preflight(db.is_some())?;
            // A dry run reads what the real run reads: the user's PATs, to predict the 409.
            if self.args.revoke_existing || self.args.change.dry_run {
                self.list_existing(&caller)?;
            }
        }

        if let Some(pat) = &pat_given {
            self.secrets.push(pat.clone());
        }
        if self.args.change.dry_run {
            return self.dry_run(&s, mints, pat_given.as_deref(), password.as_deref());
        }
        // The rewrite must read back as intended before anything changes on the server
        // (a mint, a revoke): checked here with the value to come, or one of its shape;
        // and every place that will take a file must take it (exit 2 otherwise).
        let shaped =
            self.rewritten(&s, pat_given.as_deref().unwrap_or(PAT_SHAPED), password.as_deref().unwrap_or_default())?;
        let target = replace.expect("prepared when not a dry run");
        self.check_local_writes(&s, &target, shaped.len() as u64)?;
        self.confirm(&s, how, enable_first)?;
        if how == CredentialSource::Prompt {
            // Asked before anything changes: a prompt cancelled is nothing changed.
            let pat = terminal::secret_prompt("Paste the Personal Access Token")?;
            self.secrets.push(pat.clone());
            pat_given = Some(pat);
        }
        // Held until the process ends: the last words (a saved PAT's file, in the error)
        // are printed after this command returns.
        crate::signals::hold_to_exit();

        if enable_first {
            let org = self.outcome.preflight.as_ref().and_then(|p| p.organization_id).expect("known when PATs are off");
            let db = db.as_mut().expect("checked: a database is open");
            self.enable_pats(db.as_mut(), org)?;
        }
        let new_value = self.obtain(&s, how, &caller, pat_given)?;

        self.commit(&s, target, &new_value, password.as_deref())
    }

    /// The new credential (a PAT given or minted now, verified; nothing for a password,
    /// which the sign-in verified).
    fn obtain(
        &mut self,
        s: &Setup,
        how: CredentialSource,
        caller: &Caller<'_>,
        pat_given: Option<String>,
    ) -> anyhow::Result<String> {
        let new_value = match how {
            CredentialSource::Password => return Ok(String::new()),
            CredentialSource::PatStdin | CredentialSource::Prompt => pat_given.expect("read before the change"),
            CredentialSource::MintedWithLegacyToken | CredentialSource::MintedAfterLogin => self.mint(caller)?,
            CredentialSource::NotObtained => unreachable!("decided above"),
        };
        self.verify_new(s, &new_value)?;
        Ok(new_value)
    }

    /// Every place the rewrite will put a file must take it, with room for it, before
    /// anything changes on the server: the backup directory (the record, and a PAT that
    /// could not be written), the directory beside the file (the copy of it as it was),
    /// and the file's own directory or, bind-mounted, the file itself. Exit 2 otherwise,
    /// with nothing changed.
    fn check_local_writes(&self, s: &Setup, target: &fsutil::ReplaceTarget, new_len: u64) -> anyhow::Result<()> {
        use std::path::Path;
        let dir = self.ctx.backup_dir_for_writing(self.args.change.backup_dir.as_deref())?;
        let beside = s.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fsutil::probe_takes_files(
            beside,
            &format!("the copy of {} as it was goes beside it (nothing was changed)", s.path.display()),
        )?;
        let before = s.doc.render().len() as u64;
        // A real PAT is longer than the stand-in the text was measured with.
        let new_len = new_len + 512;
        let mut files = vec![
            fsutil::NewFile { on: beside.to_path_buf(), bytes: before, what: "the copy of the file".into() },
            fsutil::NewFile { on: dir, bytes: 8 << 10, what: "the backup record".into() },
        ];
        files.push(if target.in_place {
            fsutil::NewFile {
                on: target.real.clone(),
                bytes: new_len.saturating_sub(before),
                what: "the file's new content".into(),
            }
        } else {
            fsutil::NewFile {
                on: target.real.parent().unwrap_or(Path::new("/")).to_path_buf(),
                bytes: new_len,
                what: "the new file".into(),
            }
        });
        fsutil::check_room(&files)
    }

    /// The web login, for the credential sources that need it: `None` for the others.
    fn sign_in(
        &mut self,
        s: &Setup,
        how: CredentialSource,
        password: &mut Option<String>,
    ) -> anyhow::Result<Option<Api>> {
        if !matches!(how, CredentialSource::Password | CredentialSource::MintedAfterLogin) {
            return Ok(None);
        }
        let email = self.args.login.clone().unwrap_or_default();
        if password.is_none() {
            crate::api::session::reach(&s.api)?;
        }
        let pw = self.ctx.password_or_prompt(&email, password.take())?;
        self.secrets.push(pw.clone());
        let session = Api::with_session(s.base.clone(), self.args.timeout.duration())?;
        let user = session.block_on(login(&session, &email, &pw))?;
        self.check_same_user(&user)?;
        if how == CredentialSource::Password {
            self.outcome.new_credential.verified_as(user);
        }
        *password = Some(pw);
        Ok(Some(session))
    }

    /// Write the file: backup beside it and its record first, then the atomic replace.
    /// From here on a minted PAT is the file's, no longer lsauth's to revoke.
    fn commit(
        &mut self,
        s: &Setup,
        target: fsutil::ReplaceTarget,
        new_value: &str,
        password: Option<&str>,
    ) -> anyhow::Result<ExitStatus> {
        let new_text = self.rewritten(s, new_value, password.unwrap_or_default())?;
        self.outcome.file.diff = self.diff(s, &new_text);
        let dir = self.ctx.backup_dir(self.args.change.backup_dir.as_deref())?;
        let before = s.doc.render();
        let committed =
            match envbackup::commit_rewrite(&target, before.as_bytes(), new_text.as_bytes(), None, &dir, "migrate-env")
            {
                Ok(committed) => committed,
                Err(failed) => {
                    let file = &mut self.outcome.file;
                    file.in_place = failed.in_place;
                    if let Some(left) = failed.left {
                        file.backup_id = Some(left.backup_id);
                        file.backup_file = Some(left.backup_file.display().to_string());
                        file.left_partial = Some(PartialWrite { restore: left.restore });
                    }
                    return Err(failed.error);
                }
            };
        self.unwritten.clear();
        let file = &mut self.outcome.file;
        file.file_written = true;
        file.backup_id = Some(committed.backup_id);
        file.backup_file = Some(committed.backup_file.display().to_string());
        file.mode = Some(format!("{:o}", target.mode));
        file.in_place = committed.in_place;
        self.outcome.result = MigrateResult::Migrated;
        Ok(ExitStatus::Ok)
    }

    /// The new PAT must refresh, its access token pass whoami, and belong to the owner.
    fn verify_new(&mut self, s: &Setup, new_value: &str) -> anyhow::Result<()> {
        let pat = token::inspect(new_value, crate::token::check::now_secs());
        if pat.kind != TokenKind::Pat {
            return Err(problem(format!("the new credential is not a PAT ({})", pat.kind.describe())));
        }
        let context = ExplainContext {
            organization_id: self.outcome.owner.as_ref().and_then(|o| o.user.active_organization),
            owner_email: self.outcome.owner.as_ref().and_then(|o| o.user.email.clone()),
            variable: Some(s.variable.clone()),
            ..ExplainContext::default()
        };
        // The preflight said PATs are on (database or API) and the access token is still
        // refused: the server's JWT feature flag, not the setting (seen on a real 1.23.2
        // started with the flag off).
        let pats_on = self.outcome.preflight.as_ref().and_then(|p| p.api_tokens_enabled);
        let user = s
            .api
            .block_on(verify_pat(&s.api, &pat.token))
            .map_err(|f| explained("verifying the new PAT", &diagnosis::refine(f, pats_on), &context))?;
        self.check_same_user(&user)?;
        self.outcome.new_credential.verified_as(user);
        self.outcome.new_credential.new_token = Some(mask(&pat.token));
        Ok(())
    }

    /// `--dry-run`: the diff with the value to come, and the real run's refusals predicted
    /// (a second PAT's 409 without --revoke-existing is exit 1, as the real run's would be).
    fn dry_run(
        &mut self,
        s: &Setup,
        mints: bool,
        pat_given: Option<&str>,
        password: Option<&str>,
    ) -> anyhow::Result<ExitStatus> {
        if let Some(pat) = pat_given {
            self.verify_new(s, pat)?;
        }
        let shown_new = pat_given.unwrap_or(PLACEHOLDER);
        let new = self.rewritten(s, shown_new, password.unwrap_or("<password>"))?;
        self.outcome.file.diff = self.diff(s, &new);
        self.outcome.result = MigrateResult::DryRun;
        if mints && !self.outcome.would_revoke.is_empty() && !self.args.revoke_existing {
            // The mint would meet a 409: said now, with the flag, as the real run would.
            let refused = self.second_pat_refused();
            self.outcome.warnings.push(format!("the real run would be refused: {refused}"));
            return Ok(ExitStatus::Problem);
        }
        if mints && !self.outcome.would_revoke.is_empty() {
            let names: Vec<String> =
                self.outcome.would_revoke.iter().map(|p| format!("jti {}", p.jti_prefix)).collect();
            self.outcome.warnings.push(format!(
                "if Label Studio refuses a second PAT, the real run revokes {} (--revoke-existing)",
                names.join(", ")
            ));
        }
        Ok(ExitStatus::Ok)
    }

    /// A file that already holds a PAT the server accepts needs no migration (unless a
    /// credential was given to move to): said, and nothing else is done.
    fn already_migrated(&mut self, s: &Setup) -> bool {
        if self.to_password() || s.old.kind != TokenKind::Pat || self.args.pat_stdin || self.args.login.is_some() {
            return false;
        }
        let Ok(user) = s.api.block_on(verify_pat(&s.api, &s.old.token)) else { return false };
        self.outcome.result = MigrateResult::AlreadyMigrated;
        self.outcome.new_credential.verified_as(user);
        true
    }

    fn confirm(&mut self, s: &Setup, how: CredentialSource, enable_first: bool) -> anyhow::Result<()> {
        let mut steps = Vec::new();
        if enable_first {
            let org = self.outcome.preflight.as_ref().and_then(|p| p.organization_id).unwrap_or_default();
            steps.push(format!("turn PATs on for organization {org}"));
        }
        match how {
            CredentialSource::MintedWithLegacyToken => steps.push("mint a PAT with the legacy token".into()),
            CredentialSource::MintedAfterLogin => steps.push("mint a PAT for the signed-in user".into()),
            _ => {}
        }
        if !self.outcome.would_revoke.is_empty() {
            self.ctx
                .out
                .note(format!("If Label Studio refuses a second PAT, lsauth revokes: {}", self.existing_pats()));
            steps.push(format!(
                "revoke {} if needed",
                crate::report::style::count(self.outcome.would_revoke.len(), "existing PAT", "existing PATs")
            ));
        }
        steps.push(format!("rewrite {}", s.path.display()));
        let question = format!("{}?", capitalize(&steps.join(", ")));
        if terminal::will_ask(self.args.change.yes, self.ctx.out.json) {
            // The change a person is asked about, before the question: the new value is a
            // placeholder (nothing is minted before "yes").
            let new = self.rewritten(s, PLACEHOLDER, "<password>")?;
            let preflight = self.outcome.preflight.as_ref().map(report::migrate::preflight_line).unwrap_or_default();
            report::print_plan(&self.ctx.out, || format!("{}\n{preflight}", self.diff(s, &new)))?;
            self.outcome.plan_shown = true;
        }
        terminal::confirm(&question, self.args.change.yes, self.ctx.out.json)
    }

    /// A failed run: revoke what was minted and not written, then say exactly what
    /// changed, in the error and (with --json) in the one document on stdout.
    fn fail(&mut self, err: anyhow::Error, api: Option<&Api>) -> anyhow::Error {
        let revoked_existing = self.outcome.server_changes.iter().any(|c| c.action == ServerAction::ExistingPatRevoked);
        // After the user's own PAT was revoked, the new one is the only PAT left: kept
        // (saved where the output says) rather than revoked, so a key always works.
        if revoked_existing {
            self.save_unwritten(&err);
        }
        // What could not be saved anywhere (or needs no saving) is revoked again.
        if let Some(api) = api {
            self.revoke_unwritten(api);
        }
        let status = status_of(&err);
        let partial = self.outcome.file.left_partial.as_ref().map(|partial| {
            format!(
                "the file {} may hold part of the change: its backup is {}; restore it with: {}",
                self.outcome.env_file,
                self.outcome.file.backup_file.as_deref().unwrap_or("?"),
                partial.restore
            )
        });
        let summary = crate::outcome::migrate::summarize_failed(&self.outcome.server_changes, partial.as_deref());
        self.outcome.changed = !self.outcome.server_changes.is_empty() || self.outcome.file.left_partial.is_some();
        self.outcome.summary = summary.clone();
        let mut message = format!("{err:#}");
        let trimmed = message.trim_end_matches(['.', ' ']).len();
        message.truncate(trimmed);
        self.outcome.error = Some(message.clone());
        self.outcome.result = MigrateResult::Failed;
        if self.ctx.out.json {
            let _ = report::migrate::render(&self.outcome, &self.ctx.out);
        }
        if !self.outcome.changed && message.to_lowercase().contains("nothing was changed") {
            // The error already says it ("not confirmed: nothing was changed").
            return Classified::new(status, format!("{}.", capitalize(&message))).into();
        }
        Classified::new(status, format!("{message}. {summary}")).into()
    }
}

pub fn run(ctx: &Ctx, args: &MigrateEnvArgs) -> anyhow::Result<ExitStatus> {
    let mut m = Migration::new(ctx, args);
    match m.execute() {
        Ok(status) => {
            let file = m.outcome.file.file_written.then(|| m.outcome.env_file.clone());
            m.outcome.changed = file.is_some() || !m.outcome.server_changes.is_empty();
            m.outcome.summary = summarize(&m.outcome.server_changes, file.as_deref());
            if m.outcome.plan_shown {
                // Shown before the prompt (people only: --json never prompts).
                m.outcome.file.diff.clear();
            }
            report::migrate::render(&m.outcome, &ctx.out)?;
            Ok(status)
        }
        Err(err) => {
            // Without a URL setup failed before anything could be minted.
            let api = m.base.clone().and_then(|b| Api::new(b, args.timeout.duration()).ok());
            Err(m.fail(err, api.as_ref()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_pats_show_their_jti_and_date() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(r#"{"token_type":"refresh","jti":"0123456789abcdef","iat":1767225600}"#);
        let listed = describe_listed(&format!("{header}.{payload}"));
        assert_eq!(listed.jti_prefix, "01234567");
        assert_eq!(listed.created_at.as_deref(), Some("2026-01-01T00:00:00Z"));
    }
}
