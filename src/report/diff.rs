//! A unified diff of two small texts (an edited .env), secrets masked.

/// Lines of context around the change.
const CONTEXT: usize = 3;

/// `--- a` / `+++ b` and one hunk spanning the changed lines (edits to a .env touch one
/// region). Every line shown is masked (`secrets::EnvMasker`): each assignment by its name
/// and value, and every known secret wherever it stands. Only the lines shown are masked,
/// so a diff of a 40,000-line file costs what its hunk costs.
pub fn unified(old: &str, new: &str, label: &str, secrets: &[&str]) -> String {
    let masker = crate::text::secrets::EnvMasker::new(&[old, new], secrets);
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

#[cfg(test)]
mod tests {
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
