//! "Did you mean": the closest of the names there are, for a path, an email, an id typed
//! a few letters off.

/// The candidate closest to `input`, when it is a slip away (a few letters off for its
/// length): the "did you mean" of a path, an email, a name. Ties go to the first.
pub fn did_you_mean<'a>(input: &str, candidates: &'a [String]) -> Option<&'a str> {
    let limit = (input.chars().count() / 4).clamp(1, 3);
    candidates
        .iter()
        .filter(|c| c.as_str() != input)
        .map(|c| (edit_distance(&input.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_what_is_a_slip_away() {
        let names = vec!["label_studio.sqlite3".to_string(), "seed.sql".to_string()];
        assert_eq!(did_you_mean("label_studo.sqlite3", &names), Some("label_studio.sqlite3"));
        assert_eq!(did_you_mean("label_studio.sqlite", &names), Some("label_studio.sqlite3"));
        assert_eq!(did_you_mean("other.db", &names), None);
        let emails = vec!["admin@acme.test".to_string(), "ml-backend@acme.test".to_string()];
        assert_eq!(did_you_mean("admn@acme.test", &emails), Some("admin@acme.test"));
        assert_eq!(did_you_mean("Admin@Acme.test", &emails), Some("admin@acme.test"));
    }
}
