//! `lsauth migrate-env` and `lsauth rollback --env-file` against the fake Label Studio:
//! every credential path, verification, lossless rewriting, backups, and the file left
//! untouched on every failure.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Instant;

use crate::fake_ls::{pat, FakeLs};
use crate::harness::{lsauth, running_as_root, Lsauth, Run};

const SECRET: &str = "migrate-test-secret";
const KEY: &str = "0123456789abcdef0123456789abcdef01234567";

/// User 1 (admin, org 1) with KEY; legacy tokens on unless the test turns them off.
fn server() -> FakeLs {
    let fake = FakeLs::with_admin(SECRET, KEY, true);
    fake.add_user(2, "other@acme.test", 1);
    fake
}

struct Workdir {
    dir: tempfile::TempDir,
    env: PathBuf,
    backups: PathBuf,
}

/// A realistic .env of a script that uses the SDK client: CRLF line ends, comments, export,
/// quotes, another secret, no final newline.
fn workdir(fake: &FakeLs) -> Workdir {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    let text = format!(
        "# export script for project 7\r\nexport LABEL_STUDIO_URL='{}'\r\nLABEL_STUDIO_API_KEY=\"{KEY}\"  # admin's key\r\n\r\nEXPORT_DIR=/data/exports\r\nAWS_SECRET=\"s3cr3t with spaces\"",
        fake.url
    );
    std::fs::write(&env, text).unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o644)).unwrap();
    crate::harness::secret("s3cr3t with spaces");
    let backups = dir.path().join("state");
    Workdir { dir, env, backups }
}

impl Workdir {
    fn cmd(&self, args: &[&str]) -> Lsauth {
        let mut all = vec!["migrate-env".to_string(), "--env-file".into(), self.env.display().to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        lsauth(all).env("LSAUTH_BACKUP_DIR", self.backups.display().to_string())
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.env).unwrap()
    }

    fn beside(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".env.backup."))
            .collect();
        v.sort();
        v
    }
}

#[track_caller]
fn untouched(w: &Workdir, before: &str, run: &Run) {
    assert_eq!(w.text(), before, "the file must be untouched\n{}", run.all_output());
    assert!(w.beside().is_empty(), "no backup for a change that did not happen");
}

#[track_caller]
fn no_secrets(run: &Run, secrets: &[&str]) {
    for s in secrets {
        assert!(!run.all_output().contains(s), "secret printed:\n{}", run.all_output());
    }
}

#[test]
fn mints_with_the_legacy_token_verifies_and_rewrites_losslessly() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes", "--json"]).run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["credential"], "minted_with_legacy_token");
    assert_eq!(json["verified"], true);
    assert_eq!(json["user"]["email"], "admin@acme.test");
    assert_eq!(fake.with(|s| s.issued.clone()), vec![(1, "minted-1-0".to_string())]);
    let after = w.text();
    // The PAT as the server minted it (its times are the server's second, not this one's).
    let minted = after
        .lines()
        .find_map(|l| l.strip_prefix("LABEL_STUDIO_API_KEY=\"").and_then(|v| v.split('"').next()))
        .map(crate::harness::secret)
        .unwrap_or_else(|| panic!("no PAT written: {after}"));
    assert!(minted.starts_with("eyJ") && minted.split('.').count() == 3, "{minted}");
    assert!(after.contains(&format!("LABEL_STUDIO_API_KEY=\"{minted}\"  # admin's key\r\n")), "{after}");
    assert!(after.contains(&format!(
        "# LABEL_STUDIO_API_KEY=\"{KEY}\"  # admin's key  # legacy token, replaced by a Personal Access Token on "
    )));
    // Every other line is byte for byte the same.
    let old_lines: Vec<&str> = before.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = after.split_inclusive('\n').collect();
    assert_eq!(new_lines.len(), old_lines.len() + 1);
    assert_eq!(old_lines[..2], new_lines[..2]);
    assert_eq!(old_lines[3..], new_lines[4..]);
    assert!(after.ends_with("AWS_SECRET=\"s3cr3t with spaces\""), "no final newline kept");
    // Backup beside it, original bytes, 0600; the file keeps its mode, with a warning.
    let copies = w.beside();
    assert_eq!(copies.len(), 1);
    assert_eq!(std::fs::read_to_string(&copies[0]).unwrap(), before);
    assert_eq!(std::fs::metadata(&copies[0]).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&w.env).unwrap().permissions().mode() & 0o777, 0o644);
    assert_eq!(json["mode"], "644");
    assert!(json["warnings"][0].as_str().unwrap().contains("readable by everyone"), "{json}");
    assert_eq!(json["result"], "migrated");
    assert_eq!(json["changed"], true);
    assert_eq!(json["server_changes"][0]["action"], "pat_created");
    no_secrets(&run, &[KEY, &minted, "s3cr3t"]);
    // The rewritten file works for real: lsauth token test reads it.
    lsauth(["token", "test", "--env-file", &w.env.display().to_string()]).run().expect_code(0);
}

#[test]
fn drop_legacy_changes_exactly_one_line() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let given = pat(SECRET, 1, "given");
    w.cmd(&["--yes", "--pat-stdin", "--drop-legacy"]).stdin(given.clone()).run().expect_code(0);
    let after = w.text();
    let changed: Vec<(&str, &str)> =
        before.split_inclusive('\n').zip(after.split_inclusive('\n')).filter(|(a, b)| a != b).collect();
    assert_eq!(changed.len(), 1, "{after}");
    assert_eq!(changed[0].1, format!("LABEL_STUDIO_API_KEY=\"{given}\"  # admin's key\r\n"));
    assert_eq!(before.split_inclusive('\n').count(), after.split_inclusive('\n').count());
}

#[test]
fn an_existing_pat_is_a_409_unless_revoked() {
    let fake = server();
    fake.with(|s| s.issued.push((1, "already".into())));
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes"]).run();
    run.expect_code(1);
    assert!(run.stderr.contains("409") && run.stderr.contains("--revoke-existing"), "{}", run.stderr);
    untouched(&w, &before, &run);
    let run = w.cmd(&["--yes", "--revoke-existing", "--json"]).run();
    run.expect_code(0);
    assert!(fake.with(|s| s.blacklisted.contains("already")), "the existing PAT was revoked");
    assert_eq!(run.json()["verified"], true);
}

/// A dry run reads what the real run reads: it predicts the 409 and names the flag, and
/// with --revoke-existing names the PAT it would revoke. Nothing changes either way.
#[test]
fn a_dry_run_predicts_the_409_and_names_what_it_would_revoke() {
    let fake = server();
    fake.with(|s| s.issued.push((1, "already".into())));
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--dry-run"]).run();
    run.expect_code(1);
    assert!(
        run.all_output().contains("the real run would be refused: this user already has a Personal Access Token (jti"),
        "{}",
        run.all_output()
    );
    assert!(run.all_output().contains("add --revoke-existing"), "{}", run.all_output());
    untouched(&w, &before, &run);
    let run = w.cmd(&["--dry-run", "--revoke-existing"]).run();
    run.expect_code(0);
    assert!(run.all_output().contains("the real run revokes jti"), "{}", run.all_output());
    untouched(&w, &before, &run);
    assert!(!fake.with(|s| s.blacklisted.contains("already")), "a dry run revokes nothing");
}

/// On a terminal the diff comes before the question, and a "no" says once that nothing
/// was changed.
#[test]
fn the_diff_comes_before_the_prompt() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let args: Vec<String> =
        ["migrate-env", "--env-file", &w.env.display().to_string(), "--backup-dir", &w.backups.display().to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let home = tempfile::tempdir().unwrap();
    let home_arg = home.path().display().to_string();
    let (code, screen) = crate::harness::on_terminal_at_prompt(&args, &[("HOME", &home_arg)], "rewrite", "n");
    assert_eq!(code, 1, "{screen}");
    let diff_at = screen.find("+++").unwrap_or_else(|| panic!("no diff before the prompt: {screen}"));
    let prompt_at = screen.find("Mint a PAT").unwrap_or_else(|| panic!("no prompt: {screen}"));
    assert!(diff_at < prompt_at, "{screen}");
    let preflight_at = screen.find("Preflight: PATs for organization 1: on").unwrap_or_else(|| panic!("{screen}"));
    assert!(preflight_at < prompt_at, "the preflight is part of the plan: {screen}");
    assert!(screen.contains("<PAT to be minted>"), "{screen}");
    assert_eq!(screen.to_lowercase().matches("nothing was changed").count(), 1, "said once: {screen}");
    assert_eq!(w.text(), before);
    assert!(fake.with(|s| s.issued.is_empty()), "nothing minted on a no");
}

#[test]
fn a_pat_of_another_user_is_refused() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes", "--pat-stdin"]).stdin(pat(SECRET, 2, "someone-else")).run();
    run.expect_code(1);
    assert!(run.stderr.contains("belongs to other@acme.test"), "{}", run.stderr);
    untouched(&w, &before, &run);
    // A PAT that does not verify is refused too.
    let run = w.cmd(&["--yes", "--pat-stdin"]).stdin(pat("wrong-instance", 1, "x")).run();
    run.expect_code(1);
    assert!(run.stderr.contains("pat_invalid_signature"), "{}", run.stderr);
    untouched(&w, &before, &run);
}

#[test]
fn legacy_disabled_needs_another_way_and_login_provides_it() {
    let fake = server();
    fake.set_org(1, true, false);
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes"]).run();
    run.expect_code(1);
    assert!(run.stderr.contains("legacy_disabled") && run.stderr.contains("--login"), "{}", run.stderr);
    untouched(&w, &before, &run);

    // The key no longer works and no database says whose it is: the new credential could
    // be anybody's, so lsauth refuses before it signs in.
    let run = w.cmd(&["--yes", "--login", "admin@acme.test", "--password-stdin"]).stdin("pw").run();
    run.expect_code(1);
    assert!(
        run.stderr.contains("cannot tell who owns") && run.stderr.contains("Nothing was changed."),
        "{}",
        run.stderr
    );
    assert!(!fake.with(|s| s.requests.iter().any(|r| r.1.contains("login"))), "no login attempted");
    untouched(&w, &before, &run);

    let run =
        w.cmd(&["--yes", "--allow-other-user", "--login", "admin@acme.test", "--password-stdin"]).stdin("wrong").run();
    run.expect_code(1);
    assert!(run.stderr.contains("do not match"), "{}", run.stderr);
    untouched(&w, &before, &run);

    let run = w
        .cmd(&["--yes", "--allow-other-user", "--login", "admin@acme.test", "--password-stdin", "--json"])
        .stdin("pw")
        .run();
    run.expect_code(0);
    assert_eq!(run.json()["credential"], "minted_after_login");
    assert_eq!(run.json()["user"]["email"], "admin@acme.test");
    no_secrets(&run, &[KEY]);
    assert!(!run.stdout.contains("\"pw\""));
}

#[test]
fn to_password_writes_username_and_password_verified_by_logging_in() {
    let fake = server();
    let w = workdir(&fake);
    let run = w.cmd(&["--yes", "--to", "password", "--login", "admin@acme.test", "--password-stdin"]).stdin("pw").run();
    run.expect_code(0);
    assert!(run.stdout.contains("signed in through the web login as admin@acme.test"), "{}", run.stdout);
    let after = w.text();
    assert!(after.contains("LABEL_STUDIO_USERNAME=admin@acme.test"), "{after}");
    assert!(after.contains("LABEL_STUDIO_PASSWORD=pw"), "{after}");
    assert!(!after.lines().any(|l| l.starts_with("LABEL_STUDIO_API_KEY=")), "{after}");
    assert!(after.contains(&format!("# LABEL_STUDIO_API_KEY=\"{KEY}\"")));
    assert!(after.contains("\r\nLABEL_STUDIO_PASSWORD=pw"), "the file's CRLF line ends are used: {after:?}");
    let w2 = workdir(&fake);
    let before = w2.text();
    let run =
        w2.cmd(&["--yes", "--to", "password", "--login", "admin@acme.test", "--password-stdin"]).stdin("nope").run();
    run.expect_code(1);
    untouched(&w2, &before, &run);
}

#[test]
fn dry_run_shows_a_masked_diff_and_touches_nothing() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--dry-run"]).run();
    run.expect_code(0);
    assert!(run.stdout.contains("-LABEL_STUDIO_API_KEY=\"0123…4567\"  # admin's key"), "{}", run.stdout);
    assert!(run.stdout.contains("+LABEL_STUDIO_API_KEY=\"<PAT to be minted>\""), "{}", run.stdout);
    assert!(run.stdout.contains("AWS_SECRET=\"********\""), "a secret-named value is hidden whole: {}", run.stdout);
    untouched(&w, &before, &run);
    assert!(fake.with(|s| s.issued.is_empty()), "a dry run mints nothing");
    assert!(!w.backups.exists());
    let given = pat(SECRET, 1, "dry");
    let run = w.cmd(&["--dry-run", "--pat-stdin", "--json"]).stdin(given.clone()).run();
    run.expect_code(0);
    assert_eq!(run.json()["verified"], true);
    no_secrets(&run, &[KEY, &given]);
    untouched(&w, &before, &run);
}

#[test]
fn without_a_terminal_a_change_needs_yes_and_nothing_is_minted() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&[]).run();
    run.expect_code(1);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    untouched(&w, &before, &run);
    assert!(fake.with(|s| s.issued.is_empty()));
}

#[test]
fn bad_input_is_exit_2_and_the_file_is_untouched() {
    let fake = server();
    let w = workdir(&fake);
    let cases: [(&[u8], &str); 3] = [
        (b"LABEL_STUDIO_URL=http://x\nnot an assignment\nLABEL_STUDIO_API_KEY=abc\n", "line 2"),
        (b"A=1\0\n", "binary"),
        (b"OTHER=1\n", "LABEL_STUDIO_API_KEY"),
    ];
    for (content, says) in cases {
        std::fs::write(&w.env, content).unwrap();
        let run = w.cmd(&["--yes"]).run();
        run.expect_code(2);
        assert!(run.stderr.contains(says), "{says}: {}", run.stderr);
        assert_eq!(std::fs::read(&w.env).unwrap(), content);
    }
    let run = lsauth(["migrate-env", "--env-file", &w.dir.path().display().to_string(), "--yes"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("directory"), "{}", run.stderr);
    let run =
        lsauth(["migrate-env", "--env-file", &w.dir.path().join("missing.env").display().to_string(), "--yes"]).run();
    run.expect_code(2);
    let run = w.cmd(&["--yes", "--var", "NOPE"]).run();
    run.expect_code(2);
}

#[test]
fn a_read_only_directory_is_exit_2() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    std::fs::set_permissions(w.dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let cmd = w.cmd(&["--yes", "--pat-stdin"]).stdin(pat(SECRET, 1, "ro"));
    // root writes anywhere: the check runs as an unprivileged user then.
    let run = if running_as_root() { cmd.run_as("nobody").run() } else { cmd.run() };
    std::fs::set_permissions(w.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    run.expect_code(2);
    assert!(run.stderr.contains("cannot create files"), "{}", run.stderr);
    assert_eq!(w.text(), before);
}

#[test]
fn rollback_restores_byte_for_byte_and_refuses_edited_files() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    w.cmd(&["--yes"]).run().expect_code(0);
    let migrated = w.text();
    let rollback = |args: &[&str]| {
        let mut all = vec!["rollback".to_string(), "--env-file".into(), w.env.display().to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        lsauth(all).env("LSAUTH_BACKUP_DIR", w.backups.display().to_string()).run()
    };
    let list = rollback(&["--list", "--json"]);
    list.expect_code(0);
    assert_eq!(list.json()["backups"].as_array().unwrap().len(), 1);

    // Edited since the migration: a conflict unless forced.
    std::fs::write(&w.env, format!("{migrated}\nEXTRA=1")).unwrap();
    let run = rollback(&["--latest", "--yes"]);
    run.expect_code(1);
    assert!(run.stderr.contains("edited after"), "{}", run.stderr);
    std::fs::write(&w.env, &migrated).unwrap();

    let run = rollback(&["--latest", "--dry-run"]);
    run.expect_code(0);
    assert_eq!(w.text(), migrated);
    no_secrets(&run, &[KEY]);
    let run = rollback(&["--latest", "--yes"]);
    run.expect_code(0);
    assert_eq!(w.text(), before, "restored byte for byte");
    // The rollback backed up the migrated file first, so it can be undone.
    let run = rollback(&["--latest", "--yes"]);
    run.expect_code(0);
    assert_eq!(w.text(), migrated);
    // A corrupt copy is refused.
    let first = list.json()["backups"][0]["id"].as_str().unwrap().to_string();
    let copy = list.json()["backups"][0]["backup_file"].as_str().unwrap().to_string();
    std::fs::write(&copy, "tampered").unwrap();
    let run = rollback(&[&first, "--yes", "--force"]);
    run.expect_code(2);
    assert!(run.stderr.contains("corrupt"), "{}", run.stderr);
}

/// A rollback of a migration says that the PAT it minted stays valid on the server, and
/// with --revoke-minted revokes it (said too).
#[test]
fn a_rollback_says_the_minted_pat_is_still_valid_or_revokes_it() {
    let fake = server();
    let w = workdir(&fake);
    let rollback = |args: &[&str]| {
        let mut all = vec!["rollback".to_string(), "--env-file".into(), w.env.display().to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        lsauth(all).env("LSAUTH_BACKUP_DIR", w.backups.display().to_string()).run()
    };
    w.cmd(&["--yes"]).run().expect_code(0);
    let minted = fake.with(|s| s.issued.last().cloned()).expect("a PAT was minted");
    let dry = rollback(&["--latest", "--dry-run"]);
    dry.expect_code(0);
    assert!(dry.stdout.contains("stays valid on the server after the rollback: add --revoke-minted"), "{}", dry.stdout);
    let run = rollback(&["--latest", "--yes", "--json"]);
    run.expect_code(0);
    let left = run.json()["pats_left"].clone();
    assert_eq!(left[0]["still_valid"], true, "{left}");
    assert_eq!(left[0]["revoked"], false);
    assert!(!fake.with(|s| s.blacklisted.contains(&minted.1)));

    // Migrate again (revoking the first PAT on the 409), then roll back revoking the new one.
    w.cmd(&["--yes", "--revoke-existing"]).run().expect_code(0);
    let second = fake.with(|s| s.issued.last().cloned()).unwrap();
    let run = rollback(&["--latest", "--yes", "--revoke-minted"]);
    run.expect_code(0);
    assert!(run.stdout.contains("was revoked (--revoke-minted)"), "{}", run.stdout);
    assert!(fake.with(|s| s.blacklisted.contains(&second.1)), "the minted PAT is revoked on the server");
}

/// SIGKILL at many points of a migration: the file is always the old or the new one,
/// and whenever it is the new one, a copy of the old one exists beside it.
#[test]
fn a_killed_migration_leaves_old_or_new_and_a_backup() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let given = pat(SECRET, 1, "kill");
    let started = Instant::now();
    w.cmd(&["--yes", "--pat-stdin"]).stdin(given.clone()).run().expect_code(0);
    let full = started.elapsed();
    let after = w.text();
    let mut seen_new = 0;
    for step in 0..=20u32 {
        std::fs::write(&w.env, &before).unwrap();
        for copy in w.beside() {
            std::fs::remove_file(copy).unwrap();
        }
        let mut cmd = w.cmd(&["--yes", "--pat-stdin"]).command();
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(given.as_bytes()).unwrap();
        }
        std::thread::sleep(full * step / 16);
        let _ = child.kill();
        let _ = child.wait();
        let now = w.text();
        assert!(now == before || now == after, "step {step}: a half-written file");
        if now == after {
            seen_new += 1;
            let copies = w.beside();
            assert!(
                copies.iter().any(|c| std::fs::read_to_string(c).unwrap() == before),
                "step {step}: new file, no backup"
            );
        }
        // A kill between writing the temporary file and the rename may leave a
        // `.lsauth-tmp-*` file beside it; the .env itself is never half-written.
    }
    eprintln!("kills after the rename: {seen_new} of 21");
}

// ---------------------------------------------------------------- trust (issue 10)

/// The opening scenario of an upgraded instance: legacy tokens on, PATs off. Label Studio
/// would mint a PAT (201) that can never be used; lsauth must not.
#[test]
fn pats_off_is_refused_before_anything_is_minted_or_revoked() {
    let fake = server();
    fake.set_org(1, false, true);
    // The user already has a PAT: --revoke-existing must not touch it either.
    fake.with(|s| s.issued.push((1, "already".into())));
    let w = workdir(&fake);
    let before = w.text();
    for extra in [&[][..], &["--revoke-existing"][..]] {
        let mut args = vec!["--yes"];
        args.extend_from_slice(extra);
        let run = w.cmd(&args).run();
        run.expect_code(1);
        assert!(run.stderr.contains("Personal Access Tokens are off for organization 1"), "{}", run.stderr);
        assert!(run.stderr.contains("lsauth enable-pat --org 1"), "the real organization id: {}", run.stderr);
        assert!(run.stderr.trim_end().ends_with("Nothing was changed."), "{}", run.stderr);
        untouched(&w, &before, &run);
    }
    assert_eq!(fake.with(|s| s.issued.len()), 1, "nothing minted");
    assert!(fake.with(|s| s.blacklisted.is_empty()), "nothing revoked");
    let posts = fake.with(|s| s.requests.iter().filter(|r| r.0 == "POST").count());
    assert_eq!(posts, 0, "no POST at all reached the server");
}

/// A user who may not read /api/jwt/settings and no database: lsauth cannot know whether
/// PATs are on, mints, finds the PAT refused, and revokes it again, and says so.
#[test]
fn a_minted_pat_that_fails_verification_is_revoked_and_reported() {
    let fake = server();
    fake.set_org(1, false, true);
    fake.with(|s| s.users.get_mut(&1).unwrap().org_admin = false);
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes", "--json"]).run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["result"], "failed");
    assert_eq!(json["changed"], true);
    assert_eq!(json["preflight"]["source"], "unknown");
    assert_eq!(json["server_changes"][0]["action"], "pat_created");
    assert_eq!(json["server_changes"][1]["action"], "pat_revoked_again");
    assert!(json["error"].as_str().unwrap().contains("api_tokens_disabled"), "{json}");
    assert!(json["error"].as_str().unwrap().contains("lsauth enable-pat --org 1"), "{json}");
    assert!(run.stderr.contains("was revoked again"), "{}", run.stderr);
    assert!(!run.all_output().contains("Nothing was changed"), "{}", run.all_output());
    assert_eq!(run.stdout.trim().lines().filter(|l| l.starts_with('{')).count(), 1, "one JSON document");
    untouched(&w, &before, &run);
    assert_eq!(fake.with(|s| s.issued.clone()), vec![(1, "minted-1-0".to_string())]);
    assert!(fake.with(|s| s.blacklisted.contains("minted-1-0")), "the unusable PAT is gone");
    // The next run is not blocked by a 409 on a PAT lsauth left behind.
    fake.set_org(1, true, true);
    w.cmd(&["--yes"]).run().expect_code(0);
}

#[test]
fn revoke_existing_needs_a_preflight_that_can_tell() {
    let fake = server();
    fake.with(|s| {
        s.users.get_mut(&1).unwrap().org_admin = false;
        s.issued.push((1, "already".into()));
    });
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes", "--revoke-existing"]).run();
    run.expect_code(1);
    assert!(run.stderr.contains("cannot tell whether PATs are on"), "{}", run.stderr);
    untouched(&w, &before, &run);
    assert!(fake.with(|s| s.blacklisted.is_empty()));
}

#[test]
fn revoke_existing_names_what_it_revokes_and_reports_it() {
    let fake = server();
    fake.with(|s| s.issued.push((1, "already-there".into())));
    let w = workdir(&fake);
    let run = w.cmd(&["--yes", "--revoke-existing", "--json"]).run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["would_revoke"][0]["jti_prefix"], "already-");
    assert_eq!(json["server_changes"][0]["action"], "existing_pat_revoked");
    assert!(json["server_changes"][0]["detail"].as_str().unwrap().contains("jti already-"), "{json}");
    assert_eq!(json["server_changes"][1]["action"], "pat_created");
    assert!(json["summary"].as_str().unwrap().contains("revoked at your request"), "{json}");
}

#[test]
fn a_new_pat_of_another_user_is_revoked_and_nothing_written() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let other = pat(SECRET, 2, "other-user");
    let run = w.cmd(&["--yes", "--pat-stdin"]).stdin(other.clone()).run();
    run.expect_code(1);
    assert!(run.stderr.contains("belongs to other@acme.test"), "{}", run.stderr);
    assert!(run.stderr.contains("Nothing was changed."), "a given PAT is not lsauth's to revoke: {}", run.stderr);
    untouched(&w, &before, &run);
    assert!(fake.with(|s| s.blacklisted.is_empty()));
    no_secrets(&run, &[&other, KEY]);
}

#[test]
fn login_as_someone_else_is_refused_before_signing_in() {
    let fake = server();
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes", "--login", "other@acme.test", "--password-stdin"]).stdin("pw").run();
    run.expect_code(1);
    assert!(run.stderr.contains("belongs to admin@acme.test"), "{}", run.stderr);
    assert!(!fake.with(|s| s.requests.iter().any(|r| r.1.contains("login"))));
    untouched(&w, &before, &run);
}

#[test]
fn json_prints_exactly_one_document_on_every_path() {
    let fake = server();
    let w = workdir(&fake);
    // A refusal before anything happened.
    fake.set_org(1, false, true);
    let run = w.cmd(&["--yes", "--json"]).run();
    run.expect_code(1);
    assert_eq!(run.json()["result"], "failed");
    assert_eq!(run.json()["summary"], "Nothing was changed.");
    // Bad input.
    let run = w.cmd(&["--yes", "--json", "--var", "NOPE"]).run();
    run.expect_code(2);
    assert_eq!(run.json()["result"], "failed");
    // Already migrated.
    fake.set_org(1, true, true);
    w.cmd(&["--yes"]).run().expect_code(0);
    let run = w.cmd(&["--yes", "--json"]).run();
    run.expect_code(0);
    assert_eq!(run.json()["result"], "already_migrated");
    assert_eq!(run.json()["changed"], false);
}

#[test]
fn the_file_keeps_its_mode_and_a_symlink_stays_a_link() {
    let fake = server();
    let w = workdir(&fake);
    std::fs::set_permissions(&w.env, std::fs::Permissions::from_mode(0o640)).unwrap();
    let real_dir = w.dir.path().join("conf");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("ml.env");
    std::fs::rename(&w.env, &real).unwrap();
    std::os::unix::fs::symlink("conf/ml.env", &w.env).unwrap();
    let run = w.cmd(&["--yes"]).run();
    run.expect_code(0);
    assert!(std::fs::symlink_metadata(&w.env).unwrap().file_type().is_symlink(), "still a link");
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777, 0o640, "mode kept");
    assert!(std::fs::read_to_string(&real).unwrap().contains("LABEL_STUDIO_API_KEY=\"eyJ"));
    assert!(run.stdout.contains("readable by its group"), "{}", run.stdout);
    // Rollback through the link restores the bytes and the recorded mode.
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    let rollback = lsauth(["rollback", "--env-file", &w.env.display().to_string(), "--latest", "--yes", "--force"])
        .env("LSAUTH_BACKUP_DIR", w.backups.display().to_string())
        .run();
    rollback.expect_code(0);
    assert!(std::fs::symlink_metadata(&w.env).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o7777, 0o640, "mode restored");
    assert!(std::fs::read_to_string(&real).unwrap().contains(KEY));
}

#[test]
fn a_link_into_a_read_only_directory_is_exit_2_with_nothing_changed() {
    if running_as_root() {
        // root writes anywhere: run the check as nobody, who cannot write the target dir.
        let fake = server();
        let w = workdir(&fake);
        let dir = w.dir.path();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ro = dir.join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::rename(&w.env, ro.join("real.env")).unwrap();
        std::fs::set_permissions(ro.join("real.env"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let link_dir = dir.join("rw");
        std::fs::create_dir(&link_dir).unwrap();
        std::fs::set_permissions(&link_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let link = link_dir.join(".env");
        std::os::unix::fs::symlink(ro.join("real.env"), &link).unwrap();
        let before = std::fs::read(ro.join("real.env")).unwrap();
        let run = lsauth(["migrate-env", "--env-file", &link.display().to_string(), "--yes"])
            .env("LSAUTH_BACKUP_DIR", "/tmp/lsauth-nobody-backups-unused")
            .run_as("nobody")
            .run();
        run.expect_code(2);
        assert!(run.stderr.contains("cannot create files in"), "{}", run.stderr);
        assert_eq!(std::fs::read(ro.join("real.env")).unwrap(), before);
        assert!(fake.with(|s| s.issued.is_empty()), "nothing minted");
    } else {
        let fake = server();
        let w = workdir(&fake);
        let ro = w.dir.path().join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::rename(&w.env, ro.join("real.env")).unwrap();
        std::os::unix::fs::symlink(ro.join("real.env"), &w.env).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let run = w.cmd(&["--yes"]).run();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        run.expect_code(2);
        assert!(fake.with(|s| s.issued.is_empty()), "nothing minted");
    }
}

#[test]
fn an_existing_backup_dir_is_never_re_permissioned() {
    let fake = server();
    let w = workdir(&fake);
    std::fs::create_dir(&w.backups).unwrap();
    std::fs::set_permissions(&w.backups, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = w.cmd(&["--yes"]).run();
    run.expect_code(0);
    assert_eq!(std::fs::metadata(&w.backups).unwrap().permissions().mode() & 0o777, 0o755);
    assert!(run.stderr.contains("accessible to group/others"), "{}", run.stderr);
}

/// With the database at hand, the owner and the organization's settings come from it, and
/// --enable-pat fixes PATs in the same run, with its own backup and undo line.
#[test]
fn enable_pat_in_the_same_run_with_its_own_undo_line() {
    use crate::harness::{Fixture, SqliteFixture};
    let db = SqliteFixture::new();
    db.add_org(1, "Acme");
    db.add_user(1, "admin@acme.test", Some(1));
    db.add_legacy_token(1, KEY);
    db.set_settings(1, false, true, 73000);
    let fake = server();
    fake.set_org(1, false, true);
    let w = workdir(&fake);
    let before = w.text();

    // Without the flag: refused, with the fix naming the organization.
    let run = w.cmd(&["--yes"]).env("LSAUTH_DB", db.db_arg()).run();
    run.expect_code(1);
    assert!(run.stderr.contains("--enable-pat") && run.stderr.contains("--org 1"), "{}", run.stderr);
    untouched(&w, &before, &run);

    // The server here does not read the database, so the PAT is still refused: the run
    // fails, but says that PATs were turned on and how to undo it.
    let run = w.cmd(&["--yes", "--enable-pat", "--json"]).env("LSAUTH_DB", db.db_arg()).run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["preflight"]["source"], "database");
    assert_eq!(json["owner"]["source"], "whoami");
    assert_eq!(json["server_changes"][0]["action"], "pats_enabled");
    let detail = json["server_changes"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("organization 1") && detail.contains("undo: lsauth rollback "), "{detail}");
    assert_eq!(json["server_changes"][2]["action"], "pat_revoked_again");
    assert_eq!(db.settings_rows(), vec![(1, true, true, 73000)]);
    untouched(&w, &before, &run);

    // The owner is found in the database when the legacy token no longer works.
    db.exec("UPDATE jwt_auth_jwtsettings SET api_tokens_enabled = 1, legacy_api_tokens_enabled = 0");
    fake.set_org(1, true, false);
    let run = w
        .cmd(&["--yes", "--login", "admin@acme.test", "--password-stdin", "--json"])
        .env("LSAUTH_DB", db.db_arg())
        .stdin("pw")
        .run();
    run.expect_code(0);
    assert_eq!(run.json()["owner"]["source"], "database");
    assert_eq!(run.json()["credential"], "minted_after_login");
}

// ---------------------------------------------------------------- clients (issue 11)

/// An ML backend downloads task data with the key as it is: moved to a PAT it breaks.
/// Refused before anything is minted, with the fix for the organization Label Studio
/// consults; --pat-capable lets a recent backend go ahead.
#[test]
fn an_ml_backend_env_is_not_moved_to_a_pat_unless_pat_capable() {
    let fake = server();
    let w = workdir(&fake);
    let text = w.text().replace("EXPORT_DIR=/data/exports", "MODEL_DIR=/data/models");
    std::fs::write(&w.env, &text).unwrap();
    let before = w.text();
    for args in [&["--yes"][..], &["--yes", "--to", "password", "--login", "admin@acme.test", "--password-stdin"][..]] {
        let run = w.cmd(args).stdin("pw").run();
        run.expect_code(1);
        assert!(run.stderr.contains("belongs to an ML backend (it sets MODEL_DIR)"), "{}", run.stderr);
        assert!(run.stderr.contains("keep the legacy key, which works now"), "{}", run.stderr);
        assert!(run.stderr.contains("Nothing was changed."), "{}", run.stderr);
        untouched(&w, &before, &run);
    }
    assert!(fake.with(|s| s.issued.is_empty()), "nothing minted");
    // With legacy tokens off, the fix names the organization Label Studio consults.
    fake.set_org(1, true, false);
    let db = crate::harness::SqliteFixture::new();
    {
        use crate::harness::Fixture;
        db.add_org(1, "Acme");
        db.add_user(1, "admin@acme.test", Some(1));
        db.add_legacy_token(1, KEY);
    }
    let run = w.cmd(&["--yes"]).env("LSAUTH_DB", db.path.display().to_string()).run();
    run.expect_code(1);
    assert!(run.stderr.contains("lsauth enable-legacy --org 1"), "{}", run.stderr);
    fake.set_org(1, true, true);
    // --client ml-backend says so for a file without the variables.
    let plain = workdir(&fake);
    let run = plain.cmd(&["--yes", "--client", "ml-backend", "--json"]).run();
    run.expect_code(1);
    assert_eq!(run.json()["client"], "ml_backend");
    // A recent backend that refreshes PATs itself.
    let run = w.cmd(&["--yes", "--pat-capable", "--json"]).run();
    run.expect_code(0);
    assert_eq!(run.json()["client"], "ml_backend");
    assert_eq!(run.json()["ml_backend_markers"][0], "MODEL_DIR");
}

#[test]
fn a_sub_path_without_a_trailing_slash_is_warned_about() {
    let fake = server();
    let w = workdir(&fake);
    let text = w.text().replace(&format!("'{}'", fake.url), &format!("'{}/label-studio'", fake.url));
    std::fs::write(&w.env, text).unwrap();
    fake.with(|s| s.prefix = "/label-studio".into());
    let run = w.cmd(&["--yes", "--json"]).run();
    run.expect_code(0);
    let warnings = run.json()["warnings"].to_string();
    assert!(warnings.contains("no trailing slash") && warnings.contains("/label-studio/"), "{warnings}");
}

/// Seen on a real 1.23.2 started with the JWT feature flag off: the settings say PATs are
/// on, Label Studio mints (201) and refreshes, and refuses the access token. lsauth revokes
/// the PAT again and names the flag, not the setting.
#[test]
fn a_server_with_the_jwt_flag_off_gets_its_pat_revoked_and_the_flag_named() {
    let fake = server();
    fake.with(|s| s.jwt_flag_off = true);
    let w = workdir(&fake);
    let before = w.text();
    let run = w.cmd(&["--yes", "--json"]).run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["preflight"]["api_tokens_enabled"], true);
    assert!(json["error"].as_str().unwrap().contains("jwt_flag_off"), "{json}");
    assert_eq!(json["server_changes"][1]["action"], "pat_revoked_again");
    assert!(json["summary"].as_str().unwrap().starts_with("A PAT was created"), "{json}");
    untouched(&w, &before, &run);
    assert!(fake.with(|s| s.blacklisted.contains("minted-1-0")));
}

/// #27: a backend's template `.env` sets only LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, as a
/// script's does; the backend's model.py beside it tells them apart.
#[test]
fn an_ml_backend_is_recognized_by_what_stands_beside_its_env() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    let text = format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={KEY}\n", fake.url);
    std::fs::write(&env, &text).unwrap();
    std::fs::write(dir.path().join("model.py"), "from label_studio_ml.model import LabelStudioMLBase\n").unwrap();
    let run = lsauth(["migrate-env", "--env-file", &env.display().to_string(), "--yes", "--json"])
        .env("LSAUTH_BACKUP_DIR", dir.path().join("b").display().to_string())
        .run();
    run.expect_code(1);
    assert_eq!(run.json()["client"], "ml_backend");
    assert_eq!(run.json()["ml_backend_markers"][0], "model.py beside it");
    assert_eq!(std::fs::read_to_string(&env).unwrap(), text, "untouched");
    assert!(fake.with(|s| s.issued.is_empty()), "nothing minted");
}

/// #27: the current backend refreshes only LABEL_STUDIO_API_KEY's key; a PAT written into
/// LABEL_STUDIO_ACCESS_TOKEN (the SAM example's variable) goes out unrefreshed and gets 401.
/// --pat-capable writes it into LABEL_STUDIO_API_KEY, comments the old variable out, says so.
#[test]
fn pat_capable_writes_the_pat_where_the_backend_refreshes_it() {
    let fake = server();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(
        &env,
        format!(
            "LABEL_STUDIO_HOST={}\nLABEL_STUDIO_URL={}\nLABEL_STUDIO_ACCESS_TOKEN={KEY}\nMODEL_DIR=/data\n",
            fake.url, fake.url
        ),
    )
    .unwrap();
    let run = lsauth(["migrate-env", "--env-file", &env.display().to_string(), "--yes", "--pat-capable", "--json"])
        .env("LSAUTH_BACKUP_DIR", dir.path().join("b").display().to_string())
        .run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["variable"], "LABEL_STUDIO_ACCESS_TOKEN");
    assert!(json["warnings"].to_string().contains("the PAT goes into LABEL_STUDIO_API_KEY"), "{json}");
    let doc = lsauth::config::envfile::EnvDocument::parse(&std::fs::read(&env).unwrap()).unwrap();
    assert!(doc.get("LABEL_STUDIO_API_KEY").unwrap().starts_with("eyJ"), "the PAT is in LABEL_STUDIO_API_KEY");
    assert_eq!(doc.get("LABEL_STUDIO_ACCESS_TOKEN"), None, "the old variable is commented out");
    let text = doc.render();
    assert!(text.contains(&format!("# LABEL_STUDIO_ACCESS_TOKEN={KEY}  # legacy token, replaced by a Personal Access Token in LABEL_STUDIO_API_KEY")), "{text}");
}
