//! What the token's text and the database say about one token: the pieces `token
//! inspect`, `token test`, `doctor` and `migrate-env` share. Pure: `db::token_facts`
//! reads the database's side (`DbFacts`), and `api::probes` asks the server.

use serde::Serialize;

use crate::settings::{JwtFlag, JwtSettings};
use crate::token::{self, Inspection, TokenKind};

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

/// A user as token checks need them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserFacts {
    pub id: i64,
    pub email: String,
    pub is_active: bool,
    /// The organization Label Studio consults for this user's tokens.
    pub active_organization_id: Option<i64>,
}

/// A PAT's `jti` in `token_blacklist_outstandingtoken` / `_blacklistedtoken`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum JtiState {
    Outstanding {
        user_id: Option<i64>,
    },
    Blacklisted {
        user_id: Option<i64>,
    },
    /// Not issued by this database's Label Studio (another instance, or a forged token).
    Unknown,
}

/// Whether the token's signature verifies with the SECRET_KEY lsauth found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureState {
    Valid,
    /// Signed with another key.
    Invalid,
    NotChecked,
}

impl std::fmt::Display for SignatureState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureState::Valid => "valid",
            SignatureState::Invalid => "invalid",
            SignatureState::NotChecked => "not_checked",
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureCheck {
    pub state: SignatureState,
    pub secret_key_source: Option<String>,
    pub note: String,
}

pub fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Whether this instance signed the token, when SECRET_KEY is known.
pub fn check_signature(inspection: &Inspection, secret: Option<(String, String)>) -> SignatureCheck {
    match (inspection.kind, secret) {
        (TokenKind::Pat | TokenKind::Access, Some((key, from))) => match token::signed_with(&inspection.token, &key) {
            Some(true) => SignatureCheck {
                state: SignatureState::Valid,
                note: format!("signed by the SECRET_KEY from {from}"),
                secret_key_source: Some(from),
            },
            Some(false) => SignatureCheck {
                state: SignatureState::Invalid,
                note: format!(
                    "NOT signed by the SECRET_KEY from {from}: another instance's token, or SECRET_KEY changed since"
                ),
                secret_key_source: Some(from),
            },
            None => SignatureCheck {
                state: SignatureState::NotChecked,
                secret_key_source: Some(from),
                note: "not an HS256 JWT".into(),
            },
        },
        (TokenKind::Pat | TokenKind::Access, None) => SignatureCheck {
            state: SignatureState::NotChecked,
            secret_key_source: None,
            note: "SECRET_KEY not found (set SECRET_KEY or give --ls-data-dir)".into(),
        },
        (TokenKind::TruncatedPat, _) => SignatureCheck {
            state: SignatureState::NotChecked,
            secret_key_source: None,
            note: "no signature: truncated".into(),
        },
        _ => SignatureCheck { state: SignatureState::NotChecked, secret_key_source: None, note: "not a JWT".into() },
    }
}

/// What a database fact says is wrong with the token, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbProblem {
    pub what: String,
    pub fix: Option<String>,
    /// The cause, when an organization's setting is it (`legacy_off:ID`, `pat_off:ID`):
    /// doctor lists this problem under the check that names that cause.
    pub cause: Option<String>,
}

/// What the token's own text says is wrong (format, expiry, signature).
pub fn token_problems(i: &Inspection, sig: &SignatureCheck) -> Vec<String> {
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
    if sig.state == SignatureState::Invalid {
        problems.push("signed by another SECRET_KEY: this instance rejects it".into());
    }
    problems
}

/// Whether the database's outstanding-token table lists the PAT: this instance issued it.
pub fn issued_here(facts: Option<&DbFacts>) -> bool {
    matches!(facts.and_then(|f| f.jti.as_ref()), Some(JtiState::Outstanding { .. }))
}

/// What the database says is wrong: unknown key, inactive owner, the owner's organization
/// refusing this kind of token, a revoked or foreign PAT. A JWT feature flag that lsauth
/// sees off (in its own environment) overrides the settings, as in Label Studio: legacy
/// tokens pass whatever the settings, PATs never do.
pub fn database_problems(i: &Inspection, f: &DbFacts, flag: &JwtFlag) -> Vec<DbProblem> {
    let mut problems = Vec::new();
    let mut add =
        |what: String, fix: Option<String>, cause: Option<String>| problems.push(DbProblem { what, fix, cause });
    if let (JwtFlag::Off { variable }, TokenKind::Pat | TokenKind::Access) = (flag, i.kind) {
        add(
            format!("{variable} is off in this environment: Label Studio running with it refuses every PAT"),
            Some(format!("unset {variable} in Label Studio's environment")),
            None,
        );
    }
    if f.legacy_key_known == Some(false) {
        add("no user has this legacy key in this database".into(), None, None);
    }
    if let Some(owner) = f.owner.as_ref().filter(|o| !o.is_active) {
        add(format!("its user {} is inactive", crate::text::shown::outside(&owner.email)), None, None);
    }
    if let Some(org) = &f.organization {
        if i.kind == TokenKind::Legacy && !org.settings.legacy_api_tokens_enabled && !flag.is_off() {
            add(
                format!("legacy tokens are off for organization {}", org.id),
                Some(crate::text::paste::lsauth(&format!("enable-legacy --org {}", org.id))),
                Some(format!("legacy_off:{}", org.id)),
            );
        }
        if i.kind == TokenKind::Pat && !org.settings.api_tokens_enabled {
            add(
                format!("PATs are off for organization {}", org.id),
                Some(crate::text::paste::lsauth(&format!("enable-pat --org {}", org.id))),
                Some(format!("pat_off:{}", org.id)),
            );
        }
    }
    match &f.jti {
        Some(JtiState::Blacklisted { .. }) => add("revoked (blacklisted) in this database".into(), None, None),
        Some(JtiState::Unknown) if i.kind == TokenKind::Pat => {
            add("this database never issued it (another instance's PAT?)".into(), None, None)
        }
        _ => {}
    }
    problems
}

/// Everything that makes this token fail, as far as can be told without the server.
pub fn inspect_problems(i: &Inspection, sig: &SignatureCheck, facts: Option<&DbFacts>, flag: &JwtFlag) -> Vec<String> {
    let mut problems = token_problems(i, sig);
    if sig.state == SignatureState::Invalid && issued_here(facts) {
        // The outstanding-token table proves this database's instance issued it.
        for p in problems.iter_mut().filter(|p| p.starts_with("signed by another SECRET_KEY")) {
            *p = "this instance issued this PAT (its jti is outstanding), and SECRET_KEY changed since: Label Studio \
                  rejects it; putting back the SECRET_KEY that signed it revives it and every PAT issued before the \
                  change, or mint a new one (lsauth migrate-env --login OWNER_EMAIL --revoke-existing)"
                .into();
        }
    }
    for p in facts.map(|f| database_problems(i, f, flag)).unwrap_or_default() {
        problems.push(match p.fix {
            Some(fix) => format!("{} (fix: {fix})", p.what),
            None => p.what,
        });
    }
    problems
}

/// Warnings about the URL itself. `in_container`: the `.env` belongs to a container (a
/// Dockerfile or compose file beside it, see `sources::container_files`), where localhost
/// is the container; beside a backend that runs on Label Studio's own host it is right.
pub fn url_warnings(base: &url::Url, in_container: bool) -> Vec<String> {
    let mut w = Vec::new();
    if base.scheme() == "http" && !crate::token::clients::is_loopback(base) {
        w.push(format!("plain http to {}: tokens travel unencrypted", base.host_str().unwrap_or("?")));
    }
    if in_container && matches!(base.host_str(), Some("localhost" | "127.0.0.1")) {
        w.push(
            "the URL's host is localhost, and the .env is a container's: from inside a container that is the \
             container itself, not Label Studio"
                .into(),
        );
    }
    w
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
}
