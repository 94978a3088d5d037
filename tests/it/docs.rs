//! The examples in docs/*.md run here, so they cannot rot.
//!
//! In a ```console block, a line `$ lsauth ...` is a command and the lines after it, up to
//! the next `$` line, are its expected output (stdout then stderr; in a snapshot, stderr
//! after a line `[stderr]`, so the two are told apart). `...` alone on a line
//! matches any number of lines, `[..]` inside a line matches any text, and a last line
//! `[exit: N]` gives the expected exit status (default 0). Each guide runs in order in a
//! scratch directory holding a copy of demo/ and `sync-script.env`, next to an in-process
//! Label Studio that knows the demo's users and keys (LABEL_STUDIO_URL points at it).
//! `< FILE` at the end of a command feeds it FILE (the scratch directory has
//! `password.txt`, the demo users' password). Guides about installs whose database lsauth
//! cannot see run with the server's settings as the only truth (no sync from demo/).

use std::path::Path;

use crate::fake_ls::FakeLs;
use crate::harness::lsauth;

struct Example {
    line: usize,
    /// The line after the expected output (the next `$` line or the closing fence).
    end: usize,
    command: String,
    expected: Vec<String>,
    exit: i32,
}

fn examples(markdown: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_console = false;
    let mut current: Option<Example> = None;
    for (i, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            if in_console {
                out.extend(current.take().map(|ex| Example { end: i, ..ex }));
            }
            in_console = line.trim() == "```console";
            continue;
        }
        if !in_console {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.extend(current.take().map(|ex| Example { end: i, ..ex }));
            current = Some(Example { line: i + 1, end: 0, command: cmd.to_string(), expected: Vec::new(), exit: 0 });
        } else if let Some(ex) = current.as_mut() {
            match line.strip_prefix("[exit: ").and_then(|l| l.strip_suffix(']')) {
                Some(code) => ex.exit = code.parse().expect("[exit: N]"),
                None => ex.expected.push(line.to_string()),
            }
        }
    }
    out
}

fn line_matches(pattern: &str, actual: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == actual;
    }
    let mut rest = actual;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

fn output_matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..])),
        Some((first, rest)) => {
            !actual.is_empty() && line_matches(first, actual[0]) && output_matches(rest, &actual[1..])
        }
    }
}

/// Split a command line on spaces, honouring single and double quotes.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in command.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, ' ') => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// A Label Studio that knows the demo database's users, keys and settings.
fn demo_server() -> FakeLs {
    let fake = FakeLs::start("demo-secret-key");
    for (id, email, org) in [
        (1, "admin@acme.test", 1),
        (2, "ml-backend@acme.test", 1),
        (3, "rita@research.test", 2),
        (4, "pipeline@research.test", 2),
        (5, "vera@vendor.test", 3),
        (6, "hal@healthy.test", 4),
    ] {
        fake.add_user(id, email, org);
        fake.add_legacy(&format!("dead0000beef0000dead0000beef0000dead000{id}"), id);
    }
    fake
}

/// Make the fake server apply what the scratch database now says, as the real server does
/// on its next request.
fn sync_settings(fake: &FakeLs, db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT o.id, COALESCE(s.api_tokens_enabled, 1), COALESCE(s.legacy_api_tokens_enabled, 0) \
             FROM organization o LEFT JOIN jwt_auth_jwtsettings s ON s.organization_id = o.id",
        )
        .unwrap();
    let rows: Vec<(i64, bool, bool)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(|r| r.unwrap()).collect();
    for (org, api, legacy) in rows {
        fake.set_org(org, api, legacy);
    }
}

/// Today's and yesterday's dates (UTC), as lsauth prints them: the times a run makes.
fn run_dates() -> &'static [String; 2] {
    static DATES: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
    DATES.get_or_init(|| {
        let today = time::OffsetDateTime::now_utc().date();
        let text = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        [text(today), text(today.previous_day().unwrap_or(today))]
    })
}

fn rest_at(chars: &[char], i: usize) -> String {
    chars[i..chars.len().min(i + 10)].iter().collect()
}

/// Output as a guide shows it: what changes from run to run (backup ids, which hold the
/// time; times; scratch paths and HOME) as `[..]`.
fn as_documented(line: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let digits = |from: usize, n: usize| (from..from + n).all(|k| chars.get(k).is_some_and(|c| c.is_ascii_digit()));
        let is_id =
            digits(i, 8) && chars.get(i + 8) == Some(&'T') && digits(i + 9, 12) && chars.get(i + 21) == Some(&'Z');
        let at = |k: usize, c: char| chars.get(k) == Some(&c);
        // 2026-12-01 14:15:00[.123456] or with a T: a time this run made (today's or, past
        // midnight, yesterday's); the demo's own times are shown as they are.
        let is_time = run_dates().iter().any(|d| rest_at(&chars, i).starts_with(d.as_str()))
            && digits(i, 4)
            && at(i + 4, '-')
            && digits(i + 5, 2)
            && at(i + 7, '-')
            && digits(i + 8, 2)
            && (at(i + 10, ' ') || at(i + 10, 'T'))
            && digits(i + 11, 2)
            && at(i + 13, ':')
            && digits(i + 14, 2)
            && at(i + 16, ':')
            && digits(i + 17, 2);
        let rest: String = chars[i..].iter().collect();
        if is_time {
            out.push_str("[..]");
            i += 19;
            if at(i, '.') {
                i += 1;
                while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
            }
        } else if is_id {
            out.push_str("[..]");
            i += 22;
        } else if let Some(home) = rest.strip_prefix("/tmp/lsauth-home-") {
            // The test harness's scratch HOME.
            out.push_str("[..]");
            i += "/tmp/lsauth-home-".len() + home.find('/').unwrap_or(home.len());
        } else if rest.starts_with("/tmp/.tmp") {
            out.push_str("[..]");
            i += rest.find("/demo/").map(|at| at + 1).unwrap_or(rest.len());
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// With LSAUTH_BLESS_DOCS=1: the examples whose output no longer matches get the output
/// of this run (see `as_documented`), written back into the guide; review the diff.
fn bless(name: &str, blessed: &[(usize, usize, Vec<String>, i32)]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(guide_path(name));
    let markdown = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = markdown.lines().map(String::from).collect();
    for (start, end, output, code) in blessed.iter().rev() {
        let mut new: Vec<String> = output.iter().map(|l| as_documented(l)).collect();
        if *code != 0 {
            new.push(format!("[exit: {code}]"));
        }
        lines.splice(*start..*end, new);
    }
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// A guide's path from the repository's root: `docs/NAME`, the README itself, or a
/// snapshot file (`tests/snapshots/NAME`).
fn guide_path(name: &str) -> std::path::PathBuf {
    if name == "README.md" {
        "README.md".into()
    } else if name.starts_with("snapshots/") {
        Path::new("tests").join(name)
    } else {
        Path::new("docs").join(name)
    }
}

fn run_guide(name: &str) {
    run_guide_with(name, true)
}

/// `sync_from_db`: before each command the fake server takes the scratch database's
/// settings, as the real one reads its own database (off for API-only guides, where the
/// server's settings change through the API and the database is out of lsauth's reach).
fn run_guide_with(name: &str, sync_from_db: bool) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let markdown = std::fs::read_to_string(root.join(guide_path(name))).unwrap();
    let cases = examples(&markdown);
    assert!(!cases.is_empty(), "{name} has no console examples");
    let scratch = tempfile::tempdir().unwrap();
    std::fs::create_dir(scratch.path().join("demo")).unwrap();
    for file in ["label_studio.sqlite3", ".env"] {
        std::fs::copy(root.join("demo").join(file), scratch.path().join("demo").join(file)).unwrap();
    }
    let blessing = std::env::var_os("LSAUTH_BLESS_DOCS").is_some();
    let mut blessed = Vec::new();
    let fake = demo_server();
    std::fs::write(
        scratch.path().join("sync-script.env"),
        format!(
            "# nightly sync script (label-studio-sdk)\nLABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY=dead0000beef0000dead0000beef0000dead0002\n",
            fake.url
        ),
    )
    .unwrap();
    std::fs::write(
        scratch.path().join("ml-backend.env"),
        format!(
            "LABEL_STUDIO_URL={}\nLABEL_STUDIO_API_KEY=dead0000beef0000dead0000beef0000dead0002\nMODEL_DIR=/data/models\n",
            fake.url
        ),
    )
    .unwrap();
    std::fs::write(scratch.path().join("password.txt"), "pw\n").unwrap();
    for ex in cases {
        if sync_from_db {
            sync_settings(&fake, &scratch.path().join("demo/label_studio.sqlite3"));
        }
        let mut argv = words(&ex.command);
        let stdin_file = match argv.iter().position(|w| w == "<") {
            Some(at) => {
                let file = argv.get(at + 1).cloned().expect("< FILE");
                argv.truncate(at);
                Some(file)
            }
            None => None,
        };
        assert_eq!(argv[0], "lsauth", "{name}:{}: examples run lsauth", ex.line);
        let mut run = lsauth(&argv[1..])
            .env("LSAUTH_BACKUP_DIR", "backups")
            .env("LABEL_STUDIO_URL", &fake.url)
            .env("COLUMNS", "200")
            .current_dir(scratch.path());
        if let Some(file) = &stdin_file {
            run = run.stdin(std::fs::read(scratch.path().join(file)).unwrap());
        }
        // Through the harness's Run: the secret check sees every example.
        let out = run.run();
        // A snapshot shows stderr apart, after `[stderr]`; a guide shows what a terminal shows.
        let text = if name.starts_with("snapshots/") && !out.stderr.is_empty() {
            format!("{}[stderr]\n{}", out.stdout, out.stderr)
        } else {
            format!("{}{}", out.stdout, out.stderr)
        };
        let text = text.replace(&fake.url, "http://localhost:8080");
        let actual: Vec<&str> = text.lines().collect();
        let code = out.code;
        if blessing {
            if !(code == ex.exit && output_matches(&ex.expected, &actual)) {
                blessed.push((ex.line, ex.end, actual.iter().map(|l| l.to_string()).collect(), code));
            }
            continue;
        }
        assert!(
            code == ex.exit && output_matches(&ex.expected, &actual),
            "docs/{name}:{}: `{}`\nexit {code} (expected {})\n--- expected\n{}\n--- actual\n{}",
            ex.line,
            ex.command,
            ex.exit,
            ex.expected.join("\n"),
            text
        );
    }
    if blessing {
        bless(name, &blessed);
    }
}

#[test]
fn fixing_401_after_upgrade() {
    run_guide("fixing-401-after-upgrade.md");
}

#[test]
fn upgrading_label_studio() {
    run_guide("upgrading-label-studio.md");
}

#[test]
fn moving_to_pats() {
    run_guide("moving-to-pats.md");
}

#[test]
fn backups_and_rollback() {
    run_guide("backups-and-rollback.md");
}

#[test]
fn fixing_docker_kubernetes() {
    run_guide_with("fixing-docker-kubernetes.md", false);
}

#[test]
fn json_and_exit_codes() {
    run_guide("json-and-exit-codes.md");
}

#[test]
fn the_matcher_itself() {
    assert!(line_matches("Backup: [..].json", "Backup: backups/2026-x.json"));
    assert!(!line_matches("Backup: [..].json", "Backup: x.txt"));
    let expected: Vec<String> = ["a", "...", "z"].iter().map(|s| s.to_string()).collect();
    assert!(output_matches(&expected, &["a", "b", "c", "z"]));
    assert!(output_matches(&expected, &["a", "z"]));
    assert!(!output_matches(&expected, &["a", "b"]));
    assert_eq!(words("lsauth --db 'a b' x"), ["lsauth", "--db", "a b", "x"]);
}

#[test]
fn readme() {
    run_guide("README.md");
}

/// Whole-output snapshots (tests/snapshots/): every command's human output and --json on
/// the demo, and the API-only paths. Updated like the guides, with LSAUTH_BLESS_DOCS=1.
#[test]
fn snapshots_demo() {
    run_guide("snapshots/demo.md");
}

#[test]
fn snapshots_api_only() {
    run_guide_with("snapshots/api-only.md", false);
}
