//! Label Studio's answers read: what each endpoint's status and `detail` mean, as a
//! `Finding` (the domain's words for them, `token::diagnosis`). Observed answers are in
//! AUTH-FACTS; the fake server in tests/it/fake_ls.rs answers the same.

use super::{Answer, NoAnswer};
use crate::token::diagnosis::{ApiUser, Cause, Finding};

fn from_answer(cause: Cause, a: &Answer) -> Finding {
    Finding { cause, status: Some(a.status), detail: a.detail(), location: a.location.clone(), user: None }
}

const LEGACY_DISABLED: &str = "legacy token authentication has been disabled";
const NOT_PROVIDED: &str = "Authentication credentials were not provided.";

fn common(result: &Result<Answer, NoAnswer>) -> Result<&Answer, Finding> {
    match result {
        Err(no) => Err(Finding { detail: Some(no.reason.clone()), ..Finding::of(Cause::Unreachable) }),
        Ok(a) if a.is_redirect() => Err(from_answer(Cause::Redirected, a)),
        Ok(a) => Ok(a),
    }
}

/// `GET /api/version`: the release, or why this is not a Label Studio answering.
pub fn version(result: &Result<Answer, NoAnswer>) -> Result<String, Finding> {
    let a = common(result)?;
    let release = a.json().and_then(|j| j.get("release").and_then(|r| r.as_str()).map(String::from));
    match (a.status, release) {
        (200, Some(release)) => Ok(release),
        _ => Err(Finding {
            detail: Some(format!(
                "GET api/version answered {} {}",
                a.status,
                a.content_type.as_deref().unwrap_or("without a content type")
            )),
            ..from_answer(Cause::NotLabelStudio, a)
        }),
    }
}

fn user_of(a: &Answer) -> Option<ApiUser> {
    let j = a.json()?;
    Some(ApiUser {
        id: j.get("id")?.as_i64()?,
        email: j.get("email").and_then(|e| e.as_str()).map(String::from),
        active_organization: j.get("active_organization").and_then(|o| o.as_i64()),
    })
}

/// `GET /api/current-user/whoami` with `Authorization: Token <legacy>`.
pub fn whoami_legacy(result: &Result<Answer, NoAnswer>) -> Finding {
    let a = match common(result) {
        Ok(a) => a,
        Err(f) => return f,
    };
    let detail = a.detail().unwrap_or_default();
    let cause = match a.status {
        200 => return Finding { user: user_of(a), ..from_answer(Cause::Ok, a) },
        401 | 403 if detail.contains(LEGACY_DISABLED) => Cause::LegacyDisabled,
        401 | 403 if detail == "Invalid token." => Cause::LegacyUnknown,
        401 | 403 if detail.contains("inactive or deleted") => Cause::UserInactive,
        _ => Cause::Unexpected,
    };
    from_answer(cause, a)
}

/// `GET /api/current-user/whoami` with a web-login session: the user, when signed in.
pub fn whoami_session(a: &Answer) -> Option<ApiUser> {
    (a.status == 200).then(|| user_of(a)).flatten()
}

/// `POST /api/token/refresh/`: the access token, or why the PAT was refused.
pub fn refresh(result: &Result<Answer, NoAnswer>) -> Result<String, Finding> {
    let a = common(result)?;
    if a.status == 200 {
        if let Some(access) = a.json().and_then(|j| j.get("access").and_then(|t| t.as_str()).map(String::from)) {
            return Ok(access);
        }
    }
    let detail = a.detail().unwrap_or_default();
    let cause = match a.status {
        401 if detail == "Token is invalid" => Cause::PatInvalidSignature,
        401 if detail == "Token is expired" => Cause::PatExpired,
        401 if detail == "Token has wrong type" => Cause::NotARefreshToken,
        401 if detail == "Token is blacklisted" => Cause::PatBlacklisted,
        500 if detail.contains("matching query does not exist") => Cause::PatUserMissing,
        400 => Cause::Malformed,
        _ => Cause::Unexpected,
    };
    Err(from_answer(cause, a))
}

/// `GET /api/current-user/whoami` with `Authorization: Bearer <access>`. A refresh that
/// succeeded proves nothing: Label Studio still answers 200 there when the owner's
/// organization has PATs off, and only this request tells.
pub fn whoami_bearer(result: &Result<Answer, NoAnswer>) -> Finding {
    let a = match common(result) {
        Ok(a) => a,
        Err(f) => return f,
    };
    match a.status {
        200 => Finding { user: user_of(a), ..from_answer(Cause::Ok, a) },
        401 if a.detail().as_deref() == Some(NOT_PROVIDED) => from_answer(Cause::ApiTokensDisabled, a),
        _ => from_answer(Cause::Unexpected, a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::diagnosis::{explain, refine, ExplainContext};

    fn answer(status: u16, body: &str) -> Result<Answer, NoAnswer> {
        Ok(Answer { status, body: body.into(), content_type: Some("application/json".into()), location: None })
    }

    fn err(detail: &str, status: u16) -> Result<Answer, NoAnswer> {
        answer(
            status,
            &format!(r#"{{"id":"x","status_code":{status},"version":"1.23.2","detail":"{detail}","exc_info":null}}"#),
        )
    }

    #[test]
    fn legacy_answers() {
        let disabled =
            "Authentication token no longer valid: legacy token authentication has been disabled for this organization";
        assert_eq!(whoami_legacy(&err(disabled, 401)).cause, Cause::LegacyDisabled);
        assert_eq!(whoami_legacy(&err("Invalid token.", 401)).cause, Cause::LegacyUnknown);
        let ok = whoami_legacy(&answer(200, r#"{"id":1,"email":"a@b.c","active_organization":3}"#));
        assert_eq!(ok.cause, Cause::Ok);
        assert_eq!(ok.user, Some(ApiUser { id: 1, email: Some("a@b.c".into()), active_organization: Some(3) }));
    }

    #[test]
    fn refresh_answers() {
        for (detail, status, cause) in [
            ("Token is invalid", 401, Cause::PatInvalidSignature),
            ("Token is expired", 401, Cause::PatExpired),
            ("Token has wrong type", 401, Cause::NotARefreshToken),
            ("Token is blacklisted", 401, Cause::PatBlacklisted),
            ("User matching query does not exist.", 500, Cause::PatUserMissing),
        ] {
            assert_eq!(refresh(&err(detail, status)).unwrap_err().cause, cause, "{detail}");
        }
        assert_eq!(refresh(&answer(200, r#"{"access":"a.b.c"}"#)).unwrap(), "a.b.c");
        assert_eq!(whoami_bearer(&err(NOT_PROVIDED, 401)).cause, Cause::ApiTokensDisabled);
    }

    #[test]
    fn a_refused_access_token_is_the_flag_when_the_database_says_pats_are_on() {
        let refused = whoami_bearer(&err(NOT_PROVIDED, 401));
        assert_eq!(refine(refused.clone(), None).cause, Cause::ApiTokensDisabled);
        assert_eq!(refine(refused.clone(), Some(false)).cause, Cause::ApiTokensDisabled);
        let flag = refine(refused, Some(true));
        assert_eq!(flag.cause, Cause::JwtFlagOff);
        let (why, fix) = explain(&flag, &ExplainContext { organization_id: Some(3), ..ExplainContext::default() });
        assert!(why.contains("organization 3") && fix.contains("fflag__"), "{why} / {fix}");
    }

    #[test]
    fn transport_answers() {
        let redirect = Ok(Answer {
            status: 301,
            body: String::new(),
            content_type: None,
            location: Some("https://ls/api/version".into()),
        });
        assert_eq!(version(&redirect).unwrap_err().cause, Cause::Redirected);
        let html =
            Ok(Answer { status: 200, body: "<html>".into(), content_type: Some("text/html".into()), location: None });
        assert_eq!(version(&html).unwrap_err().cause, Cause::NotLabelStudio);
        let down = Err(NoAnswer { url: "http://x".into(), reason: "connection refused".into() });
        assert_eq!(version(&down).unwrap_err().cause, Cause::Unreachable);
        assert_eq!(version(&answer(200, r#"{"release":"1.23.2"}"#)).unwrap(), "1.23.2");
    }
}
