//! The server asked about one token, as each kind of client would send it: the verdict
//! (`probe`), every client's result (`probe_all`), the SDK's refresh-then-whoami chain.
//! Each request is sent once, the independent ones together.

use super::answers;
use super::{Answer, Api, Auth, NoAnswer};
use crate::token::clients::{self, ClientResult, Sends};
use crate::token::diagnosis::{self, Cause, Finding};
use crate::token::{Inspection, TokenKind};

/// The answers a token's checks need, each request sent once: the SDK's refresh-then-
/// whoami chain, whoami with the raw key as `Bearer`, and as `Token`.
struct Answers {
    chain: Option<Finding>,
    bearer: Option<Result<Answer, NoAnswer>>,
    token: Option<Result<Answer, NoAnswer>>,
}

/// Send what the verdict (and, `with_clients`, every kind of client) needs, the independent
/// requests together: one round trip after the version check for a legacy key, two for a
/// PAT (the refresh, then its access token; the raw-key requests go with the refresh).
async fn gather(api: &Api, inspection: &Inspection, with_clients: Option<Option<&str>>) -> Answers {
    let token = inspection.token.as_str();
    let sent: Vec<Sends> = if let Some(variable) = with_clients {
        clients::ALL.iter().map(|&c| clients::sends(c, inspection.kind, variable)).collect()
    } else {
        Vec::new()
    };
    let verdict_chain = matches!(inspection.kind, TokenKind::Pat | TokenKind::Access);
    let needs_chain = verdict_chain || sent.contains(&Sends::RefreshThenBearer);
    let needs_bearer = sent.contains(&Sends::Bearer);
    let needs_token = inspection.kind == TokenKind::Legacy || sent.contains(&Sends::Token);
    let whoami = |auth| api.get_once("api/current-user/whoami", auth);
    let (chain, bearer, token) = futures_util::future::join3(
        when(needs_chain, refresh_then_whoami(api, token)),
        when(needs_bearer, whoami(Auth::Bearer(token))),
        when(needs_token, whoami(Auth::Token(token))),
    )
    .await;
    Answers { chain, bearer, token }
}

/// `work`, awaited only when `needed`.
async fn when<T>(needed: bool, work: impl std::future::Future<Output = T>) -> Option<T> {
    if needed {
        Some(work.await)
    } else {
        None
    }
}

/// What the token's own text proves needs no server: that is the cause when the server did
/// not answer as Label Studio, and the server that did not answer is said too.
fn offline(inspection: &Inspection, version_failed: &Finding) -> Finding {
    match diagnosis::offline_cause(inspection) {
        Some(cause) => Finding {
            detail: Some(format!(
                "Label Studio did not answer as expected ({}): {}",
                version_failed.cause.as_str(),
                version_failed.detail.as_deref().unwrap_or("no answer")
            )),
            ..Finding::of(cause)
        },
        None => version_failed.clone(),
    }
}

/// The verdict on the token, from the answers gathered.
fn verdict(inspection: &Inspection, answers: &Answers) -> Finding {
    match inspection.kind {
        TokenKind::Legacy => answers::whoami_legacy(answers.token.as_ref().expect("gathered for a legacy key")),
        TokenKind::Pat | TokenKind::Access => answers.chain.clone().expect("gathered for a JWT"),
        TokenKind::TruncatedPat => Finding::of(Cause::PatTruncated),
        TokenKind::Unknown => Finding::of(Cause::Malformed),
    }
}

/// How each kind of client fared, from the same answers.
fn client_results(inspection: &Inspection, answers: &Answers, variable: Option<&str>) -> Vec<ClientResult> {
    clients::ALL
        .iter()
        .map(|&client| {
            let sends = clients::sends(client, inspection.kind, variable);
            let answer = match sends {
                Sends::RefreshThenBearer | Sends::NotRead => None,
                Sends::Bearer => answers.bearer.as_ref(),
                Sends::Token => answers.token.as_ref(),
            };
            let (ok, status, detail) = match (sends, answer) {
                (Sends::NotRead, _) => {
                    (false, None, Some(format!("it does not read {}", variable.unwrap_or("this variable"))))
                }
                (Sends::RefreshThenBearer, _) => {
                    let f = answers.chain.as_ref().expect("gathered for the sdk");
                    let detail =
                        f.detail.clone().or_else(|| (f.cause != Cause::Ok).then(|| f.cause.as_str().to_string()));
                    (f.cause == Cause::Ok, f.status, detail)
                }
                (_, Some(Ok(a))) => (a.status == 200, Some(a.status), a.detail()),
                (_, Some(Err(no))) => (false, None, Some(no.reason.clone())),
                (_, None) => unreachable!("every request a client sends was gathered"),
            };
            ClientResult { id: client, sends: sends.describe(), ok, status, detail }
        })
        .collect()
}

/// Test one token the way real clients use it.
pub async fn probe(api: &Api, inspection: &Inspection, version: &Result<String, Finding>) -> Finding {
    if let Err(f) = version {
        return offline(inspection, f);
    }
    verdict(inspection, &gather(api, inspection, None).await)
}

/// The verdict and how each kind of client fares with the token (empty when the server is
/// not Label Studio or did not answer), every distinct request sent once, together.
pub async fn probe_all(
    api: &Api,
    inspection: &Inspection,
    version: &Result<String, Finding>,
    variable: Option<&str>,
) -> (Finding, Vec<ClientResult>) {
    if let Err(f) = version {
        return (offline(inspection, f), Vec::new());
    }
    let answers = gather(api, inspection, Some(variable)).await;
    (verdict(inspection, &answers), client_results(inspection, &answers, variable))
}

/// What the SDK does with a PAT: refresh it, then send the access token as `Bearer` to
/// whoami. A refresh alone proves nothing (it succeeds with PATs off); only the second
/// request tells.
pub async fn refresh_then_whoami(api: &Api, pat: &str) -> Finding {
    match answers::refresh(&api.refresh_once(pat).await) {
        Ok(access) => answers::whoami_bearer(&api.get_once("api/current-user/whoami", Auth::Bearer(&access)).await),
        Err(f) => f,
    }
}
