//! The bundled demo database and the README's first command.

use crate::harness::lsauth;

/// The first `cargo run --quiet -- ...` line of the README, as arguments.
fn readme_demo_args() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let line = readme
        .lines()
        .find(|l| l.starts_with("cargo run --quiet -- "))
        .expect("README has a `cargo run --quiet -- ...` demo command");
    line.trim_start_matches("cargo run --quiet -- ").split_whitespace().map(String::from).collect()
}

#[test]
fn readme_demo_command_runs_doctor_and_shows_the_classic_problems() {
    let root = env!("CARGO_MANIFEST_DIR");
    let demo = std::path::Path::new(root).join("demo/label_studio.sqlite3");
    let before = std::fs::read(&demo).expect("demo database is bundled");
    let out = lsauth(readme_demo_args()).current_dir(std::path::Path::new(root)).run();
    let stdout = &out.stdout;
    assert_eq!(readme_demo_args().last().map(String::as_str), Some("doctor"), "the README's first command runs doctor");
    assert_eq!(out.code, 1, "problems found: {stdout}{}", out.stderr);
    assert!(stdout.starts_with("FAIL 1 problem found, 3 warnings"), "the verdict comes first:\n{stdout}");
    for problem in [
        "2 organizations reject the legacy tokens of 4 users",
        "Research (upgraded)",
        "no settings row",
        "Vendor QA",
        "fix: lsauth --db demo/label_studio.sqlite3 enable-legacy --org 1 --org 2",
        "fix: lsauth --db demo/label_studio.sqlite3 enable-pat --org 3",
        "no-token@acme.test has no legacy token",
    ] {
        assert!(stdout.contains(problem), "demo output lacks {problem:?}:\n{stdout}");
    }
    assert_eq!(std::fs::read(&demo).unwrap(), before, "the demo must not change the demo database");
}

#[test]
fn demo_database_still_opens_with_its_problems() {
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/label_studio.sqlite3");
    let json = lsauth(["--db", demo, "orgs", "--json"]).run().json();
    let summary = &json["summary"];
    assert_eq!(summary["organizations"], 5);
    assert_eq!(summary["without_settings_row"], 1);
    assert_eq!(summary["legacy_disabled"], 2);
    assert_eq!(summary["pat_disabled"], 1);
    assert_eq!(summary["rejected_legacy_tokens"], 4);
}
