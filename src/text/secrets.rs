//! Never print a secret: masking for tokens, passwords, URLs that carry credentials, and
//! whole `.env` texts (diffs).
//!
//! The rules: a *token* (a legacy key or a JWT) shows at most its first 4 and last 4
//! characters, and only when it is at least 20 characters long; anything else that is
//! secret (a password, a short value, a secret that is not a token) is masked whole,
//! with a fixed-width mask that does not even tell its length. URLs never show their
//! password.

/// What a fully masked value looks like.
pub const HIDDEN: &str = "********";

/// The shortest token that may show 4 + 4 characters: below that, 8 shown characters
/// would give too much of it away.
const MIN_PARTLY_SHOWN: usize = 20;

/// A token: at most the first 4 and last 4 characters; shorter than 20, hidden entirely.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < MIN_PARTLY_SHOWN {
        return HIDDEN.to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// A token as lsauth prints it: masked, whole only with `--show-secrets`.
pub fn shown_token(token: &str, show_secrets: bool) -> String {
    if show_secrets {
        token.to_string()
    } else {
        mask(token)
    }
}

/// A password or any secret that is not a token: nothing of it.
pub fn mask_password(_secret: &str) -> String {
    HIDDEN.to_string()
}

/// A URL's text without its `user:password@` (or a bare `user@`, which may be a token).
/// Text that does not parse as a URL is cut by hand: whatever stands between `://` and the
/// last `@` before the next blank goes (a password may hold `/`, `?` or `#`, which is why
/// such a URL does not parse), so an invalid URL never shows its password either.
/// Anything else is returned as it is.
pub fn mask_url(text: &str) -> String {
    if let Ok(url) = url::Url::parse(text) {
        if url.has_host() && (url.password().is_some() || !url.username().is_empty()) {
            return shown_url(&url);
        }
        if url.has_host() || !text.contains('@') {
            return text.to_string();
        }
    }
    let Some(scheme_end) = text.find("://").map(|i| i + 3) else { return without_schemeless_userinfo(text) };
    let rest = &text[scheme_end..];
    let authority_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &text[..scheme_end], &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// `user:password@host[:port][/path]` written without a scheme (a `.env`'s
/// `LABEL_STUDIO_URL=u:pw@host:8080`, which no URL parser reads as a host): the userinfo
/// goes. A bare `name@host` without a colon before the `@` (an email) stays.
fn without_schemeless_userinfo(text: &str) -> String {
    let authority_end = text.find(char::is_whitespace).unwrap_or(text.len());
    match text[..authority_end].rfind('@') {
        Some(at) if text[..at].contains(':') && !text.starts_with("mailto:") => text[at + 1..].to_string(),
        _ => text.to_string(),
    }
}

/// A URL's authority as written (`user:password@host:port`, Python's netloc) for
/// showing: the userinfo as `********@`, so that two netlocs that differ only by it still
/// read as different, and none shows a password.
pub fn mask_netloc(netloc: &str) -> String {
    match netloc.rfind('@') {
        Some(at) => format!("{HIDDEN}@{}", &netloc[at + 1..]),
        None => netloc.to_string(),
    }
}

/// A database URL without its password, its user kept: what a command lsauth prints for
/// the user to run next needs to connect as the same user (the password comes from
/// PGPASSWORD or ~/.pgpass, as libpq reads them).
pub fn without_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(None);
            url.to_string()
        }
        Ok(_) => text.to_string(),
        Err(_) => mask_url(text),
    }
}

/// A URL as lsauth shows it: never with credentials in it.
pub fn shown_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// Whether a value is shaped like a Label Studio token (a legacy key or a JWT): those
/// may show 4 + 4 characters; every other secret is hidden whole.
pub fn looks_like_token(value: &str) -> bool {
    let v = value.trim();
    let legacy = v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit());
    let jwt = v.starts_with("eyJ")
        && v.split('.').count() >= 2
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'='));
    legacy || jwt
}

/// Whether a variable's name says it holds a secret.
pub fn looks_secret_name(name: &str) -> bool {
    const HINTS: [&str; 9] = ["TOKEN", "KEY", "PASSWORD", "SECRET", "PASS", "AUTH", "CREDENTIAL", "PRIVATE", "DSN"];
    let upper = name.to_ascii_uppercase();
    HINTS.iter().any(|h| upper.contains(h))
}

/// One value of a `.env` document, masked by what it is: a URL loses its password, a
/// token shows 4 + 4, a secret-named or known-secret value is hidden, the rest is shown.
pub fn mask_value(name: &str, value: &str, known: &[&str]) -> String {
    // Empty, or a placeholder lsauth itself shows (`<PAT to be minted>`): nothing to hide.
    if value.is_empty() || (value.starts_with('<') && value.ends_with('>')) {
        return value.to_string();
    }
    // A URL with userinfo, with a scheme or without (`u:pw@host:8080`).
    if value.contains("://") || value.contains('@') {
        let masked = mask_url(value);
        if masked != value {
            return masked;
        }
    }
    if looks_like_token(value) {
        return mask(value);
    }
    if looks_secret_name(name) || known.contains(&value) {
        return mask_password(value);
    }
    value.to_string()
}

/// This process's command line for the record: the program by its name, not its path,
/// and every URL password removed.
pub fn this_command_line() -> Vec<String> {
    let mut args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    if let Some(first) = args.first_mut() {
        if let Some(name) = std::path::Path::new(first.as_str()).file_name() {
            *first = name.to_string_lossy().into_owned();
        }
    }
    masked_command_line(args)
}

/// The command line as recorded in backups: any URL password removed.
pub fn masked_command_line(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .map(|a| match a.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => format!("{flag}={}", mask_url(value)),
            _ => mask_url(&a),
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_database_url_for_the_next_command_keeps_its_user_not_its_password() {
        assert_eq!(
            without_password("postgres://ls:Secret99@db:5432/ls?sslmode=require"),
            "postgres://ls@db:5432/ls?sslmode=require"
        );
        assert_eq!(without_password("postgres://ls@db/ls"), "postgres://ls@db/ls");
        assert_eq!(without_password("/var/lib/ls/label_studio.sqlite3"), "/var/lib/ls/label_studio.sqlite3");
    }

    #[test]
    fn urls_never_show_their_userinfo_even_when_they_do_not_parse() {
        assert_eq!(mask_url("http://bot:Hunter2@ls.example.com/x"), "http://ls.example.com/x");
        assert_eq!(mask_url("https://TOKENVALUE@ls.example.com/"), "https://ls.example.com/");
        for bad in ["http://u:pa/ss@host", "http://u:p#ss@host", "http://u:p?ss@host:8080", "http://u:p@host:99999"] {
            let shown = mask_url(bad);
            assert!(!shown.contains("u:p"), "{bad} -> {shown}");
            assert!(shown.starts_with("http://host"), "{bad} -> {shown}");
        }
        for kept in
            ["a@b.c", "mailto:a@b.c", "http://ls.example.com/", "cannot reach http://host: ask admin@example.com"]
        {
            assert_eq!(mask_url(kept), kept);
        }
        // Written without a scheme, as a .env may: no parser reads a host there, and the
        // password goes all the same.
        assert_eq!(mask_url("u:pw@127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(mask_netloc("ann:pw@files.example.com:9"), "********@files.example.com:9");
        assert_eq!(mask_netloc("files.example.com"), "files.example.com");
    }

    use super::*;

    #[test]
    fn a_token_is_shown_whole_only_when_secrets_are_asked_for() {
        let token = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(shown_token(token, false), "0123…4567");
        assert_eq!(shown_token(token, true), token);
        assert_eq!(shown_token("short", false), HIDDEN);
    }

    #[test]
    fn tokens_show_four_and_four_and_nothing_else_does() {
        assert_eq!(mask("9d5125fc64aaa7572a0c653df23368f8aab9cdb6"), "9d51…cdb6");
        assert_eq!(mask("short"), HIDDEN);
        assert_eq!(mask("0123456789abcdefghi"), HIDDEN, "19 characters: hidden whole");
        assert_eq!(mask(""), HIDDEN);
        assert_eq!(mask_password("a long password that is long"), HIDDEN);
    }

    #[test]
    fn url_passwords_are_removed_in_command_lines() {
        let args = masked_command_line(
            ["lsauth", "--db", "postgres://ls:hunter2@db/ls", "--db=postgresql://u:pw@h/x", "orgs"].map(String::from),
        );
        let joined = args.join(" ");
        assert!(!joined.contains("hunter2") && !joined.contains(":pw@"), "{joined}");
        assert!(joined.contains("postgres://db/ls"), "{joined}");
        assert_eq!(args[4], "orgs");
    }
}
