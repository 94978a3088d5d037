//! Never print a secret: masking for tokens, passwords and URLs that carry them.

/// At most the first 4 and last 4 characters; short values are hidden entirely.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len().clamp(1, 8));
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// A URL with its password replaced by `****` (unchanged when it has none or is no URL).
pub fn mask_url(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => text.to_string(),
    }
}

/// This process's command line for the record: the program by its name, not its path,
/// and every URL password masked.
pub fn this_command_line() -> Vec<String> {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(first) = args.first_mut() {
        if let Some(name) = std::path::Path::new(first.as_str()).file_name() {
            *first = name.to_string_lossy().into_owned();
        }
    }
    masked_command_line(args)
}

/// The command line as recorded in backups: any URL password masked.
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
    use super::*;

    #[test]
    fn masks_keep_at_most_four_and_four() {
        assert_eq!(mask("9d5125fc64aaa7572a0c653df23368f8aab9cdb6"), "9d51…cdb6");
        assert_eq!(mask("short"), "*****");
        assert_eq!(mask(""), "*");
    }

    #[test]
    fn url_passwords_are_masked_in_command_lines() {
        let args = masked_command_line(
            ["lsauth", "--db", "postgres://ls:hunter2@db/ls", "--db=postgresql://u:pw@h/x", "orgs"].map(String::from),
        );
        let joined = args.join(" ");
        assert!(!joined.contains("hunter2") && !joined.contains(":pw@"), "{joined}");
        assert!(joined.contains("postgres://ls:****@db/ls"));
        assert_eq!(args[4], "orgs");
    }
}
