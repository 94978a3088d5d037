//! `lsauth doctor` scenarios on both backends, with the fake Label Studio for live checks.

use std::path::Path;

use crate::fake_ls::{pat, FakeLs};
use crate::harness::{lsauth, Fixture, FixtureExt, Lsauth, Run};
use crate::on_both_backends;

const SECRET: &str = "doctor-test-secret-key";
const ADMIN_KEY: &str = "1111111111111111111111111111111111111111";

/// A database and a fake server that agree: admin (user 1) created org 1 and holds
/// ADMIN_KEY; every org has a row with both token kinds on; creators have keys.
fn healthy(fx: &dyn Fixture) -> FakeLs {
    fx.add_org(1, "Acme");
    fx.add_user(1, "admin@acme.test", Some(1));
    fx.set_creator(1, 1);
    fx.add_member(1, 1, false);
    fx.add_legacy_token(1, ADMIN_KEY);
    fx.set_settings(1, true, true, 73000);
    FakeLs::with_admin(SECRET, ADMIN_KEY, true)
}

fn env_file(dir: &Path, url: &str, token: &str) -> String {
    let path = dir.join(".env");
    std::fs::write(&path, format!("LABEL_STUDIO_URL={url}\nLABEL_STUDIO_API_KEY={token}\n")).unwrap();
    path.display().to_string()
}

fn doctor(fx: &dyn Fixture, args: &[&str]) -> Lsauth {
    let mut all = vec!["--db".to_string(), fx.db_arg(), "doctor".to_string(), "--json".to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    lsauth(all)
}

/// A printed fix, pasted in another directory (with the PostgreSQL password where libpq
/// finds it, as `--db` is printed without it) and `extra` appended.
fn paste_fix(line: &str, extra: &str) -> Run {
    let elsewhere = tempfile::tempdir().unwrap();
    crate::harness::pasted(line, extra, elsewhere.path()).env("PGPASSWORD", crate::harness::PG_PASSWORD).run()
}

/// The line after `label` in human output (`Undo:   lsauth rollback ...`).
fn printed_line(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
        .trim()
        .to_string()
}

fn status(run: &Run, id: &str) -> String {
    let json = run.json();
    let check = json["checks"].as_array().unwrap().iter().find(|c| c["id"] == id);
    check.map(|c| c["status"].as_str().unwrap().to_string()).unwrap_or_else(|| panic!("no check {id} in {json}"))
}

fn check(run: &Run, id: &str) -> serde_json::Value {
    run.json()["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap()
}

fn everything_healthy_exits_0(fx: &dyn Fixture) {
    let fake = healthy(fx);
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, ADMIN_KEY);
    let run = doctor(fx, &["--env-file", &env])
        .env("SECRET_KEY", SECRET)
        .env("LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN", "true")
        .run();
    run.expect_code(0);
    let counts = &run.json()["counts"];
    assert_eq!(counts["fail"], 0, "{}", run.stdout);
    for id in [
        "database.connection",
        "orgs.legacy_disabled",
        "orgs.pat_disabled",
        "token.format",
        "token.live",
        "api.reachable",
    ] {
        assert_eq!(status(&run, id), "pass", "{id}: {}", run.stdout);
    }
    assert!(!run.all_output().contains(ADMIN_KEY));
    // The same, for people: the verdict first, then one line a section.
    let human = lsauth(["--db", &fx.db_arg(), "doctor", "--env-file", &env])
        .env("SECRET_KEY", SECRET)
        .env("LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN", "true")
        .run();
    human.expect_code(0);
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert!(lines[0].starts_with("PASS no problems found ("), "{}", human.stdout);
    for section in ["Configuration", "Database", "Organizations", "Token", "API"] {
        assert!(lines.iter().any(|l| l.starts_with(&format!("PASS {section} ("))), "{section}: {}", human.stdout);
    }
    assert!(lines.len() <= 8, "an all-green run is a few lines:\n{}", human.stdout);
    assert!(!human.stdout.contains(ADMIN_KEY));
    // A backend's .env beside a compose file is read in a container: localhost is wrong there.
    std::fs::write(dir.path().join("docker-compose.yml"), "services: {}\n").unwrap();
    let run = doctor(fx, &["--env-file", &env]).env("SECRET_KEY", SECRET).run();
    assert_eq!(status(&run, "api.transport"), "warn", "{}", run.stdout);
    // Without LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN where lsauth can see it: the legacy
    // tokens in use work today, and the next organization would reject them.
    let next = check(&run, "database.enable_legacy_env");
    assert_eq!(next["status"], "warn");
    assert!(next["summary"].as_str().unwrap().contains("organizations created from now on will reject them"), "{next}");
    assert!(next["fix"].as_str().unwrap().starts_with("set LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true"), "{next}");
}

fn fresh_install_classic_401(fx: &dyn Fixture) {
    let fake = healthy(fx);
    // What a fresh 1.22+ install does: legacy tokens off for its own organization.
    fx.exec("UPDATE jwt_auth_jwtsettings SET legacy_api_tokens_enabled = FALSE");
    fake.set_org(1, true, false);
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, ADMIN_KEY);
    let run = doctor(fx, &["--env-file", &env]).run();
    run.expect_code(1);
    assert_eq!(status(&run, "orgs.legacy_disabled"), "fail");
    assert_eq!(status(&run, "token.live"), "fail");
    assert!(check(&run, "token.live")["summary"].as_str().unwrap().starts_with("legacy_disabled"));
    let fix = check(&run, "orgs.legacy_disabled")["fix"].as_str().unwrap().to_string();
    assert!(fix.starts_with("lsauth --db ") && fix.ends_with(" enable-legacy --org 1"), "{fix}");
    assert!(!fix.contains(crate::harness::PG_PASSWORD), "{fix}");
    assert_eq!(check(&run, "token.database")["fix"].as_str().unwrap(), fix);
    // One cause, reported once: the token's failures are listed under it.
    for symptom in ["token.database", "token.live"] {
        assert_eq!(check(&run, symptom)["explained_by"], "orgs.legacy_disabled", "{symptom}");
    }
    assert_eq!(run.json()["causes"]["problems"], 1, "{}", run.stdout);

    // Pasting the printed fix, from another directory, turns it green.
    let backups = tempfile::tempdir().unwrap();
    let backup_dir = format!("--backup-dir {}", backups.path().display());
    let fixed = paste_fix(&fix, &format!("--yes {backup_dir}"));
    fixed.expect_code(0);
    fake.set_org(1, true, true);
    doctor(fx, &["--env-file", &env]).run().expect_code(0);
    // And its printed undo, pasted as it is, puts the row back: it carries --db and
    // --backup-dir.
    let undo = printed_line(&fixed.stdout, "Undo:");
    assert!(undo.contains(&backup_dir), "{undo}");
    paste_fix(&undo, "--yes").expect_code(0);
    fake.set_org(1, true, false);
    doctor(fx, &["--env-file", &env]).run().expect_code(1);
}

fn missing_settings_row(fx: &dyn Fixture) {
    let _fake = healthy(fx);
    fx.exec("DELETE FROM jwt_auth_jwtsettings WHERE organization_id = 1");
    let run = doctor(fx, &[]).run();
    run.expect_code(1);
    assert_eq!(status(&run, "orgs.missing_settings_row"), "warn");
    assert_eq!(status(&run, "orgs.legacy_disabled"), "fail");
    assert!(check(&run, "orgs.legacy_disabled")["detail"].as_str().unwrap().contains("no settings row"));
    assert_eq!(status(&run, "api.reachable"), "skip", "no URL configured: API checks are skipped");
}

fn pats_disabled(fx: &dyn Fixture) {
    let fake = healthy(fx);
    fx.exec("UPDATE jwt_auth_jwtsettings SET api_tokens_enabled = FALSE");
    fake.set_org(1, false, true);
    fx.add_outstanding_pat(1, 1, "jti-live", false);
    let token = pat(SECRET, 1, "jti-live");
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, &token);
    let run = doctor(fx, &["--env-file", &env]).env("SECRET_KEY", SECRET).run();
    run.expect_code(1);
    assert_eq!(status(&run, "orgs.pat_disabled"), "fail", "an issued PAT cannot work");
    assert_eq!(status(&run, "token.signature"), "pass");
    assert!(check(&run, "token.live")["summary"].as_str().unwrap().starts_with("api_tokens_disabled"));
    let fix = check(&run, "orgs.pat_disabled")["fix"].as_str().unwrap().to_string();
    assert!(fix.starts_with("lsauth --db ") && fix.ends_with(" enable-pat --org 1"), "{fix}");
    assert_eq!(check(&run, "token.live")["explained_by"], "orgs.pat_disabled");
    let dry = paste_fix(&fix, "--dry-run");
    dry.expect_code(0);
    assert!(dry.stdout.contains("Dry run: 1 organization would change"), "{}", dry.stdout);
    assert!(!run.all_output().contains(&token));
    assert!(!run.all_output().contains(SECRET));
}

fn truncated_token_in_env_file(fx: &dyn Fixture) {
    let fake = healthy(fx);
    let full = pat(SECRET, 1, "jti-t");
    let truncated = full.rsplit_once('.').unwrap().0;
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, truncated);
    let run = doctor(fx, &["--env-file", &env]).run();
    run.expect_code(1);
    assert_eq!(status(&run, "token.format"), "fail");
    assert!(check(&run, "token.format")["detail"].as_str().unwrap().contains("truncated"));
}

fn token_from_another_instance(fx: &dyn Fixture) {
    let fake = healthy(fx);
    let foreign = pat("another-instance-secret", 1, "jti-elsewhere");
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, &foreign);
    let run = doctor(fx, &["--env-file", &env]).env("SECRET_KEY", SECRET).run();
    run.expect_code(1);
    assert_eq!(status(&run, "token.signature"), "fail");
    assert_eq!(status(&run, "token.database"), "fail", "its jti is unknown to this database");
    assert!(check(&run, "token.live")["summary"].as_str().unwrap().starts_with("pat_invalid_signature"));
}

fn project_ml_backend_path(fx: &dyn Fixture) {
    let fake = healthy(fx);
    fx.add_org(2, "Research");
    fx.add_user(2, "ml@research.test", Some(2));
    fx.set_creator(2, 2);
    fx.add_legacy_token(2, "2222222222222222222222222222222222222222");
    fx.add_project(7, 2, 2);
    // org 2 has no settings row: legacy tokens off on 1.22+.
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, ADMIN_KEY);
    let run = doctor(fx, &["--env-file", &env, "--project", "7"]).run();
    run.expect_code(1);
    assert_eq!(status(&run, "project.exists"), "pass");
    let ml = check(&run, "project.ml_backend_key");
    assert_eq!(ml["status"], "fail");
    assert!(ml["fix"].as_str().unwrap().ends_with(" enable-legacy --org 2"), "{ml}");
    assert_eq!(ml["explained_by"], "orgs.legacy_disabled", "one cause, said once: {ml}");
    let chain = ml["detail"].as_str().unwrap();
    assert!(
        chain.contains("project 7 → the project's creator ml@research.test (id 2) → legacy token 2222…2222"),
        "{chain}"
    );
    assert!(!run.all_output().contains("2222222222222222222222222222222222222222"));
    let run = doctor(fx, &["--project", "99"]).run();
    assert_eq!(status(&run, "project.exists"), "fail");
}

/// A data directory whose `.env` holds SECRET_KEY, as Label Studio writes it.
fn data_dir_with(key: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), format!("SECRET_KEY={}\n", crate::harness::secret(key))).unwrap();
    dir
}

/// The PAT verifies with the data directory's SECRET_KEY, yet the server refuses it: the
/// server runs with another key from its environment. Said so, not "another instance".
fn server_secret_key_differs_from_the_files(fx: &dyn Fixture) {
    let fake = healthy(fx);
    let server_key = crate::harness::secret("set-in-docker-compose-environment");
    fake.with(|s| s.secret = server_key.clone());
    fx.add_outstanding_pat(1, 1, "jti-live", false);
    let token = pat(SECRET, 1, "jti-live");
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, &token);
    let data = data_dir_with(SECRET);
    let run = doctor(fx, &["--env-file", &env, "--ls-data-dir", &data.path().display().to_string()]).run();
    run.expect_code(1);
    assert_eq!(status(&run, "token.signature"), "pass");
    assert!(check(&run, "token.signature")["summary"].as_str().unwrap().contains("signed by the SECRET_KEY from "));
    let live = check(&run, "token.live");
    assert!(live["summary"].as_str().unwrap().contains("the server runs with another SECRET_KEY"), "{live}");
    assert!(live["fix"].as_str().unwrap().starts_with("give the server the SECRET_KEY from "), "{live}");
}

/// This database issued the PAT (its jti is outstanding) and SECRET_KEY changed since:
/// both ways out are named, and the printed fix, pasted, gives the integration a PAT that
/// works, the dead one revoked.
fn a_pat_issued_here_before_secret_key_changed(fx: &dyn Fixture) {
    const PASSWORD: &str = "doctor-Adm1n-password";
    let fake = healthy(fx);
    fake.with(|s| s.users.get_mut(&1).unwrap().password = crate::harness::secret(PASSWORD));
    fx.add_outstanding_pat(1, 1, "jti-before", false);
    fake.with(|s| s.issued.push((1, "jti-before".into())));
    let token = pat("the-key-before-the-reinstall", 1, "jti-before");
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, &token);
    let data = data_dir_with(SECRET);
    let data_arg = data.path().display().to_string();
    let run = doctor(fx, &["--env-file", &env, "--ls-data-dir", &data_arg]).run();
    run.expect_code(1);
    let signature = check(&run, "token.signature");
    assert!(signature["summary"].as_str().unwrap().starts_with("this instance issued the PAT"), "{signature}");
    assert!(signature["detail"].as_str().unwrap().contains("revives this PAT and every other one"), "{signature}");
    let fix = signature["fix"].as_str().unwrap().to_string();
    assert!(fix.ends_with(&format!("migrate-env --env-file {env} --login admin@acme.test --revoke-existing")), "{fix}");
    assert_eq!(check(&run, "token.live")["explained_by"], "token.signature");

    let elsewhere = tempfile::tempdir().unwrap();
    let pasted = crate::harness::pasted(&fix, "--password-stdin --yes", elsewhere.path())
        .env("PGPASSWORD", crate::harness::PG_PASSWORD)
        .env("LSAUTH_BACKUP_DIR", elsewhere.path().join("backups").display().to_string())
        .stdin(format!("{PASSWORD}\n"))
        .run();
    pasted.expect_code(0);
    lsauth(["token", "test", "--env-file", &env]).run().expect_code(0);
}

/// doctor --project on the field report's ML backend: Label Studio's stored backend state
/// and error, ML_BLOCK_LOCAL_IP for a backend on a private address, and task URLs on
/// another host than the backend's LABEL_STUDIO_URL.
fn project_ml_backends_and_task_urls(fx: &dyn Fixture) {
    let fake = healthy(fx);
    fx.add_project(7, 1, 1);
    fx.add_ml_backend(1, 7, "http://ml-backend:9090", "ER", Some("URL resolves to a reserved network address"));
    let port = fake.url.rsplit(':').next().unwrap().to_string();
    fx.add_task(1, 7, &format!(r#"{{"image": "http://127.0.0.1:{port}/data/upload/7/a.png"}}"#));
    fx.add_task(2, 7, r#"{"image": "/data/upload/7/b.png"}"#);
    let dir = tempfile::tempdir().unwrap();
    // The backend's .env names Label Studio by another name than the tasks do.
    let url = fake.url.replace("127.0.0.1", "localhost");
    let env = env_file(dir.path(), &url, ADMIN_KEY);
    let run = doctor(fx, &["--env-file", &env, "--project", "7"]).run();
    let backends = check(&run, "project.ml_backends");
    assert_eq!(backends["status"], "warn", "{backends}");
    assert!(
        backends["detail"].as_str().unwrap().contains(
            "ML backend 1 \"SAM\" at http://ml-backend:9090: error: URL resolves to a reserved network address"
        ),
        "{backends}"
    );
    assert!(backends["fix"].as_str().unwrap().starts_with("set ML_BLOCK_LOCAL_IP=false"), "{backends}");
    let urls = check(&run, "project.task_urls");
    assert_eq!(urls["status"], "warn", "{urls}");
    let summary = urls["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "1 of 1 file URLs in the first 2 tasks are on 127.0.0.1:{port}, not on localhost:{port}"
        )),
        "{summary}"
    );
    assert_eq!(urls["fix"], format!("set LABEL_STUDIO_URL in the backend's .env to http://127.0.0.1:{port} (the host the tasks use), or import the tasks with relative /data/... URLs"));
    // A host taken from task data is outside text: shown escaped, in the detail too.
    fx.add_task(3, 7, "{\"image\": \"http://evil\\u001b[2J:9/data/upload/7/c.png\"}");
    let run = doctor(fx, &["--env-file", &env, "--project", "7"]).run();
    let urls = check(&run, "project.task_urls");
    let detail = urls["detail"].as_str().unwrap();
    assert!(!detail.contains('\u{1b}') && detail.contains("evil\\x1b[2J:9"), "{urls}");
    fx.exec("DELETE FROM task WHERE id = 3");
    // A password in a task's URL is never shown (the harness fails any run that prints a
    // registered secret): the userinfo shows as ********@.
    crate::harness::secret("t4sk-pw");
    fx.add_task(4, 7, &format!(r#"{{"image": "http://ann:t4sk-pw@127.0.0.1:{port}/data/upload/7/d.png"}}"#));
    let run = doctor(fx, &["--env-file", &env, "--project", "7"]).run();
    let urls = check(&run, "project.task_urls");
    assert!(urls["detail"].as_str().unwrap().contains(&format!("********@127.0.0.1:{port}: 1 URL")), "{urls}");
    let human = lsauth(["--db", &fx.db_arg(), "doctor", "-v", "--env-file", &env, "--project", "7"]).run();
    assert!(human.stdout.contains("********@127.0.0.1"), "{}", human.stdout);
    fx.exec("DELETE FROM task WHERE id = 4");
    // The creator's key works: /setup is no problem, and no "will get 401" is said of it.
    let key = check(&run, "project.ml_backend_key");
    assert_eq!(key["status"], "pass", "{key}");
    // With the hosts matching, and the backend connected, both pass.
    fx.exec("UPDATE ml_mlbackend SET state = 'CO', error_message = NULL");
    let env = env_file(dir.path(), &fake.url, ADMIN_KEY);
    let run = doctor(fx, &["--env-file", &env, "--project", "7"]).run();
    assert_eq!(status(&run, "project.ml_backends"), "pass");
    assert_eq!(status(&run, "project.task_urls"), "pass");
}

fn strict_makes_warnings_fail(fx: &dyn Fixture) {
    let _fake = healthy(fx);
    fx.add_org(2, "Empty");
    fx.set_settings(2, false, true, 73000);
    let run = doctor(fx, &[]).run();
    run.expect_code(0);
    assert_eq!(status(&run, "orgs.pat_disabled"), "warn");
    doctor(fx, &["--strict"]).run().expect_code(1);
}

on_both_backends!(
    everything_healthy_exits_0,
    fresh_install_classic_401,
    missing_settings_row,
    pats_disabled,
    truncated_token_in_env_file,
    token_from_another_instance,
    project_ml_backend_path,
    strict_makes_warnings_fail,
    server_secret_key_differs_from_the_files,
    a_pat_issued_here_before_secret_key_changed,
    project_ml_backends_and_task_urls,
);

/// SECRET_KEY is read from the data directory the given SQLite database lives in, where
/// Label Studio keeps it, not from this user's default data directory.
#[test]
fn secret_key_is_read_beside_the_sqlite_database() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let dir = Path::new(&fx.db_arg()).parent().unwrap().to_path_buf();
    std::fs::write(dir.join(".env"), format!("SECRET_KEY={}\n", crate::harness::secret(SECRET))).unwrap();
    let run = lsauth(["--db", &fx.db_arg(), "doctor", "--json"]).run();
    assert_eq!(status(&run, "config.secret_key"), "pass", "{}", run.stdout);
    let summary = check(&run, "config.secret_key")["summary"].as_str().unwrap().to_string();
    assert!(summary.contains(&dir.join(".env").display().to_string()), "{summary}");
}

/// With only --login (no database, no token), legacy tokens off fails as on the database
/// path, and the fix pastes.
#[test]
fn api_only_judges_legacy_off_as_the_database_path_does() {
    const PASSWORD: &str = "doctor-api-only-password";
    let fake = FakeLs::start(SECRET);
    fake.add_user(1, "admin@acme.test", 1);
    fake.with(|s| s.users.get_mut(&1).unwrap().password = crate::harness::secret(PASSWORD));
    fake.set_org(1, true, false);
    let run = lsauth(["doctor", "--json", "--url", &fake.url, "--login", "admin@acme.test", "--password-stdin"])
        .stdin(format!("{PASSWORD}\n"))
        .run();
    run.expect_code(1);
    assert_eq!(status(&run, "api.jwt_settings"), "fail", "{}", run.stdout);
    let fix = check(&run, "api.jwt_settings")["fix"].as_str().unwrap().to_string();
    assert_eq!(fix, format!("lsauth enable-legacy --via-api --url {}/ --login admin@acme.test", fake.url));
    let elsewhere = tempfile::tempdir().unwrap();
    crate::harness::pasted(&fix, "--password-stdin --yes", elsewhere.path())
        .env("LSAUTH_BACKUP_DIR", elsewhere.path().join("backups").display().to_string())
        .stdin(format!("{PASSWORD}\n"))
        .run()
        .expect_code(0);
    assert!(fake.with(|s| s.orgs[&1].legacy_enabled), "the pasted fix turned legacy tokens on");
}

/// Nothing to check (no database, no URL, no token) is not a pass: exit 2, with what to give.
#[test]
fn nothing_to_check_is_bad_input() {
    let run = lsauth(["doctor"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("nothing to check") && run.stderr.contains("--db"), "{}", run.stderr);
    let json = lsauth(["doctor", "--json"]).run();
    json.expect_code(2);
    // A token alone is read, not checked: token inspect is named for that.
    let run = lsauth(["doctor"]).env("LABEL_STUDIO_API_KEY", ADMIN_KEY).run();
    run.expect_code(2);
    assert!(run.stderr.contains("lsauth token inspect reads the token offline"), "{}", run.stderr);
}

#[test]
fn api_only_without_a_database() {
    let fake = FakeLs::with_admin(SECRET, ADMIN_KEY, true);
    let dir = tempfile::tempdir().unwrap();
    let env = env_file(dir.path(), &fake.url, ADMIN_KEY);
    // A fresh HOME: no Label Studio data on this "host".
    let run = lsauth(["doctor", "--json", "--env-file", &env]).run();
    run.expect_code(0);
    assert_eq!(status(&run, "database.connection"), "skip");
    assert_eq!(status(&run, "token.live"), "pass");
}

#[test]
fn nothing_reachable_is_exit_3() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run = lsauth([
        "--db",
        &format!("postgres://ls:pw@127.0.0.1:{port}/ls?connect_timeout=2"),
        "doctor",
        "--url",
        &format!("http://127.0.0.1:{port}"),
        "--json",
    ])
    .run();
    run.expect_code(3);
    assert_eq!(status(&run, "database.connection"), "fail");
    assert_eq!(status(&run, "api.reachable"), "fail");
    assert!(!run.all_output().contains(":pw@"));
}

#[test]
fn bad_input_is_exit_2() {
    lsauth(["--db", "/no/such/file.sqlite3", "doctor"]).run().expect_code(2);
    lsauth(["--db", "mysql://x/y", "doctor"]).run().expect_code(2);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, "garbage line\n").unwrap();
    lsauth(["doctor", "--env-file", &env.display().to_string()]).run().expect_code(2);
}

#[test]
fn json_checks_have_stable_ids_and_fields() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let run = lsauth(["--db", &fx.db_arg(), "doctor", "--json"]).run();
    let json = run.json();
    for c in json["checks"].as_array().unwrap() {
        for key in ["id", "section", "status", "summary", "detail", "fix"] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        assert!(["pass", "warn", "fail", "skip"].contains(&c["status"].as_str().unwrap()));
    }
    let ids: Vec<&str> = json["checks"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    // Every id a run reports is one the README documents (a new check adds its row there).
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for id in &ids {
        assert!(readme.contains(&format!("`{id}`")), "check {id} is not in the README's table");
    }
    for id in ["config.database", "database.connection", "orgs.legacy_disabled", "api.reachable"] {
        assert!(ids.contains(&id), "{id} missing: {ids:?}");
    }
    let counts = &json["counts"];
    assert_eq!(
        counts["pass"].as_u64().unwrap()
            + counts["warn"].as_u64().unwrap()
            + counts["fail"].as_u64().unwrap()
            + counts["skip"].as_u64().unwrap(),
        ids.len() as u64
    );
}

#[test]
fn feature_flag_and_enable_legacy_env_are_reported() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let run = lsauth(["--db", &fx.db_arg(), "doctor", "--json"])
        .env("LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN", "true")
        .env("HEARTEX_fflag__feature_develop__prompts__dia_1829_jwt_token_auth", "false")
        .run();
    assert_eq!(status(&run, "database.enable_legacy_env"), "warn");
    assert!(check(&run, "database.enable_legacy_env")["summary"].as_str().unwrap().contains("does not fix existing"));
    assert_eq!(status(&run, "database.feature_flag"), "warn");
    // With the flag off Label Studio accepts legacy tokens whatever the settings.
    assert_eq!(status(&run, "orgs.legacy_disabled"), "pass");
}

#[test]
fn plain_letters_without_a_terminal_and_marks_with_color() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let plain = lsauth(["--db", &fx.db_arg(), "doctor"]).run();
    assert!(plain.stdout.starts_with("FAIL "), "{}", plain.stdout);
    assert!(plain.stdout.contains("fix: lsauth --db "), "{}", plain.stdout);
    assert!(!plain.stdout.contains('\x1b'), "no colour in a pipe");
    let color = lsauth(["--db", &fx.db_arg(), "doctor", "--color", "always"]).env("SECRET_KEY", SECRET).run();
    // Red marks for problems, dim ids, bold headers.
    assert!(color.stdout.starts_with("\x1b[31m✗\x1b[0m \x1b[1m"), "{:?}", color.stdout);
    assert!(color.stdout.contains("\x1b[2m[orgs.legacy_disabled]\x1b[0m"), "{:?}", color.stdout);
    assert!(color.stdout.contains("\x1b[32m✓\x1b[0m \x1b[1mConfiguration\x1b[0m"), "{:?}", color.stdout);
    let no_color = lsauth(["--db", &fx.db_arg(), "doctor", "--color", "auto"]).env("NO_COLOR", "1").run();
    assert!(!no_color.stdout.contains('✗'));
}

/// doctor knows the release answering the API and the database's migrations, flags a
/// mismatch, and explains PATs-off rows by the releases that created them.
#[test]
fn release_and_history_are_explained() {
    use crate::fake_ls::FakeLs;
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let fake = FakeLs::start("secret");
    let run = lsauth(["--db", &fx.db_arg(), "doctor", "--url", &fake.url, "--json"]).run();
    assert_eq!(status(&run, "api.release"), "pass");
    let pat_check =
        run.json()["checks"].as_array().unwrap().iter().find(|c| c["id"] == "orgs.pat_disabled").cloned().unwrap();
    assert!(pat_check["detail"].as_str().unwrap().contains("1.17-1.21's defaults"), "{pat_check}");
    // A database of 1.21 (jwt_auth 0001 only) behind a server answering 1.23.2.
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth' AND name LIKE '0002%'");
    let run = lsauth(["--db", &fx.db_arg(), "doctor", "--url", &fake.url, "--json"]).run();
    assert_eq!(status(&run, "api.release"), "warn");
}
