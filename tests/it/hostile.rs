//! Hostile and unusual surroundings (#25), as a user meets them: poisoned titles and
//! server answers, passwords in URLs, a BOM or a lone CR in a `.env`, a template's
//! `KEY= # comment`, FIFOs and devices given as files, a bind-mounted `.env`, locks held
//! on a read, a crashed writer's hot journal.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::fake_ls::{pat, FakeLs};
use crate::harness::{lsauth, Fixture, SqliteFixture};
use crate::on_both_backends;

const SECRET: &str = "hostile-test-secret";
const KEY: &str = "0123456789abcdef0123456789abcdef01234567";
const OTHER_KEY: &str = "fedcba9876543210fedcba9876543210fedcba98";

/// The in-process Label Studio with user 1 (admin@acme.test) in organization 1, holding KEY,
/// legacy tokens on or off there.
fn server(legacy_on: bool) -> FakeLs {
    FakeLs::with_admin(SECRET, KEY, legacy_on)
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[track_caller]
fn no_raw_escape(text: &str) {
    assert!(!text.contains('\u{1b}'), "a raw ESC reached the output:\n{text:?}");
    assert!(!text.contains('\u{202e}'), "a raw bidi override reached the output:\n{text:?}");
}

// ---------------------------------------------------------------- strings from outside

const POISON: &str = "Acme\u{1b}[2J\u{1b}[H\nforged | row\u{202e}";

fn poisoned(fx: &dyn Fixture) {
    fx.seed_classic();
    fx.exec(&format!("UPDATE organization SET title = '{POISON}' WHERE id = 1"));
    fx.exec("UPDATE htx_user SET email = 'evil\u{1b}]0;pwned\u{7}@acme.test' WHERE id = 1");
}

fn orgs_and_plans_show_outside_strings_escaped(fx: &dyn Fixture) {
    poisoned(fx);
    let backups = tempfile::tempdir().unwrap();
    let b = backups.path().display().to_string();
    for args in [
        vec!["--db", &fx.db_arg(), "orgs"],
        vec!["--db", &fx.db_arg(), "enable-legacy", "--all", "--dry-run", "--backup-dir", &b],
        vec!["--db", &fx.db_arg(), "doctor"],
    ] {
        let run = lsauth(args.clone()).run();
        let out = run.all_output();
        no_raw_escape(&out);
        // Escaped once, the same way everywhere (doctor wrote `\u{1b}` or `\\x1b`).
        assert!(out.contains("Acme\\x1b[2J"), "{args:?}: the title is shown, escaped:\n{out}");
        assert!(!out.contains("\\\\x1b") && !out.contains("\\u{1b}"), "{args:?}: escaped twice:\n{out}");
        assert!(!out.lines().any(|l| l.trim_start().starts_with("forged")), "{args:?}: no forged line:\n{out}");
    }
    // The owner of a key, from the database, as token inspect shows it.
    fx.exec(&format!("UPDATE authtoken_token SET key = '{KEY}' WHERE user_id = 1"));
    let run = lsauth(["--db", &fx.db_arg(), "token", "inspect", KEY]).run();
    no_raw_escape(&run.all_output());
    assert!(run.stdout.contains("evil\\x1b]0;pwned\\x07@acme.test"), "{}", run.stdout);
    // --json keeps the exact strings.
    let json = lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run().json();
    let titles: Vec<&str> =
        json["organizations"].as_array().unwrap().iter().filter_map(|o| o["title"].as_str()).collect();
    assert!(titles.contains(&POISON), "{json}");
}

on_both_backends!(orgs_and_plans_show_outside_strings_escaped, a_read_that_meets_a_lock_is_exit_3);

#[test]
fn server_answers_are_shown_escaped() {
    let fake = server(false);
    fake.with(|s| s.release = Some("1.23.2\u{1b}[31m\u{202e}".into()));
    let run = lsauth(["token", "test", KEY, "--url", &fake.url]).run();
    run.expect_code(1);
    no_raw_escape(&run.all_output());
    assert!(run.stdout.contains("1.23.2\\x1b[31m\\u{202e}"), "{}", run.stdout);
}

// ---------------------------------------------------------------- secrets

#[test]
fn passwords_in_urls_are_never_shown() {
    let run = lsauth(["doctor", "--url", "http://bot:Hunter2Secret@127.0.0.1:1/", "--timeout", "2"]).run();
    assert!(!run.all_output().contains("Hunter2Secret"), "{}", run.all_output());
    let run = lsauth(["token", "test", KEY, "--url", "http://bot:Hunter2Secret@[::1"]).run();
    run.expect_code(2);
    assert!(!run.all_output().contains("Hunter2Secret"), "{}", run.all_output());
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL=http://bot:Hunter2Secret@bad host/\nLABEL_STUDIO_API_KEY={KEY}\n"))
        .unwrap();
    let run = lsauth(["token", "test", "--env-file", &env.display().to_string()]).run();
    run.expect_code(2);
    assert!(!run.all_output().contains("Hunter2Secret"), "{}", run.all_output());
}

#[test]
fn a_bom_is_named_and_no_line_of_the_file_is_printed() {
    let fake = server(true);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    let text = format!("\u{feff}LABEL_STUDIO_API_KEY={KEY}\nLABEL_STUDIO_URL={}\n", fake.url);
    std::fs::write(&env, &text).unwrap();
    let e = env.display().to_string();
    for args in [vec!["token", "test", "--env-file", &e], vec!["doctor", "--env-file", &e]] {
        let run = lsauth(args.clone()).run();
        assert!(!run.all_output().contains(KEY), "{args:?} printed the key:\n{}", run.all_output());
        assert!(run.all_output().contains("byte order mark"), "{args:?}:\n{}", run.all_output());
    }
    let run = lsauth(["migrate-env", "--env-file", &e, "--yes", "--json"]).run();
    run.expect_code(2);
    assert!(!run.all_output().contains(KEY), "{}", run.all_output());
    assert!(run.json()["error"].as_str().unwrap().contains("byte order mark"), "{}", run.stdout);
    assert_eq!(std::fs::read_to_string(&env).unwrap(), text, "untouched");
    assert!(fake.with(|s| s.issued.is_empty()), "nothing minted");
}

#[test]
fn a_line_that_does_not_parse_is_named_never_quoted() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    for (text, line) in [
        (format!("LABEL_STUDIO_URL=http://x/\n1BAD={KEY}\n"), "line 2"),
        (format!("A=1\nLABEL_STUDIO_API_KEY=\"{KEY}\"{OTHER_KEY}\n"), "line 2"),
        (format!("KEY=\"-----BEGIN\"\n{KEY} and more\n"), "line 2"),
    ] {
        std::fs::write(&env, text).unwrap();
        let run = lsauth(["token", "inspect", "--env-file", &env.display().to_string(), "--json"]).run();
        run.expect_code(2);
        assert!(run.stderr.contains(line), "{}", run.stderr);
        assert!(!run.all_output().contains(&KEY[..12]), "{}", run.all_output());
        assert!(!run.all_output().contains(&OTHER_KEY[..12]), "{}", run.all_output());
    }
}

// ---------------------------------------------------------------- what the reader reads

/// python-dotenv ends a line at a lone CR: the client uses the second key, and so must
/// lsauth.
#[test]
fn a_lone_cr_ends_a_line_as_for_python_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("LABEL_STUDIO_API_KEY={KEY}\rLABEL_STUDIO_API_KEY={OTHER_KEY}\n")).unwrap();
    let json = lsauth(["token", "inspect", "--env-file", &env.display().to_string(), "--json"]).run().json();
    assert_eq!(json["token"], "fedc…ba98", "{json}");
}

#[test]
fn a_template_s_empty_value_with_a_comment_gets_the_value_before_the_comment() {
    let fake = FakeLs::start(SECRET);
    fake.add_user(1, "admin@acme.test", 1);
    fake.set_org(1, true, true);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(&env, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY= # paste the key here\n", fake.url))
        .unwrap();
    let given = pat(SECRET, 1, "templ");
    let e = env.display().to_string();
    let run = lsauth(["migrate-env", "--env-file", &e, "--pat-stdin", "--yes", "--allow-other-user", "--drop-legacy"])
        .env("LSAUTH_BACKUP_DIR", dir.path().join("b").display().to_string())
        .stdin(given.clone())
        .run();
    run.expect_code(0);
    let text = std::fs::read_to_string(&env).unwrap();
    assert!(text.contains(&format!("LABEL_STUDIO_API_KEY= {given} # paste the key here\n")), "{text}");
}

// ---------------------------------------------------------------- files that are no files

#[test]
fn fifos_and_devices_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.env");
    mkfifo(&fifo);
    let f = fifo.display().to_string();
    let started = Instant::now();
    for args in [
        vec!["token", "inspect", "--env-file", &f],
        vec!["token", "inspect", "--env-file", "/dev/zero"],
        vec!["--db", &f, "orgs"],
        vec!["--db", "/dev/zero", "orgs"],
        vec!["doctor", "--env-file", &f],
    ] {
        let run = lsauth(args.clone()).run();
        run.expect_code(2);
        assert!(
            run.stderr.contains("not a regular file") || run.stderr.contains("not a SQLite"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    mkfifo(&backups.join("20261201T000000Z-enable-legacy.json"));
    let fx = SqliteFixture::new();
    fx.seed_classic();
    lsauth(["--db", &fx.db_arg(), "rollback", "--list", "--backup-dir", &backups.display().to_string()])
        .run()
        .expect_code(0);
    assert!(started.elapsed() < Duration::from_secs(60), "nothing hung");
}

#[test]
fn an_oversized_env_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    let f = std::fs::File::create(&env).unwrap();
    f.set_len((16 << 20) + 1).unwrap();
    let run = lsauth(["token", "inspect", "--env-file", &env.display().to_string()]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("16 MiB"), "{}", run.stderr);
}

/// `docker run -v ./.env:/app/.env`: the file is a mount point, no rename can replace it.
/// lsauth finds out before the server is asked anything, and writes it in place.
#[test]
fn a_bind_mounted_env_file_is_written_in_place() {
    let fake = server(true);
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("host.env");
    let mounted: PathBuf = dir.path().join("app/.env");
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(&source, format!("LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY={KEY}\n", fake.url)).unwrap();
    std::fs::write(&mounted, "").unwrap();
    let given = pat(SECRET, 1, "mounted");
    let exe = env!("CARGO_BIN_EXE_lsauth");
    let script = format!(
        "mount --bind '{}' '{}' && exec '{exe}' migrate-env --env-file '{}' --pat-stdin --yes",
        source.display(),
        mounted.display(),
        mounted.display()
    );
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", &script])
        .env("LSAUTH_BACKUP_DIR", dir.path().join("b"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(given.as_bytes())?;
            child.wait_with_output()
        })
        .expect("unshare (util-linux) runs lsauth in a mount namespace of its own");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("written in place, not atomically"), "{stdout}");
    let text = std::fs::read_to_string(&source).unwrap();
    assert!(text.contains(&format!("LABEL_STUDIO_API_KEY={given}")), "the mounted file changed: {text}");
}

// ---------------------------------------------------------------- locks and journals

/// Label Studio in the middle of a commit: no reader gets in until `hold` is over.
fn hold_exclusive(fx: &dyn Fixture, hold: Duration) -> std::thread::JoinHandle<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    let (kind, db) = (fx.kind(), fx.db_arg());
    let handle = std::thread::spawn(move || {
        if kind == "sqlite" {
            let conn = rusqlite::Connection::open(&db).unwrap();
            conn.execute_batch("BEGIN EXCLUSIVE; UPDATE organization SET title = title WHERE id = 1;").unwrap();
            tx.send(()).unwrap();
            std::thread::sleep(hold);
            conn.execute_batch("COMMIT").unwrap();
        } else {
            let mut client = ::postgres::Client::connect(&db, ::postgres::NoTls).unwrap();
            let mut t = client.transaction().unwrap();
            t.batch_execute("LOCK TABLE jwt_auth_jwtsettings IN ACCESS EXCLUSIVE MODE").unwrap();
            tx.send(()).unwrap();
            std::thread::sleep(hold);
            t.commit().unwrap();
        }
    });
    rx.recv().unwrap();
    handle
}

fn a_read_that_meets_a_lock_is_exit_3(fx: &dyn Fixture) {
    fx.seed_classic();
    let backups = tempfile::tempdir().unwrap();
    for args in [
        vec!["orgs"],
        vec!["enable-legacy", "--all", "--dry-run", "--backup-dir", &backups.path().display().to_string()],
        vec!["doctor"],
    ] {
        let holder = hold_exclusive(fx, Duration::from_secs(4));
        let mut all = vec!["--db".to_string(), fx.db_arg(), "--lock-timeout".into(), "1".into()];
        all.extend(args.iter().map(|s| s.to_string()));
        let run = lsauth(all).run();
        holder.join().unwrap();
        run.expect_code(3);
        let said = run.all_output();
        assert!(said.contains("locked by another writer") || said.contains("lock timeout"), "{args:?}: {said}");
    }
}

/// A writer killed in the middle of a transaction leaves a hot journal that only a
/// writer can roll back: named, exit 3, and doctor goes on with what needs no database.
#[test]
fn a_hot_journal_is_named() {
    let fx = SqliteFixture::new();
    fx.seed_classic();
    let db = fx.path.display().to_string();
    let script = "import sqlite3, os, sys\n\
                  c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                  c.execute('PRAGMA journal_mode=DELETE'); c.execute('BEGIN')\n\
                  c.execute(\"UPDATE organization SET title = 'half' WHERE id = 1\")\n\
                  c.execute('PRAGMA cache_size=0')\n\
                  c.execute('CREATE TABLE spill (x)')\n\
                  [c.execute('INSERT INTO spill VALUES (randomblob(1000))') for i in range(3000)]\n\
                  os._exit(0)\n";
    let status = std::process::Command::new("python3").args(["-c", script, &db]).status().unwrap();
    assert!(status.success());
    assert!(Path::new(&format!("{db}-journal")).exists(), "a hot journal was left");
    let run = lsauth(["--db", &db, "orgs"]).run();
    run.expect_code(3);
    assert!(run.stderr.contains("-journal is a hot journal"), "{}", run.stderr);
    assert!(!run.stderr.contains("readonly database"), "{}", run.stderr);
    let run = lsauth(["--db", &db, "doctor", "--json"]).run();
    let json = run.json();
    let conn = json["checks"].as_array().unwrap().iter().find(|c| c["id"] == "database.connection").unwrap().clone();
    assert_eq!(conn["status"], "fail", "{json}");
    assert!(conn["detail"].as_str().unwrap().contains("hot journal"), "{conn}");
}

/// A member retitled the organization (`PATCH /api/organizations/ID`): the `--via-api`
/// plan an operator confirms shows the title escaped.
#[test]
fn the_via_api_plan_shows_a_server_title_escaped() {
    let fake = FakeLs::start(SECRET);
    fake.add_user(1, "admin@acme.test", 1);
    fake.with(|s| {
        s.users.get_mut(&1).unwrap().password = "pw-for-hostile".into();
        s.titles.insert(1, POISON.into());
    });
    fake.set_org(1, true, false);
    let dir = tempfile::tempdir().unwrap();
    let args = ["enable-legacy", "--via-api", "--dry-run", "--url", &fake.url, "--login", "admin@acme.test"];
    let run = lsauth(args.iter().copied().chain(["--password-stdin"]))
        .env("LSAUTH_BACKUP_DIR", dir.path().display().to_string())
        .stdin("pw-for-hostile\n")
        .run();
    run.expect_code(0);
    no_raw_escape(&run.all_output());
    assert!(run.stdout.contains("\\x1b[2J"), "{}", run.stdout);
    assert!(!run.stdout.lines().any(|l| l.trim_start().starts_with("forged")), "{}", run.stdout);
}

/// The migrate-env diff shows the file's own lines: an escape sequence in one of them is
/// shown escaped, and the plan above it cannot be rewritten.
#[test]
fn the_migrate_env_diff_shows_file_contents_escaped() {
    let fake = server(true);
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join(".env");
    std::fs::write(
        &env,
        format!("LABEL_STUDIO_URL={}\nNOTE=x\u{1b}[1A\u{1b}[2K\u{202e}\nLABEL_STUDIO_API_KEY={KEY}\n", fake.url),
    )
    .unwrap();
    let run = lsauth(["migrate-env", "--env-file", &env.display().to_string(), "--dry-run"])
        .env("LSAUTH_BACKUP_DIR", dir.path().join("b").display().to_string())
        .run();
    run.expect_code(0);
    no_raw_escape(&run.all_output());
    assert!(run.stdout.contains("NOTE=x\\x1b[1A\\x1b[2K\\u{202e}"), "{}", run.stdout);
    assert!(!run.all_output().contains(KEY), "{}", run.all_output());
}
