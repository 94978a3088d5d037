//! An in-process Label Studio 1.23.2 that answers the authentication endpoints exactly as
//! AUTH-FACTS records the real server's answers (status codes and `detail` texts).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const LEGACY_DISABLED: &str =
    "Authentication token no longer valid: legacy token authentication has been disabled for this organization";
pub const NOT_PROVIDED: &str = "Authentication credentials were not provided.";

#[derive(Clone, Debug)]
pub struct FakeUser {
    pub email: String,
    pub active_org: Option<i64>,
    pub active: bool,
    pub password: String,
    /// May read and change the organization's token settings (`/api/jwt/settings`).
    pub org_admin: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct FakeOrg {
    pub api_tokens_enabled: bool,
    pub legacy_enabled: bool,
}

#[derive(Default)]
pub struct FakeState {
    pub secret: String,
    /// A sub-path Label Studio is served under, e.g. "/label-studio".
    pub prefix: String,
    pub users: HashMap<i64, FakeUser>,
    pub legacy: HashMap<String, i64>,
    pub orgs: HashMap<i64, FakeOrg>,
    pub blacklisted: HashSet<String>,
    /// PATs minted through POST /api/token/: `(user id, jti)`.
    pub issued: Vec<(i64, String)>,
    /// Answer everything with a 301 to this URL (an http → https front).
    pub redirect_to: Option<String>,
    /// Answer everything with an HTML page (a different service on the port).
    pub html: bool,
    pub delay: Duration,
    /// The JWT feature flag off in the server's environment: legacy tokens are accepted
    /// whatever the settings, access tokens never.
    pub jwt_flag_off: bool,
    /// A release before `/api/jwt/settings` (1.16.0): 404 with an HTML page there.
    pub no_settings_endpoint: bool,
    /// Apply a POST to `/api/jwt/settings`, then close the connection unanswered (an
    /// answer lost on the way back).
    pub lose_settings_answer: bool,
    /// `(method, path, Authorization header)` of every request.
    pub requests: Vec<(String, String, Option<String>)>,
    /// The release `/api/version` names, when not 1.23.2 (a hostile server's text, say).
    pub release: Option<String>,
    /// Titles set by a member (`PATCH /api/organizations/ID`), else `org_title(id)`.
    pub titles: HashMap<i64, String>,
    /// Requests being answered now (held for `delay`), and the most there ever were: what
    /// lsauth sent together.
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// Hold the answer to a successful mint (POST /api/token/, 201): create the first
    /// file when it is ready, answer once the second exists. The PAT is minted (live on
    /// the server) while lsauth waits: a test then signals lsauth or fills its disk.
    pub hold_mint: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl FakeState {
    fn title(&self, id: i64) -> String {
        self.titles.get(&id).cloned().unwrap_or_else(|| org_title(id))
    }
}

pub struct FakeLs {
    pub url: String,
    pub state: Arc<Mutex<FakeState>>,
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// An HS256 JWT as simple-jwt makes them.
pub fn jwt(secret: &str, token_type: &str, user_id: i64, exp: i64, jti: &str) -> String {
    crate::harness::secret(secret);
    let token = unregistered_jwt(secret, token_type, user_id, exp, jti);
    crate::harness::secret(token.clone());
    // The truncated form (header.payload) is what Label Studio lists: public, not secret.
    token
}

fn unregistered_jwt(secret: &str, token_type: &str, user_id: i64, exp: i64, jti: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"token_type":"{token_type}","exp":{exp},"iat":{},"jti":"{jti}","user_id":"{user_id}"}}"#,
        now()
    ));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{header}.{payload}").as_bytes());
    format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// A PAT as Label Studio mints it: a refresh token valid 200 years.
pub fn pat(secret: &str, user_id: i64, jti: &str) -> String {
    jwt(secret, "refresh", user_id, now() + 200 * 365 * 86400, jti)
}

fn verify(secret: &str, token: &str) -> Option<serde_json::Value> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).ok()?).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).ok()?).ok()
}

struct Reply {
    status: u16,
    body: String,
    content_type: &'static str,
    location: Option<String>,
    cookies: Vec<String>,
}

fn json(status: u16, body: serde_json::Value) -> Reply {
    Reply { status, body: body.to_string(), content_type: "application/json", location: None, cookies: Vec::new() }
}

fn html(status: u16, body: &str) -> Reply {
    Reply { status, body: body.into(), content_type: "text/html", location: None, cookies: Vec::new() }
}

/// What a request carries besides its path.
struct Request<'a> {
    method: &'a str,
    path: &'a str,
    auth: Option<&'a str>,
    body: &'a [u8],
    cookies: HashMap<String, String>,
    headers: &'a HashMap<String, String>,
}

fn error(status: u16, detail: &str) -> Reply {
    json(
        status,
        serde_json::json!({"id": "3f1c2f0e-0000-4000-8000-000000000000", "status_code": status, "version": "1.23.2", "detail": detail, "exc_info": null}),
    )
}

impl FakeLs {
    pub fn start(secret: &str) -> FakeLs {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(FakeState { secret: secret.to_string(), ..FakeState::default() }));
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, state));
            }
        });
        FakeLs { url, state }
    }

    /// The server most tests start from: user 1 (admin@acme.test) in organization 1, with
    /// PATs on, legacy tokens on or off, and the legacy key `key`.
    pub fn with_admin(secret: &str, key: &str, legacy_on: bool) -> FakeLs {
        let fake = FakeLs::start(secret);
        fake.add_user(1, "admin@acme.test", 1);
        fake.set_org(1, true, legacy_on);
        fake.add_legacy(key, 1);
        fake
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn add_user(&self, id: i64, email: &str, org: i64) {
        self.with(|s| {
            s.users.insert(
                id,
                FakeUser {
                    email: email.into(),
                    active_org: Some(org),
                    active: true,
                    password: "pw".into(),
                    org_admin: true,
                },
            );
            s.orgs.entry(org).or_insert(FakeOrg { api_tokens_enabled: true, legacy_enabled: false });
        });
    }

    pub fn add_legacy(&self, key: &str, user: i64) {
        crate::harness::secret(key);
        self.with(|s| s.legacy.insert(key.to_string(), user));
    }

    pub fn set_org(&self, org: i64, api_tokens_enabled: bool, legacy_enabled: bool) {
        self.with(|s| s.orgs.insert(org, FakeOrg { api_tokens_enabled, legacy_enabled }));
    }
}

fn serve(stream: TcpStream, state: Arc<Mutex<FakeState>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let auth = headers.get("authorization").cloned();
    let cookies: HashMap<String, String> = headers
        .get("cookie")
        .map(|c| {
            c.split(';').filter_map(|p| p.trim().split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
        })
        .unwrap_or_default();
    let (reply, delay, hold) = {
        let mut s = state.lock().unwrap();
        s.requests.push((method.clone(), path.clone(), auth.clone()));
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let request =
            Request { method: &method, path: &path, auth: auth.as_deref(), body: &body, cookies, headers: &headers };
        let reply = answer(&mut s, &request);
        let hold = (method == "POST" && path == "/api/token/" && reply.status == 201).then(|| s.hold_mint.clone());
        (reply, s.delay, hold.flatten())
    };
    std::thread::sleep(delay);
    if let Some((ready, release)) = hold {
        std::fs::write(&ready, "").unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(120);
        while !release.exists() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    state.lock().unwrap().in_flight -= 1;
    if reply.status == 0 {
        return; // the connection closes unanswered
    }
    let reason = match reply.status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        302 => "Found",
        403 => "Forbidden",
        409 => "Conflict",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Internal Server Error",
    };
    let mut location = reply.location.map(|l| format!("Location: {l}\r\n")).unwrap_or_default();
    for c in &reply.cookies {
        location.push_str(&format!("Set-Cookie: {c}; Path=/\r\n"));
    }
    let mut out = stream;
    let _ = write!(
        out,
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{location}Connection: close\r\n\r\n{}",
        reply.status,
        reply.content_type,
        reply.body.len(),
        reply.body
    );
}

fn whoami(s: &FakeState, user_id: i64) -> Reply {
    let u = &s.users[&user_id];
    let meta = u.active_org.map(|o| serde_json::json!({"title": s.title(o), "email": u.email}));
    json(
        200,
        serde_json::json!({"id": user_id, "email": u.email, "username": "", "active_organization": u.active_org,
            "active_organization_meta": meta}),
    )
}

pub fn org_title(id: i64) -> String {
    format!("Org {id}")
}

/// The user a request authenticates as for the token endpoints: a legacy key (with the
/// organization check), or a session cookie.
fn token_endpoint_user(s: &FakeState, r: &Request<'_>) -> Result<i64, Reply> {
    if let Some((scheme, key)) = r.auth.and_then(|a| a.split_once(' ')) {
        if scheme.eq_ignore_ascii_case("token") {
            let Some(&user_id) = s.legacy.get(key) else { return Err(error(401, "Invalid token.")) };
            let user = &s.users[&user_id];
            if let Some(org) = user.active_org {
                if !s.orgs[&org].legacy_enabled && !s.jwt_flag_off {
                    return Err(error(401, LEGACY_DISABLED));
                }
            }
            return Ok(user_id);
        }
        return Err(error(401, NOT_PROVIDED));
    }
    let Some(user_id) =
        r.cookies.get("sessionid").and_then(|v| v.strip_prefix('u')).and_then(|v| v.parse::<i64>().ok())
    else {
        return Err(error(401, NOT_PROVIDED));
    };
    // No CSRF check: Label Studio's middleware exempts every API view from it (only the
    // login and signup forms enforce it); observed on 1.23.2, a session POST to
    // /api/jwt/settings without X-CSRFToken answers 200. lsauth sends the header anyway.
    Ok(user_id)
}

/// The user any authentication method names: `Token` (legacy, with the organization
/// check), `Bearer` (an access token, with the PAT check), or a session (POST needs the
/// CSRF header), as Label Studio's authentication classes decide.
fn any_user(s: &FakeState, r: &Request<'_>) -> Result<i64, Reply> {
    if let Some((scheme, value)) = r.auth.and_then(|a| a.split_once(' ')) {
        if scheme.eq_ignore_ascii_case("bearer") {
            let claims = verify(&s.secret, value).ok_or_else(|| error(401, NOT_PROVIDED))?;
            let user_id: i64 = claims["user_id"].as_str().and_then(|u| u.parse().ok()).unwrap_or(-1);
            let fresh = claims["exp"].as_i64().unwrap_or(0) > now();
            return match s.users.get(&user_id) {
                Some(u)
                    if claims["token_type"] == "access"
                        && fresh
                        && !s.jwt_flag_off
                        && u.active_org.is_some_and(|o| s.orgs[&o].api_tokens_enabled) =>
                {
                    Ok(user_id)
                }
                _ => Err(error(401, NOT_PROVIDED)),
            };
        }
    }
    token_endpoint_user(s, r)
}

fn jti_of(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims["jti"].as_str().map(String::from)
}

fn answer(s: &mut FakeState, r: &Request<'_>) -> Reply {
    let (method, full_path, auth, body) = (r.method, r.path, r.auth, r.body);
    if let Some(to) = &s.redirect_to {
        return Reply {
            status: 301,
            body: String::new(),
            content_type: "text/html",
            location: Some(format!("{to}{full_path}")),
            cookies: Vec::new(),
        };
    }
    if s.html {
        return html(200, "<html><body>It works!</body></html>");
    }
    let Some(path) = full_path.strip_prefix(&s.prefix) else {
        return html(404, "<h1>Not Found</h1>");
    };
    match (method, path) {
        ("GET", "/user/login/") => {
            let mut reply = html(200, "<form>login</form>");
            reply.cookies.push("csrftoken=csrf-before-login".into());
            reply
        }
        ("POST", "/user/login/") => {
            let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
            let csrf_ok = form.get("csrfmiddlewaretoken").is_some_and(|t| Some(t) == r.cookies.get("csrftoken"));
            if !csrf_ok || !r.headers.contains_key("referer") {
                return html(403, "<h1>403 Forbidden</h1><p>CSRF verification failed.</p>");
            }
            let email = form.get("email").cloned().unwrap_or_default();
            let password = form.get("password").cloned().unwrap_or_default();
            let found = s.users.iter().find(|(_, u)| u.email == email && u.password == password).map(|(id, _)| *id);
            match found {
                Some(id) => Reply {
                    status: 302,
                    body: String::new(),
                    content_type: "text/html",
                    location: Some("/".into()),
                    cookies: vec![format!("sessionid=u{id}"), "csrftoken=csrf-after-login".into()],
                },
                None => {
                    let mut reply = html(200, "<p>The email and password you entered don&#x27;t match.</p>");
                    reply.cookies.push("sessionid=anonymous".into());
                    reply
                }
            }
        }
        ("POST", "/api/token/") => {
            let user_id = match token_endpoint_user(s, r) {
                Ok(id) => id,
                Err(reply) => return reply,
            };
            if s.issued.iter().any(|(u, jti)| *u == user_id && !s.blacklisted.contains(jti)) {
                return error(409, "You already have a valid token. Please revoke it before creating a new one.");
            }
            let jti = format!("minted-{}-{}", user_id, s.issued.len());
            let token = pat(&s.secret, user_id, &jti);
            s.issued.push((user_id, jti));
            json(201, serde_json::json!({ "token": token }))
        }
        ("GET", "/api/token/") => {
            let user_id = match token_endpoint_user(s, r) {
                Ok(id) => id,
                Err(reply) => return reply,
            };
            let listed: Vec<serde_json::Value> = s
                .issued
                .iter()
                .filter(|(u, jti)| *u == user_id && !s.blacklisted.contains(jti))
                .map(|(u, jti)| {
                    let full = pat(&s.secret, *u, jti);
                    serde_json::json!({"token": full.rsplit_once('.').unwrap().0, "created_at": "2026-01-01T00:00:00Z"})
                })
                .collect();
            json(200, serde_json::Value::Array(listed))
        }
        ("POST", "/api/token/blacklist/") => {
            let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let Some(jti) = body.get("refresh").and_then(|t| t.as_str()).and_then(jti_of) else {
                return error(401, "Token is invalid");
            };
            if !s.blacklisted.insert(jti) {
                return error(404, "Not found.");
            }
            Reply {
                status: 204,
                body: String::new(),
                content_type: "application/json",
                location: None,
                cookies: Vec::new(),
            }
        }
        ("GET" | "POST", "/api/jwt/settings") if s.no_settings_endpoint => {
            html(404, "<!doctype html><h1>Not Found</h1>")
        }
        ("GET" | "POST", "/api/jwt/settings") => {
            let user_id = match any_user(s, r) {
                Ok(id) => id,
                Err(reply) => return reply,
            };
            let user = &s.users[&user_id];
            if !user.org_admin {
                return error(403, "You do not have permission to perform this action.");
            }
            let Some(org_id) = user.active_org else { return error(404, "Not found.") };
            if method == "POST" {
                let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
                for field in ["api_tokens_enabled", "legacy_api_tokens_enabled"] {
                    if body.get(field).is_some_and(|v| !v.is_boolean()) {
                        return json(
                            400,
                            serde_json::json!({"id": "x", "status_code": 400, "version": "1.23.2",
                                "detail": "Validation error", "exc_info": null,
                                "validation_errors": {field: ["Must be a valid boolean."]}}),
                        );
                    }
                }
                let org = s.orgs.get_mut(&org_id).unwrap();
                if let Some(v) = body.get("api_tokens_enabled").and_then(|v| v.as_bool()) {
                    org.api_tokens_enabled = v;
                }
                if let Some(v) = body.get("legacy_api_tokens_enabled").and_then(|v| v.as_bool()) {
                    org.legacy_enabled = v;
                }
            }
            let org = s.orgs[&org_id];
            if method == "POST" && s.lose_settings_answer {
                return Reply { status: 0, body: String::new(), content_type: "", location: None, cookies: Vec::new() };
            }
            json(
                200,
                serde_json::json!({"api_tokens_enabled": org.api_tokens_enabled, "legacy_api_tokens_enabled": org.legacy_enabled}),
            )
        }
        ("GET", p) if p.starts_with("/api/organizations/") => {
            let user_id = match any_user(s, r) {
                Ok(id) => id,
                Err(reply) => return reply,
            };
            let Ok(id) = p["/api/organizations/".len()..].trim_end_matches('/').parse::<i64>() else {
                return html(404, "<h1>Not Found</h1>");
            };
            if s.users[&user_id].active_org != Some(id) {
                return error(403, "You do not have permission to perform this action.");
            }
            // The real answer carries the organization's invite token too.
            json(200, serde_json::json!({"id": id, "title": s.title(id), "token": "InviteTokenNotASecretOfLsauth0000"}))
        }
        ("GET", "/health") => json(200, serde_json::json!({"status": "UP"})),
        ("GET", "/api/version") => {
            let release = s.release.clone().unwrap_or_else(|| "1.23.2".into());
            json(200, serde_json::json!({"release": release, "label-studio-os-package": {"version": "1.23.2"}}))
        }
        ("GET", "/api/current-user/whoami") => {
            let Some((scheme, value)) = auth.and_then(|a| a.split_once(' ')) else {
                // A web-login session (signed cookie) is enough for a GET.
                return match r.cookies.get("sessionid").and_then(|v| v.strip_prefix('u')).and_then(|v| v.parse().ok()) {
                    Some(user_id) if s.users.contains_key(&user_id) => whoami(s, user_id),
                    _ => error(401, NOT_PROVIDED),
                };
            };
            match scheme.to_ascii_lowercase().as_str() {
                "token" => {
                    let Some(&user_id) = s.legacy.get(value) else { return error(401, "Invalid token.") };
                    let user = &s.users[&user_id];
                    if !user.active {
                        return error(401, "User inactive or deleted.");
                    }
                    if let Some(org) = user.active_org {
                        if !s.orgs[&org].legacy_enabled && !s.jwt_flag_off {
                            return error(401, LEGACY_DISABLED);
                        }
                    }
                    whoami(s, user_id)
                }
                "bearer" => {
                    let Some(claims) = verify(&s.secret, value) else { return error(401, NOT_PROVIDED) };
                    let user_id: i64 = claims["user_id"].as_str().and_then(|u| u.parse().ok()).unwrap_or(-1);
                    let fresh = claims["exp"].as_i64().unwrap_or(0) > now();
                    match s.users.get(&user_id) {
                        Some(u)
                            if claims["token_type"] == "access"
                                && fresh
                                && !s.jwt_flag_off
                                && u.active_org.is_some_and(|o| s.orgs[&o].api_tokens_enabled) =>
                        {
                            whoami(s, user_id)
                        }
                        _ => error(401, NOT_PROVIDED),
                    }
                }
                _ => error(401, NOT_PROVIDED),
            }
        }
        ("POST", "/api/token/refresh/" | "/api/token/refresh") => {
            let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let Some(token) = body.get("refresh").and_then(|r| r.as_str()) else {
                return json(
                    400,
                    serde_json::json!({"id": "x", "status_code": 400, "version": "1.23.2", "detail": "Validation error",
                        "exc_info": null, "validation_errors": {"refresh": ["This field is required."]}}),
                );
            };
            let Some(claims) = verify(&s.secret, token) else { return error(401, "Token is invalid") };
            if claims["exp"].as_i64().unwrap_or(0) <= now() {
                return error(401, "Token is expired");
            }
            if claims["token_type"] != "refresh" {
                return error(401, "Token has wrong type");
            }
            if s.blacklisted.contains(claims["jti"].as_str().unwrap_or("")) {
                return error(401, "Token is blacklisted");
            }
            let user_id: i64 = claims["user_id"].as_str().and_then(|u| u.parse().ok()).unwrap_or(-1);
            if !s.users.contains_key(&user_id) {
                return error(500, "User matching query does not exist.");
            }
            json(200, serde_json::json!({"access": jwt(&s.secret, "access", user_id, now() + 300, "access-jti")}))
        }
        _ => html(404, "<h1>Not Found</h1>"),
    }
}
