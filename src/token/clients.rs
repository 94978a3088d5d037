//! The clients that read the credential lsauth checks or writes, and exactly what each
//! sends (read from label-studio-sdk 2.1.2, the version Label Studio 1.23.2 installs; see
//! AUTH-FACTS "Field facts"). A credential that passes lsauth's own check can still fail
//! in the client that reads it: `token test` asks the server the way each one asks. Pure.

use serde::Serialize;

use crate::config::envfile::EnvDocument;
use crate::token::TokenKind;

/// A kind of client, by how it authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientId {
    /// The `label-studio-sdk` `LabelStudio` client: a JWT key is refreshed and the access
    /// token sent as `Bearer`; anything else as `Token`.
    Sdk,
    /// The current ML backend (label-studio-ml-backend from 2026-02-12, commit ec60414):
    /// its downloads refresh a PAT through an SDK client built from `LABEL_STUDIO_API_KEY`
    /// only; a key in `LABEL_STUDIO_ACCESS_TOKEN` goes out as it is (`Bearer` for a JWT);
    /// `LABEL_STUDIO_API_TOKEN` it does not read.
    MlBackend,
    /// The SDK's `get_local_path` with the raw key: ML backends before 2026-02-12 and
    /// examples that still call it (ppocr): `Bearer <key>` for anything that parses as a
    /// JWT, without refreshing; `Token <key>` otherwise.
    BearerDirect,
    /// `Authorization: Token <key>`: the legacy SDK `Client`, curl scripts, most
    /// hand-written integrations, older ML backends.
    TokenHeader,
}

pub const ALL: [ClientId; 4] = [ClientId::Sdk, ClientId::MlBackend, ClientId::BearerDirect, ClientId::TokenHeader];

impl ClientId {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientId::Sdk => "sdk",
            ClientId::MlBackend => "ml_backend",
            ClientId::BearerDirect => "bearer_direct",
            ClientId::TokenHeader => "token_header",
        }
    }

    /// The client in words.
    pub fn describe(self) -> &'static str {
        match self {
            ClientId::Sdk => "the SDK's LabelStudio client",
            ClientId::MlBackend => "an ML backend from 2026-02-12 on",
            ClientId::BearerDirect => "an ML backend before 2026-02-12 (or the SDK's get_local_path with the raw key)",
            ClientId::TokenHeader => "a client that sends Authorization: Token (curl, the legacy SDK Client)",
        }
    }
}

/// How one client authenticates a request with a given key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sends {
    /// `POST api/token/refresh/` with the key, then `Authorization: Bearer <access>`.
    RefreshThenBearer,
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// `Authorization: Token <key>`.
    Token,
    /// Nothing: the client does not read the variable the key is in.
    NotRead,
}

impl Sends {
    pub fn describe(self) -> &'static str {
        match self {
            Sends::RefreshThenBearer => "refresh, then Authorization: Bearer <access>",
            Sends::Bearer => "Authorization: Bearer <key>",
            Sends::Token => "Authorization: Token <key>",
            Sends::NotRead => "nothing: it does not read this variable",
        }
    }
}

/// Whether the client takes the key for a JWT: PyJWT decodes a three-part token's header
/// (a truncated, two-part PAT does not parse).
fn parses_as_jwt(kind: TokenKind) -> bool {
    matches!(kind, TokenKind::Pat | TokenKind::Access)
}

/// What `client` sends for a key of `kind` held in `variable` (`None`: not from a file,
/// as if in `LABEL_STUDIO_API_KEY`). Only the current ML backend cares which variable.
pub fn sends(client: ClientId, kind: TokenKind, variable: Option<&str>) -> Sends {
    let variable = variable.unwrap_or("LABEL_STUDIO_API_KEY");
    match (client, parses_as_jwt(kind)) {
        (ClientId::Sdk, true) => Sends::RefreshThenBearer,
        (ClientId::MlBackend, _) if variable == "LABEL_STUDIO_API_TOKEN" => Sends::NotRead,
        (ClientId::MlBackend, true) if variable == "LABEL_STUDIO_API_KEY" => Sends::RefreshThenBearer,
        (ClientId::MlBackend | ClientId::BearerDirect, true) => Sends::Bearer,
        _ => Sends::Token,
    }
}

/// The client an integration is, and how lsauth knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Integration {
    pub client: ClientId,
    /// "--client", or what in or beside the file said so ("MODEL_DIR", "model.py beside it").
    pub from: String,
}

/// How one kind of client fares with the key, measured against the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientResult {
    pub id: ClientId,
    pub sends: &'static str,
    pub ok: bool,
    /// The HTTP status of the deciding answer (`null` when the server did not answer).
    pub status: Option<u16>,
    pub detail: Option<String>,
}

/// The SDK joins `api/token/refresh/` onto the base URL with Python's `urljoin`, which
/// drops the last path segment when there is no trailing slash: `http://host/label-studio`
/// refreshes at `http://host/api/token/refresh/`. A warning and the fixed URL, when the
/// configured URL has a sub-path and no trailing slash.
pub fn subpath_warning(url_text: &str) -> Option<String> {
    // Only a URL the SDK can use has a sub-path to lose (`u:pw@host:8080` parses with
    // "u" for a scheme and the rest for a path).
    let url =
        url::Url::parse(url_text.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())?;
    let path = url.path();
    if path == "/" || path.is_empty() || path.ends_with('/') {
        return None;
    }
    let trimmed = crate::text::secrets::mask_url(url_text.trim());
    Some(format!(
        "LABEL_STUDIO_URL={trimmed} has a sub-path and no trailing slash: the SDK's refresh request (urljoin) loses \
         the sub-path {path} and PATs fail to refresh; use {trimmed}/"
    ))
}

/// Variables that say an `.env` belongs to a Label Studio ML backend.
pub fn ml_backend_markers(doc: &EnvDocument) -> Vec<String> {
    doc.keys()
        .into_iter()
        .filter(|k| k == "LABEL_STUDIO_ML_BACKEND_V2" || k == "MODEL_DIR" || k.contains("ML_BACKEND"))
        .collect()
}

/// The authority of a URL as Python's `urlparse(url).netloc` gives it: the text between
/// `://` and the path, exactly as written (the SDK compares these strings).
fn netloc(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// What a project's task data says about the ML backend's downloads: the SDK's
/// `get_local_path` sends the key only to a URL whose netloc is LABEL_STUDIO_URL's
/// (`_build_headers`, label-studio-sdk 2.1.2); an absolute URL to Label Studio's own files
/// (`/data/...`, `/storage-data/...`) on another netloc goes out without it: 401
/// "Authentication credentials were not provided.". Relative URLs are joined onto
/// LABEL_STUDIO_URL and are fine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskUrls {
    /// Tasks read.
    pub tasks: usize,
    /// URLs to Label Studio's own files found in them.
    pub file_urls: usize,
    /// Netlocs other than LABEL_STUDIO_URL's, with how many URLs use each, most first.
    pub other_hosts: Vec<(String, usize)>,
    /// URLs on further other hosts, past the ones listed.
    pub unlisted: usize,
}

/// What doctor keeps of a project's task data, read one task at a time: the netlocs of
/// the URLs to Label Studio's own files, counted. Bounded whatever the tasks hold: a task
/// is dropped once read, at most `MAX_HOSTS` netlocs of at most `MAX_NETLOC` bytes each
/// are kept (the rest are counted), so a project of 1,000 tasks of 2 MB each is a few KiB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileUrlSample {
    /// LABEL_STUDIO_URL's netloc: its URLs are counted, never kept as another host.
    ours: String,
    pub tasks: usize,
    pub file_urls: usize,
    /// Each other netloc with its count, in the order first seen.
    pub hosts: Vec<(String, usize)>,
    /// File URLs on other hosts whose netloc was not kept (past `MAX_HOSTS`).
    pub uncounted: usize,
}

impl FileUrlSample {
    pub const MAX_HOSTS: usize = 100;
    pub const MAX_NETLOC: usize = 1024;

    /// A sample compared with `label_studio_url` (the backend's LABEL_STUDIO_URL).
    pub fn for_url(label_studio_url: &str) -> Self {
        let ours = netloc(label_studio_url.trim()).unwrap_or_default().to_string();
        FileUrlSample { ours, ..FileUrlSample::default() }
    }

    /// One task's data (JSON text).
    pub fn add(&mut self, data: &str) {
        fn visit(value: &serde_json::Value, sample: &mut FileUrlSample) {
            match value {
                serde_json::Value::String(s) => sample.add_string(s),
                serde_json::Value::Array(items) => items.iter().for_each(|v| visit(v, sample)),
                serde_json::Value::Object(map) => map.values().for_each(|v| visit(v, sample)),
                _ => {}
            }
        }
        self.tasks += 1;
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(data) {
            visit(&value, self);
        }
    }

    fn add_string(&mut self, s: &str) {
        let Some(host) = netloc(s).filter(|_| s.starts_with("http://") || s.starts_with("https://")) else { return };
        let path = &s[s.find("://").map(|i| i + 3 + host.len()).unwrap_or(s.len())..];
        if !(path.starts_with("/data/") || path.starts_with("/storage-data/")) {
            return;
        }
        self.file_urls += 1;
        if host == self.ours {
            return;
        }
        if let Some((_, n)) = self.hosts.iter_mut().find(|(h, _)| h == host) {
            *n += 1;
        } else if self.hosts.len() < Self::MAX_HOSTS && host.len() <= Self::MAX_NETLOC {
            self.hosts.push((host.to_string(), 1));
        } else {
            self.uncounted += 1;
        }
    }
}

pub fn task_urls(sample: &FileUrlSample) -> TaskUrls {
    let mut other_hosts = sample.hosts.clone();
    other_hosts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    TaskUrls { tasks: sample.tasks, file_urls: sample.file_urls, other_hosts, unlisted: sample.uncounted }
}

/// `task_urls` on task data given whole (tests).
#[cfg(test)]
fn task_urls_of(task_data: &[String], label_studio_url: &str) -> TaskUrls {
    let mut sample = FileUrlSample::for_url(label_studio_url);
    task_data.iter().for_each(|d| sample.add(d));
    task_urls(&sample)
}

/// Whether a host is this machine (plain http there is no exposure).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether an ML backend URL points at a loopback or private address, or at a one-label
/// host name (a Docker service), which Label Studio 1.23.2 refuses to connect while
/// ML_BLOCK_LOCAL_IP is true (its default): 403 "URL resolves to a reserved network address".
pub fn reserved_address(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url.trim()) else { return false };
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00,
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost") || !d.contains('.'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// However many hosts the tasks name, the sample keeps at most MAX_HOSTS of them
    /// (counting the rest), and no task's data once it is read.
    #[test]
    fn the_task_url_sample_is_bounded() {
        // LABEL_STUDIO_URL's own host first seen last: still never another host.
        let mut sample = FileUrlSample::for_url("http://ours.example");
        for i in 0..(FileUrlSample::MAX_HOSTS + 50) {
            sample.add(&format!(
                r#"{{"image": "http://h{i}.example/data/upload/1/a.png", "text": "{}"}}"#,
                "x".repeat(1000)
            ));
        }
        sample.add(&format!(r#"{{"image": "http://{}/data/x.png"}}"#, "l".repeat(FileUrlSample::MAX_NETLOC + 1)));
        sample.add(r#"{"image": "http://ours.example/data/upload/1/a.png"}"#);
        assert_eq!(sample.tasks, FileUrlSample::MAX_HOSTS + 52);
        assert_eq!(sample.file_urls, FileUrlSample::MAX_HOSTS + 52);
        assert_eq!(sample.hosts.len(), FileUrlSample::MAX_HOSTS);
        assert_eq!(sample.uncounted, 51);
        let found = task_urls(&sample);
        assert_eq!(found.other_hosts.len(), FileUrlSample::MAX_HOSTS);
        assert!(found.other_hosts.iter().all(|(h, _)| h.starts_with('h')), "only real hosts are listed");
        assert_eq!(found.unlisted, 51);
    }

    #[test]
    fn loopback_hosts() {
        for (u, lo) in [
            ("http://localhost:8080", true),
            ("http://127.0.0.1", true),
            ("http://[::1]/", true),
            ("http://ls.internal", false),
            ("http://10.0.0.5", false),
        ] {
            assert_eq!(is_loopback(&url::Url::parse(u).unwrap()), lo, "{u}");
        }
    }

    #[test]
    fn each_client_sends_what_the_sdk_sends() {
        let key = Some("LABEL_STUDIO_API_KEY");
        assert_eq!(sends(ClientId::Sdk, TokenKind::Pat, key), Sends::RefreshThenBearer);
        assert_eq!(sends(ClientId::Sdk, TokenKind::Legacy, key), Sends::Token);
        assert_eq!(sends(ClientId::BearerDirect, TokenKind::Pat, key), Sends::Bearer);
        assert_eq!(sends(ClientId::BearerDirect, TokenKind::Legacy, key), Sends::Token);
        assert_eq!(sends(ClientId::BearerDirect, TokenKind::TruncatedPat, key), Sends::Token, "two parts: not a JWT");
        assert_eq!(sends(ClientId::TokenHeader, TokenKind::Pat, key), Sends::Token);
    }

    /// AUTH-FACTS "ML backends, measured": the current backend refreshes only the PAT in
    /// LABEL_STUDIO_API_KEY; in LABEL_STUDIO_ACCESS_TOKEN it goes out unrefreshed.
    #[test]
    fn the_current_ml_backend_refreshes_only_label_studio_api_key() {
        assert_eq!(sends(ClientId::MlBackend, TokenKind::Pat, Some("LABEL_STUDIO_API_KEY")), Sends::RefreshThenBearer);
        assert_eq!(sends(ClientId::MlBackend, TokenKind::Pat, None), Sends::RefreshThenBearer);
        assert_eq!(sends(ClientId::MlBackend, TokenKind::Pat, Some("LABEL_STUDIO_ACCESS_TOKEN")), Sends::Bearer);
        assert_eq!(sends(ClientId::MlBackend, TokenKind::Legacy, Some("LABEL_STUDIO_ACCESS_TOKEN")), Sends::Token);
        assert_eq!(sends(ClientId::MlBackend, TokenKind::Legacy, Some("LABEL_STUDIO_API_TOKEN")), Sends::NotRead);
    }

    /// AUTH-FACTS: 127.0.0.1 against localhost (same port) gets no Authorization header.
    #[test]
    fn task_urls_on_another_host_than_label_studio_url_are_found() {
        let tasks = vec![
            r#"{"image": "http://127.0.0.1:8080/data/upload/1/a.png"}"#.to_string(),
            r#"{"image": "/data/upload/1/b.png"}"#.to_string(),
            r#"{"image": "http://localhost:8080/data/upload/1/c.png", "meta": ["http://127.0.0.1:8080/data/upload/1/d.png"]}"#.to_string(),
            r#"{"image": "https://bucket.s3.amazonaws.com/e.png"}"#.to_string(),
            "not json".to_string(),
        ];
        let found = task_urls_of(&tasks, "http://localhost:8080");
        assert_eq!(found.tasks, 5);
        assert_eq!(found.file_urls, 3, "relative and external URLs need no key");
        assert_eq!(found.other_hosts, vec![("127.0.0.1:8080".to_string(), 2)]);
        assert_eq!(task_urls_of(&tasks, "http://127.0.0.1:8080/").other_hosts, vec![("localhost:8080".to_string(), 1)]);
    }

    #[test]
    fn reserved_addresses_are_those_label_studio_refuses_by_default() {
        for url in [
            "http://127.0.0.1:9090",
            "http://localhost:9090",
            "http://10.0.3.4:9090",
            "http://ml-backend:9090",
            "http://[::1]:9090",
        ] {
            assert!(reserved_address(url), "{url}");
        }
        for url in ["https://ml.example.com", "http://8.8.8.8:9090"] {
            assert!(!reserved_address(url), "{url}");
        }
    }

    #[test]
    fn a_sub_path_without_a_trailing_slash_is_warned_about() {
        let w = subpath_warning("http://host:8080/label-studio").unwrap();
        assert!(w.contains("use http://host:8080/label-studio/"), "{w}");
        assert_eq!(subpath_warning("http://host:8080/label-studio/"), None);
        assert_eq!(subpath_warning("http://host:8080"), None);
        assert_eq!(subpath_warning("http://host:8080/"), None);
        assert_eq!(subpath_warning("not a url"), None);
    }

    #[test]
    fn ml_backends_are_recognized_by_their_variables() {
        let ml = EnvDocument::parse(b"LABEL_STUDIO_URL=x\nMODEL_DIR=/data\nLABEL_STUDIO_API_KEY=k\n").unwrap();
        assert_eq!(ml_backend_markers(&ml), ["MODEL_DIR"]);
        let v2 = EnvDocument::parse(b"LABEL_STUDIO_ML_BACKEND_V2=1\nML_BACKEND_URL=x\n").unwrap();
        assert_eq!(ml_backend_markers(&v2).len(), 2);
        let script = EnvDocument::parse(b"# ML backend, said only in a comment\nLABEL_STUDIO_API_KEY=k\n").unwrap();
        assert!(ml_backend_markers(&script).is_empty());
    }
}
