//! `lsauth upgrade-check` and `lsauth pin` (#30): what an upgrade will reject, predicted
//! from the database; rows that keep today's values through it; and the doctor warning.

use crate::harness::{lsauth, Fixture};
use crate::on_both_backends;

/// A database as Label Studio 1.17-1.21 leaves it: jwt_auth 0001 only. In the classic
/// seed organization 2 has no row and two users whose active organization it is, with keys.
fn on_1_21(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth' AND name LIKE '0002%'");
}

fn org(json: &serde_json::Value, id: i64) -> &serde_json::Value {
    json["organizations"].as_array().unwrap().iter().find(|o| o["id"] == id).unwrap()
}

fn a_rowless_organization_on_1_21_is_predicted_pinned_and_unpinned(fx: &dyn Fixture) {
    on_1_21(fx);
    let backups = tempfile::tempdir().unwrap();
    let b = backups.path().display().to_string();
    let check = || lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "1.23.2", "--json"]).run();
    let run = check();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["to"], "1.23.2");
    let beta = org(&json, 2);
    assert_eq!(beta["has_settings_row"], false);
    assert_eq!(beta["now"]["legacy_api_tokens_enabled"], true);
    assert_eq!(beta["after"]["legacy_api_tokens_enabled"], false);
    assert_eq!(beta["after"]["api_tokens_enabled"], true);
    assert_eq!(beta["rejected_legacy_tokens_now"], 0);
    assert!(beta["rejected_legacy_tokens_after"].as_i64().unwrap() > 0, "{beta}");
    assert_eq!(org(&json, 1)["after"], org(&json, 1)["now"], "a row is kept as it is");
    assert!(json["fix"][0]["command"].as_str().unwrap().ends_with("pin --org 2"), "{json}");
    assert!(!json["fix"].to_string().contains("Secret"), "the fix line never carries the password: {json}");
    let text = lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "latest"]).run();
    assert!(text.stdout.contains("rejects tokens that work today"), "{}", text.stdout);
    // Within 1.17-1.21 nothing changes.
    lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "1.20.0"]).run().expect_code(0);

    // doctor warns ahead, with the fix.
    let doctor = lsauth(["--db", &fx.db_arg(), "doctor", "--json"]).run().json();
    let risk = doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "orgs.upgrade_risk").unwrap().clone();
    assert_eq!(risk["status"], "warn", "{risk}");
    assert!(risk["fix"].as_str().unwrap().contains("pin --org 2"), "{risk}");

    let before = fx.settings_full();
    lsauth(["--db", &fx.db_arg(), "pin", "--all", "--dry-run", "--backup-dir", &b]).run().expect_code(0);
    assert_eq!(fx.settings_full(), before, "a dry run writes nothing");
    let run = lsauth(["--db", &fx.db_arg(), "pin", "--all", "--yes", "--backup-dir", &b, "--json"]).run();
    run.expect_code(0);
    assert_eq!(run.json()["changed"], 1, "{}", run.stdout);
    let rows = fx.settings_rows();
    let pinned = rows.iter().find(|r| r.0 == 2).expect("organization 2 has a row now");
    assert_eq!((pinned.1, pinned.2), (false, true), "today's values: PATs off, legacy tokens on");
    check().expect_code(0);
    let doctor = lsauth(["--db", &fx.db_arg(), "doctor", "--json"]).run().json();
    let risk = doctor["checks"].as_array().unwrap().iter().find(|c| c["id"] == "orgs.upgrade_risk").unwrap().clone();
    assert_eq!(risk["status"], "pass", "{risk}");
    // Pinned again: nothing to do.
    let again = lsauth(["--db", &fx.db_arg(), "pin", "--all", "--yes", "--backup-dir", &b]).run();
    again.expect_code(0);
    assert!(again.stdout.contains("Nothing to pin"), "{}", again.stdout);

    lsauth(["--db", &fx.db_arg(), "rollback", "--latest", "--yes", "--backup-dir", &b]).run().expect_code(0);
    assert_eq!(fx.settings_full(), before, "the pin rolled back");
    check().expect_code(1);
}

fn an_instance_before_1_17_is_predicted_with_the_post_migration_fix(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.exec("DROP TABLE jwt_auth_jwtsettings");
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth'");
    // orgs still says there is nothing to fix there, and where to look.
    let orgs = lsauth(["--db", &fx.db_arg(), "orgs"]).run();
    orgs.expect_code(2);
    assert!(orgs.stderr.contains("upgrade-check"), "{}", orgs.stderr);
    let run = lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "1.22.0", "--json"]).run();
    run.expect_code(1);
    let json = run.json();
    assert_eq!(json["now_generation"], "before_jwt");
    for o in json["organizations"].as_array().unwrap() {
        assert_eq!(o["now"]["legacy_api_tokens_enabled"], true, "{o}");
        assert_eq!(o["after"]["legacy_api_tokens_enabled"], false, "{o}");
        assert_eq!(o["rejected_legacy_tokens_now"], 0, "{o}");
    }
    let fix: Vec<&str> = json["fix"].as_array().unwrap().iter().map(|s| s["command"].as_str().unwrap()).collect();
    assert!(fix.contains(&"label-studio version"), "{fix:?}");
    assert!(fix.iter().any(|s| s.ends_with("enable-legacy --all --yes")), "{fix:?}");
    // 1.20 keeps legacy tokens (and switches PATs off instead, of which there are none).
    lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "1.20.0"]).run().expect_code(0);
}

on_both_backends!(
    a_rowless_organization_on_1_21_is_predicted_pinned_and_unpinned,
    an_instance_before_1_17_is_predicted_with_the_post_migration_fix,
    unknown_defaults_are_not_pinned
);

/// A copied database whose django_migrations records no jwt_auth migration: lsauth cannot
/// tell today's values, so pin refuses (exit 1, nothing written) and upgrade-check names the
/// explicit legacy row instead.
fn unknown_defaults_are_not_pinned(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.exec("DELETE FROM django_migrations WHERE app = 'jwt_auth'");
    let backups = tempfile::tempdir().unwrap();
    let before = fx.settings_full();
    let run =
        lsauth(["--db", &fx.db_arg(), "pin", "--all", "--yes", "--backup-dir", &backups.path().display().to_string()])
            .run();
    run.expect_code(1);
    assert!(run.all_output().contains("records no jwt_auth migration"), "{}", run.all_output());
    assert_eq!(fx.settings_full(), before, "nothing was written");
    let json = lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "latest", "--json"]).run().json();
    assert!(json["fix"][0]["command"].as_str().unwrap().contains("enable-legacy"), "{json}");
}

#[test]
fn unknown_releases_and_downgrades_are_bad_input() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let run = lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "1.24.0"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("1.17.0") && run.stderr.contains("1.23.2"), "{}", run.stderr);
    let run = lsauth(["--db", &fx.db_arg(), "upgrade-check", "--to", "1.21.0"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("downgrade"), "{}", run.stderr);
}
