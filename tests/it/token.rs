//! `lsauth token test` against the in-process fake Label Studio (every cause), and
//! `lsauth token inspect` with SECRET_KEY and database facts.

use std::time::Duration;

use crate::fake_ls::{jwt, now, pat, FakeLs};
use crate::harness::{lsauth, Fixture, Run, SqliteFixture};

const SECRET: &str = "django-insecure-test-secret-key-0123456789";
const KEY: &str = "0123456789abcdef0123456789abcdef01234567";
const OTHER_KEY: &str = "fedcba9876543210fedcba9876543210fedcba98";

/// Admin (user 1) in org 1 with a legacy key and PATs; org 1 legacy off (fresh 1.22+).
fn server() -> FakeLs {
    let fake = FakeLs::start(SECRET);
    fake.add_user(1, "admin@example.com", 1);
    fake.add_legacy(KEY, 1);
    fake
}

fn test_token(fake: &FakeLs, token: &str) -> Run {
    let run = lsauth(["token", "test", "--url", &fake.url, "--json", "--token-stdin"]).stdin(token).run();
    assert_no_secret(&run, token);
    run
}

#[track_caller]
fn assert_no_secret(run: &Run, secret: &str) {
    let out = run.all_output();
    assert!(!out.contains(secret), "a full secret was printed:\n{out}");
}

#[track_caller]
fn cause(run: &Run) -> String {
    run.json()["cause"].as_str().unwrap().to_string()
}

#[test]
fn legacy_token_disabled_then_enabled() {
    let fake = server();
    let run = test_token(&fake, KEY);
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["cause"], "legacy_disabled");
    assert_eq!(json["ok"], false);
    assert_eq!(json["kind"], "legacy");
    assert_eq!(json["status"], 401);
    assert_eq!(json["label_studio_version"], "1.23.2");
    assert_eq!(json["token"], "0123…4567");
    assert!(json["fix"].as_str().unwrap().contains("lsauth enable-legacy"));

    fake.set_org(1, true, true);
    let run = test_token(&fake, KEY);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["cause"], "ok");
    assert_eq!(json["user"]["email"], "admin@example.com");
    assert_eq!(json["user"]["id"], 1);
    // The way clients send it.
    let sent = fake.with(|s| s.requests.iter().find(|r| r.1 == "/api/current-user/whoami").unwrap().2.clone());
    assert_eq!(sent.as_deref(), Some(format!("Token {KEY}").as_str()));
}

#[test]
fn legacy_causes() {
    let fake = server();
    assert_eq!(cause(&test_token(&fake, OTHER_KEY)), "legacy_unknown");
    fake.with(|s| s.users.get_mut(&1).unwrap().active = false);
    assert_eq!(cause(&test_token(&fake, KEY)), "user_inactive");
}

#[test]
fn pat_is_refreshed_then_used_as_bearer() {
    let fake = server();
    let token = pat(SECRET, 1, "jti-1");
    let run = test_token(&fake, &token);
    run.expect_code(0);
    assert_eq!(run.json()["kind"], "pat");
    assert_eq!(run.json()["user"]["email"], "admin@example.com");
    let requests = fake.with(|s| s.requests.clone());
    assert!(requests.iter().any(|r| r.0 == "POST" && r.1 == "/api/token/refresh/"), "{requests:?}");
    // The access token the refresh gave (not the PAT itself) went out as Bearer.
    let bearers: Vec<&str> = requests
        .iter()
        .filter(|r| r.1 == "/api/current-user/whoami")
        .filter_map(|r| r.2.as_deref()?.strip_prefix("Bearer "))
        .collect();
    assert!(bearers.iter().any(|b| b.starts_with("eyJ") && *b != token), "{requests:?}");
}

#[test]
fn pat_causes() {
    let fake = server();
    // A refresh that works proves nothing: PATs off for the org is only seen on whoami.
    fake.set_org(1, false, false);
    let run = test_token(&fake, &pat(SECRET, 1, "a"));
    run.expect_code(1);
    assert_eq!(cause(&run), "api_tokens_disabled");
    assert!(run.json()["fix"].as_str().unwrap().starts_with("lsauth enable-pat"));
    fake.set_org(1, true, false);

    assert_eq!(cause(&test_token(&fake, &pat("another-instance-secret", 1, "b"))), "pat_invalid_signature");
    let full = pat(SECRET, 1, "c");
    let truncated = full.rsplit_once('.').unwrap().0.to_string();
    assert_eq!(cause(&test_token(&fake, &truncated)), "pat_truncated");
    assert_eq!(cause(&test_token(&fake, &jwt(SECRET, "refresh", 1, now() - 10, "d"))), "pat_expired");
    fake.with(|s| s.blacklisted.insert("e".into()));
    assert_eq!(cause(&test_token(&fake, &pat(SECRET, 1, "e"))), "pat_blacklisted");
    assert_eq!(cause(&test_token(&fake, &pat(SECRET, 99, "f"))), "pat_user_missing");
    let access = jwt(SECRET, "access", 1, now() + 300, "g");
    let run = test_token(&fake, &access);
    assert_eq!(run.json()["kind"], "access");
    assert_eq!(cause(&run), "not_a_refresh_token");
    let run = test_token(&fake, "hello-this-is-not-a-token");
    run.expect_code(1);
    assert_eq!(cause(&run), "malformed");
}

#[test]
fn transport_causes() {
    let fake = server();
    fake.with(|s| s.html = true);
    let run = test_token(&fake, KEY);
    run.expect_code(1);
    assert_eq!(cause(&run), "not_label_studio");

    let fake = server();
    fake.with(|s| s.redirect_to = Some("https://ls.example.com".into()));
    let run = test_token(&fake, KEY);
    run.expect_code(1);
    assert_eq!(cause(&run), "redirected");
    assert!(run.json()["explanation"].as_str().unwrap().contains("https://ls.example.com"));
    assert_eq!(fake.with(|s| s.requests.len()), 1, "the redirect is not followed");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = lsauth(["token", "test", "--url", &format!("http://127.0.0.1:{port}"), "--json", KEY]).run();
    run.expect_code(3);
    assert_eq!(cause(&run), "unreachable");
    assert_no_secret(&run, KEY);

    let fake = server();
    fake.with(|s| s.delay = Duration::from_secs(3));
    let run = lsauth(["token", "test", "--url", &fake.url, "--timeout", "0.5", "--json", KEY]).run();
    run.expect_code(3);
    assert_eq!(cause(&run), "unreachable");
    assert!(run.json()["explanation"].as_str().unwrap().contains("timed out"), "{}", run.stdout);
}

#[test]
fn sub_path_is_kept() {
    let fake = server();
    fake.set_org(1, true, true);
    fake.with(|s| s.prefix = "/label-studio".into());
    let run = lsauth(["token", "test", "--url", &format!("{}/label-studio", fake.url), "--json", KEY]).run();
    run.expect_code(0);
    let paths: Vec<String> = fake.with(|s| s.requests.iter().map(|r| r.1.clone()).collect());
    assert!(paths.iter().all(|p| p.starts_with("/label-studio/api/")), "{paths:?}");
    // Without the sub-path the server is not found where clients look.
    let run = lsauth(["token", "test", "--url", &fake.url, "--json", KEY]).run();
    assert_eq!(cause(&run), "not_label_studio");
}

#[test]
fn env_file_supplies_url_and_token_and_blemishes_are_caught() {
    let fake = server();
    fake.set_org(1, true, true);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("# ML backend\nLABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY=\"{KEY}\"\n", fake.url))
        .unwrap();
    let run = lsauth(["token", "test", "--json", "--env-file", &env.display().to_string()]).run();
    run.expect_code(0);
    let json = run.json();
    assert!(json["source"].as_str().unwrap().ends_with(".env line 3 (LABEL_STUDIO_API_KEY)"), "{json}");
    assert!(json["url_source"].as_str().unwrap().contains("LABEL_STUDIO_URL"));

    // A pasted "Token " prefix: the cleaned token works, the configured value cannot.
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_TOKEN=Token {KEY}\n", fake.url)).unwrap();
    let run = lsauth(["token", "test", "--json", "--env-file", &env.display().to_string()]).run();
    run.expect_code(1);
    assert_eq!(cause(&run), "malformed");
    assert!(run.json()["fix"].as_str().unwrap().contains("LABEL_STUDIO_API_TOKEN"));
    assert_no_secret(&run, KEY);

    // From the process environment.
    let run = lsauth(["token", "test", "--json"])
        .env("LABEL_STUDIO_URL", &fake.url)
        .env("LABEL_STUDIO_ACCESS_TOKEN", KEY)
        .run();
    run.expect_code(0);
    assert_eq!(run.json()["source"], "environment (LABEL_STUDIO_ACCESS_TOKEN)");
}

#[test]
fn bad_input_is_exit_2() {
    let fake = server();
    lsauth(["token", "test", "--url", &fake.url]).run().expect_code(2);
    lsauth(["token", "test", "--url", "localhost:8080", KEY]).run().expect_code(2);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, "LABEL_STUDIO_URL=http://x\nthis line is broken\n").unwrap();
    let run = lsauth(["token", "test", "--env-file", &env.display().to_string()]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("line 2"), "{}", run.stderr);
    std::fs::write(&env, "OTHER=1\n").unwrap();
    let run = lsauth(["token", "inspect", "--env-file", &env.display().to_string()]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("LABEL_STUDIO_API_KEY"), "{}", run.stderr);
}

#[test]
fn many_tokens_one_row_each() {
    let fake = server();
    fake.set_org(1, true, true);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("tokens.txt");
    let good_pat = pat(SECRET, 1, "m1");
    let tokens = [
        KEY.to_string(),
        OTHER_KEY.to_string(),
        good_pat.clone(),
        pat("another-instances-secret-key", 1, "m2"),
        "garbage".into(),
    ];
    std::fs::write(&list, format!("# tokens to check\n{}\n\n", tokens.join("\n"))).unwrap();
    let run = lsauth(["token", "test", "--url", &fake.url, "--all-from", &list.display().to_string(), "--json"]).run();
    run.expect_code(1);
    let causes: Vec<String> =
        run.json()["results"].as_array().unwrap().iter().map(|r| r["cause"].as_str().unwrap().to_string()).collect();
    assert_eq!(causes, ["ok", "legacy_unknown", "ok", "pat_invalid_signature", "malformed"]);
    for t in &tokens[..4] {
        assert_no_secret(&run, t);
    }
    let table = lsauth(["token", "test", "--url", &fake.url, "--all-from", &list.display().to_string()]).run();
    assert!(table.stdout.contains("2 of 5 tokens work"), "{}", table.stdout);
    assert!(table.stdout.contains("tokens.txt line 2"));
}

#[test]
fn show_secrets_prints_the_token() {
    let fake = server();
    let run = lsauth(["token", "test", "--url", &fake.url, "--json", "--show-secrets", KEY]).run();
    assert_eq!(run.json()["token"], KEY);
}

// ---------------------------------------------------------------- inspect

#[test]
fn inspect_checks_the_signature_against_secret_key() {
    let token = pat(SECRET, 1, "jti-x");
    let run =
        lsauth(["token", "inspect", "--json", "--token-stdin"]).env("SECRET_KEY", SECRET).stdin(token.clone()).run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["kind"], "pat");
    assert_eq!(json["signature"]["state"], "valid");
    assert_eq!(json["claims"]["user_id"], "1");
    assert_eq!(json["claims"]["jti"], "jti-x");
    assert_no_secret(&run, &token);
    assert_no_secret(&run, SECRET);

    // From the Label Studio data dir's .env, where Label Studio writes the key it makes.
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join(".env"), format!("\nSECRET_KEY={}\n", crate::harness::secret("someone-elses-key")))
        .unwrap();
    let run =
        lsauth(["token", "inspect", "--json", "--token-stdin", "--ls-data-dir", &data.path().display().to_string()])
            .stdin(token.clone())
            .run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["signature"]["state"], "invalid");
    assert!(json["signature"]["secret_key_source"].as_str().unwrap().ends_with(".env (SECRET_KEY)"));
    assert!(json["problems"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().contains("another SECRET_KEY")));
    assert_no_secret(&run, "someone-elses-key");
}

#[test]
fn inspect_offline_problems() {
    let expired = jwt(SECRET, "refresh", 1, now() - 60, "old");
    let run = lsauth(["token", "inspect", "--json", &expired]).run();
    run.expect_code(1);
    assert_eq!(run.json()["expired"], true);
    let truncated = pat(SECRET, 1, "t").rsplit_once('.').unwrap().0.to_string();
    let run = lsauth(["token", "inspect", "--json", &truncated]).run();
    assert_eq!(run.json()["kind"], "truncated_pat");
    run.expect_code(1);
    let run = lsauth(["token", "inspect", &format!("Bearer {KEY}")]).run();
    run.expect_code(1);
    assert!(run.stdout.contains("\"Bearer\" prefix"), "{}", run.stdout);
}

#[test]
fn inspect_with_the_database() {
    let fx = SqliteFixture::new();
    fx.seed_classic();
    // Key of user 2 (bob, org 2: no settings row, so legacy is off).
    let key = "2222222222222222222222222222222222222222";
    let run = lsauth(["--db", &fx.db_arg(), "token", "inspect", "--json", key]).run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["database"]["owner"]["email"], "bob@beta.test");
    assert_eq!(json["database"]["organization"]["id"], 2);
    assert_eq!(json["database"]["organization"]["has_settings_row"], false);
    let carried = format!("lsauth --db {} enable-legacy --org 2", fx.db_arg());
    assert!(json["problems"][0].as_str().unwrap().contains(&carried), "the fix carries --db: {json}");
    // A key no user has.
    let run = lsauth(["--db", &fx.db_arg(), "token", "inspect", "--json", KEY]).run();
    assert_eq!(run.json()["database"]["legacy_key_known"], false);

    // PAT jti states.
    let outstanding = pat(SECRET, 1, "jti-out");
    let revoked = pat(SECRET, 1, "jti-revoked");
    fx.exec(&format!(
        "INSERT INTO token_blacklist_outstandingtoken (id, token, created_at, expires_at, user_id, jti) VALUES \
         (1, 'x', '{ts}', '{ts}', 1, 'jti-out'), (2, 'y', '{ts}', '{ts}', 1, 'jti-revoked'); \
         INSERT INTO token_blacklist_blacklistedtoken (blacklisted_at, token_id) VALUES ('{ts}', 2);",
        ts = crate::harness::TS
    ));
    let state = |t: &str| {
        lsauth(["--db", &fx.db_arg(), "token", "inspect", "--json", t]).run().json()["database"]["jti"]["state"].clone()
    };
    assert_eq!(state(&outstanding), "outstanding");
    assert_eq!(state(&revoked), "blacklisted");
    assert_eq!(state(&pat(SECRET, 1, "never-issued")), "unknown");
}

#[test]
fn legacy_disabled_names_the_organization_with_the_database() {
    let fake = server();
    let fx = SqliteFixture::new();
    fx.seed_classic();
    fake.add_legacy("1111111111111111111111111111111111111111", 1);
    let run = lsauth([
        "--db",
        &fx.db_arg(),
        "token",
        "test",
        "--url",
        &fake.url,
        "--json",
        "1111111111111111111111111111111111111111",
    ])
    .run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["cause"], "legacy_disabled");
    assert!(json["fix"].as_str().unwrap().ends_with(" enable-legacy --org 1"), "{json}");
    assert!(json["explanation"].as_str().unwrap().contains("organization 1"));
}

/// "Authentication credentials were not provided." for a valid access token is
/// api_tokens_disabled only when the database agrees; when it says PATs are on, the
/// server's feature flag is named instead.
#[test]
fn a_refused_access_token_with_pats_on_in_the_database_names_the_flag() {
    let fake = server();
    fake.set_org(1, false, false);
    let token = pat(SECRET, 1, "flag-jti");
    let db = SqliteFixture::new();
    db.add_org(1, "Acme");
    db.add_user(1, "admin@example.com", Some(1));
    db.set_settings(1, true, false, 73000);
    let run = lsauth(["--db", &db.db_arg(), "token", "test", "--url", &fake.url, "--json", "--token-stdin"])
        .stdin(token.clone())
        .run();
    run.expect_code(1);
    assert_eq!(cause(&run), "jwt_flag_off");
    assert!(run.json()["fix"].as_str().unwrap().contains("fflag__feature_develop__prompts__dia_1829_jwt_token_auth"));
    // Without the database the answer stands.
    assert_eq!(cause(&test_token(&fake, &token)), "api_tokens_disabled");
    // And when the database agrees PATs are off, too.
    db.exec("UPDATE jwt_auth_jwtsettings SET api_tokens_enabled = 0");
    let run = lsauth(["--db", &db.db_arg(), "token", "test", "--url", &fake.url, "--json", "--token-stdin"])
        .stdin(token.clone())
        .run();
    assert_eq!(cause(&run), "api_tokens_disabled");
    assert!(run.json()["fix"].as_str().unwrap().contains(" enable-pat --org 1"));
}

/// The JWT flag set off in lsauth's environment is applied offline too.
#[test]
fn token_inspect_applies_a_visible_flag_override() {
    let db = SqliteFixture::new();
    db.add_org(1, "Acme");
    db.add_user(1, "admin@example.com", Some(1));
    db.add_legacy_token(1, KEY);
    db.set_settings(1, true, false, 73000);
    let run = lsauth(["--db", &db.db_arg(), "token", "inspect", "--token-stdin", "--json"]).stdin(KEY).run();
    run.expect_code(1);
    assert!(run.json()["problems"][0].as_str().unwrap().contains("legacy tokens are off"));
    let run = lsauth(["--db", &db.db_arg(), "token", "inspect", "--token-stdin", "--json"])
        .env("fflag__feature_develop__prompts__dia_1829_jwt_token_auth", "false")
        .stdin(KEY)
        .run();
    run.expect_code(0);
    assert_eq!(run.json()["problems"].as_array().unwrap().len(), 0, "{}", run.stdout);
}

/// What the token's text proves is the cause even when the server cannot be reached; the
/// unreachable server is said too.
#[test]
fn offline_certain_defects_are_the_cause_when_the_server_is_down() {
    let access = jwt(SECRET, "access", 1, now() + 300, "a-jti");
    let expired = jwt(SECRET, "refresh", 1, now() - 10, "old-jti");
    let truncated = pat(SECRET, 1, "t-jti").rsplit_once('.').unwrap().0.to_string();
    for (token, expected) in [
        (access, "not_a_refresh_token"),
        (expired, "pat_expired"),
        (truncated, "pat_truncated"),
        ("garbage".into(), "malformed"),
    ] {
        let run = lsauth(["token", "test", "--url", "http://127.0.0.1:9", "--json", "--token-stdin", "--timeout", "2"])
            .stdin(token.clone())
            .run();
        run.expect_code(1);
        assert_eq!(cause(&run), expected, "{}", run.stdout);
        let warnings = run.json()["warnings"].to_string();
        assert!(warnings.contains("unreachable"), "{warnings}");
    }
    // A token only the server can judge: unreachable, exit 3.
    let run = lsauth(["token", "test", "--url", "http://127.0.0.1:9", "--json", "--token-stdin", "--timeout", "2"])
        .stdin(KEY)
        .run();
    run.expect_code(3);
    assert_eq!(cause(&run), "unreachable");
}

/// One validated parser for every duration: nan, inf, negative are usage errors, never a
/// panic; so are non-UTF-8 arguments.
#[test]
fn bad_durations_and_non_utf8_arguments_are_exit_2() {
    for bad in ["nan", "inf", "-1", "0", "601", "soon"] {
        for args in [
            vec!["token", "test", "--timeout", bad, KEY],
            vec!["doctor", "--timeout", bad],
            vec!["migrate-env", "--timeout", bad],
            vec!["--lock-timeout", bad, "orgs"],
        ] {
            if args[0] == "--lock-timeout" && bad == "0" {
                continue; // zero is a valid lock timeout: do not wait at all
            }
            let run = lsauth(args.clone()).run();
            run.expect_code(2);
            assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        }
    }
    use std::os::unix::ffi::OsStrExt;
    let bin = env!("CARGO_BIN_EXE_lsauth");
    let out = std::process::Command::new(bin)
        .args([std::ffi::OsStr::new("token"), std::ffi::OsStr::new("test"), std::ffi::OsStr::from_bytes(b"\xff\xfe")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let out = std::process::Command::new(bin)
        .args([
            std::ffi::OsStr::new("--db"),
            std::ffi::OsStr::from_bytes(b"/tmp/\xff.sqlite3"),
            std::ffi::OsStr::new("orgs"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

/// Each kind of client, measured: a PAT works in the SDK (refresh, then Bearer access),
/// not where it is sent as it is (get_local_path's Bearer, a Token header); a legacy key
/// works everywhere while legacy tokens are on.
#[test]
fn the_client_table_says_how_each_client_fares() {
    let fake = server();
    fake.set_org(1, true, true);
    let token = pat(SECRET, 1, "clients-jti");
    let run = test_token(&fake, &token);
    run.expect_code(0);
    let clients = run.json()["clients"].clone();
    let get = |id: &str| clients.as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone();
    assert_eq!(get("sdk")["ok"], true);
    assert_eq!(get("sdk")["sends"], "refresh, then Authorization: Bearer <access>");
    assert_eq!(get("bearer_direct")["ok"], false);
    assert_eq!(get("bearer_direct")["status"], 401);
    assert_eq!(get("bearer_direct")["detail"], "Authentication credentials were not provided.");
    assert_eq!(get("token_header")["ok"], false);
    assert_eq!(get("token_header")["detail"], "Invalid token.");
    let run = test_token(&fake, KEY);
    run.expect_code(0);
    let all_ok = run.json()["clients"].as_array().unwrap().iter().all(|c| c["ok"] == true);
    assert!(all_ok, "{}", run.stdout);
    // The human output has the table.
    let run = lsauth(["token", "test", "--url", &fake.url, "--token-stdin"]).stdin(token.clone()).run();
    assert!(
        run.stdout.contains("bearer_direct") && run.stdout.contains("Authorization: Bearer <key>"),
        "{}",
        run.stdout
    );
    // doctor warns: the SDK works, an ML backend's downloads would not.
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={token}\n", fake.url)).unwrap();
    let run = lsauth(["doctor", "--env-file", &env.display().to_string(), "--json"]).run();
    let check = run.json()["checks"].as_array().unwrap().iter().find(|c| c["id"] == "token.clients").cloned().unwrap();
    assert_eq!(check["status"], "warn");
    assert!(check["summary"].as_str().unwrap().contains("bearer_direct"), "{check}");
    // The fix that works for a client holding a PAT it cannot refresh: the legacy key back in
    // that very file (measured: enable-legacy alone leaves it at 401).
    // No backup of that file here: the fix says what to put back, by hand.
    assert_eq!(check["fix"], "set the variable back to the owner's legacy token");
    assert!(check["detail"].as_str().unwrap().contains("enable-legacy alone does not help"), "{check}");
}

/// AUTH-FACTS "ML backends, measured": the current backend refreshes a PAT only in
/// LABEL_STUDIO_API_KEY. token test judges the key for the integration the .env is (an ML
/// backend, told by what stands beside it), says so, and gives the fix that works.
#[test]
fn an_ml_backend_is_judged_by_how_it_sends_the_key() {
    let fake = server();
    let token = pat(SECRET, 1, "ml-jti");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.py"), "from label_studio_ml.model import LabelStudioMLBase\n").unwrap();
    let env = dir.path().join(".env");
    let env_arg = env.display().to_string();

    // The PAT where the backend refreshes it: works, and says for which client.
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={token}\n", fake.url)).unwrap();
    let run = lsauth(["token", "test", "--env-file", &env_arg, "--json"]).run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["integration"]["client"], "ml_backend", "{json}");
    assert_eq!(json["integration"]["from"], "model.py beside it");
    assert_eq!(json["integration"]["ok"], true);

    // The SAM example's variable: the SDK would be fine, this backend is not.
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_ACCESS_TOKEN={token}\n", fake.url)).unwrap();
    let run = lsauth(["token", "test", "--env-file", &env_arg, "--json"]).run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["cause"], "client_refused", "{json}");
    assert_eq!(json["integration"]["ok"], false);
    let ml = json["clients"].as_array().unwrap().iter().find(|c| c["id"] == "ml_backend").unwrap().clone();
    assert_eq!(ml["sends"], "Authorization: Bearer <key>");
    assert_eq!(ml["status"], 401);
    assert!(json["explanation"].as_str().unwrap().contains("refreshes a PAT only in LABEL_STUDIO_API_KEY"), "{json}");
    assert!(!json["fix"].as_str().unwrap().contains("enable-legacy"), "enable-legacy does not help: {json}");
    // For people: which client this is, and its row marked.
    let run = lsauth(["token", "test", "--env-file", &env_arg]).run();
    assert!(
        run.stdout.contains("Client:  ml_backend (an ML backend from 2026-02-12 on; from model.py beside it): REFUSED"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("ml_backend (this one)"), "{}", run.stdout);

    // --client names it where nothing in the file does; a backend before the fix refuses
    // the PAT wherever it sits.
    let plain = dir.path().join("script.env");
    std::fs::write(&plain, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={token}\n", fake.url)).unwrap();
    let other = tempfile::tempdir().unwrap();
    let moved = other.path().join(".env");
    std::fs::copy(&plain, &moved).unwrap();
    let moved_arg = moved.display().to_string();
    let run = lsauth(["token", "test", "--env-file", &moved_arg, "--json"]).run();
    run.expect_code(0);
    assert_eq!(run.json()["integration"], serde_json::Value::Null, "a script's .env: no client claimed");
    let run = lsauth(["token", "test", "--env-file", &moved_arg, "--client", "ml-backend-before-fix", "--json"]).run();
    run.expect_code(1);
    assert_eq!(run.json()["cause"], "client_refused");
    assert_eq!(run.json()["integration"]["from"], "--client");
}

/// A PAT that verifies with the SECRET_KEY lsauth reads, refused by the server: the
/// server runs with another key (set in its environment), and token test says so.
#[test]
fn a_server_with_another_secret_key_than_the_files_is_named() {
    let fake = server();
    let server_key = crate::harness::secret("the-server-environment-key");
    fake.with(|s| s.secret = server_key.clone());
    let token = pat(SECRET, 1, "key-differs");
    let run = lsauth(["token", "test", "--url", &fake.url, "--json", "--token-stdin"])
        .env("SECRET_KEY", SECRET)
        .stdin(token.clone())
        .run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["cause"], "pat_invalid_signature");
    assert!(json["explanation"].as_str().unwrap().contains("the server runs with another SECRET_KEY"), "{json}");
    assert!(json["fix"].as_str().unwrap().starts_with("give the server the SECRET_KEY from environment"), "{json}");
    assert_no_secret(&run, &token);
}
