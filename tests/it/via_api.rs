//! `--via-api`: enable/disable and rollback through `/api/jwt/settings` against the fake
//! Label Studio, with no database at hand: every credential (login, PAT, legacy key),
//! backups, read-back, the live check, and every failure changing nothing.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::fake_ls::{pat, FakeLs, FakeOrg};
use crate::harness::{lsauth, secret, Lsauth};

const SECRET: &str = "via-api-test-secret";
const KEY: &str = "89abcdef0123456789abcdef0123456789abcdef";
const PASSWORD: &str = "Adm1n-Passw0rd-for-tests";

/// User 1 (admin@acme.test, org 1, password PASSWORD, legacy KEY); org 1 with PATs on
/// and legacy tokens off, as a fresh 1.23.2.
fn server() -> FakeLs {
    let fake = FakeLs::with_admin(SECRET, KEY, false);
    fake.with(|s| s.users.get_mut(&1).unwrap().password = secret(PASSWORD));
    fake
}

fn org(fake: &FakeLs, id: i64) -> FakeOrg {
    fake.with(|s| s.orgs[&id])
}

fn posts(fake: &FakeLs) -> usize {
    fake.with(|s| s.requests.iter().filter(|r| r.0 == "POST" && r.1.ends_with("/api/jwt/settings")).count())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    found.sort();
    found
}

/// lsauth with a backup directory of its own and `--login admin@acme.test` reading the
/// password from stdin.
fn with_login(fake: &FakeLs, backups: &Path, args: &[&str]) -> Lsauth {
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--url".into(), fake.url.clone(), "--login".into(), "admin@acme.test".into()]);
    all.push("--password-stdin".into());
    lsauth(all).env("LSAUTH_BACKUP_DIR", backups.display().to_string()).stdin(format!("{PASSWORD}\n"))
}

#[test]
fn a_login_fixes_the_active_organization_backs_up_reads_back_and_rolls_back() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("state");

    let dry = with_login(&fake, &backups, &["enable-legacy", "--via-api", "--dry-run"]).run();
    dry.expect_code(0);
    assert!(dry.stdout.contains("Organization 1 \"Org 1\""), "{}", dry.stdout);
    assert!(dry.stdout.contains("legacy tokens: off -> on"), "{}", dry.stdout);
    assert!(dry.stdout.contains("nothing was changed"), "{}", dry.stdout);
    assert_eq!(posts(&fake), 0, "a dry run only reads");
    assert!(!org(&fake, 1).legacy_enabled);
    assert!(files(&backups).is_empty(), "a dry run writes no backup");

    let run = with_login(&fake, &backups, &["enable-legacy", "--via-api", "--yes", "--json"]).run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["via"], "api");
    assert_eq!(json["changed"], 1);
    assert_eq!(json["target"]["organization_id"], 1);
    assert_eq!(json["target"]["organization_title"], "Org 1");
    assert_eq!(json["target"]["user_email"], "admin@acme.test");
    assert_eq!(json["target"]["credential"], "web_login");
    assert_eq!(json["before"]["legacy_api_tokens_enabled"], false);
    assert_eq!(json["after"]["legacy_api_tokens_enabled"], true);
    assert_eq!(json["read_back"]["legacy_api_tokens_enabled"], true);
    assert!(json["undo"].as_str().unwrap().contains("--login admin@acme.test"), "{json}");
    assert!(org(&fake, 1).legacy_enabled && org(&fake, 1).api_tokens_enabled, "only the legacy switch changed");
    assert!(!run.stdout.contains("InviteToken"), "the organization's invite token is never shown");

    // The backup: private, checksummed, says it went through the API, and where.
    let path = PathBuf::from(json["backup"]["path"].as_str().unwrap());
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&backups).unwrap().permissions().mode() & 0o777, 0o700);
    let text = std::fs::read_to_string(&path).unwrap();
    for needle in ["\"via\":\"api\"", &format!("\"url\":\"{}/\"", fake.url), "\"organization_id\":1", "\"checksum\""] {
        assert!(text.contains(needle), "{needle} in {text}");
    }

    // Listing needs no sign-in; the rollback goes through the API too.
    let list = lsauth(["rollback", "--list", "--url", &fake.url, "--json"])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .run();
    list.expect_code(0);
    assert_eq!(list.json()["backups"][0]["operation"], "enable-legacy");
    let back = with_login(&fake, &backups, &["rollback", "--latest", "--yes"]).run();
    back.expect_code(0);
    assert!(back.stdout.contains("Restored organization 1"), "{}", back.stdout);
    assert!(!org(&fake, 1).legacy_enabled, "legacy tokens off again");
    assert_eq!(files(&backups).len(), 2, "the rollback has its own backup (its undo)");
    let again = with_login(&fake, &backups, &["rollback", json["backup"]["id"].as_str().unwrap(), "--yes"]).run();
    again.expect_code(0);
    assert!(again.stdout.contains("Nothing to restore"), "{}", again.stdout);
    assert_eq!(posts(&fake), 2, "one POST for the change, one for the rollback, none for the no-op");
}

#[test]
fn a_pat_or_a_working_legacy_key_signs_in_and_the_key_at_hand_is_tested_live() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("state");
    let the_pat = pat(SECRET, 1, "pat-1");
    let run = lsauth(["enable-legacy", "--via-api", "--url", &fake.url, "--token-stdin", "--yes", "--json"])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .stdin(the_pat.clone())
        .run();
    run.expect_code(0);
    assert_eq!(run.json()["target"]["credential"], "pat");
    let bearer_posts = fake.with(|s| {
        s.requests
            .iter()
            .filter(|r| r.0 == "POST" && r.1 == "/api/jwt/settings")
            .all(|r| r.2.as_deref().is_some_and(|a| a.starts_with("Bearer ")))
    });
    assert!(bearer_posts, "a PAT is refreshed and its access token sent");

    // A legacy key in an ML backend's .env signs in while legacy tokens are on, and is
    // warned about when the change switches it off.
    let env = dir.path().join("ml.env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={KEY}\n", fake.url)).unwrap();
    let env_arg = env.display().to_string();
    let off = lsauth(["disable-legacy", "--via-api", "--env-file", &env_arg, "--yes"])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .run();
    off.expect_code(0);
    assert!(off.stdout.contains("signed in with a legacy token"), "{}", off.stdout);
    assert!(off.stdout.contains("once this is applied it no longer authenticates"), "{}", off.stdout);
    assert!(off.stdout.contains("Read back: not possible"), "{}", off.stdout);
    assert!(!org(&fake, 1).legacy_enabled);

    // Now the key cannot sign in; the login can, and the key of the .env is tested live.
    let refused = lsauth(["enable-legacy", "--via-api", "--env-file", &env_arg, "--yes"])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .run();
    refused.expect_code(1);
    assert!(refused.stderr.contains("legacy_disabled") && refused.stderr.contains("--login"), "{}", refused.stderr);
    let fixed =
        with_login(&fake, &backups, &["enable-legacy", "--via-api", "--env-file", &env_arg, "--yes", "--json"]).run();
    fixed.expect_code(0);
    let json = fixed.json();
    assert_eq!(json["live_check"]["passes"], true, "{json}");
    assert_eq!(json["live_check"]["cause"], "ok");
    assert!(json["live_check"]["source"].as_str().unwrap().contains("ml.env"), "{json}");
}

#[test]
fn a_live_check_that_still_fails_is_a_problem_and_the_change_is_reported() {
    let fake = server();
    // The .env's key belongs to a user of another organization, still with legacy off.
    fake.add_user(2, "bot@acme.test", 2);
    fake.set_org(2, true, false);
    let other_key = "fedcba9876543210fedcba9876543210fedcba98";
    fake.add_legacy(other_key, 2);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("bot.env");
    std::fs::write(&env, format!("LABEL_STUDIO_API_KEY={other_key}\n")).unwrap();
    let run = with_login(
        &fake,
        &dir.path().join("state"),
        &["enable-legacy", "--via-api", "--env-file", &env.display().to_string(), "--yes"],
    )
    .run();
    run.expect_code(1);
    assert!(run.stdout.contains("Changed organization 1"), "{}", run.stdout);
    assert!(run.stdout.contains("Live check FAILED"), "{}", run.stdout);
    assert!(run.stdout.contains("legacy_disabled"), "{}", run.stdout);
    assert!(org(&fake, 1).legacy_enabled && !org(&fake, 2).legacy_enabled);
}

#[test]
fn failures_are_named_exit_non_zero_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("state");
    let check = |fake: &FakeLs, run: crate::harness::Run, code: i32, says: &str| {
        run.expect_code(code);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        assert_eq!(posts(fake), 0, "{says}: no change was sent");
        assert!(!org(fake, 1).legacy_enabled, "{says}");
        assert!(files(&backups).is_empty(), "{says}: no backup left");
    };

    let fake = server();
    let wrong = lsauth([
        "enable-legacy",
        "--via-api",
        "--url",
        &fake.url,
        "--login",
        "admin@acme.test",
        "--password-stdin",
        "--yes",
    ])
    .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
    .stdin("not-the-password\n")
    .run();
    check(&fake, wrong, 1, "the email and password do not match");

    let key_refused = lsauth(["enable-legacy", "--via-api", "--url", &fake.url, "--token-stdin", "--yes"])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .stdin(KEY)
        .run();
    check(&fake, key_refused, 1, "Sign in with --login EMAIL instead");

    fake.with(|s| s.users.get_mut(&1).unwrap().org_admin = false);
    check(&fake, with_login(&fake, &backups, &["enable-legacy", "--via-api", "--yes"]).run(), 1, "(403:");
    fake.with(|s| s.users.get_mut(&1).unwrap().org_admin = true);

    fake.with(|s| s.no_settings_endpoint = true);
    let old = with_login(&fake, &backups, &["enable-legacy", "--via-api", "--yes"]).run();
    check(&fake, old, 1, "has no token settings endpoint");
    fake.with(|s| s.no_settings_endpoint = false);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let down = lsauth([
        "enable-legacy",
        "--via-api",
        "--url",
        &url,
        "--login",
        "admin@acme.test",
        "--password-stdin",
        "--yes",
    ])
    .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
    .stdin(format!("{PASSWORD}\n"))
    .run();
    check(&fake, down, 3, "logging in");

    // No terminal and no --yes: refused before anything is written.
    let unconfirmed = with_login(&fake, &backups, &["enable-legacy", "--via-api"]).run();
    check(&fake, unconfirmed, 1, "add --yes");
}

#[test]
fn a_lost_answer_is_read_again_and_told() {
    let fake = server();
    fake.with(|s| s.lose_settings_answer = true);
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("state");
    let run = with_login(&fake, &backups, &["enable-legacy", "--via-api", "--yes", "--json"]).run();
    run.expect_code(0);
    let json = run.json();
    assert!(json["warnings"][0].as_str().unwrap().contains("the change is applied"), "{json}");
    assert!(org(&fake, 1).legacy_enabled);
    assert_eq!(files(&backups).len(), 1, "the backup of an applied change stays");
}

#[test]
fn a_rollback_refuses_a_conflict_and_another_active_organization() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("state");
    with_login(&fake, &backups, &["enable-legacy", "--via-api", "--yes"]).run().expect_code(0);
    fake.set_org(1, false, true); // someone turned PATs off since

    let refused = with_login(&fake, &backups, &["rollback", "--latest", "--yes"]).run();
    refused.expect_code(1);
    assert!(refused.stderr.contains("changed since backup"), "{}", refused.stderr);
    assert!(refused.stdout.contains("CONFLICT"), "{}", refused.stdout);
    assert!(org(&fake, 1).legacy_enabled, "nothing restored");

    fake.with(|s| s.users.get_mut(&1).unwrap().active_org = Some(2));
    fake.set_org(2, true, true);
    let elsewhere = with_login(&fake, &backups, &["rollback", "--latest", "--yes"]).run();
    elsewhere.expect_code(1);
    assert!(elsewhere.stderr.contains("the active organization of admin@acme.test"), "{}", elsewhere.stderr);
    assert!(org(&fake, 2).legacy_enabled && org(&fake, 1).legacy_enabled, "nothing restored anywhere");

    fake.with(|s| s.users.get_mut(&1).unwrap().active_org = Some(1));
    let forced = with_login(&fake, &backups, &["rollback", "--latest", "--yes", "--force"]).run();
    forced.expect_code(0);
    let now = org(&fake, 1);
    assert!(now.api_tokens_enabled && !now.legacy_enabled, "--force restores the recorded settings");
}

#[test]
fn a_rollback_refuses_a_backup_of_another_kind_or_url_and_an_empty_list_restoring_nothing() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("state");

    // Nothing made through this URL yet: --latest has nothing to restore.
    let none = with_login(&fake, &backups, &["rollback", "--latest", "--yes"]).run();
    none.expect_code(2);
    assert!(none.stderr.contains("no backup of a change through the API at"), "{}", none.stderr);

    // A database backup's id is not restored through the API.
    let db_id = "20261122T090503Z-enable-legacy-1a2b";
    let wrong_kind = with_login(&fake, &backups, &["rollback", db_id, "--yes"]).run();
    wrong_kind.expect_code(2);
    assert!(wrong_kind.stderr.contains("is a database backup"), "{}", wrong_kind.stderr);

    // A backup made through one Label Studio is not restored on another.
    let json = with_login(&fake, &backups, &["enable-legacy", "--via-api", "--yes", "--json"]).run().json();
    let id = json["backup"]["id"].as_str().unwrap().to_string();
    let other = server();
    let elsewhere = with_login(&other, &backups, &["rollback", &id, "--yes"]).run();
    elsewhere.expect_code(2);
    assert!(elsewhere.stderr.contains(&format!("was made through {}/", fake.url)), "{}", elsewhere.stderr);
    assert!(elsewhere.stderr.contains("nothing was restored"), "{}", elsewhere.stderr);
    assert_eq!(posts(&other), 0, "nothing written to the other Label Studio");
    assert!(org(&fake, 1).legacy_enabled, "the change stands where it was made");
    assert_eq!(files(&backups).len(), 1, "no backup made by a refused rollback");
}

#[test]
fn options_that_do_not_fit_are_usage_errors_with_the_way_that_does() {
    let fake = server();
    let url_only = lsauth(["enable-legacy", "--url", &fake.url]).run();
    url_only.expect_code(2);
    assert!(url_only.stderr.contains("add --via-api"), "{}", url_only.stderr);
    lsauth(["enable-legacy", "--via-api", "--all", "--url", &fake.url]).run().expect_code(2);
    let nothing = lsauth(["enable-pat", "--yes"]).run();
    nothing.expect_code(2);
    assert!(nothing.stderr.contains("--via-api"), "{}", nothing.stderr);
    // No database here; LABEL_STUDIO_URL is known: the hint names it.
    let no_db = lsauth(["enable-legacy", "--all", "--yes"]).env("LABEL_STUDIO_URL", &fake.url).run();
    no_db.expect_code(2);
    assert!(
        no_db.stderr.contains(&format!("lsauth enable-legacy --via-api --url {}/ --login EMAIL", fake.url)),
        "{}",
        no_db.stderr
    );
    let no_one = lsauth(["enable-legacy", "--via-api", "--url", &fake.url, "--yes"]).run();
    no_one.expect_code(2);
    assert!(no_one.stderr.contains("needs someone to sign in"), "{}", no_one.stderr);
    assert_eq!(posts(&fake), 0);
}

fn check(json: &serde_json::Value, id: &str) -> serde_json::Value {
    json["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap_or_else(|| panic!("{id}: {json}"))
}

#[test]
fn doctor_without_a_database_reads_the_settings_through_the_api_and_names_the_api_fix() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("ml.env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={KEY}\n", fake.url)).unwrap();
    let env_arg = env.display().to_string();
    let fix_via_api = format!("lsauth enable-legacy --via-api --url {}/ --login", fake.url);

    let alone = lsauth(["doctor", "--env-file", &env_arg, "--json"]).run();
    alone.expect_code(1);
    let json = alone.json();
    assert!(check(&json, "token.live")["fix"].as_str().unwrap().starts_with(&fix_via_api), "{json}");
    assert_eq!(check(&json, "api.jwt_settings")["status"], "skip", "the refused key cannot read them");

    let signed_in =
        lsauth(["doctor", "--env-file", &env_arg, "--json", "--login", "admin@acme.test", "--password-stdin"])
            .stdin(format!("{PASSWORD}\n"))
            .run();
    signed_in.expect_code(1);
    let settings = check(&signed_in.json(), "api.jwt_settings");
    assert_eq!(settings["status"], "fail", "{settings}");
    assert!(settings["summary"].as_str().unwrap().contains("legacy tokens off"), "{settings}");
    assert_eq!(settings["fix"], format!("{fix_via_api} admin@acme.test"));

    // The fix it names works; then the key itself reads the settings.
    with_login(&fake, &dir.path().join("state"), &["enable-legacy", "--via-api", "--yes"]).run().expect_code(0);
    let fixed = lsauth(["doctor", "--env-file", &env_arg, "--json"]).run();
    let settings = check(&fixed.json(), "api.jwt_settings");
    assert_eq!(settings["status"], "pass", "{settings}");
    assert!(settings["summary"].as_str().unwrap().contains("signed in with a legacy token"), "{settings}");
    assert_eq!(check(&fixed.json(), "token.live")["status"], "pass");
}
