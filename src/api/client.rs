//! The Label Studio HTTP API, at the edge: requests and raw answers, nothing decided here.
//!
//! Redirects are never followed: reqwest drops `Authorization` on a cross-host or
//! http→https redirect, which turns into a misleading 401; a redirect is returned as an
//! answer so it can be reported. Paths are joined onto the base URL keeping any sub-path
//! (`http://host/label-studio/`). Every request has a bounded timeout. HTTP work runs on
//! a current-thread runtime built here, never around database work (see DESIGN.md).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use serde::Serialize;

use crate::exit::bad_input;

/// How to authenticate one request.
#[derive(Debug, Clone)]
pub enum Auth<'a> {
    None,
    /// `Authorization: Token <key>` (legacy keys).
    Token(&'a str),
    /// `Authorization: Bearer <access token>`.
    Bearer(&'a str),
}

/// An HTTP answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: Option<String>,
    /// The `Location` of a redirect.
    pub location: Option<String>,
}

impl Answer {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// Label Studio's error `detail` (`{"detail": "..."}`), if the body has one.
    pub fn detail(&self) -> Option<String> {
        self.json()?.get("detail")?.as_str().map(String::from)
    }

    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }
}

/// A request whose answer a run keeps (see `Api::get_once`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Asked {
    /// A GET: path and `Authorization` value.
    Get(String, String),
    /// A refresh of this PAT.
    Refresh(String),
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoAnswer {
    pub url: String,
    pub reason: String,
}

pub struct Api {
    base: url::Url,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    /// Only for web-login sessions: token checks never carry cookies, so a session can
    /// never make a rejected token look accepted.
    cookies: Option<std::sync::Arc<reqwest::cookie::Jar>>,
    timeout: Duration,
    /// Answers of `get_once` and `refresh_once`, for this run.
    answered: std::sync::Mutex<std::collections::HashMap<Asked, Answer>>,
}

/// Install ring as rustls's process-wide provider once (reqwest is built without one).
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Parse a Label Studio base URL, keeping its sub-path and ending it with `/` so that
/// relative joins stay under it.
pub fn parse_base_url(text: &str) -> anyhow::Result<url::Url> {
    let trimmed = text.trim();
    let mut url = url::Url::parse(trimmed).map_err(|e| {
        bad_input(format!(
            "invalid Label Studio URL {:?}: {e} (expected http(s)://host[:port][/path])",
            crate::text::secrets::mask_url(trimmed)
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad_input(format!(
            "invalid Label Studio URL {:?}: expected http(s)://host[:port][/path]",
            crate::text::secrets::mask_url(trimmed)
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

impl Api {
    /// A client for token checks: no cookies, no redirects, bounded timeouts.
    pub fn new(base: url::Url, timeout: Duration) -> anyhow::Result<Api> {
        Self::build(base, timeout, None)
    }

    /// A client that keeps cookies, for the web login (CSRF token and session).
    pub fn with_session(base: url::Url, timeout: Duration) -> anyhow::Result<Api> {
        Self::build(base, timeout, Some(std::sync::Arc::new(reqwest::cookie::Jar::default())))
    }

    fn build(
        base: url::Url,
        timeout: Duration,
        cookies: Option<std::sync::Arc<reqwest::cookie::Jar>>,
    ) -> anyhow::Result<Api> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("lsauth/", env!("CARGO_PKG_VERSION")));
        if let Some(jar) = &cookies {
            builder = builder.cookie_provider(jar.clone());
        }
        let client = builder.build()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Api { base, client, runtime, cookies, timeout, answered: Default::default() })
    }

    /// A client for token checks at the same URL, with nothing of this one's: no cookies
    /// (a session must never make a rejected token look accepted), no kept answers.
    pub fn token_client(&self) -> anyhow::Result<Api> {
        Self::new(self.base.clone(), self.timeout)
    }

    /// A cookie this session holds for the base URL.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let header = self.cookies.as_ref()?.cookies(&self.base)?;
        header.to_str().ok()?.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    }

    /// POST a form (the web login), with a same-origin Referer as Django's CSRF check wants.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Result<Answer, NoAnswer> {
        let url = self.url(path);
        let request = self.client.post(url.clone()).header(reqwest::header::REFERER, url.as_str()).form(form);
        self.send(request, &url).await
    }

    /// POST JSON with the session's CSRF token (session-authenticated API calls).
    pub async fn post_json_session(&self, path: &str, body: &serde_json::Value) -> Result<Answer, NoAnswer> {
        let url = self.url(path);
        let mut request = self.client.post(url.clone()).header(reqwest::header::REFERER, self.base.as_str()).json(body);
        if let Some(csrf) = self.cookie("csrftoken") {
            request = request.header("X-CSRFToken", csrf);
        }
        self.send(request, &url).await
    }

    pub fn base(&self) -> &url::Url {
        &self.base
    }

    /// `path` (like `api/version`) under the base URL, sub-path kept.
    pub fn url(&self, path: &str) -> url::Url {
        self.base.join(path.trim_start_matches('/')).expect("a relative path joins onto an http URL")
    }

    /// Run HTTP work to completion on this client's runtime.
    pub fn block_on<F: std::future::Future>(&self, work: F) -> F::Output {
        self.runtime.block_on(work)
    }

    fn authorization(auth: &Auth<'_>) -> Option<String> {
        match auth {
            Auth::None => None,
            Auth::Token(t) => Some(format!("Token {t}")),
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
        }
    }

    fn headers(auth: &Auth<'_>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = Self::authorization(auth);
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            let mut v = v;
            v.set_sensitive(true);
            headers.insert(AUTHORIZATION, v);
        }
        headers
    }

    async fn send(&self, request: reqwest::RequestBuilder, url: &url::Url) -> Result<Answer, NoAnswer> {
        let response = request.send().await.map_err(|e| no_answer(url, &e))?;
        let status = response.status().as_u16();
        let header = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(String::from);
        let content_type = header(CONTENT_TYPE);
        let location = header(LOCATION);
        let body = read_capped(response, url).await?;
        Ok(Answer { status, body, content_type, location })
    }

    pub async fn get(&self, path: &str, auth: Auth<'_>) -> Result<Answer, NoAnswer> {
        let url = self.url(path);
        self.send(self.client.get(url.clone()).headers(Self::headers(&auth)), &url).await
    }

    /// A GET answered once per run for the same path and credential: the reads several
    /// checks ask (whoami with one key) go out once. Only for reads whose answer cannot
    /// change during the run as lsauth uses it; a change made through this client forgets
    /// them (`forget`).
    pub async fn get_once(&self, path: &str, auth: Auth<'_>) -> Result<Answer, NoAnswer> {
        let key = Asked::Get(path.to_string(), Self::authorization(&auth).unwrap_or_default());
        self.once(key, self.get(path, auth)).await
    }

    /// `refresh`, answered once per run for the same PAT: the probe and a sign-in with the
    /// same PAT share one access token (it lives 5 minutes; `SignedIn::renew` asks anew).
    pub async fn refresh_once(&self, pat: &str) -> Result<Answer, NoAnswer> {
        self.once(Asked::Refresh(pat.to_string()), self.refresh(pat)).await
    }

    /// The answer to `asked` this run, else `ask`'s, kept when the server answered (no
    /// answer, a timeout, is asked again next time).
    async fn once(
        &self,
        asked: Asked,
        ask: impl std::future::Future<Output = Result<Answer, NoAnswer>>,
    ) -> Result<Answer, NoAnswer> {
        if let Some(answer) = self.answered.lock().expect("not poisoned").get(&asked) {
            return Ok(answer.clone());
        }
        let answer = ask.await;
        if let Ok(a) = &answer {
            self.answered.lock().expect("not poisoned").insert(asked, a.clone());
        }
        answer
    }

    /// Forget every kept answer: called once this client changed something on the server.
    pub fn forget(&self) {
        self.answered.lock().expect("not poisoned").clear();
    }

    /// `POST api/token/refresh/` with a PAT (no authentication needed).
    pub async fn refresh(&self, pat: &str) -> Result<Answer, NoAnswer> {
        self.post_json("api/token/refresh/", &serde_json::json!({ "refresh": pat }), Auth::None).await
    }

    /// `POST api/token/blacklist/`: revoke a PAT, full or truncated (no authentication
    /// needed; 204, or 404 when it was already revoked).
    pub async fn blacklist(&self, pat: &str) -> Result<Answer, NoAnswer> {
        self.post_json("api/token/blacklist/", &serde_json::json!({ "refresh": pat }), Auth::None).await
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value, auth: Auth<'_>) -> Result<Answer, NoAnswer> {
        let url = self.url(path);
        self.send(self.client.post(url.clone()).headers(Self::headers(&auth)).json(body), &url).await
    }
}

/// The most of an answer's body lsauth reads: Label Studio's answers to these endpoints
/// are a few hundred bytes; anything larger is not Label Studio and is not kept in memory.
pub const MAX_BODY: usize = 1 << 20;

async fn read_capped(mut response: reqwest::Response, url: &url::Url) -> Result<String, NoAnswer> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| no_answer(url, &e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(NoAnswer {
                url: crate::text::secrets::shown_url(url),
                reason: format!(
                    "the answer is larger than {} KiB: not read (not a Label Studio answer)",
                    MAX_BODY >> 10
                ),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

fn no_answer(url: &url::Url, err: &reqwest::Error) -> NoAnswer {
    let raw = crate::exit::one_line(err);
    let kind = if err.is_timeout() {
        Unanswered::TimedOut
    } else if err.is_connect() {
        Unanswered::of_connect_error(&raw)
    } else {
        Unanswered::Other
    };
    let sentence = kind.sentence(url, &raw);
    // The transport's own words are for -v: "client error (Connect): tcp connect error ..."
    // says less to a person than the sentence, and nothing more to one who reads both.
    let reason =
        if crate::text::verbose() && kind != Unanswered::Other { format!("{sentence} [{raw}]") } else { sentence };
    NoAnswer { url: crate::text::secrets::shown_url(url), reason }
}

/// Why a request got no answer, as far as a person needs to know to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unanswered {
    Refused,
    NoSuchHost,
    Tls,
    OtherConnect,
    TimedOut,
    Other,
}

impl Unanswered {
    fn of_connect_error(raw: &str) -> Self {
        let raw = raw.to_ascii_lowercase();
        if raw.contains("connection refused") {
            Unanswered::Refused
        } else if raw.contains("dns error")
            || raw.contains("failed to lookup address")
            || raw.contains("name or service")
        {
            Unanswered::NoSuchHost
        } else if raw.contains("certificate") || raw.contains("tls") || raw.contains("ssl") {
            Unanswered::Tls
        } else {
            Unanswered::OtherConnect
        }
    }

    fn sentence(self, url: &url::Url, raw: &str) -> String {
        let host = url.host_str().unwrap_or("?");
        let at = format!("{host}:{}", url.port_or_known_default().unwrap_or(0));
        // The server, not the endpoint asked (`/api/version`): where a person looks.
        let shown = format!("{}://{at}", url.scheme());
        match self {
            Unanswered::Refused => {
                format!("nothing accepts connections at {at} (connection refused): is Label Studio running at {shown}?")
            }
            Unanswered::NoSuchHost => format!(
                "the host name {host} does not resolve here: check the URL (inside a container, use the service name \
                 or host.docker.internal)"
            ),
            Unanswered::Tls => format!(
                "the TLS handshake with {at} failed ({}): check the certificate, or the scheme (http:// against an \
                 https port, or the reverse)",
                raw.rsplit(": ").next().unwrap_or(raw)
            ),
            Unanswered::OtherConnect => format!("could not connect to {at}: is Label Studio running at {shown}?"),
            Unanswered::TimedOut => format!(
                "no answer from {at} in time (timed out): is {shown} reachable from here (a firewall, a VPN, another \
                 container network)? --timeout waits longer"
            ),
            Unanswered::Other => raw.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_paths_are_kept() {
        let base = parse_base_url("http://host:8080/label-studio").unwrap();
        assert_eq!(base.as_str(), "http://host:8080/label-studio/");
        let api = Api::new(base, Duration::from_secs(1)).unwrap();
        assert_eq!(api.url("/api/version").as_str(), "http://host:8080/label-studio/api/version");
        assert_eq!(api.url("api/token/refresh/").as_str(), "http://host:8080/label-studio/api/token/refresh/");
        let root = parse_base_url("https://ls.example.com/").unwrap();
        assert_eq!(root.join("api/version").unwrap().as_str(), "https://ls.example.com/api/version");
    }

    #[test]
    fn bad_urls_are_bad_input() {
        for text in ["", "localhost:8080", "ftp://x", "http://", "not a url"] {
            assert!(parse_base_url(text).is_err(), "{text}");
        }
    }
}
