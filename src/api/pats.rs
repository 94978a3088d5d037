//! Label Studio's Personal Access Tokens, through its API: mint one for the caller
//! (`POST /api/token/`), list the caller's, revoke one (blacklist), whether one still
//! refreshes, and whether the caller's organization has PATs on. Each answer is a type:
//! no HTTP status number leaves this file.

use super::session::Caller;
use super::{Answer, Api, NoAnswer};

/// What `POST /api/token/` (mint a PAT for the caller) answered.
#[derive(Debug)]
pub enum Minted {
    /// 201 (or 200) with the new PAT.
    Created(String),
    /// 409 "You already have a valid token": one PAT per user until it is revoked.
    AlreadyHasOne,
    /// A success without a token in it (not a Label Studio answer).
    WithoutToken,
    /// Any other answer, kept for the diagnosis.
    Refused(Answer),
}

pub async fn mint_pat(caller: &Caller<'_>) -> Result<Minted, NoAnswer> {
    let answer = caller.post("api/token/", &serde_json::json!({})).await?;
    Ok(match answer.status {
        200 | 201 => match answer.json().and_then(|j| j.get("token").and_then(|t| t.as_str()).map(String::from)) {
            Some(pat) => Minted::Created(pat),
            None => Minted::WithoutToken,
        },
        409 => Minted::AlreadyHasOne,
        _ => Minted::Refused(answer),
    })
}

/// What `POST /api/token/blacklist/` (revoke a PAT) answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// 204: revoked now.
    Now,
    /// 404: not known as a live token any more (revoked before, or never issued here).
    AlreadyGone,
    /// Any other status.
    Refused(u16),
}

pub async fn revoke_pat(api: &Api, pat: &str) -> Result<Revoked, NoAnswer> {
    let answer = api.blacklist(pat).await?;
    Ok(match answer.status {
        204 => Revoked::Now,
        404 => Revoked::AlreadyGone,
        other => Revoked::Refused(other),
    })
}

/// Whether the server still refreshes `pat` (`None`: it did not say).
pub async fn pat_still_valid(api: &Api, pat: &str) -> Option<bool> {
    match api.refresh(pat).await {
        Ok(a) if a.status == 200 => Some(true),
        Ok(a) if a.status == 401 => Some(false),
        _ => None,
    }
}

/// What `GET /api/token/` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    /// The caller's PATs as Label Studio lists them (truncated, not secret).
    Pats(Vec<String>),
    /// The status that refused the listing.
    Refused(u16),
}

pub async fn list_pats(caller: &Caller<'_>) -> Result<Listed, NoAnswer> {
    let answer = caller.get("api/token/").await?;
    if answer.status != 200 {
        return Ok(Listed::Refused(answer.status));
    }
    Ok(Listed::Pats(
        answer
            .json()
            .and_then(|j| j.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|t| t.as_str().map(String::from).or_else(|| t.get("token")?.as_str().map(String::from)))
            .collect(),
    ))
}

/// `GET /api/jwt/settings` as the caller: `api_tokens_enabled` of its active organization
/// (`None` when it did not say).
pub async fn api_tokens_enabled(caller: &Caller<'_>) -> Option<bool> {
    let answer = caller.get("api/jwt/settings").await.ok()?;
    if answer.status != 200 {
        return None;
    }
    answer.json()?.get("api_tokens_enabled")?.as_bool()
}
