//! A unified diff of two small texts (an edited .env), secrets masked: the `.env` masker
//! lives here, with the one diff that uses it (it reads the texts as `.env` documents to
//! find multi-line secrets).

use crate::text::secrets;

/// Lines of context around the change.
const CONTEXT: usize = 3;

/// `--- a` / `+++ b` and one hunk spanning the changed lines (edits to a .env touch one
/// region). Every line shown is masked (`EnvMasker`): each assignment by its name
/// and value, and every known secret wherever it stands. Only the lines shown are masked,
/// so a diff of a 40,000-line file costs what its hunk costs.
pub fn unified(old: &str, new: &str, label: &str, secrets: &[&str]) -> String {
    let masker = EnvMasker::new(&[old, new], secrets);
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    if prefix == a.len() && a.len() == b.len() {
        return String::new();
    }
    let start = prefix.saturating_sub(CONTEXT);
    let a_end = (a.len() - suffix + CONTEXT).min(a.len());
    let b_end = (b.len() - suffix + CONTEXT).min(b.len());
    let mut out = format!(
        "--- {label}\n+++ {label} (new)\n@@ -{},{} +{},{} @@\n",
        start + 1,
        a_end - start,
        start + 1,
        b_end - start
    );
    let line = |sign: char, text: &str| {
        let text = &masker.line(text);
        let body = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(text);
        let note = if text.ends_with('\n') { "" } else { "\n\\ No newline at end of file" };
        format!("{sign}{body}{note}\n")
    };
    for t in &a[start..prefix] {
        out.push_str(&line(' ', t));
    }
    for t in &a[prefix..a.len() - suffix] {
        out.push_str(&line('-', t));
    }
    for t in &b[prefix..b.len() - suffix] {
        out.push_str(&line('+', t));
    }
    for t in &a[a.len() - suffix..a_end] {
        out.push_str(&line(' ', t));
    }
    out
}

/// A `.env` text with every secret masked, line by line: each assignment (also one
/// commented out, as migrate-env leaves the old token) has its value masked by
/// `mask_value`; then any remaining occurrence of a known secret anywhere is masked too.
/// Line ends and everything else are kept, so a diff of two masked texts lines up.
#[cfg(test)]
fn mask_env_text(text: &str, known: &[&str]) -> String {
    let masker = EnvMasker::new(&[text], known);
    text.split_inclusive('\n').map(|line| masker.line(line)).collect()
}

/// Masks the lines of `.env` texts one at a time, so that a diff masks only the lines it
/// shows (linear in the file, whatever the number of secrets in it).
pub struct EnvMasker<'a> {
    /// The known secrets and the lines of multi-line secret values, longest first.
    known: Vec<std::borrow::Cow<'a, str>>,
}

impl<'a> EnvMasker<'a> {
    pub fn new(texts: &[&str], known: &[&'a str]) -> Self {
        // A secret value over several lines (a quoted key or certificate): its first line
        // is masked as an assignment, the lines after it wherever they stand.
        let pieces = texts.iter().flat_map(|t| multi_line_secrets(t)).map(std::borrow::Cow::Owned);
        let mut known: Vec<std::borrow::Cow<'a, str>> =
            known.iter().map(|s| std::borrow::Cow::Borrowed(*s)).chain(pieces).filter(|s| !s.is_empty()).collect();
        known.sort_by_key(|s| std::cmp::Reverse(s.len()));
        known.dedup();
        EnvMasker { known }
    }

    /// One line (with its line end): the assignment's value masked by its name and shape,
    /// then any known secret wherever it stands.
    pub fn line(&self, line: &str) -> String {
        let names: Vec<&str> = self.known.iter().map(|k| k.as_ref()).collect();
        let mut out = mask_env_line(line, &names);
        for s in &names {
            if out.contains(s) {
                let replacement =
                    if secrets::looks_like_token(s) { secrets::mask(s) } else { secrets::mask_password(s) };
                out = out.replace(s, &replacement);
            }
        }
        out
    }
}

/// The lines of every multi-line value in `text` that is secret by its name or shape.
fn multi_line_secrets(text: &str) -> Vec<String> {
    let Ok(doc) = crate::config::envfile::EnvDocument::parse(text.as_bytes()) else { return Vec::new() };
    let mut pieces = Vec::new();
    for (name, value) in doc.values() {
        let Some(value) = value.filter(|v| v.contains(['\n', '\r'])) else { continue };
        if secrets::looks_secret_name(name)
            || secrets::looks_like_token(value)
            || value.contains("PRIVATE KEY")
            || value.len() >= 20
        {
            pieces.extend(value.split(['\n', '\r']).map(str::trim).filter(|p| p.len() >= 4).map(String::from));
        }
    }
    pieces
}

/// `[# ][export ]NAME=VALUE[ # comment]`: the value masked, the rest as it was.
fn mask_env_line(line: &str, known: &[&str]) -> String {
    let body_end = line.trim_end_matches(['\n', '\r']).len();
    let (body, eol) = line.split_at(body_end);
    // A byte order mark before the first name is no part of it.
    let mut rest = body.trim_start_matches('\u{feff}').trim_start();
    let mut start = body.len() - rest.len();
    if let Some(r) = rest.strip_prefix('#') {
        let r2 = r.trim_start();
        start += rest.len() - r2.len();
        rest = r2;
    }
    if let Some(r) = rest.strip_prefix("export").filter(|r| r.starts_with([' ', '\t'])) {
        let r2 = r.trim_start();
        start += rest.len() - r2.len();
        rest = r2;
    }
    let name_len = rest.bytes().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')).count();
    if name_len == 0 {
        return line.to_string();
    }
    let name = &rest[..name_len];
    let after_name = &rest[name_len..];
    let after_ws = after_name.trim_start_matches([' ', '\t']);
    let Some(value_part) = after_ws.strip_prefix('=') else { return line.to_string() };
    let value_start = start + name_len + (after_name.len() - after_ws.len()) + 1;
    let lead = value_part.len() - value_part.trim_start_matches([' ', '\t']).len();
    let v = &value_part[lead..];
    let (inner_from, inner_to) = match v.chars().next() {
        Some(q @ ('"' | '\'')) => match v[1..].find(q) {
            Some(end) => (1, 1 + end),
            None => (1, v.len()),
        },
        _ => {
            // Unquoted: the value ends where a comment starts; a token-shaped first word
            // is the value even when words follow (a note after it).
            let end = v.find(" #").or_else(|| v.find("\t#")).unwrap_or(v.len());
            let value = v[..end].trim_end_matches([' ', '\t']);
            let first_word = value.split([' ', '\t']).next().unwrap_or("");
            (0, if secrets::looks_like_token(first_word) { first_word.len() } else { value.len() })
        }
    };
    let from = value_start + lead + inner_from;
    let to = value_start + lead + inner_to;
    let masked = secrets::mask_value(name, &body[from..to], known);
    format!("{}{}{}{}", &body[..from], masked, &body[to..], eol)
}

#[cfg(test)]
mod tests {
    use crate::text::secrets::HIDDEN;
    #[test]
    fn env_texts_are_masked_by_name_value_and_url() {
        let key = "0123456789abcdef0123456789abcdef01234567";
        let text = format!(
            "# note\r\nexport LABEL_STUDIO_API_KEY=\"{key}\"  # admin\r\n# LABEL_STUDIO_API_KEY={key}  # old\n\
             DATABASE_URL=postgres://u:p%26w@db/ls\nLABEL_STUDIO_PASSWORD=hunter2\nAWS_SECRET='s3cr3t with spaces and more'\n\
             MODEL_DIR=/data/models\nGREETING=hello # hi\nPLAIN=eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJl"
        );
        let masked = mask_env_text(&text, &["pw-known"]);
        assert!(masked.contains("export LABEL_STUDIO_API_KEY=\"0123…4567\"  # admin\r\n"), "{masked}");
        assert!(masked.contains("# LABEL_STUDIO_API_KEY=0123…4567  # old\n"), "{masked}");
        assert!(masked.contains("DATABASE_URL=postgres://db/ls\n"), "{masked}");
        assert!(masked.contains(&format!("LABEL_STUDIO_PASSWORD={HIDDEN}\n")), "{masked}");
        assert!(masked.contains(&format!("AWS_SECRET='{HIDDEN}'\n")), "{masked}");
        assert!(masked.contains("MODEL_DIR=/data/models\nGREETING=hello # hi\n"), "{masked}");
        assert!(masked.ends_with("PLAIN=eyJh…dXJl"), "a token-shaped value under any name: {masked}");
        for secret in [key, "hunter2", "s3cr3t", "p%26w", "c2lnbmF0dXJl"] {
            assert!(!masked.contains(secret), "{secret} in {masked}");
        }
        let again = mask_env_text("X=1 the pw-known is here\n", &["pw-known"]);
        assert_eq!(again, format!("X=1 the {HIDDEN} is here\n"));
    }

    use super::*;

    #[test]
    fn one_hunk_masked() {
        let old = "A=1\nB=2\nC=3\nKEY=0123456789abcdef0123456789abcdef01234567\nD=4\n";
        let new = "A=1\nB=2\nC=3\n# KEY=0123456789abcdef0123456789abcdef01234567 (replaced)\nKEY=eyJhbGciOiJIUzI1NiJ9.payload.signature\nD=4\n";
        let d = unified(
            old,
            new,
            ".env",
            &["0123456789abcdef0123456789abcdef01234567", "eyJhbGciOiJIUzI1NiJ9.payload.signature"],
        );
        assert!(!d.contains("0123456789abcdef0123456789abcdef01234567"), "{d}");
        assert!(!d.contains("payload.signature"), "{d}");
        assert!(d.contains("-KEY=0123…4567\n"), "{d}");
        assert!(d.contains("+# KEY=0123…4567 (replaced)\n"), "{d}");
        assert!(d.contains("+KEY=eyJh…ture\n"), "{d}");
        assert!(d.contains("@@ -1,5 +1,6 @@"), "{d}");
        assert_eq!(unified("same\n", "same\n", "x", &[]), "");
    }
}
