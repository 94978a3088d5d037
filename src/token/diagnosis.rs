//! Why a token fails: Label Studio's answers (AUTH-FACTS) mapped to a stable cause, a
//! one-line explanation and the fix. Pure: it reads answers, it does not fetch them.

use serde::Serialize;

/// Stable cause names: scripts branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Ok,
    LegacyDisabled,
    LegacyUnknown,
    UserInactive,
    ApiTokensDisabled,
    /// The access token is refused although the database says PATs are on for the
    /// owner's organization: the server's JWT feature flag is probably off.
    JwtFlagOff,
    PatInvalidSignature,
    PatTruncated,
    PatExpired,
    PatBlacklisted,
    PatUserMissing,
    NotARefreshToken,
    /// The server accepts the key, but not as this integration's client sends it (a PAT
    /// a client cannot refresh).
    ClientRefused,
    Malformed,
    NotLabelStudio,
    Redirected,
    Unreachable,
    /// An answer AUTH-FACTS does not list.
    Unexpected,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Ok => "ok",
            Cause::LegacyDisabled => "legacy_disabled",
            Cause::LegacyUnknown => "legacy_unknown",
            Cause::UserInactive => "user_inactive",
            Cause::ApiTokensDisabled => "api_tokens_disabled",
            Cause::JwtFlagOff => "jwt_flag_off",
            Cause::PatInvalidSignature => "pat_invalid_signature",
            Cause::PatTruncated => "pat_truncated",
            Cause::PatExpired => "pat_expired",
            Cause::PatBlacklisted => "pat_blacklisted",
            Cause::PatUserMissing => "pat_user_missing",
            Cause::NotARefreshToken => "not_a_refresh_token",
            Cause::ClientRefused => "client_refused",
            Cause::Malformed => "malformed",
            Cause::NotLabelStudio => "not_label_studio",
            Cause::Redirected => "redirected",
            Cause::Unreachable => "unreachable",
            Cause::Unexpected => "unexpected",
        }
    }
}

/// The user the API says the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiUser {
    pub id: i64,
    pub email: Option<String>,
    pub active_organization: Option<i64>,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    LegacyToken,
    Pat,
    AccessToken,
    WebLogin,
}

impl CredentialKind {
    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::LegacyToken => "a legacy token",
            CredentialKind::Pat => "a Personal Access Token",
            CredentialKind::AccessToken => "a JWT access token",
            CredentialKind::WebLogin => "the web login",
        }
    }

    /// The setting that, switched off, stops this credential from authenticating.
    pub fn needs(self) -> Option<crate::settings::Setting> {
        use crate::settings::Setting;
        match self {
            CredentialKind::LegacyToken => Some(Setting::LegacyApiTokensEnabled),
            CredentialKind::Pat | CredentialKind::AccessToken => Some(Setting::ApiTokensEnabled),
            CredentialKind::WebLogin => None,
        }
    }
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub cause: Cause,
    /// The HTTP status and `detail` that decided it, when an answer did.
    pub status: Option<u16>,
    pub detail: Option<String>,
    pub location: Option<String>,
    pub user: Option<ApiUser>,
}

impl Finding {
    pub fn of(cause: Cause) -> Self {
        Finding { cause, status: None, detail: None, location: None, user: None }
    }
}

/// The cause a token's own text proves, with no server asked: a truncated PAT, no Label
/// Studio token at all, an access token where a PAT belongs, an expired PAT.
pub fn offline_cause(i: &crate::token::Inspection) -> Option<Cause> {
    use crate::token::TokenKind;
    match i.kind {
        TokenKind::TruncatedPat => Some(Cause::PatTruncated),
        TokenKind::Unknown => Some(Cause::Malformed),
        TokenKind::Access => Some(Cause::NotARefreshToken),
        TokenKind::Pat if i.expired == Some(true) => Some(Cause::PatExpired),
        _ => None,
    }
}

/// "Authentication credentials were not provided." for a valid access token means PATs
/// are off for the owner's organization, unless the database says they are on: then the
/// server's JWT feature flag is the likelier reason. `pats_on_in_db`: what the database
/// says (`None` when it is not at hand, and the answer stands).
pub fn refine(finding: Finding, pats_on_in_db: Option<bool>) -> Finding {
    if finding.cause == Cause::ApiTokensDisabled && pats_on_in_db == Some(true) {
        return Finding { cause: Cause::JwtFlagOff, ..finding };
    }
    finding
}

/// The verdict for an integration whose client cannot use a key the server accepts:
/// the explanation and the fix (the key it can send back: lsauth's backup of the file
/// when there is one, `rollback_command`; never enable-legacy, which does not help).
pub fn client_refused(
    client: crate::token::clients::ClientId,
    result: &crate::token::clients::ClientResult,
    variable: Option<&str>,
    rollback_command: Option<&str>,
) -> (String, String) {
    use crate::token::clients::ClientId;
    let answer = match (result.status, result.detail.as_deref()) {
        (Some(status), detail) => format!("{status} {}", crate::text::shown::outside(detail.unwrap_or(""))),
        (None, detail) => crate::text::shown::outside(detail.unwrap_or("no answer")).into_owned(),
    };
    let var = variable.unwrap_or("the variable");
    let mut why = format!(
        "The server accepts this key, but this integration is {} ({}), which sends {}: {}.",
        client.describe(),
        client.as_str(),
        result.sends,
        answer.trim_end()
    );
    if client == ClientId::MlBackend && var != "LABEL_STUDIO_API_KEY" {
        why.push_str(&format!(
            " The ML backend refreshes a PAT only in LABEL_STUDIO_API_KEY; in {var} it goes out as it is."
        ));
    }
    let fix = match rollback_command {
        Some(command) => command.to_string(),
        None => format!("set {var} back to the owner's legacy token (Account & Settings > Access Token)"),
    };
    (why, fix)
}

/// `pat_invalid_signature` for a PAT that verifies with the SECRET_KEY lsauth read (from
/// `from`): the server signs with another key, set in its own environment, which wins
/// over its data directory's `.env`. The explanation and the fix.
pub fn server_key_differs(from: &str) -> (String, String) {
    (
        format!(
            "the PAT verifies with the SECRET_KEY from {from}, yet the server refuses it: the server runs with \
             another SECRET_KEY, set in its environment (docker compose, a systemd unit, a Kubernetes secret), which \
             wins over its data directory's .env"
        ),
        format!(
            "give the server the SECRET_KEY from {from} (or remove SECRET_KEY from its environment) and restart \
             Label Studio: the PATs that key signed work again"
        ),
    )
}

/// What lsauth knows besides the answers, to make explanations exact.
#[derive(Debug, Clone, Default)]
pub struct ExplainContext {
    /// The organization Label Studio consulted (the token owner's active one).
    pub organization_id: Option<i64>,
    pub owner_email: Option<String>,
    /// The variable the token came from, to name in the fix.
    pub variable: Option<String>,
    /// No database at hand: fixes of organization settings go through the API at this
    /// base URL (`--via-api`).
    pub via_api_url: Option<String>,
    /// The paste-ready `lsauth migrate-env` that would move this integration to a PAT,
    /// when that is a way out (not for an ML backend's `.env`, which migrate-env refuses).
    pub migrate_env: Option<String>,
}

/// One line of explanation and the fix, for a cause.
pub fn explain(f: &Finding, ctx: &ExplainContext) -> (String, String) {
    match f.cause {
        Cause::LegacyDisabled | Cause::ApiTokensDisabled | Cause::JwtFlagOff | Cause::PatInvalidSignature => {
            settings_explanation(f.cause, ctx)
        }
        Cause::NotLabelStudio | Cause::Redirected | Cause::Unreachable | Cause::Unexpected => server_explanation(f),
        cause => key_explanation(cause, ctx.variable.as_deref().unwrap_or("LABEL_STUDIO_API_KEY")),
    }
}

/// A cause in the organization's settings or the server's keys: the fix names the
/// organization, or the command that changes it (through the API when no database is at
/// hand), or moving the integration to a PAT.
fn settings_explanation(cause: Cause, ctx: &ExplainContext) -> (String, String) {
    let org = match ctx.organization_id {
        Some(id) => format!("organization {id}"),
        None => "the token owner's active organization".to_string(),
    };
    let org_flag = match (ctx.organization_id, &ctx.owner_email) {
        (Some(id), _) => format!("--org {id}"),
        (None, Some(email)) => {
            format!("--user {}", crate::text::paste::shell_quote(&crate::text::shown::outside(email)))
        }
        (None, None) => "--user OWNER_EMAIL".to_string(),
    };
    // The command that turns a setting on for that organization: through the database,
    // or through the API as a user whose active organization it is.
    let enable = |operation: &str| match &ctx.via_api_url {
        Some(url) => {
            let login = ctx.owner_email.as_deref().map(crate::text::paste::shell_quote).unwrap_or("OWNER_EMAIL".into());
            crate::text::paste::lsauth(&format!(
                "{operation} --via-api --url {} --login {login}",
                crate::text::paste::shell_quote(url)
            ))
        }
        None => crate::text::paste::lsauth(&format!("{operation} {org_flag}")),
    };
    // Signed in through the API, a change applies to the signed-in user's active organization.
    let via_api_who = if ctx.via_api_url.is_some() {
        " Through the API, sign in as the token's owner or anyone whose active organization is that one."
    } else {
        ""
    };
    let or_migrate =
        ctx.migrate_env.as_deref().map(|c| format!(" Or move the integration to a PAT: {c}")).unwrap_or_default();
    match cause {
        Cause::LegacyDisabled => (
            format!("Legacy tokens are disabled for {org} (jwt_auth_jwtsettings.legacy_api_tokens_enabled is false or the row is missing, which means false since 1.22).{via_api_who}{or_migrate}"),
            enable("enable-legacy"),
        ),
        Cause::ApiTokensDisabled => (
            format!("The PAT is valid, but Personal Access Tokens are disabled for {org}: the refresh works, the access token is refused.{via_api_who}"),
            enable("enable-pat"),
        ),
        Cause::JwtFlagOff => (
            format!("The PAT is valid and {org} has PATs on in the database, yet Label Studio refuses the access token: the JWT feature flag ({}) may be off in the server's environment.", crate::settings::JWT_FLAG),
            format!("check Label Studio's environment for {} (and its LABEL_STUDIO_/HEARTEX_ forms): unset it or set it to true, then restart Label Studio", crate::settings::JWT_FLAG),
        ),
        Cause::PatInvalidSignature => (
            "Label Studio cannot verify this PAT: it was signed with another SECRET_KEY (another instance, or SECRET_KEY changed since it was created) or it is damaged. If this instance issued it, putting back the SECRET_KEY that signed it revives it and every PAT issued before the change.".into(),
            match &ctx.migrate_env {
                // A new PAT for this integration, the dead one revoked on the way.
                Some(command) => format!(
                    "{command} --login {} --revoke-existing",
                    ctx.owner_email.as_deref().map(crate::text::paste::shell_quote).unwrap_or("OWNER_EMAIL".into())
                ),
                None => "create a new PAT on this instance (Account & Settings > Personal Access Token), and persist SECRET_KEY so restarts keep PATs valid".into(),
            },
        ),
        _ => unreachable!("explain hands only these causes here"),
    }
}

/// A cause in what the server answered (or did not): shown with the server's words, escaped.
fn server_explanation(f: &Finding) -> (String, String) {
    // What the server said is shown escaped: it is the server's text, not lsauth's.
    let location = crate::text::shown::outside(f.location.as_deref().unwrap_or("another URL"));
    let detail = f.detail.as_deref().map(crate::text::shown::outside);
    match f.cause {
        Cause::NotLabelStudio => (
            format!("The URL does not answer like Label Studio ({}).", detail.as_deref().unwrap_or("no version")),
            "set LABEL_STUDIO_URL to the Label Studio base URL, including any sub-path (http://host/label-studio)".into(),
        ),
        Cause::Redirected => (
            format!("Label Studio redirected the request to {location}; clients drop the Authorization header across such a redirect and get 401."),
            format!("set LABEL_STUDIO_URL to the final URL ({location} without its path), e.g. https:// instead of http://"),
        ),
        Cause::Unreachable => (
            {
                let why = detail.as_deref().unwrap_or("no answer").trim_end_matches('.');
                let stop = if why.ends_with('?') || why.ends_with(']') { "" } else { "." };
                format!("Label Studio could not be reached: {why}{stop}")
            },
            "check LABEL_STUDIO_URL, that Label Studio runs, and the network between them".into(),
        ),
        Cause::Unexpected => (
            format!(
                "Label Studio answered {} {}",
                f.status.map(|s| s.to_string()).unwrap_or_default(),
                detail.as_deref().unwrap_or("(no detail)")
            ),
            format!("run {} for the full picture", crate::text::paste::lsauth("doctor")),
        ),
        _ => unreachable!("explain hands only these causes here"),
    }
}

/// A cause in the key itself: its kind, its state on the server; `var` is the variable
/// that holds it.
fn key_explanation(cause: Cause, var: &str) -> (String, String) {
    match cause {
        Cause::Ok => ("Label Studio accepts this token.".into(), "nothing to fix".into()),
        Cause::LegacyUnknown => (
            "Label Studio knows no legacy token with this value (wrong instance, reset token, or a typo).".into(),
            "copy the token again from Account & Settings, or print it with: label-studio user --username EMAIL".into(),
        ),
        Cause::UserInactive => (
            "The token's user is inactive or deleted.".into(),
            "reactivate the user in Label Studio, or use another user's token".into(),
        ),
        Cause::PatTruncated => (
            "This is a truncated PAT (header.payload without a signature), as the token list and the database show it; it can never authenticate.".into(),
            "use the full PAT shown once when it was created, or create a new one".into(),
        ),
        Cause::PatExpired => ("The PAT has expired.".into(), "create a new PAT (Account & Settings)".into()),
        Cause::PatBlacklisted => (
            "The PAT was revoked (blacklisted).".into(),
            "create a new PAT (Account & Settings)".into(),
        ),
        Cause::PatUserMissing => (
            "The PAT belongs to a user that no longer exists (Label Studio answers 500).".into(),
            "create a PAT for an existing user".into(),
        ),
        Cause::NotARefreshToken => (
            "This is a JWT access token: it expires after 5 minutes and cannot be refreshed; clients must be given the PAT (the refresh token).".into(),
            format!("set {var} to the Personal Access Token itself"),
        ),
        Cause::ClientRefused => (
            "The server accepts this key, but not the way this integration's client sends it.".into(),
            "put the key this client can send back in its file".into(),
        ),
        Cause::Malformed => (
            "This is not a Label Studio token (neither 40 hex characters nor a JWT).".into(),
            format!("set {var} to the legacy token or the PAT exactly as Label Studio shows it"),
        ),
        _ => unreachable!("explain hands only these causes here"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_name_the_organization() {
        let ctx = ExplainContext { organization_id: Some(7), ..ExplainContext::default() };
        let (why, fix) = explain(&Finding::of(Cause::LegacyDisabled), &ctx);
        assert!(why.contains("organization 7"));
        assert_eq!(fix, "lsauth enable-legacy --org 7");
        assert!(!why.contains("migrate-env"), "no way out named that is not known to work: {why}");
        let script = ExplainContext { migrate_env: Some("lsauth migrate-env --env-file .env".into()), ..ctx.clone() };
        assert!(explain(&Finding::of(Cause::LegacyDisabled), &script)
            .0
            .ends_with("Or move the integration to a PAT: lsauth migrate-env --env-file .env"));
        let (_, fix) = explain(&Finding::of(Cause::ApiTokensDisabled), &ExplainContext::default());
        assert!(fix.starts_with("lsauth enable-pat --user"));
        let no_db = ExplainContext { via_api_url: Some("https://ls.example.com/".into()), ..ctx };
        let (_, fix) = explain(&Finding::of(Cause::LegacyDisabled), &no_db);
        assert!(fix.starts_with("lsauth enable-legacy --via-api --url https://ls.example.com/ --login"), "{fix}");
    }
}
