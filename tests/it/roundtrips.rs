//! Networked commands at the round-trip limit (#29): every distinct request sent once per
//! run, the independent ones together. Counted on the in-process Label Studio (no clock is
//! asserted: `scripts/bench-roundtrips.py` measures the round trips on a real one).

use std::time::Duration;

use crate::fake_ls::{pat, FakeLs};
use crate::harness::{lsauth, Fixture, SqliteFixture};

const SECRET: &str = "roundtrips-test-secret";
const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

fn server() -> FakeLs {
    let fake = FakeLs::with_admin(SECRET, KEY, true);
    // Long enough that requests sent together are all held at once.
    fake.with(|s| s.delay = Duration::from_millis(300));
    fake
}

/// How many times each (method, path, Authorization) went out, and the most at once.
fn sent(fake: &FakeLs) -> (Vec<(String, String, Option<String>)>, usize) {
    fake.with(|s| (s.requests.clone(), s.max_in_flight))
}

fn count(requests: &[(String, String, Option<String>)], method: &str, path: &str) -> usize {
    requests.iter().filter(|r| r.0 == method && r.1 == path).count()
}

#[track_caller]
fn each_once(requests: &[(String, String, Option<String>)]) {
    let mut seen = std::collections::HashSet::new();
    for r in requests.iter().filter(|r| r.0 == "GET") {
        assert!(seen.insert(r), "sent twice: {r:?}\nall: {requests:?}");
    }
}

#[test]
fn a_legacy_key_is_one_whoami_after_the_version() {
    let fake = server();
    lsauth(["token", "test", "--url", &fake.url, "--token-stdin", "--json"]).stdin(KEY).run().expect_code(0);
    let (requests, _) = sent(&fake);
    assert_eq!(count(&requests, "GET", "/api/version"), 1, "{requests:?}");
    assert_eq!(count(&requests, "GET", "/api/current-user/whoami"), 1, "one whoami for one credential: {requests:?}");
    assert_eq!(requests.len(), 2, "{requests:?}");
}

#[test]
fn a_pat_is_refreshed_once_and_the_client_probes_go_with_the_refresh() {
    let fake = server();
    let token = pat(SECRET, 1, "rt");
    let run = lsauth(["token", "test", "--url", &fake.url, "--token-stdin", "--json"]).stdin(token.clone()).run();
    run.expect_code(0);
    assert_eq!(run.json()["clients"].as_array().unwrap().len(), 4, "every client still reported");
    let (requests, at_once) = sent(&fake);
    assert_eq!(count(&requests, "POST", "/api/token/refresh/"), 1, "{requests:?}");
    // whoami with the access token, with the PAT as Bearer, with the PAT as Token: once each.
    assert_eq!(count(&requests, "GET", "/api/current-user/whoami"), 3, "{requests:?}");
    each_once(&requests);
    // The refresh and the two raw-key probes went out together.
    assert!(at_once >= 3, "at most {at_once} at once: {requests:?}");
}

#[test]
fn doctor_sends_what_token_test_sends_and_its_project_check_reuses_the_answer() {
    use crate::harness::FixtureExt;
    let fake = server();
    let fx = SqliteFixture::new();
    fx.seed_classic();
    fx.exec(&format!("UPDATE authtoken_token SET key = '{KEY}' WHERE user_id = 1"));
    fx.exec("UPDATE jwt_auth_jwtsettings SET legacy_api_tokens_enabled = 1 WHERE organization_id = 1");
    fx.add_project(7, 1, 1);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={KEY}\n", fake.url)).unwrap();
    let e = env.display().to_string();
    let json = lsauth(["--db", &fx.db_arg(), "doctor", "--env-file", &e, "--project", "7", "--json"]).run().json();
    let check = |id: &str| json["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap();
    for id in ["project.ml_backend_key", "project.export_key"] {
        assert!(check(id)["detail"].as_str().unwrap().contains("live test: ok"), "{}", check(id));
    }
    let (requests, _) = sent(&fake);
    // The project's creator and the organization's creator hold the configured key: their
    // live test is the probe's answer.
    assert_eq!(count(&requests, "GET", "/api/current-user/whoami"), 1, "{requests:?}");
    assert_eq!(requests.len(), 2, "{requests:?}");
}

#[test]
fn doctor_without_a_database_signs_in_with_the_probe_s_answers() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    let token = pat(SECRET, 1, "nodb");
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={token}\n", fake.url)).unwrap();
    let run = lsauth(["doctor", "--env-file", &env.display().to_string(), "--json"])
        .env("HOME", dir.path().display().to_string())
        .run();
    let json = run.json();
    let settings = json["checks"].as_array().unwrap().iter().find(|c| c["id"] == "api.jwt_settings").unwrap().clone();
    assert_eq!(settings["status"], "pass", "{json}");
    let (requests, _) = sent(&fake);
    assert_eq!(count(&requests, "POST", "/api/token/refresh/"), 1, "one refresh for one PAT: {requests:?}");
    assert_eq!(count(&requests, "GET", "/api/jwt/settings"), 1, "{requests:?}");
    each_once(&requests);
}
