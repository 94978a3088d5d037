//! `lsauth orgs` on both backends: what a user sees and what scripts get.

use crate::harness::{lsauth, Fixture};
use crate::on_both_backends;

fn org(json: &serde_json::Value, id: i64) -> &serde_json::Value {
    json["organizations"].as_array().unwrap().iter().find(|o| o["id"] == id).unwrap()
}

fn json_reports_stored_and_effective_settings(fx: &dyn Fixture) {
    fx.seed_classic();
    let run = lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["database"]["kind"], fx.kind());
    assert_eq!(json["database"]["source"], "--db");
    assert_eq!(json["organizations"].as_array().unwrap().len(), 3);

    let acme = org(&json, 1);
    assert_eq!(acme["title"], "Acme");
    assert_eq!(acme["creator_email"], "admin@acme.test");
    assert_eq!(acme["active_members"], 2, "the deleted member does not count");
    assert_eq!(acme["has_settings_row"], true);
    assert_eq!(acme["legacy_api_tokens_enabled"], false);
    assert_eq!(acme["api_tokens_enabled"], true);
    assert_eq!(acme["api_token_ttl_days"], 73000);
    assert_eq!(acme["legacy_token_holders"], 1);
    assert_eq!(acme["rejected_legacy_tokens"], 1);

    // No row: Label Studio 1.22+ defaults apply (legacy off, PATs on), reported as such.
    let beta = org(&json, 2);
    assert_eq!(beta["has_settings_row"], false);
    assert_eq!(beta["stored"], serde_json::Value::Null);
    assert_eq!(beta["legacy_api_tokens_enabled"], false);
    assert_eq!(beta["api_tokens_enabled"], true);
    assert_eq!(beta["api_token_ttl_days"], 73000);
    assert_eq!(beta["rejected_legacy_tokens"], 2);

    let gamma = org(&json, 3);
    assert_eq!(gamma["legacy_api_tokens_enabled"], true);
    assert_eq!(gamma["api_tokens_enabled"], false);
    assert_eq!(gamma["rejected_legacy_tokens"], 0);

    let summary = &json["summary"];
    assert_eq!(summary["organizations"], 3);
    assert_eq!(summary["without_settings_row"], 1);
    assert_eq!(summary["legacy_disabled"], 2);
    assert_eq!(summary["pat_disabled"], 1);
    assert_eq!(summary["rejected_legacy_tokens"], 3);
}

fn table_shows_each_org_and_the_fix(fx: &dyn Fixture) {
    fx.seed_classic();
    let run = lsauth(["--db", &fx.db_arg(), "orgs"]).run();
    run.expect_code(0);
    let out = &run.stdout;
    for needle in [
        "Acme",
        "Beta",
        "Gamma",
        "admin@acme.test",
        "off (default)",
        "3 legacy tokens will be rejected",
        "Fix: lsauth --db ",
        " enable-legacy --org ID (or --all)",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    assert!(!out.contains(crate::harness::PG_PASSWORD), "password printed:\n{out}");
}

fn only_0001_applied_means_old_defaults(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth' AND name LIKE '0002%'");
    let json = lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run().json();
    let beta = org(&json, 2);
    assert_eq!(beta["legacy_api_tokens_enabled"], true, "before 0002 an org without a row keeps legacy tokens");
    assert_eq!(beta["api_tokens_enabled"], false);
    assert_eq!(beta["rejected_legacy_tokens"], 0);
    assert!(json["database"]["label_studio_generation"].as_str().unwrap().contains("1.17"));
}

fn empty_database_lists_nothing(fx: &dyn Fixture) {
    let run = lsauth(["--db", &fx.db_arg(), "orgs"]).run();
    run.expect_code(0);
    assert!(run.stdout.contains("No organizations"));
    let json = lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run().json();
    assert_eq!(json["organizations"], serde_json::json!([]));
}

fn foreign_database_is_bad_input(fx: &dyn Fixture) {
    fx.exec("DROP TABLE authtoken_token");
    let run = lsauth(["--db", &fx.db_arg(), "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("not a Label Studio database"), "{}", run.stderr);
}

fn label_studio_before_jwt_settings_is_bad_input(fx: &dyn Fixture) {
    fx.exec("DROP TABLE jwt_auth_jwtsettings");
    let run = lsauth(["--db", &fx.db_arg(), "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("older than 1.17"), "{}", run.stderr);
}

fn inspection_never_writes(fx: &dyn Fixture) {
    fx.seed_classic();
    let before = fx.settings_rows();
    lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run().expect_code(0);
    assert_eq!(fx.settings_rows(), before, "orgs must not create the missing rows");
}

/// Inactive users' legacy tokens fail for that reason: they are reported apart from the
/// tokens the settings reject. A feature flag off in this environment is applied.
fn inactive_users_and_the_flag_are_reported_apart(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.add_user(40, "left@acme.test", Some(1));
    fx.exec("UPDATE htx_user SET is_active = FALSE WHERE id = 40");
    fx.add_legacy_token(40, "4040404040404040404040404040404040404040");
    let run = lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run();
    run.expect_code(0);
    let json = run.json();
    assert_eq!(org(&json, 1)["rejected_legacy_tokens"], 1, "the inactive user is not counted as rejected");
    assert_eq!(org(&json, 1)["inactive_legacy_token_holders"], 1);
    assert_eq!(json["summary"]["inactive_legacy_token_holders"], 1);
    assert_eq!(json["feature_flag"]["state"], "default");
    let run = lsauth(["--db", &fx.db_arg(), "orgs"]).run();
    assert!(run.stdout.contains("1 legacy token belongs to inactive users"), "{}", run.stdout);
    let run = lsauth(["--db", &fx.db_arg(), "orgs", "--json"])
        .env("LABEL_STUDIO_fflag__feature_develop__prompts__dia_1829_jwt_token_auth", "false")
        .run();
    let json = run.json();
    assert_eq!(json["feature_flag"]["state"], "off");
    assert_eq!(json["summary"]["rejected_legacy_tokens"], 0, "with the flag off legacy tokens pass");
}

/// A database whose jwt_auth table exists but no jwt_auth migration is recorded: the
/// defaults are unknown, and a change inserts an explicit row instead of assuming one.
fn unknown_defaults_get_explicit_rows(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth'");
    let run = lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run();
    assert_eq!(run.json()["database"]["defaults_known"], false);
    let run = lsauth(["--db", &fx.db_arg(), "orgs"]).run();
    assert!(run.stdout.contains("which defaults Label Studio applies is unknown"), "{}", run.stdout);
    // Organization 2 has no row. Under either generation's defaults one of these two
    // would be a no-op; with the defaults unknown both insert an explicit row.
    let run = lsauth(["--db", &fx.db_arg(), "enable-pat", "--org", "2", "--dry-run"]).run();
    run.expect_code(0);
    assert!(run.stdout.contains("unknown"), "{}", run.stdout);
    lsauth(["--db", &fx.db_arg(), "enable-pat", "--org", "2", "--yes"]).run().expect_code(0);
    assert!(fx.settings_rows().iter().any(|r| r.0 == 2 && r.1), "an explicit row for organization 2");
}

on_both_backends!(
    inactive_users_and_the_flag_are_reported_apart,
    unknown_defaults_get_explicit_rows,
    json_reports_stored_and_effective_settings,
    table_shows_each_org_and_the_fix,
    only_0001_applied_means_old_defaults,
    empty_database_lists_nothing,
    foreign_database_is_bad_input,
    label_studio_before_jwt_settings_is_bad_input,
    inspection_never_writes,
);

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_many(3000);
    for args in [vec!["orgs", "--json"], vec!["orgs"]] {
        let mut all = vec!["--db".to_string(), fx.db_arg()];
        all.extend(args.iter().map(|s| s.to_string()));
        let mut child = lsauth(all)
            .command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
        drop(child.stdout.take()); // like `| head -c 16`
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// At 80 columns, in a real (pseudo-)terminal: orgs drops its widest columns instead of
/// breaking words and emails into pieces, rollback --list shows times to the second and
/// no command line, and doctor wraps at word boundaries, never inside a fix.
#[test]
fn at_80_columns_nothing_is_broken_into_pieces() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let db = fx.db_arg();
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let home = tempfile::tempdir().unwrap();
        let home = home.path().display().to_string();
        crate::harness::on_terminal_at_prompt(&args, &[("COLUMNS", "80"), ("HOME", &home)], "", "")
    };
    let (code, screen) = run(&["--db", &db, "orgs"]);
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("| Row ") || screen.contains("│ Row "), "the narrow layout: {screen}");
    assert!(!screen.contains("admin@acme.test"), "emails are left to --json there: {screen}");
    for line in screen.lines().filter(|l| !l.starts_with("Fix:") && !l.starts_with("Database:")) {
        assert!(line.trim_end().chars().count() <= 80, "{line:?} is wider than 80:\n{screen}");
    }

    let backups = tempfile::tempdir().unwrap();
    let b = backups.path().display().to_string();
    lsauth(["--db", &db, "enable-legacy", "--org", "1", "--yes", "--backup-dir", &b]).run().expect_code(0);
    let (code, screen) = run(&["--db", &db, "rollback", "--list", "--backup-dir", &b]);
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("enable-legacy --org 1 --yes"), "no command line at 80 columns: {screen}");
    let second = screen.lines().find(|l| l.contains("-enable-legacy")).unwrap_or_else(|| panic!("{screen}"));
    assert!(
        second.split(['|', '│']).any(|cell| {
            let t = cell.trim();
            t.len() == 19 && t.as_bytes()[10] == b' ' && t.as_bytes()[4] == b'-'
        }),
        "the time to the second: {second}"
    );

    let (code, screen) = run(&["--db", &db, "doctor"]);
    assert_eq!(code, 1, "{screen}");
    for line in screen.lines().filter(|l| !l.contains("fix: lsauth")) {
        assert!(line.trim_end().chars().count() <= 80, "{line:?} is wider than 80:\n{screen}");
    }
    let fix = screen.lines().find(|l| l.contains("fix: lsauth")).unwrap_or_else(|| panic!("{screen}"));
    // Organization 1 was fixed above; organization 2 is left.
    assert!(fix.trim_end().ends_with("enable-legacy --org 2"), "a fix is one line: {screen}");
}
