//! Finding the database as Label Studio does, and every kind of bad input.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::harness::{lsauth, pg_cluster, running_as_root, Fixture, PgFixture, SqliteFixture, PG_PASSWORD};

fn location(run: &crate::harness::Run) -> String {
    run.json()["database"]["location"].as_str().unwrap().to_string()
}

#[test]
fn default_sqlite_file_under_the_user_data_dir() {
    let fx = SqliteFixture::new();
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join(".local/share/label-studio");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(&fx.path, data.join("label_studio.sqlite3")).unwrap();
    let run = lsauth(["orgs", "--json"]).env("HOME", home.path().display().to_string()).run();
    run.expect_code(0);
    assert_eq!(location(&run), data.join("label_studio.sqlite3").display().to_string());
    assert!(run.json()["database"]["source"].as_str().unwrap().contains("DJANGO_DB unset"));
}

#[test]
fn base_data_dir_with_each_prefix() {
    let fx = SqliteFixture::new();
    let dir = fx.dir.path().display().to_string();
    for var in ["LABEL_STUDIO_BASE_DATA_DIR", "HEARTEX_BASE_DATA_DIR", "BASE_DATA_DIR"] {
        let run = lsauth(["orgs", "--json"]).env(var, &dir).run();
        run.expect_code(0);
        assert_eq!(location(&run), fx.path.display().to_string(), "{var}");
        assert!(run.json()["database"]["source"].as_str().unwrap().contains(var), "{var}");
    }
}

#[test]
fn prefixed_setting_wins_like_label_studio() {
    let fx = SqliteFixture::new();
    let run = lsauth(["orgs", "--json"])
        .env("BASE_DATA_DIR", "/nowhere")
        .env("LABEL_STUDIO_DATABASE_NAME", fx.path.display().to_string())
        .env("HEARTEX_DATABASE_NAME", "/also/nowhere.sqlite3")
        .run();
    run.expect_code(0);
    assert_eq!(location(&run), fx.path.display().to_string());
}

#[test]
fn flag_beats_lsauth_db_beats_label_studio_env() {
    let a = SqliteFixture::new();
    let b = SqliteFixture::new();
    let run =
        lsauth(["orgs", "--json", "--db", &a.db_arg()]).env("LSAUTH_DB", b.db_arg()).env("DATABASE_NAME", "/x").run();
    assert_eq!(location(&run), a.db_arg());
    let run = lsauth(["orgs", "--json"]).env("LSAUTH_DB", b.db_arg()).env("DATABASE_NAME", "/x").run();
    assert_eq!(location(&run), b.db_arg());
    assert_eq!(run.json()["database"]["source"], "LSAUTH_DB");
    let run = lsauth(["orgs", "--json", "--db", &format!("sqlite://{}", a.db_arg())]).run();
    assert_eq!(location(&run), a.db_arg());
}

#[test]
fn verbose_says_where_the_database_came_from() {
    let fx = SqliteFixture::new();
    let run = lsauth(["orgs", "-v"]).env("HEARTEX_DATABASE_NAME", fx.db_arg()).run();
    run.expect_code(0);
    assert!(run.stderr.contains("from DJANGO_DB unset"), "{}", run.stderr);
    assert!(run.stderr.contains("HEARTEX_DATABASE_NAME"), "{}", run.stderr);
}

#[test]
fn postgres_from_label_studio_env() {
    let fx = PgFixture::new();
    let run = lsauth(["orgs", "--json"])
        .env("DJANGO_DB", "default")
        .env("POSTGRE_NAME", &fx.name)
        .env("LABEL_STUDIO_POSTGRE_PASSWORD", PG_PASSWORD)
        .env("HEARTEX_POSTGRE_HOST", "127.0.0.1")
        .env("POSTGRE_PORT", pg_cluster().port.to_string())
        .env("PGSSLMODE", "disable")
        .run();
    run.expect_code(0);
    assert_eq!(run.json()["database"]["kind"], "postgresql");
    assert_eq!(location(&run), format!("postgres@127.0.0.1:{}/{}", pg_cluster().port, fx.name));
    assert!(!run.all_output().contains(PG_PASSWORD));
}

#[test]
fn missing_sqlite_file_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.sqlite3");
    let run = lsauth(["--db", &path.display().to_string(), "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("no such database file"), "{}", run.stderr);
    assert!(!path.exists(), "a wrong path must not create a file");
    // The discovered default path too.
    let home = tempfile::tempdir().unwrap();
    let run = lsauth(["orgs"]).env("HOME", home.path().display().to_string()).run();
    run.expect_code(2);
    assert!(std::fs::read_dir(home.path()).unwrap().next().is_none(), "nothing created under HOME");
}

#[test]
fn directory_and_non_sqlite_files_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = lsauth(["--db", &dir.path().display().to_string(), "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "DJANGO_DB=sqlite\n").unwrap();
    let run = lsauth(["--db", &text.display().to_string(), "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("not a SQLite database file"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&text).unwrap(), "DJANGO_DB=sqlite\n");

    let foreign = dir.path().join("other.sqlite3");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE notes (x)").unwrap();
    let run = lsauth(["--db", &foreign.display().to_string(), "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("not a Label Studio database"), "{}", run.stderr);
}

#[test]
fn unreadable_file_is_bad_input() {
    let fx = SqliteFixture::new();
    std::fs::set_permissions(fx.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&fx.path, std::fs::Permissions::from_mode(0o000)).unwrap();
    // root reads anything, so as root the check runs as an unprivileged user.
    let cmd = lsauth(["--db", &fx.db_arg(), "orgs"]);
    let run = if running_as_root() { cmd.run_as("nobody").run() } else { cmd.run() };
    run.expect_code(2);
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
}

#[test]
fn unsupported_database_kinds_are_bad_input() {
    let run = lsauth(["orgs"]).env("DJANGO_DB", "mysql").run();
    run.expect_code(2);
    assert!(run.stderr.contains("MySQL"), "{}", run.stderr);
    let run = lsauth(["--db", "mysql://root@db/ls", "orgs"]).run();
    run.expect_code(2);
    let run = lsauth(["--db", "postgres://h/db?sslmode=sometimes", "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("sslmode"), "{}", run.stderr);
}

#[test]
fn unknown_flag_is_usage_error() {
    lsauth(["orgs", "--frobnicate"]).run().expect_code(2);
    lsauth(Vec::<String>::new()).run().expect_code(2);
}

#[test]
fn read_only_inspection_works_while_a_writer_holds_the_database() {
    // Label Studio running = another connection in the middle of a write transaction.
    // A reader in rollback-journal mode is still served the last committed state.
    let fx = SqliteFixture::new();
    fx.seed_classic();
    let writer = fx.conn();
    writer.execute_batch("BEGIN IMMEDIATE; UPDATE organization SET title = 'Acme (editing)' WHERE id = 1;").unwrap();
    let run = lsauth(["--db", &fx.db_arg(), "orgs", "--json"]).run();
    run.expect_code(0);
    assert_eq!(run.json()["organizations"][0]["title"], "Acme");
    writer.execute_batch("ROLLBACK").unwrap();
}

// ---------------------------------------------------------------- PostgreSQL failures

#[test]
fn postgres_unreachable_is_exit_3_with_host_and_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let run =
        lsauth(["--db", &format!("postgres://ls:Sup3rSecret@127.0.0.1:{port}/labelstudio?connect_timeout=3"), "orgs"])
            .run();
    run.expect_code(3);
    assert!(run.stderr.contains(&format!("127.0.0.1:{port}/labelstudio")), "{}", run.stderr);
    assert!(run.stderr.to_lowercase().contains("refused"), "{}", run.stderr);
    assert!(!run.all_output().contains("Sup3rSecret"));
    assert_eq!(run.stderr.lines().count(), 1, "one clear line: {}", run.stderr);
}

#[test]
fn postgres_wrong_password_is_exit_3_without_the_password() {
    let fx = PgFixture::new();
    let url = format!("postgres://postgres:Wr0ngPassw0rd@127.0.0.1:{}/{}?sslmode=disable", pg_cluster().port, fx.name);
    let run = lsauth(["--db", &url, "orgs"]).run();
    run.expect_code(3);
    assert!(run.stderr.contains("password authentication failed"), "{}", run.stderr);
    assert!(run.stderr.contains("in PGPASSWORD, or in ~/.pgpass"), "where the password goes: {}", run.stderr);
    assert!(!run.all_output().contains("Wr0ngPassw0rd"));
    // doctor: the connection fails with the fix line, and says so (nothing else was reachable).
    let run = lsauth(["--db", &url, "doctor", "--json"]).run();
    run.expect_code(3);
    let checks = run.json()["checks"].as_array().unwrap().clone();
    let connection = checks.iter().find(|c| c["id"] == "database.connection").unwrap();
    assert_eq!(connection["status"], "fail");
    assert!(connection["fix"].as_str().unwrap().contains("PGPASSWORD"), "{connection}");
    assert!(!run.all_output().contains("Wr0ngPassw0rd"));
}

/// A path one letter off, an unknown organization id or email: the error says what is there.
#[test]
fn did_you_mean_for_a_path_an_id_and_an_email() {
    let fx = crate::harness::SqliteFixture::new();
    fx.seed_classic();
    let db = fx.db_arg();
    let slip = db.replace("label_studio", "label_studo");
    let run = lsauth(["--db", &slip, "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains(&format!("did you mean {db}?")), "{}", run.stderr);
    assert!(!Path::new(&slip).exists(), "nothing created");
    let run = lsauth(["--db", &db, "enable-legacy", "--org", "99", "--dry-run"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("no organization with id 99: the organizations are 1, 2, 3"), "{}", run.stderr);
    let run = lsauth(["--db", &db, "enable-legacy", "--user", "admn@acme.test", "--yes"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("did you mean admin@acme.test?"), "{}", run.stderr);
}

#[test]
fn postgres_missing_database_is_exit_3() {
    let url = format!("postgres://postgres:{PG_PASSWORD}@127.0.0.1:{}/no_such_db?sslmode=disable", pg_cluster().port);
    let run = lsauth(["--db", &url, "orgs"]).run();
    run.expect_code(3);
    assert!(run.stderr.contains("no_such_db"), "{}", run.stderr);
}

#[test]
fn postgres_tls_modes_against_a_tls_server() {
    let fx = PgFixture::new();
    fx.seed_classic();
    let cluster = pg_cluster();
    let ca = cluster.ca_pem.display().to_string();
    let other = cluster.other_ca_pem.display().to_string();
    let ok = |url: String, expect: &str| {
        let run = lsauth(["--db", &url, "orgs", "-v"]).run();
        run.expect_code(0);
        assert!(run.stderr.contains(expect), "{url}: {}", run.stderr);
        assert!(run.stdout.contains("Acme"));
    };
    ok(fx.url_with("sslmode=require"), "certificate not verified");
    ok(fx.url_with("sslmode=prefer"), "certificate not verified");
    ok(fx.url_with("sslmode=disable"), "not encrypted");
    // The server certificate names "localhost" only: verify-ca ignores the name...
    ok(fx.url_with(&format!("sslmode=verify-ca&sslrootcert={ca}")), "host name not checked");
    // ...require with a root file behaves as verify-ca, as in libpq...
    ok(fx.url_with(&format!("sslmode=require&sslrootcert={ca}")), "chain verified");
    // ...verify-full checks it: fine through "localhost", refused through 127.0.0.1.
    let via_localhost = fx.url_with(&format!("sslmode=verify-full&sslrootcert={ca}")).replace("127.0.0.1", "localhost");
    ok(via_localhost, "host name checked");
    let run = lsauth(["--db", &fx.url_with(&format!("sslmode=verify-full&sslrootcert={ca}")), "orgs"]).run();
    run.expect_code(3);
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    // A certificate from a CA we do not trust.
    let run = lsauth(["--db", &fx.url_with(&format!("sslmode=verify-ca&sslrootcert={other}")), "orgs"]).run();
    run.expect_code(3);
    assert!(run.stderr.to_lowercase().contains("certificate"), "{}", run.stderr);
    // A root file that is not there is bad input, not a connection problem.
    let run = lsauth(["--db", &fx.url_with("sslmode=verify-ca&sslrootcert=/no/such/ca.pem"), "orgs"]).run();
    run.expect_code(2);
    // verify-ca without any root certificate is an error, as in libpq: never "any public
    // CA, no host check".
    let run = lsauth(["--db", &fx.url_with("sslmode=verify-ca"), "orgs"]).run();
    run.expect_code(2);
    assert!(run.stderr.contains("needs a root certificate"), "{}", run.stderr);
    // ~/.postgresql/root.crt is the default root file, as in libpq.
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".postgresql")).unwrap();
    std::fs::copy(&ca, home.path().join(".postgresql/root.crt")).unwrap();
    let run = lsauth(["--db", &fx.url_with("sslmode=verify-ca"), "orgs"])
        .env("HOME", home.path().display().to_string())
        .run();
    run.expect_code(0);
}

#[test]
fn postgres_tls_required_but_server_refuses() {
    // A server without TLS answers the SSLRequest with 'N': this one does just that.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        if let Ok((mut sock, _)) = listener.accept() {
            let mut request = [0u8; 8];
            let _ = sock.read_exact(&mut request);
            let _ = sock.write_all(b"N");
        }
    });
    let run = lsauth(["--db", &format!("postgres://ls:Pw12345678@127.0.0.1:{port}/ls?sslmode=require"), "orgs"]).run();
    run.expect_code(3);
    assert!(run.stderr.contains("TLS"), "{}", run.stderr);
    assert!(!run.all_output().contains("Pw12345678"));
}

/// No password on the command line (where `ps` shows it): PGPASSWORD and the password
/// file work as in libpq, against the real server.
#[test]
fn postgres_password_from_pgpassword_and_pgpass() {
    use std::os::unix::fs::PermissionsExt;
    let fx = PgFixture::new();
    fx.seed_classic();
    let url = fx.url_with("sslmode=require").replace(&format!(":{}@", crate::harness::PG_PASSWORD), "@");
    let run = lsauth(["--db", &url, "orgs"]).run();
    run.expect_code(3);
    let run = lsauth(["--db", &url, "orgs"]).env("PGPASSWORD", crate::harness::PG_PASSWORD).run();
    run.expect_code(0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pgpass");
    let port = pg_cluster().port;
    std::fs::write(&file, format!("127.0.0.1:{port}:*:postgres:{}\n", crate::harness::PG_PASSWORD)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = lsauth(["--db", &url, "orgs"]).env("PGPASSFILE", file.display().to_string()).run();
    run.expect_code(0);
    assert!(run.stdout.contains("Acme"));
}
