//! api.*: the server at the configured URL, what it answered the configured token with
//! (token.live, token.clients), and without a database the active organization's
//! settings as the API reports them (api.jwt_settings).

use super::inputs::{ApiInputs, Inputs, JwtSettingsRead};
use super::tokens;
use crate::config::sources;
use crate::outcome::checks::{Checks, Section};
use crate::text::paste;
use crate::token::diagnosis::{self, ExplainContext};
use crate::token::TokenKind;

pub fn checks(checks: &mut Checks, inputs: &Inputs) {
    let sec = Section::Api;
    let Some((url, _)) = &inputs.sources.url else {
        checks.skip("api.reachable", sec, "no URL configured");
        return;
    };
    if let Some(warning) = crate::token::clients::subpath_warning(url) {
        checks.warn("api.sub_path", sec, warning).fix("end LABEL_STUDIO_URL with a slash");
    }
    let answers = match &inputs.api {
        ApiInputs::NoUrl => return,
        ApiInputs::InvalidUrl { error, .. } => {
            checks
                .fail("api.reachable", sec, format!("invalid URL: {error}"))
                .fix("set LABEL_STUDIO_URL to http(s)://host[:port][/sub-path]");
            return;
        }
        ApiInputs::Probed(answers) => answers,
    };
    let base = &answers.base;
    match &answers.version {
        Ok(v) => {
            let sub = if base.path() != "/" { format!(" under the sub-path {}", base.path()) } else { String::new() };
            checks.pass(
                "api.reachable",
                sec,
                format!(
                    "Label Studio {} answers at {}{sub}",
                    crate::text::shown::outside(v),
                    crate::text::secrets::shown_url(base)
                ),
            );
            let schema = match &inputs.database {
                super::inputs::DatabaseInputs::Open(read) => Some(&read.schema),
                _ => None,
            };
            match schema.map(|s| crate::settings::release_mismatch(v, s)) {
                Some(Some(why)) => {
                    checks.warn("api.release", sec, why).fix("point --db and --url at the same instance");
                }
                Some(None) => {
                    checks.pass(
                        "api.release",
                        sec,
                        format!(
                            "the database's jwt_auth migrations fit Label Studio {}",
                            crate::text::shown::outside(v)
                        ),
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
    let env_file = inputs.sources.env_doc.as_ref().map(|(p, _)| p.as_path());
    let in_container = env_file.is_some_and(|f| !sources::container_files(f).is_empty());
    for warning in crate::token::check::url_warnings(base, in_container) {
        checks.warn("api.transport", sec, warning).fix(
            if base.scheme() == "http" && !crate::token::clients::is_loopback(base) {
                "use https:// for Label Studio behind a TLS proxy".to_string()
            } else {
                "use the host name the container can reach (e.g. host.docker.internal or the service name)".to_string()
            },
        );
    }
    tokens::live_check(checks, inputs, answers);
    tokens::client_check(checks, inputs, answers);
}

/// api.jwt_settings, with no database: the active organization's token settings read
/// through the API, signed in with --login or else the configured token. Fails when the
/// configured token's kind is switched off there.
pub fn jwt_settings_check(checks: &mut Checks, inputs: &Inputs) {
    const ID: &str = "api.jwt_settings";
    let sec = Section::Api;
    let Some(read) = &inputs.jwt_settings else { return };
    let (settings, read, email, url) = match read {
        JwtSettingsRead::NoCredential => {
            checks.skip(ID, sec, "not read: no token and no --login to sign in with");
            return;
        }
        JwtSettingsRead::LoginFailed(error) => {
            checks.warn(ID, sec, format!("not read: {error}")).fix("check the --login email and password");
            return;
        }
        JwtSettingsRead::TokenCannotSignIn => {
            checks
                .skip(ID, sec, "the organization's token settings were not read: the configured token cannot sign in")
                .fix("give --login EMAIL (the web login) to read them");
            return;
        }
        JwtSettingsRead::Unread(error) => {
            checks.warn(ID, sec, format!("not read: {error}"));
            return;
        }
        JwtSettingsRead::Read { settings, read, email, url } => (settings, read, email, url),
    };
    let via_api = |operation: &str| {
        paste::lsauth(&format!(
            "{operation} --via-api --url {} --login {}",
            paste::shell_quote(url),
            paste::shell_quote(email)
        ))
    };
    let configured = inputs.token.as_ref().map(|t| t.inspection.kind);
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
        checks.pass(ID, sec, read.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::super::inputs::tests::inputs;
    use super::*;
    use crate::outcome::checks::Status;
    use crate::settings::ApiSettings;

    /// api.jwt_settings when the API read these settings.
    fn read(legacy: bool, pats: bool) -> crate::outcome::checks::Check {
        let mut i = inputs();
        i.jwt_settings = Some(JwtSettingsRead::Read {
            settings: ApiSettings { api_tokens_enabled: pats, legacy_api_tokens_enabled: legacy },
            read: "organization 1 (the active organization of admin@example.com (signed in with a web login))".into(),
            email: "admin@example.com".into(),
            url: "http://ls.example.com/".into(),
        });
        let mut c = Checks::default();
        jwt_settings_check(&mut c, &i);
        c.checks.remove(0)
    }

    #[test]
    fn legacy_tokens_off_through_the_api_fail_with_a_via_api_fix() {
        let check = read(false, true);
        assert_eq!(check.status, Status::Fail);
        assert_eq!(
            check.fix.as_deref(),
            Some("lsauth enable-legacy --via-api --url http://ls.example.com/ --login admin@example.com")
        );
    }

    #[test]
    fn pats_off_only_warn_unless_the_configured_token_is_a_pat() {
        assert_eq!(read(true, false).status, Status::Warn);
    }

    #[test]
    fn no_url_skips_the_api_and_says_so() {
        let mut c = Checks::default();
        checks(&mut c, &inputs());
        assert_eq!((c.checks[0].id.as_str(), c.checks[0].status), ("api.reachable", Status::Skip));
    }
}
