//! Safety under the conditions of a live server: a person at a terminal, Label Studio
//! holding locks, and the process killed in the middle of a change.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::harness::{lsauth, pg_cluster, Fixture, PgFixture, SqliteFixture};
use crate::on_both_backends;

/// Run lsauth on a pseudo-terminal (util-linux `script`), typing `keys`.
fn on_terminal(args: &[String], keys: &str) -> (i32, String) {
    let exe = env!("CARGO_BIN_EXE_lsauth");
    let line = std::iter::once(exe.to_string()).chain(args.iter().cloned()).collect::<Vec<_>>().join(" ");
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs lsauth on a terminal");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(keys.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn a_person_at_a_terminal_is_asked() {
    let fx = SqliteFixture::new();
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> =
        ["--db", &fx.db_arg(), "enable-legacy", "--all", "--backup-dir", &dir.path().display().to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let before = fx.settings_full();
    let (code, screen) = on_terminal(&args, "n");
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("Apply enable-legacy to 2 organizations?"), "{screen}");
    assert_eq!(fx.settings_full(), before);
    // Ctrl-C at the prompt: said, exit 130, nothing changed.
    let (code, screen) = crate::harness::on_terminal_at_prompt(&args, &[], "organizations?", "\x03");
    assert_eq!(code, 130, "{screen}");
    assert!(screen.contains("Cancelled; nothing was changed."), "{screen}");
    assert_eq!(fx.settings_full(), before);
    let (code, screen) = on_terminal(&args, "y");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("Changed 2 organizations"), "{screen}");
    assert_ne!(fx.settings_full(), before);
}

// ---------------------------------------------------------------- locks

fn enable_all(fx: &dyn Fixture, backups: &Path, lock_timeout: &str) -> crate::harness::Run {
    lsauth(["--db", &fx.db_arg(), "enable-legacy", "--all", "--yes", "--lock-timeout", lock_timeout])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .run()
}

/// Hold a write lock the way Label Studio does while saving, for `hold`.
fn hold_lock(fx_kind: &str, db: String, hold: Duration) -> (mpsc::Receiver<()>, std::thread::JoinHandle<()>) {
    let (locked_tx, locked_rx) = mpsc::channel();
    let kind = fx_kind.to_string();
    let handle = std::thread::spawn(move || {
        if kind == "sqlite" {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE; UPDATE organization SET title = title WHERE id = 1;").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(hold);
            conn.execute_batch("COMMIT").unwrap();
        } else {
            let mut client = ::postgres::Client::connect(&db, ::postgres::NoTls).unwrap();
            let mut tx = client.transaction().unwrap();
            tx.batch_execute(
                "UPDATE jwt_auth_jwtsettings SET api_token_ttl_days = api_token_ttl_days WHERE organization_id = 1",
            )
            .unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(hold);
            tx.commit().unwrap();
        }
    });
    (locked_rx, handle)
}

fn holder_url(fx: &dyn Fixture) -> String {
    fx.db_arg()
}

fn a_short_lock_is_waited_for(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let (locked, holder) = hold_lock(fx.kind(), holder_url(fx), Duration::from_secs(2));
    locked.recv().unwrap();
    let run = enable_all(fx, dir.path(), "30");
    holder.join().unwrap();
    run.expect_code(0);
    assert_eq!(fx.settings_rows().iter().filter(|r| r.2).count(), 3);
}

fn a_lock_held_past_the_timeout_changes_nothing(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let before = fx.settings_full();
    let (locked, holder) = hold_lock(fx.kind(), holder_url(fx), Duration::from_secs(4));
    locked.recv().unwrap();
    let run = enable_all(fx, &dir.path().join("b"), "1");
    holder.join().unwrap();
    run.expect_code(3);
    assert!(run.stderr.contains("locked by another writer"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "one clear line: {}", run.stderr);
    assert_eq!(fx.settings_full(), before);
    let leftovers = std::fs::read_dir(dir.path().join("b")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "no backup for a change that did not happen");
}

// ---------------------------------------------------------------- SIGKILL

const MANY: i64 = 5_000;

/// All of `before`, or all of the change: every org has a row with legacy on.
fn fully_changed(rows: &[Vec<Option<String>>]) -> bool {
    rows.len() == MANY as usize && rows.iter().all(|r| r[2].as_deref() == Some("1"))
}

/// A backup in `dir` that verifies and whose rows' `after` match the database now.
fn verified_backup_matches(dir: &Path, rows: &[Vec<Option<String>>], operation: &str) -> bool {
    let by_org: std::collections::HashMap<&str, &Vec<Option<String>>> =
        rows.iter().map(|r| (r[0].as_deref().unwrap(), r)).collect();
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.filter_map(|e| e.ok()).any(|e| {
        let Ok(b) = lsauth::backup::read(&e.path()) else { return false };
        b.body.header.operation == operation
            && b.body.rows.iter().all(|change| {
                let now = by_org.get(change.organization_id.to_string().as_str());
                match (&change.after, now) {
                    (None, None) => true,
                    (Some(after), Some(r)) => {
                        r[2].as_deref() == Some(if after.legacy_api_tokens_enabled { "1" } else { "0" })
                            && r[5].as_deref() == Some(&*after.updated_at)
                    }
                    _ => false,
                }
            })
    })
}

/// Kill `args` after `delay`; returns whether it finished on its own first.
fn run_and_kill(fx: &dyn Fixture, backups: &Path, args: &[&str], delay: Duration) -> bool {
    let mut all = vec!["--db".to_string(), fx.db_arg()];
    all.extend(args.iter().map(|s| s.to_string()));
    let mut cmd = lsauth(all).env("LSAUTH_BACKUP_DIR", backups.display().to_string()).command();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(delay);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    finished
}

fn a_killed_change_is_all_or_nothing_and_undoable(fx: &dyn Fixture) {
    fx.seed_many(MANY);
    let before = fx.settings_full();
    let dir = tempfile::tempdir().unwrap();

    // How long an uninterrupted change takes here, to spread the kills over it.
    let started = Instant::now();
    enable_all(fx, &dir.path().join("timing"), "30").expect_code(0);
    let full = started.elapsed();
    fx.reset_many(MANY);

    let mut outcomes = (0, 0);
    for step in 0..=12u32 {
        let backups = dir.path().join(format!("kill-{step}"));
        run_and_kill(fx, &backups, &["enable-legacy", "--all", "--yes"], full * step / 10);
        let now = fx.settings_full();
        if now == before {
            outcomes.0 += 1;
        } else {
            assert!(fully_changed(&now), "step {step}: the database is neither before nor after");
            assert!(
                verified_backup_matches(&backups, &now, "enable-legacy"),
                "step {step}: changed, but no verifying backup undoes it"
            );
            outcomes.1 += 1;
            fx.reset_many(MANY);
        }
    }
    eprintln!("{}: kills left the database before {} times, after {} times", fx.kind(), outcomes.0, outcomes.1);
    assert!(outcomes.0 >= 1, "an immediate kill leaves the database as it was");

    // The same for a rollback killed mid-way.
    let backups = dir.path().join("rollback");
    enable_all(fx, &backups, "30").expect_code(0);
    let changed = fx.settings_full();
    let started = Instant::now();
    let restore = lsauth(["--db", &fx.db_arg(), "rollback", "--latest", "--yes", "--dry-run"])
        .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
        .run();
    restore.expect_code(0);
    let full = started.elapsed() * 2;
    for step in 0..=10u32 {
        run_and_kill(fx, &backups, &["rollback", "--latest", "--yes"], full * step / 10);
        let now = fx.settings_full();
        if now == changed {
            continue;
        }
        assert_eq!(now, before, "rollback step {step}: neither restored nor untouched");
        assert!(verified_backup_matches(&backups, &now, "rollback"), "rollback step {step}: no backup of the rollback");
        // Undo the rollback with its own backup, to try again from "changed".
        lsauth(["--db", &fx.db_arg(), "rollback", "--latest", "--yes"])
            .env("LSAUTH_BACKUP_DIR", backups.display().to_string())
            .run()
            .expect_code(0);
        assert_eq!(fx.settings_full(), changed);
    }
}

on_both_backends!(
    a_short_lock_is_waited_for,
    a_lock_held_past_the_timeout_changes_nothing,
    a_killed_change_is_all_or_nothing_and_undoable,
);

#[test]
fn postgres_cluster_is_real() {
    // The PostgreSQL half must really run: this fails, not skips, without a server.
    let fx = PgFixture::new();
    let version: String = pg_cluster().client(&fx.name).query_one("SHOW server_version", &[]).unwrap().get(0);
    assert!(!version.is_empty());
}

/// With --json a script reads the output: even on a terminal, a change needs --yes.
#[test]
fn json_on_a_terminal_needs_yes() {
    let fx = SqliteFixture::new();
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> =
        ["--db", &fx.db_arg(), "--json", "enable-legacy", "--all", "--backup-dir", &dir.path().display().to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let before = fx.settings_full();
    let (code, out) = on_terminal(&args, "y\n");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("--json needs --yes"), "{out}");
    assert_eq!(fx.settings_full(), before, "nothing changed");
}

/// The connection is lost while COMMIT is under way: the backup is kept (marked
/// unconfirmed), the rows are read again on a new connection, and the user is told which
/// state the database is in.
#[test]
fn a_commit_whose_answer_is_lost_is_reported_with_the_state_read_again() {
    let fx = PgFixture::new();
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let before = fx.settings_full();
    let run = lsauth(["--db", &fx.db_arg(), "enable-legacy", "--all", "--yes"])
        .env("LSAUTH_BACKUP_DIR", dir.path().display().to_string())
        .env("LSAUTH_TEST_LOSE_CONNECTION_AT_COMMIT", "1")
        .run();
    run.expect_code(3);
    assert!(run.stderr.contains("was lost during COMMIT"), "{}", run.stderr);
    assert!(run.stderr.contains("NOT applied: nothing was changed"), "{}", run.stderr);
    assert_eq!(fx.settings_full(), before, "the server rolled the transaction back");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().any(|n| n.ends_with("-enable-legacy.json")), "backup kept: {names:?}");
    assert!(names.iter().any(|n| n.ends_with(".json.unconfirmed")), "marked unconfirmed: {names:?}");
    // The kept backup restores nothing (the rows are as it says they were before).
    let run = lsauth(["--db", &fx.db_arg(), "rollback", "--latest", "--yes"])
        .env("LSAUTH_BACKUP_DIR", dir.path().display().to_string())
        .run();
    run.expect_code(0);
    assert_eq!(fx.settings_full(), before);
}
