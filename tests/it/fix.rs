//! enable-legacy / disable-legacy / enable-pat / disable-pat and rollback, on both
//! backends: what changes, what does not, and what is kept to undo it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::{lsauth, Fixture, Lsauth, Run};
use crate::on_both_backends;

/// lsauth against the fixture with a backup directory of the test's own.
fn cmd(fx: &dyn Fixture, backups: &Path, args: &[&str]) -> Lsauth {
    let mut all = vec!["--db".to_string(), fx.db_arg()];
    all.extend(args.iter().map(|a| a.to_string()));
    lsauth(all).env("LSAUTH_BACKUP_DIR", backups.display().to_string())
}

fn run(fx: &dyn Fixture, backups: &Path, args: &[&str]) -> Run {
    cmd(fx, backups, args).run()
}

fn backup_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).map(|e| e.path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn is_django_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 26
        && b[4] == b'-'
        && b[10] == b' '
        && b[19] == b'.'
        && s.chars().filter(|c| c.is_ascii_digit()).count() == 20
}

fn enable_legacy_all_updates_and_inserts_rows(fx: &dyn Fixture) {
    fx.seed_classic();
    let before = fx.settings_full();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let out = run(fx, &backups, &["enable-legacy", "--all", "--yes", "--json"]);
    out.expect_code(0);
    let json = out.json();
    assert_eq!(json["changed"], 2, "{json}");
    assert_eq!(json["operation"], "enable-legacy");
    let actions: Vec<_> = json["plan"]["lines"].as_array().unwrap().iter().map(|l| l["action"].clone()).collect();
    assert_eq!(actions, vec!["update", "insert", "none"]);

    // org 1 updated, org 2 got a full row, org 3 untouched.
    assert_eq!(fx.settings_rows(), vec![(1, true, true, 73000), (2, true, true, 73000), (3, false, true, 73000)]);
    let after = fx.settings_full();
    let org1 = &after[0];
    assert_eq!(org1[4], before[0][4], "created_at kept");
    assert_ne!(org1[5], before[0][5], "updated_at stamped");
    let org2 = &after[1];
    assert_eq!(org2[4], org2[5], "an inserted row has created_at = updated_at");
    assert!(is_django_timestamp(org2[4].as_deref().unwrap()), "{:?}", org2[4]);
    assert_eq!(after[2], before[1], "org 3 untouched");

    // One backup, private, in a private directory, named in the output.
    let files = backup_files(&backups);
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&backups).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(json["backup"]["path"], files[0].display().to_string());
    let backup = lsauth::backup::read(&files[0]).unwrap();
    assert_eq!(backup.body.rows.len(), 2);
    assert_eq!(backup.body.rows[1].before, None, "org 2 had no row");
    assert!(backup.body.header.command.iter().any(|a| a == "enable-legacy"));
    assert_eq!(backup.body.database.kind, fx.kind());
}

fn org_and_user_selection(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    run(fx, dir.path(), &["enable-legacy", "--org", "2", "--yes"]).expect_code(0);
    assert_eq!(fx.settings_rows(), vec![(1, true, false, 73000), (2, true, true, 73000), (3, false, true, 73000)]);

    // --user selects the user's active organization (the one Label Studio consults),
    // with the email matched case-insensitively when there is no exact match.
    let out = run(fx, dir.path(), &["enable-legacy", "--user", "Admin@Acme.test", "--yes"]);
    out.expect_code(0);
    assert_eq!(fx.settings_rows()[0], (1, true, true, 73000));

    let out = run(fx, dir.path(), &["enable-legacy", "--org", "99", "--yes"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no organization with id 99"), "{}", out.stderr);
    let out = run(fx, dir.path(), &["enable-legacy", "--user", "nobody@x.test", "--yes"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no user"), "{}", out.stderr);
}

fn disable_pat_on_org_without_row_inserts_defaults(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    run(fx, dir.path(), &["disable-pat", "--org", "2", "--yes"]).expect_code(0);
    assert_eq!(fx.settings_rows()[1], (2, false, false, 73000), "Label Studio's values plus the change");
    run(fx, dir.path(), &["enable-pat", "--all", "--yes"]).expect_code(0);
    let rows = fx.settings_rows();
    assert!(rows.iter().all(|r| r.1), "{rows:?}");
    run(fx, dir.path(), &["disable-legacy", "--org", "3", "--yes"]).expect_code(0);
    assert_eq!(fx.settings_rows()[2], (3, true, false, 73000));
}

fn nothing_to_change_takes_no_backup(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let before = fx.settings_full();
    let out = run(fx, &backups, &["enable-legacy", "--org", "3", "--yes"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Nothing to change"), "{}", out.stdout);
    // enable-pat on an org without a row: the default is already "on" since 1.22.
    let out = run(fx, &backups, &["enable-pat", "--org", "2", "--yes", "--json"]);
    out.expect_code(0);
    assert_eq!(out.json()["changed"], 0);
    assert_eq!(out.json()["backup"], serde_json::Value::Null);
    assert!(!backups.exists(), "no backup directory for a no-op");
    assert_eq!(fx.settings_full(), before);
}

fn dry_run_changes_nothing_anywhere(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("backups");
    let before = fx.settings_full();
    let out = run(fx, &backups, &["enable-legacy", "--all", "--dry-run"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Dry run: 2 organizations would change"), "{}", out.stdout);
    assert!(out.stdout.contains("insert row") && out.stdout.contains("update row"), "{}", out.stdout);
    let out = run(fx, &backups, &["disable-pat", "--all", "--dry-run", "--json"]);
    out.expect_code(0);
    assert_eq!(out.json()["dry_run"], true);
    assert_eq!(out.json()["changed"], 0);
    assert_eq!(fx.settings_full(), before);
    assert!(!backups.exists(), "a dry run creates no backup directory");
}

fn without_a_terminal_a_change_needs_yes(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let before = fx.settings_full();
    let out = run(fx, dir.path(), &["enable-legacy", "--all"]);
    out.expect_code(1);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(out.stdout.contains("Acme"), "the plan is still shown:\n{}", out.stdout);
    assert_eq!(fx.settings_full(), before);
    assert!(backup_files(dir.path()).is_empty());
    run(fx, dir.path(), &["enable-legacy", "--all", "-y"]).expect_code(0);
    assert_ne!(fx.settings_full(), before);
}

fn selection_is_required_and_exclusive(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    run(fx, dir.path(), &["enable-legacy", "--yes"]).expect_code(2);
    run(fx, dir.path(), &["enable-legacy", "--all", "--org", "1", "--yes"]).expect_code(2);
    run(fx, dir.path(), &["rollback"]).expect_code(2);
}

fn rollback_restores_exact_rows_and_can_be_rolled_back(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let before = fx.settings_full();
    run(fx, dir.path(), &["enable-legacy", "--all", "--yes"]).expect_code(0);
    let after_change = fx.settings_full();

    let out = run(fx, dir.path(), &["rollback", "--latest", "--dry-run"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Dry run: 2 rows would be restored"), "{}", out.stdout);
    assert_eq!(fx.settings_full(), after_change);

    let out = run(fx, dir.path(), &["rollback", "--latest", "--yes"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Restored 2 rows"), "{}", out.stdout);
    assert_eq!(fx.settings_full(), before, "every row exactly as before, the inserted one gone");

    // The rollback took a backup of its own: rolling it back redoes the change.
    let list = run(fx, dir.path(), &["rollback", "--list", "--json"]).json();
    let backups = list["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 2);
    assert_eq!(backups[1]["operation"], "rollback");
    assert_eq!(backups[1]["restores"], backups[0]["id"]);
    run(fx, dir.path(), &["rollback", "--latest", "--yes"]).expect_code(0);
    assert_eq!(fx.settings_full(), after_change);

    // Restoring a backup whose rows are already back is a no-op.
    let first = backups[0]["id"].as_str().unwrap();
    run(fx, dir.path(), &["rollback", first, "--yes"]).expect_code(0);
    assert_eq!(fx.settings_full(), before);
    let out = run(fx, dir.path(), &["rollback", first, "--yes"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Nothing to restore"), "{}", out.stdout);
}

fn rollback_refuses_rows_changed_since_unless_forced(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let before = fx.settings_full();
    run(fx, dir.path(), &["enable-legacy", "--all", "--yes"]).expect_code(0);
    // An admin changes org 1 again in the UI.
    fx.exec("UPDATE jwt_auth_jwtsettings SET api_token_ttl_days = 30 WHERE organization_id = 1");
    let edited = fx.settings_full();
    let out = run(fx, dir.path(), &["rollback", "--latest", "--yes"]);
    out.expect_code(1);
    assert!(out.stderr.contains("changed since"), "{}", out.stderr);
    assert!(out.stdout.contains("CONFLICT"), "the differing rows are shown:\n{}", out.stdout);
    assert_eq!(fx.settings_full(), edited, "nothing restored, not even the rows without conflict");
    run(fx, dir.path(), &["rollback", "--latest", "--force", "--yes"]).expect_code(0);
    assert_eq!(fx.settings_full(), before);
}

fn bad_backups_are_refused(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    run(fx, dir.path(), &["enable-legacy", "--all", "--yes"]).expect_code(0);
    let after = fx.settings_full();
    let file = backup_files(dir.path()).pop().unwrap();
    let id = file.file_stem().unwrap().to_string_lossy().into_owned();

    let out = run(fx, dir.path(), &["rollback", "20000101T000000000000Z-enable-legacy", "--yes"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no backup"), "{}", out.stderr);

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[1,[true,false,73000,"), "{text}");
    std::fs::write(&file, text.replacen("[1,[true,false,", "[1,[true,true,", 1)).unwrap();
    let out = run(fx, dir.path(), &["rollback", &id, "--yes"]);
    out.expect_code(2);
    assert!(out.stderr.contains("checksum"), "{}", out.stderr);
    assert_eq!(fx.settings_full(), after);

    // A (valid) backup of another database.
    std::fs::write(&file, &text).unwrap();
    let other = crate::harness::SqliteFixture::new();
    other.seed_classic();
    let out = lsauth(["--db", &other.db_arg(), "rollback", &id, "--yes"])
        .env("LSAUTH_BACKUP_DIR", dir.path().display().to_string())
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("belongs to"), "{}", out.stderr);
    let list = lsauth(["--db", &other.db_arg(), "rollback", "--list", "--json"])
        .env("LSAUTH_BACKUP_DIR", dir.path().display().to_string())
        .run()
        .json();
    assert_eq!(list["backups"], serde_json::json!([]), "other databases' backups are not listed");
}

/// A backup as lsauth wrote it before timestamps were tabled (`lsauth-backup/1`): the
/// same document with each row's timestamps in place, checksummed again.
fn as_first_format(file: &Path) {
    use sha2::Digest;
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    let mut body = doc["body"].clone();
    assert_eq!(body["format"], "lsauth-backup/2");
    let times = body["rows"]["times"].as_array().unwrap().clone();
    let mut changes = body["rows"]["changes"].as_array().unwrap().clone();
    for side in changes.iter_mut().flat_map(|c| c.as_array_mut().unwrap()[1..].iter_mut()) {
        if let Some(row) = side.as_array_mut() {
            for at in &mut row[3..] {
                *at = times[at.as_u64().unwrap() as usize].clone();
            }
        }
    }
    body["format"] = "lsauth-backup/1".into();
    body["rows"] = changes.into();
    let text = body.to_string();
    let sum: String = sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(file, format!("{{\"body\":{text},\"checksum\":\"sha256:{sum}\"}}\n")).unwrap();
}

fn a_backup_of_the_first_format_still_rolls_back(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let before = fx.settings_full();
    run(fx, dir.path(), &["enable-legacy", "--all", "--yes"]).expect_code(0);
    let file = backup_files(dir.path()).pop().unwrap();
    as_first_format(&file);
    assert!(std::fs::read_to_string(&file).unwrap().contains(r#""format":"lsauth-backup/1""#));
    let list = run(fx, dir.path(), &["rollback", "--list", "--json"]).json();
    assert_eq!(list["backups"][0]["rows"], 2, "{list}");
    let out = run(fx, dir.path(), &["rollback", "--latest", "--yes"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Restored 2 rows"), "{}", out.stdout);
    assert_eq!(fx.settings_full(), before, "every row exactly as before, the inserted one gone");
}

fn json_plan_and_table_plan_agree(fx: &dyn Fixture) {
    fx.seed_classic();
    let dir = tempfile::tempdir().unwrap();
    let json = run(fx, dir.path(), &["enable-legacy", "--all", "--dry-run", "--json"]).json();
    let lines = json["plan"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["has_settings_row"], false);
    assert_eq!(lines[1]["before"], false);
    assert_eq!(lines[1]["after"], true);
    assert_eq!(json["plan"]["toggle"]["setting"], "legacy_api_tokens_enabled");
}

on_both_backends!(
    enable_legacy_all_updates_and_inserts_rows,
    org_and_user_selection,
    disable_pat_on_org_without_row_inserts_defaults,
    nothing_to_change_takes_no_backup,
    dry_run_changes_nothing_anywhere,
    without_a_terminal_a_change_needs_yes,
    selection_is_required_and_exclusive,
    rollback_restores_exact_rows_and_can_be_rolled_back,
    rollback_refuses_rows_changed_since_unless_forced,
    bad_backups_are_refused,
    a_backup_of_the_first_format_still_rolls_back,
    json_plan_and_table_plan_agree,
);

#[test]
fn sqlite_dry_run_leaves_the_file_byte_for_byte() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let bytes = std::fs::read(&fx.path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    run(&fx, dir.path(), &["enable-legacy", "--all", "--dry-run"]).expect_code(0);
    run(&fx, dir.path(), &["rollback", "--list"]).expect_code(0);
    assert_eq!(std::fs::read(&fx.path).unwrap(), bytes);
}
