//! Never worse off (#36): every local failure is found before the server changes; a
//! signal or a disk that fills while a PAT is in flight leaves a key that works, written
//! or saved, and the output says where. The disks are tmpfs and bind mounts in a mount
//! namespace of the test's own; the fake Label Studio holds the mint's answer while the
//! test signals lsauth or fills its disk.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::fake_ls::FakeLs;
use crate::harness::{lsauth, Fixture, SqliteFixture};

const SECRET: &str = "worse-off-secret";
const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

/// User 1 in organization 1 (PATs and legacy tokens on) with KEY, and a live PAT of theirs
/// ("existing"): a mint is a 409 until it is revoked.
fn server_with_existing_pat() -> FakeLs {
    let fake = FakeLs::with_admin(SECRET, KEY, true);
    fake.with(|s| s.issued.push((1, "existing".into())));
    fake
}

/// Just under one 4 KiB block, so that the rewrite (a PAT is longer than the key, and the
/// old line stays as a comment) needs a second one: on a full disk no write can take it.
fn env_text(fake: &FakeLs) -> String {
    let notes = "# notes about this deployment, kept as they are\n".repeat(80);
    format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={KEY}\n{notes}EXPORT_DIR=/data\n", fake.url)
}

/// Nothing happened on the server: no PAT minted, the existing one not revoked.
#[track_caller]
fn server_untouched(fake: &FakeLs) {
    assert_eq!(fake.with(|s| s.issued.len()), 1, "no PAT was minted");
    assert!(fake.with(|s| s.blacklisted.is_empty()), "the existing PAT was not revoked");
}

/// `sh -c script` in a mount namespace of its own (tmpfs and bind mounts vanish with it).
fn in_namespace(script: &str, backups: &Path) -> Output {
    Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", backups.parent().unwrap())
        .env("LSAUTH_BACKUP_DIR", backups)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("unshare (util-linux) runs lsauth in a mount namespace of its own")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A work directory for a test in a mount namespace: `app/` (what the test mounts goes
/// there; the .env is `app/.env`), the .env's text in `source.env`, and the backup directory.
struct Scene {
    dir: tempfile::TempDir,
    app: PathBuf,
    env: PathBuf,
    source: PathBuf,
    backups: PathBuf,
}

fn scene(fake: &FakeLs) -> Scene {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    let source = dir.path().join("source.env");
    std::fs::write(&source, env_text(fake)).unwrap();
    Scene { env: app.join(".env"), backups: dir.path().join("backups"), app, source, dir }
}

fn migrate_cmd(env: &Path) -> String {
    format!(
        "'{}' migrate-env --env-file '{}' --yes --revoke-existing --json",
        env!("CARGO_BIN_EXE_lsauth"),
        env.display()
    )
}

/// A backup directory that takes no file (`/proc/self`): exit 2 before the server is asked
/// to change anything, the file as it was.
#[test]
fn a_backup_dir_that_takes_no_file_is_exit_2_before_any_revoke() {
    let fake = server_with_existing_pat();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, env_text(&fake)).unwrap();
    let run = lsauth(["migrate-env", "--env-file", &env.display().to_string(), "--yes", "--revoke-existing"])
        .env("LSAUTH_BACKUP_DIR", "/proc/self")
        .run();
    run.expect_code(2);
    assert!(run.stderr.contains("/proc/self takes no new files"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    server_untouched(&fake);
    assert_eq!(std::fs::read_to_string(&env).unwrap(), env_text(&fake));
}

/// The toggles refuse such a directory as bad input too (exit 2, not 1), before writing.
#[test]
fn a_toggle_with_a_backup_dir_that_takes_no_file_is_exit_2() {
    let fx = SqliteFixture::new();
    fx.add_org(1, "Acme");
    fx.set_settings(1, true, false, 30);
    let run = lsauth(["--db", &fx.db_arg(), "enable-legacy", "--all", "--yes", "--backup-dir", "/proc/self"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("takes no new files"), "{}", run.stderr);
    assert_eq!(fx.settings_rows(), vec![(1, true, false, 30)], "nothing was changed");
}

/// The .env's file system is full: there is no room for the new file beside it. Exit 2
/// with nothing minted or revoked.
#[test]
fn a_full_disk_is_exit_2_before_any_revoke() {
    let fake = server_with_existing_pat();
    let Scene { dir, app, env, source, backups } = scene(&fake);
    let script = format!(
        "mount -t tmpfs -o size=64k tmpfs '{app}' && cp '{src}' '{env}' && (head -c 1M /dev/zero > '{app}/fill' \
         2>/dev/null; true) && {cmd}; code=$?; cp '{env}' '{dir}/after.env'; exit $code",
        app = app.display(),
        src = source.display(),
        env = env.display(),
        dir = dir.path().display(),
        cmd = migrate_cmd(&env)
    );
    let out = in_namespace(&script, &backups);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("bytes free"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(json["changed"], false);
    assert!(json["error"].as_str().unwrap().contains("make room"), "{json}");
    server_untouched(&fake);
    assert_eq!(std::fs::read_to_string(dir.path().join("after.env")).unwrap(), env_text(&fake));
}

/// A writable .env bind-mounted into a read-only directory (a read-only container with
/// the file mounted in): nothing can go beside it, so exit 2 before the server changes.
#[test]
fn a_bind_mounted_env_in_a_read_only_directory_is_exit_2_before_any_revoke() {
    let fake = server_with_existing_pat();
    // Bound to a name: the directory lives as long as the test.
    let Scene { dir: _dir, app, env, source, backups } = scene(&fake);
    let script = format!(
        "mount -t tmpfs tmpfs '{app}' && touch '{env}' && mount --bind '{src}' '{env}' && mount -o remount,ro \
         '{app}' && {cmd}",
        app = app.display(),
        src = source.display(),
        env = env.display(),
        cmd = migrate_cmd(&env)
    );
    let out = in_namespace(&script, &backups);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(stderr.contains("takes no new files") && stderr.contains("goes beside it"), "{stderr}");
    server_untouched(&fake);
    assert_eq!(std::fs::read_to_string(&source).unwrap(), env_text(&fake));
}

/// The disk fills while the mint is on its way (after the 409 made lsauth revoke the
/// user's PAT): the bind-mounted file cannot take the new key. It is left byte for byte
/// as it was, the new PAT is saved (0600) in the backup directory and stays live, and the
/// output says so: the user still has a working key.
#[test]
fn a_disk_that_fills_during_the_mint_leaves_the_file_whole_and_the_new_pat_saved() {
    let fake = server_with_existing_pat();
    let dir = tempfile::tempdir().unwrap();
    let (ready, release) = (dir.path().join("minted"), dir.path().join("release"));
    fake.with(|s| s.hold_mint = Some((ready.clone(), release.clone())));
    let disk = dir.path().join("disk");
    let app = dir.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::create_dir_all(&disk).unwrap();
    let env = app.join(".env");
    std::fs::write(&env, "").unwrap();
    let source = dir.path().join("source.env");
    std::fs::write(&source, env_text(&fake)).unwrap();
    let backups = dir.path().join("backups");
    let script = format!(
        "mount -t tmpfs -o size=256k tmpfs '{disk}' && cp '{src}' '{disk}/.env' && mount --bind '{disk}/.env' \
         '{env}' || exit 9; (i=0; while [ ! -e '{ready}' ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done; \
         head -c 1M /dev/zero > '{disk}/fill' 2>/dev/null; touch '{release}') >/dev/null 2>&1 & {cmd}; code=$?; \
         cp '{disk}/.env' '{dir}/after.env'; exit $code",
        disk = disk.display(),
        src = source.display(),
        env = env.display(),
        ready = ready.display(),
        release = release.display(),
        dir = dir.path().display(),
        cmd = migrate_cmd(&env)
    );
    let out = in_namespace(&script, &backups);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("after.env")).unwrap(), env_text(&fake), "the file is whole");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(json["changed"], true);
    assert_eq!(json["file_written"], false);
    assert_eq!(json["in_place"], true);
    let actions: Vec<&str> =
        json["server_changes"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["existing_pat_revoked", "pat_created", "pat_saved"], "{json}");
    let saved = PathBuf::from(json["saved_pat_file"].as_str().unwrap());
    assert!(saved.starts_with(&backups), "{}", saved.display());
    assert_eq!(std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777, 0o600);
    let minted = std::fs::read_to_string(&saved).unwrap().lines().next().unwrap().to_string();
    crate::harness::secret(minted.clone());
    assert!(!stdout.contains(&minted) && !stderr.contains(&minted), "the saved PAT is not printed");
    assert!(json["summary"].as_str().unwrap().contains(&saved.display().to_string()), "{json}");
    // Live: not revoked again, and the printed way to put it in place works.
    assert!(!fake.with(|s| s.blacklisted.contains("minted-1-1")), "the new PAT stays live");
    assert!(fake.with(|s| s.blacklisted.contains("existing")));
    std::fs::write(&env, env_text(&fake)).unwrap();
    lsauth(["migrate-env", "--env-file", &env.display().to_string(), "--pat-stdin", "--yes"])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .stdin(std::fs::read(&saved).unwrap())
        .run()
        .expect_code(0);
    assert!(std::fs::read_to_string(&env).unwrap().contains(&minted));
}

/// lsauth with the fake holding the mint; `signal` is sent once the PAT is minted and
/// lsauth waits for the answer. Returns (exit code, stdout, stderr) and the workdir.
fn signalled_during_the_mint(signal: libc::c_int) -> (i32, String, String, tempfile::TempDir, FakeLs) {
    let fake = server_with_existing_pat();
    let dir = tempfile::tempdir().unwrap();
    let (ready, release) = (dir.path().join("minted"), dir.path().join("release"));
    fake.with(|s| s.hold_mint = Some((ready.clone(), release.clone())));
    let env = dir.path().join(".env");
    std::fs::write(&env, env_text(&fake)).unwrap();
    let mut cmd = lsauth(["migrate-env", "--env-file", &env.display().to_string(), "--yes", "--revoke-existing"])
        .env("LSAUTH_BACKUP_DIR", dir.path().join("backups").display().to_string())
        .command();
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        assert!(Instant::now() < until, "the mint never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to the child process this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(&release, "").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    (out.status.code().unwrap_or(-1), stdout, stderr, dir, fake)
}

/// SIGTERM (a `docker stop`, a CI job cancelled) after the old PAT was revoked and while
/// the new one is on its way: lsauth finishes writing it, says so, and then exits as
/// terminated (143). The same for SIGINT (130).
#[test]
fn a_signal_while_the_pat_is_in_flight_is_held_until_the_file_holds_it() {
    for (signal, code, name) in [(libc::SIGTERM, 143, "SIGTERM"), (libc::SIGINT, 130, "SIGINT")] {
        let (exit, stdout, stderr, dir, fake) = signalled_during_the_mint(signal);
        assert_eq!(exit, code, "{name}\n{stdout}\n{stderr}");
        assert!(stderr.contains("finishing the change in progress"), "{stderr}");
        assert!(stderr.contains(&format!("stopped by {name}, after finishing the change above")), "{stderr}");
        assert!(stdout.contains("now uses a Personal Access Token"), "the outcome is said: {stdout}");
        let written = std::fs::read_to_string(dir.path().join(".env")).unwrap();
        let minted =
            written.lines().find_map(|l| l.strip_prefix("LABEL_STUDIO_API_KEY=")).map(crate::harness::secret).unwrap();
        assert!(minted.starts_with("eyJ"), "the new PAT is in the file: {written}");
        assert!(!stdout.contains(&minted) && !stderr.contains(&minted));
        assert!(fake.with(|s| s.blacklisted.contains("existing")), "the old one was revoked");
        assert_eq!(fake.with(|s| s.blacklisted.len()), 1, "the new one is live");
    }
}

/// Ctrl-C at a hidden password prompt (echo off): the terminal is given back as it was,
/// so what the user types next shows; lsauth says nothing was changed and exits 130.
#[test]
fn ctrl_c_at_a_password_prompt_gives_the_terminal_back_with_echo_on() {
    let fake = server_with_existing_pat();
    let args: Vec<String> =
        ["doctor", "--url", &fake.url, "--login", "admin@acme.test"].iter().map(|s| s.to_string()).collect();
    let (_, screen) = crate::harness::on_terminal_at_prompt_then(
        &args,
        &[],
        "Password for",
        "\x03",
        "stty -a | tr ' ;' '\\n\\n' | grep -x -e echo -e -echo",
    );
    assert!(screen.contains("Cancelled; nothing was changed."), "{screen}");
    assert!(screen.contains("lsauth exited 130"), "{screen}");
    let echo: Vec<&str> = screen.lines().map(str::trim).filter(|l| *l == "echo" || *l == "-echo").collect();
    assert_eq!(echo, ["echo"], "echo is on again after lsauth:\n{screen}");
}

/// `--json` prints exactly one document on every exit: a failure before the command's own
/// document is `{"error", "exit_code"}`, the exit code the process ends with.
#[test]
fn json_prints_one_document_on_every_exit() {
    let fx = SqliteFixture::new();
    fx.add_org(1, "Acme");
    fx.set_settings(1, true, true, 30);
    let db = fx.db_arg();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["--db", "postgres://lsauth@127.0.0.1:1/none?connect_timeout=2", "orgs", "--json"], 3),
        (vec!["--db", &db, "upgrade-check", "--to", "9.9.9", "--json"], 2),
        (vec!["--db", "/nonexistent/label_studio.sqlite3", "orgs", "--json"], 2),
        (vec!["--db", &db, "disable-legacy", "--all", "--json"], 1),
        (vec!["orgs", "--json", "--no-such-flag"], 2),
        (vec!["--json"], 2),
        (vec!["--db", &db, "enable-pat", "--all", "--json", "--yes", "--backup-dir", "/proc/self"], 2),
    ];
    for (args, code) in cases {
        let run = lsauth(&args).run();
        run.expect_code(code);
        let doc = run.json();
        assert!(doc["error"].as_str().is_some_and(|e| !e.is_empty()), "{args:?}: {}", run.stdout);
        assert_eq!(doc["exit_code"], code, "{args:?}: {}", run.stdout);
        assert_eq!(serde_json::Deserializer::from_str(&run.stdout).into_iter::<serde_json::Value>().count(), 1);
    }
    let run = lsauth(["token", "inspect", "--json", KEY]).run();
    assert_eq!(run.stdout.matches("\"kind\"").count(), 1, "one kind key: {}", run.stdout);
    assert_eq!(fx.settings_rows(), vec![(1, true, true, 30)], "nothing was changed");
}

/// A boolean Label Studio never writes (text, in SQLite, which keeps what it is given) is
/// no prediction: exit 3 naming the table and column, not exit 1 with rusqlite's words.
#[test]
fn a_text_boolean_is_exit_3_naming_the_column() {
    let fx = SqliteFixture::new();
    fx.add_org(1, "Acme");
    fx.set_settings(1, true, true, 30);
    fx.exec("UPDATE jwt_auth_jwtsettings SET legacy_api_tokens_enabled = 'yes'");
    for args in [vec!["orgs"], vec!["upgrade-check", "--to", "1.23.2"], vec!["enable-pat", "--all", "--yes"]] {
        let run = lsauth([&["--db", &fx.db_arg()][..], &args].concat()).run();
        run.expect_code(3);
        assert!(run.stderr.contains("jwt_auth_jwtsettings.legacy_api_tokens_enabled holds text"), "{}", run.stderr);
    }
}

/// A column every release has, missing: exit 3 naming it, on both backends.
fn a_missing_column_is_exit_3_naming_it(fx: &dyn Fixture) {
    fx.add_org(1, "Acme");
    fx.set_settings(1, true, true, 30);
    fx.exec("ALTER TABLE jwt_auth_jwtsettings DROP COLUMN api_token_ttl_days");
    for args in [vec!["orgs", "--json"], vec!["upgrade-check", "--to", "1.23.2"]] {
        let run = lsauth([&["--db", &fx.db_arg()][..], &args].concat()).run();
        run.expect_code(3);
        assert!(run.stderr.contains("jwt_auth_jwtsettings.api_token_ttl_days is missing"), "{}", run.stderr);
    }
}

/// doctor with a database from before 1.17 and a server: the token is still tested.
#[test]
fn doctor_on_a_database_before_1_17_still_tests_the_token() {
    let fake = FakeLs::with_admin(SECRET, KEY, true);
    let fx = SqliteFixture::new();
    fx.exec("DROP TABLE jwt_auth_jwtsettings");
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={KEY}\n", fake.url)).unwrap();
    let run = lsauth(["--db", &fx.db_arg(), "doctor", "--json", "--env-file", &env.display().to_string()]).run();
    run.expect_code(0);
    let checks = run.json()["checks"].as_array().unwrap().clone();
    let status = |id: &str| checks.iter().find(|c| c["id"] == id).map(|c| c["status"].clone());
    assert_eq!(status("database.schema"), Some("pass".into()), "{}", run.stdout);
    assert_eq!(status("token.live"), Some("pass".into()), "{}", run.stdout);
    // Without a server there is nothing to check: exit 2, as before.
    lsauth(["--db", &fx.db_arg(), "doctor"]).run().expect_code(2);
}

/// A password in a URL, wherever it comes from, is never shown (the harness fails any run
/// that prints a registered secret): a scheme-less `u:pw@host:port` in a .env, a
/// `sqlite://u:pw@/path`.
#[test]
fn a_password_in_a_url_is_never_shown() {
    let password = crate::harness::secret("pw-in-url-5ecret");
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL=u:{password}@127.0.0.1:9\nLABEL_STUDIO_API_KEY={KEY}\n")).unwrap();
    let env = env.display().to_string();
    for args in [
        vec!["doctor", "--env-file", &env],
        vec!["doctor", "--env-file", &env, "--json"],
        vec!["token", "test", "--env-file", &env],
        vec!["token", "test", "--env-file", &env, "--json"],
    ] {
        let run = lsauth(&args).run();
        assert!(run.all_output().contains("127.0.0.1:9"), "{args:?}: {}", run.all_output());
    }
    for db in [format!("sqlite://u:{password}@/srv/ls.sqlite3"), format!("sqlite://u:{password}/x@y@/srv/ls.sqlite3")] {
        let run = lsauth(["--db", &db, "orgs", "--json"]).run();
        run.expect_code(2);
        assert!(run.json()["error"].as_str().unwrap().contains("takes no user or password"), "{}", run.stdout);
        assert!(!run.all_output().contains("x@y"), "{}", run.all_output());
    }
}

/// An ML backend's .env reached through a symlink (`deploy/.env -> ../backend/.env`) is
/// known by the model.py beside the real file: migrate-env keeps its key, as for the file
/// itself.
#[test]
fn an_ml_backend_env_behind_a_symlink_keeps_its_key() {
    let fake = server_with_existing_pat();
    let dir = tempfile::tempdir().unwrap();
    let backend = dir.path().join("backend");
    let deploy = dir.path().join("deploy");
    std::fs::create_dir_all(&backend).unwrap();
    std::fs::create_dir_all(&deploy).unwrap();
    std::fs::write(backend.join("model.py"), "class NewModel: pass\n").unwrap();
    std::fs::write(backend.join("_wsgi.py"), "").unwrap();
    std::fs::write(backend.join(".env"), env_text(&fake)).unwrap();
    std::os::unix::fs::symlink("../backend/.env", deploy.join(".env")).unwrap();
    let run = lsauth(["migrate-env", "--env-file", &deploy.join(".env").display().to_string(), "--yes"])
        .env("LSAUTH_BACKUP_DIR", dir.path().join("b").display().to_string())
        .run();
    run.expect_code(1);
    assert!(run.stderr.contains("belongs to an ML backend"), "{}", run.stderr);
    assert!(run.stderr.contains("model.py beside the file it links to"), "{}", run.stderr);
    server_untouched(&fake);
    assert_eq!(std::fs::read_to_string(backend.join(".env")).unwrap(), env_text(&fake));
}

/// A symlink planted at a backup's name in the backup directory is not followed: the
/// listing names it as skipped, and a rollback of it is refused.
#[test]
fn a_symlink_at_a_backups_name_is_not_followed() {
    let fx = SqliteFixture::new();
    fx.add_org(1, "Acme");
    fx.set_settings(1, true, false, 30);
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let b = backups.display().to_string();
    lsauth(["--db", &fx.db_arg(), "enable-legacy", "--all", "--yes", "--backup-dir", &b]).run().expect_code(0);
    let made: Vec<PathBuf> = std::fs::read_dir(&backups).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(made.len(), 1);
    let elsewhere = dir.path().join("elsewhere.json");
    std::fs::rename(&made[0], &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &made[0]).unwrap();
    let run = lsauth(["--db", &fx.db_arg(), "rollback", "--list", "--backup-dir", &b]).run();
    run.expect_code(0);
    assert!(run.stdout.contains("No backups"), "{}", run.stdout);
    assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
    let id = made[0].file_stem().unwrap().to_string_lossy().into_owned();
    let run = lsauth(["--db", &fx.db_arg(), "rollback", &id, "--yes", "--backup-dir", &b]).run();
    run.expect_code(2);
    assert_eq!(fx.settings_rows(), vec![(1, true, true, 30)], "nothing was restored");
}

/// A pin made on 1.21, undone after the upgrade to 1.23: restoring "no row" there turns
/// legacy tokens off. The plan says which organizations before asking (and --json names
/// them), as upgrade-check would; the dry run changes nothing.
fn undoing_a_pin_after_the_upgrade_names_the_legacy_tokens_it_rejects(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth' AND name LIKE '0002%'");
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().display().to_string();
    let run = lsauth(["--db", &fx.db_arg(), "pin", "--org", "2", "--yes", "--backup-dir", &b, "--json"]).run();
    run.expect_code(0);
    let id = run.json()["backup"]["id"].as_str().unwrap().to_string();
    // The upgrade: Label Studio 1.22+ records jwt_auth 0002.
    fx.exec(
        "INSERT INTO django_migrations (app, name, applied) VALUES ('jwt_auth', \
         '0002_alter_jwtsettings_api_tokens_enabled_and_more', '2026-01-01 00:00:00')",
    );
    let before = fx.settings_full();
    let run = lsauth(["--db", &fx.db_arg(), "rollback", &id, "--dry-run", "--backup-dir", &b]).run();
    run.expect_code(0);
    assert!(run.stderr.contains("this rollback turns legacy tokens off for 1 organization: 2"), "{}", run.stderr);
    assert!(run.stderr.contains("enable-legacy --org 2"), "{}", run.stderr);
    let run = lsauth(["--db", &fx.db_arg(), "rollback", &id, "--dry-run", "--json", "--backup-dir", &b]).run();
    assert_eq!(run.json()["legacy_rejected"], serde_json::json!([2]), "{}", run.stdout);
    assert_eq!(fx.settings_full(), before, "a dry run changes nothing");
    // Before the upgrade, undoing the pin rejects nothing: no warning.
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth' AND name LIKE '0002%'");
    let run = lsauth(["--db", &fx.db_arg(), "rollback", &id, "--dry-run", "--backup-dir", &b]).run();
    assert!(!run.stderr.contains("turns legacy tokens off"), "{}", run.stderr);
}

crate::on_both_backends!(
    a_missing_column_is_exit_3_naming_it,
    undoing_a_pin_after_the_upgrade_names_the_legacy_tokens_it_rejects
);

/// Undoing an `enable-legacy --all` of many organizations on 1.22+ names a few and counts
/// the rest: the warning stays a line (it was one `--org` per organization: a megabyte at
/// 100,000), and --json lists every id.
#[test]
fn a_rollback_turning_many_legacy_tokens_off_says_so_in_a_line() {
    let fx = SqliteFixture::new();
    fx.seed_many(300);
    let dir = tempfile::tempdir().unwrap();
    let b = dir.path().display().to_string();
    lsauth(["--db", &fx.db_arg(), "enable-legacy", "--all", "--yes", "--backup-dir", &b]).run().expect_code(0);
    let run = lsauth(["--db", &fx.db_arg(), "rollback", "--latest", "--dry-run", "--backup-dir", &b]).run();
    run.expect_code(0);
    let warning =
        run.stderr.lines().find(|l| l.contains("turns legacy tokens off")).unwrap_or_else(|| panic!("{}", run.stderr));
    assert!(warning.len() < 1000, "{} bytes: {warning}", warning.len());
    assert!(warning.contains(" more ") && warning.contains("legacy_rejected"), "{warning}");
    let json = lsauth(["--db", &fx.db_arg(), "rollback", "--latest", "--dry-run", "--json", "--backup-dir", &b]).run();
    let listed = json.json()["legacy_rejected"].as_array().unwrap().len();
    assert!(listed > 10, "every id is in --json: {listed}");
}
