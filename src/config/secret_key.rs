//! Label Studio's `SECRET_KEY`, found the way the server finds it.
//!
//! Label Studio 1.23.2 (`core/utils/secret_key.py`) reads `<BASE_DATA_DIR>/.env` with
//! django-environ 0.10's `Env.read_env`, which puts each assignment into the process
//! environment with `setdefault` (the real environment wins), then takes
//! `SECRET_KEY` if it is non-empty, else generates one and appends it to the file.
//! django-environ's reader is line-based and forgiving: a line it cannot read is skipped,
//! the rest still count; `#` starts a comment only at the start of a line, so
//! `SECRET_KEY=#abc` is the key `#abc` (Django's generated keys start with `#` about
//! once in 50). This module reproduces exactly that, pure.

use std::path::{Path, PathBuf};

use crate::environment::Environment;

/// The value django-environ 0.10 gives `key` in a `.env` text, if any line assigns it.
/// The last assignment wins (each one overwrites the previous in its dictionary).
pub fn read_env_value(content: &str, key: &str) -> Option<String> {
    let mut found = None;
    for line in python_splitlines(content) {
        if let Some((k, v)) = assignment(line) {
            if k == key {
                found = Some(unquote(v));
            }
        }
    }
    found
}

/// Python's `str.splitlines()`: every line boundary Python knows, `\r\n` as one.
fn python_splitlines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let boundary =
            matches!(c, '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if boundary {
            lines.push(&text[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(j, '\n')) = chars.peek() {
                    chars.next();
                    next = j + 1;
                }
            }
            start = next;
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// `\A(?:export )?([A-Za-z_0-9]+)=(.*)\Z`: the key and the raw value.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("export ").unwrap_or(line);
    let key_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    if key_len == 0 {
        return None;
    }
    let value = rest[key_len..].strip_prefix('=')?;
    Some((&rest[..key_len], value))
}

/// Single quotes are stripped, then double quotes (with their escapes: `\x` is `x`,
/// but `\n`, `\r`, `\t` stay as written), in that order, as django-environ does.
fn unquote(value: &str) -> String {
    let mut v = value;
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v = &v[1..v.len() - 1];
    }
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        let inner = &v[1..v.len() - 1];
        return crate::config::envfile::decode_backslashes(inner, |escaped| {
            (!matches!(escaped, 'r' | 'n' | 't')).then_some(escaped)
        });
    }
    v.to_string()
}

/// The key and a sentence on where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKey {
    pub value: String,
    pub source: String,
}

/// Label Studio's SECRET_KEY as the server finds it. With an explicit data directory
/// (`--ls-data-dir`), that directory's `.env` is the server's own and wins over a
/// `SECRET_KEY` in lsauth's environment (which need not be the server's); the
/// environment is then only a fallback. Without one, the environment is the server's
/// environment too (lsauth runs beside it), so it wins, as `setdefault` makes it win.
/// `default_data_dir` is Label Studio's BASE_DATA_DIR as discovered from `env`.
pub fn find(explicit_dir: Option<&Path>, default_data_dir: Option<PathBuf>, env: &Environment) -> Option<SecretKey> {
    let from_env = || {
        env.get("SECRET_KEY")
            .filter(|k| !k.is_empty())
            .map(|k| SecretKey { value: k.to_string(), source: "environment (SECRET_KEY)".into() })
    };
    let from_dir = |dir: &Path| {
        let path = dir.join(".env");
        let bytes = crate::fsutil::read_regular_file(&path, crate::fsutil::ENV_FILE_LIMIT).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        let value = read_env_value(&text, "SECRET_KEY").filter(|k| !k.is_empty())?;
        Some(SecretKey { value, source: format!("{} (SECRET_KEY)", path.display()) })
    };
    match explicit_dir {
        Some(dir) => from_dir(dir).or_else(from_env),
        None => from_env().or_else(|| from_dir(&default_data_dir?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_at_the_start_of_a_value_is_part_of_the_key() {
        assert_eq!(read_env_value("SECRET_KEY=#abc(=+)x\n", "SECRET_KEY").as_deref(), Some("#abc(=+)x"));
        // django-environ 0.10 has no inline comments: everything after '=' is the value.
        assert_eq!(read_env_value("SECRET_KEY=abc # note\n", "SECRET_KEY").as_deref(), Some("abc # note"));
        assert_eq!(read_env_value("# SECRET_KEY=old\nSECRET_KEY=new", "SECRET_KEY").as_deref(), Some("new"));
    }

    #[test]
    fn unreadable_lines_do_not_hide_the_rest() {
        let text = "broken line without equals\nA B=1\n\"quoted\"=2\nexport  X=1\n\nSECRET_KEY=k1\r\nOTHER=2";
        assert_eq!(read_env_value(text, "SECRET_KEY").as_deref(), Some("k1"));
        assert_eq!(read_env_value(text, "OTHER").as_deref(), Some("2"));
        assert_eq!(read_env_value(text, "X"), None, "two spaces after export: not an assignment");
    }

    #[test]
    fn quotes_and_escapes_as_django_environ() {
        assert_eq!(read_env_value("K='a b'", "K").as_deref(), Some("a b"));
        assert_eq!(read_env_value("K=\"a\\\"b\\n\"", "K").as_deref(), Some("a\"b\\n"));
        assert_eq!(read_env_value("K='\"x\"'", "K").as_deref(), Some("x"));
        assert_eq!(read_env_value("K = v", "K"), None, "spaces around '=' do not match");
        assert_eq!(read_env_value("export K=v", "K").as_deref(), Some("v"));
        assert_eq!(read_env_value("A=1\x0bK=v\u{2028}B=2", "K").as_deref(), Some("v"));
    }

    #[test]
    fn explicit_data_dir_wins_over_lsauth_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".env"), "\nSECRET_KEY=#from-file\n").unwrap();
        let env = Environment::from_pairs([("SECRET_KEY", "from-env")]);
        let found = find(Some(dir.path()), None, &env).unwrap();
        assert_eq!(found.value, "#from-file");
        assert_eq!(find(None, Some(dir.path().to_path_buf()), &env).unwrap().value, "from-env");
        let empty = Environment::default();
        assert_eq!(find(None, Some(dir.path().to_path_buf()), &empty).unwrap().value, "#from-file");
        let other = tempfile::tempdir().unwrap();
        assert_eq!(find(Some(other.path()), None, &env).unwrap().value, "from-env", "fallback");
        assert_eq!(find(Some(other.path()), None, &empty), None);
    }
}
