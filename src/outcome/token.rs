//! The outcomes of `lsauth token inspect` and `lsauth token test`.

use serde::Serialize;

use crate::text::secrets::shown_token;
use crate::token::check::{DbFacts, SignatureCheck};
use crate::token::clients::ClientResult;
use crate::token::diagnosis::{ApiUser, Cause};
use crate::token::{Inspection, TokenKind};

/// Which token a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct TokenSubject {
    /// The token, masked (whole with `--show-secrets`).
    pub token: String,
    /// Where it came from: the argument, stdin, an env file and its variable, ...
    pub source: String,
    pub kind: TokenKind,
}

impl TokenSubject {
    pub fn new(inspection: &Inspection, source: String, show_secrets: bool) -> TokenSubject {
        TokenSubject { token: shown_token(&inspection.token, show_secrets), source, kind: inspection.kind }
    }
}

/// `token inspect`: what a token is, without the network.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    #[serde(flatten)]
    pub subject: TokenSubject,
    /// The kind in words.
    pub description: &'static str,
    #[serde(flatten)]
    pub inspection: Inspection,
    /// `iat` and `exp` of a JWT as UTC times.
    pub issued_at: Option<String>,
    pub expires_at: Option<String>,
    /// Whether the JWT's signature matches the SECRET_KEY found, if one was.
    pub signature: SignatureCheck,
    /// What the database says about the token, when one was given.
    pub database: Option<DbFacts>,
    /// Why it would fail (exit 1 when any).
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

/// What the API's answers mean for a token.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// True when the API accepted it.
    pub ok: bool,
    /// The cause found, with its explanation and fix in words.
    pub cause: Cause,
    pub explanation: String,
    pub fix: String,
}

/// `token test`: what the API says about a token, and why.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    #[serde(flatten)]
    pub subject: TokenSubject,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Who the API says the token belongs to, when it worked.
    pub user: Option<ApiUser>,
    pub label_studio_version: Option<String>,
    /// The base URL tested (never with `user:password@`) and where it came from.
    pub url: String,
    pub url_source: String,
    /// The HTTP status and detail that decided the cause.
    pub status: Option<u16>,
    pub detail: Option<String>,
    pub database: Option<DbFacts>,
    pub warnings: Vec<String>,
    /// How each kind of client fares with this key, measured (single-token runs only).
    pub clients: Vec<ClientResult>,
    /// The client this integration is, when known (`--client`, or the .env says so), and
    /// whether the key works there: that decides `ok`.
    pub integration: Option<IntegrationResult>,
}

/// This integration's client and how it fares.
#[derive(Debug, Clone, Serialize)]
pub struct IntegrationResult {
    #[serde(flatten)]
    pub integration: crate::token::clients::Integration,
    pub ok: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::inspect;

    const LEGACY: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn the_subject_shows_a_token_masked_unless_secrets_are_asked_for() {
        let inspection = inspect(LEGACY, 0);
        let masked = TokenSubject::new(&inspection, ".env (LABEL_STUDIO_API_KEY)".into(), false);
        assert_eq!(masked.token, "0123…4567");
        assert_eq!(masked.kind, TokenKind::Legacy);
        assert_eq!(TokenSubject::new(&inspection, "argument".into(), true).token, LEGACY);
    }

    /// Scripts read these keys: grouping the fields in Rust must not move or rename them.
    #[test]
    fn a_test_report_keeps_its_json_keys_and_their_order() {
        let inspection = inspect(LEGACY, 0);
        let report = TestReport {
            subject: TokenSubject::new(&inspection, "argument".into(), false),
            verdict: Verdict {
                ok: false,
                cause: Cause::LegacyDisabled,
                explanation: "why".into(),
                fix: "lsauth enable-legacy --org 1".into(),
            },
            user: None,
            label_studio_version: Some("1.23.2".into()),
            url: "http://ls".into(),
            url_source: "--url".into(),
            status: Some(401),
            detail: None,
            database: None,
            warnings: Vec::new(),
            clients: Vec::new(),
            integration: None,
        };
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"token":"0123…4567","source":"argument","kind":"legacy","ok":false,"cause":"legacy_disabled","#
                .to_owned()
                + r#""explanation":"why","fix":"lsauth enable-legacy --org 1","user":null,"label_studio_version":"1.23.2","#
                + r#""url":"http://ls","url_source":"--url","status":401,"detail":null,"database":null,"warnings":[],"#
                + r#""clients":[],"integration":null}"#
        );
    }
}
