//! Acting on Label Studio as a signed-in user, through its API: the web login, a token
//! that authenticates, the active organization's token settings (`/api/jwt/settings`)
//! and its title. Used where no database is at hand (`--via-api`) and by migrate-env.
//!
//! Observed on Label Studio 1.23.2: `GET`/`POST /api/jwt/settings` read and change the
//! caller's **active** organization (200, the row changes at once); any member may
//! (open source grants `organizations.view`/`change` to every member; other editions may
//! answer 403); a web-login session needs no CSRF header for API calls (Label Studio
//! exempts its API from CSRF; only the login form checks it), lsauth sends it anyway.
//! Releases before the endpoint (1.16.0) answer 404 with an HTML page.

use std::time::Duration;

use super::answers;
use super::{Answer, Api, Auth, NoAnswer};
use crate::exit::{problem, unreachable_error};
use crate::settings::ApiSettings;
use crate::token::diagnosis::{self, ApiUser, Cause, CredentialKind, ExplainContext, Finding};
use crate::token::{self, TokenKind};

pub const SETTINGS_PATH: &str = "api/jwt/settings";

/// How one request authenticates as the caller.
pub enum Caller<'a> {
    /// `Authorization: Token <legacy key>`.
    Token(&'a Api, &'a str),
    /// `Authorization: Bearer <access token>` (refreshed from a PAT).
    Bearer(&'a Api, &'a str),
    /// The web-login session's cookies.
    Session(&'a Api),
}

impl Caller<'_> {
    pub fn api(&self) -> &Api {
        match self {
            Caller::Token(api, _) | Caller::Bearer(api, _) | Caller::Session(api) => api,
        }
    }

    pub async fn get(&self, path: &str) -> Result<Answer, NoAnswer> {
        match self {
            Caller::Token(api, key) => api.get(path, Auth::Token(key)).await,
            Caller::Bearer(api, access) => api.get(path, Auth::Bearer(access)).await,
            Caller::Session(api) => api.get(path, Auth::None).await,
        }
    }

    /// As `get`, answered once per run (`Api::get_once`): for whoami, which sign-in and the
    /// organization's title both read.
    pub async fn get_once(&self, path: &str) -> Result<Answer, NoAnswer> {
        match self {
            Caller::Token(api, key) => api.get_once(path, Auth::Token(key)).await,
            Caller::Bearer(api, access) => api.get_once(path, Auth::Bearer(access)).await,
            Caller::Session(api) => api.get_once(path, Auth::None).await,
        }
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Result<Answer, NoAnswer> {
        match self {
            Caller::Token(api, key) => api.post_json(path, body, Auth::Token(key)).await,
            Caller::Bearer(api, access) => api.post_json(path, body, Auth::Bearer(access)).await,
            Caller::Session(api) => api.post_json_session(path, body).await,
        }
    }
}

/// The server answers at all (`api/version`): checked before a person is asked for a
/// password, so that nobody types one for a server that is down (exit 3 then).
pub fn reach(api: &Api) -> anyhow::Result<()> {
    api.block_on(api.get("api/version", Auth::None))
        .map(|_| ())
        .map_err(|no| unreachable_at("reaching Label Studio", &no))
}

pub fn unreachable_at(step: &str, no: &NoAnswer) -> anyhow::Error {
    unreachable_error(format!("{step}: {}: {}", no.url, no.reason))
}

/// The web login: CSRF cookie, form post; success is a 302 to Label Studio's own app (a
/// 302 back to the login page, or elsewhere, is not a login). Then the session's whoami
/// says who signed in.
pub async fn login(api: &Api, email: &str, password: &str) -> anyhow::Result<ApiUser> {
    let unreachable = |no: NoAnswer| unreachable_at("logging in", &no);
    api.get("user/login/", Auth::None).await.map_err(unreachable)?;
    let csrf = api.cookie("csrftoken").unwrap_or_default();
    let answer = api
        .post_form("user/login/", &[("csrfmiddlewaretoken", &csrf), ("email", email), ("password", password)])
        .await
        .map_err(unreachable)?;
    match answer.status {
        302 | 303 => {
            let location = answer.location.as_deref().unwrap_or("");
            if !is_app_location(api, location) {
                return Err(problem(format!(
                    "logging in as {email}: Label Studio redirected to {location:?}, not to its own app: not signed in"
                )));
            }
        }
        200 if answer.body.contains("don&#x27;t match") || answer.body.contains("don't match") => {
            return Err(problem(format!("logging in as {email}: the email and password do not match")));
        }
        403 => return Err(problem("logging in: Label Studio refused the CSRF check (403)")),
        404 => {
            return Err(problem(format!(
                "logging in as {email}: {} answered 404: not a Label Studio login page (check --url)",
                api.url("user/login/")
            )))
        }
        status => return Err(problem(format!("logging in as {email}: unexpected answer {status}"))),
    }
    // Once signed in, the session's whoami is what sign-in and the title both read.
    let who = api.get_once("api/current-user/whoami", Auth::None).await.map_err(unreachable)?;
    let user = answers::whoami_session(&who).ok_or_else(|| {
        problem(format!("logging in as {email}: the session is not signed in (whoami answered {})", who.status))
    })?;
    if !same_email(user.email.as_deref(), email) {
        return Err(problem(format!(
            "logging in as {email}: the session belongs to {}",
            user.email.as_deref().unwrap_or("another user")
        )));
    }
    Ok(user)
}

/// A redirect target inside Label Studio's app: same origin, under the base path, and not
/// the login page again.
pub fn is_app_location(api: &Api, location: &str) -> bool {
    let login = api.url("user/login/");
    let Ok(target) = login.join(location) else { return false };
    target.origin() == api.base().origin()
        && target.path().starts_with(api.base().path())
        && !target.path().starts_with(api.url("user/login").path())
}

pub fn same_email(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// What `/api/jwt/settings` answered, as settings or as the reason they cannot be had.
/// `step` names what was being done ("reading the token settings"); `who` the caller.
pub fn settings_from(step: &str, who: &str, result: &Result<Answer, NoAnswer>) -> anyhow::Result<ApiSettings> {
    let a = result.as_ref().map_err(|no| unreachable_at(step, no))?;
    let detail = a.detail().unwrap_or_default();
    let parsed = a.json().and_then(|j| {
        Some(ApiSettings {
            api_tokens_enabled: j.get("api_tokens_enabled")?.as_bool()?,
            legacy_api_tokens_enabled: j.get("legacy_api_tokens_enabled")?.as_bool()?,
        })
    });
    match (a.status, parsed) {
        (200, Some(settings)) => Ok(settings),
        (401, _) => Err(problem(format!(
            "{step}: Label Studio did not accept {who} (401: {detail}); sign in with --login EMAIL (the web login \
             works whatever the token settings)"
        ))),
        (403, _) => Err(problem(format!(
            "{step}: {who} may not do this in the active organization (403: {detail}); sign in as an owner or \
             administrator of the organization"
        ))),
        (404, _) => Err(problem(format!(
            "{step}: /{SETTINGS_PATH} answered 404: this Label Studio has no token settings endpoint (it came with \
             the JWT tokens of 1.17; older releases have no organization token settings at all), or --url is not \
             Label Studio's base URL"
        ))),
        (400, _) => Err(problem(format!(
            "{step}: Label Studio refused the values (400: {})",
            crate::text::shown::outside(a.body.trim())
        ))),
        (status, _) if a.is_redirect() => Err(problem(format!(
            "{step}: Label Studio redirected ({status}) to {}: give the final URL with --url",
            a.location.as_deref().unwrap_or("another URL")
        ))),
        (status, _) => Err(problem(format!(
            "{step}: unexpected answer {status} {}",
            if detail.is_empty() { a.content_type.as_deref().unwrap_or("").to_string() } else { detail }
        ))),
    }
}

/// The token settings of the caller's active organization.
pub async fn read_settings(caller: &Caller<'_>, who: &str) -> anyhow::Result<ApiSettings> {
    settings_from("reading the token settings", who, &caller.get(SETTINGS_PATH).await)
}

/// Write both settings of the caller's active organization; Label Studio answers with
/// what it stored. The answer, or no answer at all, is returned as it came.
pub async fn post_settings(caller: &Caller<'_>, settings: ApiSettings) -> Result<Answer, NoAnswer> {
    let body = serde_json::json!({
        "api_tokens_enabled": settings.api_tokens_enabled,
        "legacy_api_tokens_enabled": settings.legacy_api_tokens_enabled,
    });
    caller.post(SETTINGS_PATH, &body).await
}

/// An organization's title: from whoami's `active_organization_meta` (1.20+), else
/// `GET /api/organizations/ID`. Only the title is read: that answer also holds the
/// organization's invite token, which lsauth neither keeps nor shows.
pub async fn organization_title(caller: &Caller<'_>, id: i64) -> Option<String> {
    let title_of = |a: &Answer, pointer: &str| {
        (a.status == 200).then(|| a.json()?.pointer(pointer)?.as_str().map(String::from)).flatten()
    };
    if let Ok(a) = caller.get_once("api/current-user/whoami").await {
        let active = a.json().and_then(|j| j.get("active_organization")?.as_i64());
        if active == Some(id) {
            if let Some(title) = title_of(&a, "/active_organization_meta/title") {
                return Some(title);
            }
        }
    }
    let a = caller.get(&format!("api/organizations/{id}")).await.ok()?;
    title_of(&a, "/title")
}

/// What the caller authenticates with, kept for the whole run.
enum Held {
    Token(String),
    Pat { pat: String, access: String },
    Access(String),
    Session,
}

/// A caller who has proved who they are: the client, the credential, the user.
pub struct SignedIn {
    pub api: Api,
    held: Held,
    pub user: ApiUser,
    pub kind: CredentialKind,
}

impl SignedIn {
    pub fn caller(&self) -> Caller<'_> {
        match &self.held {
            Held::Token(key) => Caller::Token(&self.api, key),
            Held::Pat { access, .. } | Held::Access(access) => Caller::Bearer(&self.api, access),
            Held::Session => Caller::Session(&self.api),
        }
    }

    /// Who the caller is, for messages: "admin@example.com (a legacy token)".
    pub fn who(&self) -> String {
        let email = self.user.email.clone().unwrap_or_else(|| format!("user {}", self.user.id));
        format!("{email} (signed in with {})", self.kind.describe())
    }

    /// A fresh access token for a PAT (access tokens live 5 minutes: a prompt can
    /// outlast one). Nothing to do for the other credentials.
    pub fn renew(&mut self) -> anyhow::Result<()> {
        if let Held::Pat { pat, access } = &mut self.held {
            let result = self.api.block_on(self.api.refresh(pat));
            *access = answers::refresh(&result).map_err(|f| not_signed_in(&f, CredentialKind::Pat))?;
        }
        Ok(())
    }
}

fn not_signed_in(f: &Finding, kind: CredentialKind) -> anyhow::Error {
    let (why, _) = diagnosis::explain(f, &ExplainContext::default());
    if f.cause == Cause::Unreachable {
        return unreachable_error(format!("signing in: {why}"));
    }
    problem(format!(
        "signing in with {}: Label Studio refused it ({}: {why}) Sign in with --login EMAIL instead: the web login \
         works whatever the token settings.",
        kind.describe(),
        f.cause.as_str()
    ))
}

/// Sign in with a token: a legacy key as `Token`, a PAT refreshed to an access token, or
/// an access token as it is; whoami says who it is.
/// On `api`, a client for token checks: what it already asked (a probe's whoami) is not
/// asked again.
pub fn sign_in_with_token(api: Api, raw: &str) -> anyhow::Result<SignedIn> {
    let inspection = token::inspect(raw, crate::token::check::now_secs());
    let token = inspection.token.clone();
    let (held, kind) = match inspection.kind {
        TokenKind::Legacy => (Held::Token(token), CredentialKind::LegacyToken),
        TokenKind::Pat => {
            let result = api.block_on(api.refresh_once(&token));
            let access = answers::refresh(&result).map_err(|f| not_signed_in(&f, CredentialKind::Pat))?;
            (Held::Pat { pat: token, access }, CredentialKind::Pat)
        }
        TokenKind::Access => (Held::Access(token), CredentialKind::AccessToken),
        other => {
            return Err(crate::exit::bad_input(format!(
                "the token given cannot sign in: it is {} (give a PAT, a legacy token, or use --login)",
                other.describe()
            )))
        }
    };
    let mut signed = SignedIn { api, held, user: ApiUser { id: 0, email: None, active_organization: None }, kind };
    let finding = {
        let caller = signed.caller();
        let result = signed.api.block_on(caller.get_once("api/current-user/whoami"));
        match kind {
            CredentialKind::LegacyToken => answers::whoami_legacy(&result),
            _ => answers::whoami_bearer(&result),
        }
    };
    match (finding.cause, finding.user.clone()) {
        (Cause::Ok, Some(user)) => signed.user = user,
        _ => return Err(not_signed_in(&finding, kind)),
    }
    Ok(signed)
}

/// Sign in through the web login.
pub fn sign_in_with_login(base: url::Url, timeout: Duration, email: &str, password: &str) -> anyhow::Result<SignedIn> {
    let api = Api::with_session(base, timeout)?;
    let user = api.block_on(login(&api, email, password))?;
    Ok(SignedIn { api, held: Held::Session, user, kind: CredentialKind::WebLogin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_counts_only_when_it_redirects_into_the_app() {
        let base = crate::api::parse_base_url("http://ls.example:8080/label-studio").unwrap();
        let api = Api::new(base, std::time::Duration::from_secs(1)).unwrap();
        for ok in ["/label-studio/", "/label-studio/projects/", "http://ls.example:8080/label-studio/"] {
            assert!(is_app_location(&api, ok), "{ok}");
        }
        for not in [
            "/label-studio/user/login/?next=/",
            "/",
            "http://evil.example/label-studio/",
            "https://ls.example:8080/label-studio/",
        ] {
            assert!(!is_app_location(&api, not), "{not}");
        }
    }

    fn answer(status: u16, body: &str, content_type: &str) -> Result<Answer, NoAnswer> {
        Ok(Answer { status, body: body.into(), content_type: Some(content_type.into()), location: None })
    }

    #[test]
    fn settings_answers_as_observed() {
        let ok = answer(200, r#"{"api_tokens_enabled":true,"legacy_api_tokens_enabled":false}"#, "application/json");
        assert_eq!(
            settings_from("s", "w", &ok).unwrap(),
            ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: false }
        );
        let cases = [
            (401, r#"{"detail":"Invalid token."}"#, "application/json", "--login"),
            (403, r#"{"detail":"You do not have permission to perform this action."}"#, "application/json", "owner"),
            (404, "<!doctype html><html>", "text/html", "no token settings endpoint"),
            (400, r#"{"detail":"Validation error"}"#, "application/json", "refused the values"),
            (500, r#"{"detail":"boom"}"#, "application/json", "unexpected answer 500"),
            (200, "<html>", "text/html", "unexpected answer 200"),
        ];
        for (status, body, ct, says) in cases {
            let err = settings_from("s", "w", &answer(status, body, ct)).unwrap_err();
            assert_eq!(crate::exit::status_of(&err), crate::exit::ExitStatus::Problem, "{status}");
            assert!(format!("{err:#}").contains(says), "{status}: {err:#}");
        }
        let down = Err(NoAnswer { url: "http://x/api/jwt/settings".into(), reason: "connection refused".into() });
        let err = settings_from("s", "w", &down).unwrap_err();
        assert_eq!(crate::exit::status_of(&err), crate::exit::ExitStatus::Unreachable);
    }
}
