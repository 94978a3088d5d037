//! The net under every test: each lsauth run in this suite is checked against every
//! token, password and SECRET_KEY the fixtures handed out (harness::secret).

use crate::harness::{assert_no_known_secret, secret, Run};

#[test]
#[should_panic(expected = "printed a secret")]
fn the_check_catches_a_leak() {
    let leaked = secret("leaked-token-0123456789");
    let run = Run { code: 0, stdout: format!("token: {leaked}\n"), stderr: String::new() };
    assert_no_known_secret(&["token".into(), "inspect".into()], &run);
}

#[test]
fn the_check_accepts_masked_output() {
    let value = secret("masked-token-0123456789");
    let run =
        Run { code: 0, stdout: format!("token: {}\n", lsauth::text::secrets::mask(&value)), stderr: String::new() };
    assert_no_known_secret(&["token".into()], &run);
}

#[test]
fn help_never_shows_secret_environment_values() {
    let run = crate::harness::lsauth(["--help"])
        .env("LSAUTH_DB", format!("postgres://ls:{}@db/ls", secret("help-db-password-123")))
        .env("LABEL_STUDIO_API_KEY", secret("0123456789abcdef0123456789abcdef0123abcd"))
        .run();
    run.expect_code(0);
    for sub in ["doctor", "orgs", "enable-legacy", "token", "migrate-env", "rollback"] {
        crate::harness::lsauth([sub, "--help"])
            .env("LSAUTH_DB", "postgres://ls:help-db-password-123@db/ls")
            .env("SECRET_KEY", secret("help-secret-key-value"))
            .run()
            .expect_code(0);
    }
}
