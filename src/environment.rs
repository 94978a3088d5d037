//! The process environment as Label Studio reads it.
//!
//! Label Studio looks a setting `X` up as `LABEL_STUDIO_X`, then `HEARTEX_X`, then `X`
//! (`core/utils/params.py:get_env`). lsauth follows the same order so that on a Label
//! Studio host it finds what the server finds, with no flags. The environment is passed
//! around as a value so discovery stays pure and testable.

use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

/// A value together with the variable it came from, so lsauth can say where it looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub var: String,
    pub value: String,
}

impl Environment {
    /// The real process environment (non-UTF-8 values are skipped: Label Studio's own
    /// settings could not use them either).
    pub fn from_process() -> Self {
        let vars =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        Environment { vars }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Environment { vars: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect() }
    }

    /// A variable by its exact name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// A Label Studio setting: `LABEL_STUDIO_<name>`, then `HEARTEX_<name>`, then `<name>`.
    /// Like Label Studio, a variable that is set but empty still wins.
    pub fn label_studio(&self, name: &str) -> Option<Found> {
        ["LABEL_STUDIO_", "HEARTEX_", ""].iter().find_map(|prefix| {
            let var = format!("{prefix}{name}");
            self.vars.get(&var).map(|value| Found { var, value: value.clone() })
        })
    }

    /// `~/...` under the home directory, as Label Studio's settings expand it.
    pub fn expand_tilde(&self, path: &str) -> PathBuf {
        match (path.strip_prefix("~/"), self.home()) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(path),
        }
    }

    /// The home directory, as Python's `os.path.expanduser("~")` sees it.
    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_studio_prefix_order() {
        let env = Environment::from_pairs([
            ("DJANGO_DB", "mysql"),
            ("HEARTEX_DJANGO_DB", "default"),
            ("LABEL_STUDIO_DJANGO_DB", "sqlite"),
        ]);
        let found = env.label_studio("DJANGO_DB").unwrap();
        assert_eq!(found.var, "LABEL_STUDIO_DJANGO_DB");
        assert_eq!(found.value, "sqlite");

        let env = Environment::from_pairs([("DJANGO_DB", "mysql"), ("HEARTEX_DJANGO_DB", "default")]);
        assert_eq!(env.label_studio("DJANGO_DB").unwrap().var, "HEARTEX_DJANGO_DB");

        let env = Environment::from_pairs([("DJANGO_DB", "mysql")]);
        assert_eq!(env.label_studio("DJANGO_DB").unwrap().value, "mysql");
        assert_eq!(env.label_studio("POSTGRE_HOST"), None);
    }

    #[test]
    fn empty_value_still_wins_like_label_studio() {
        let env = Environment::from_pairs([("LABEL_STUDIO_POSTGRE_HOST", ""), ("POSTGRE_HOST", "db")]);
        assert_eq!(env.label_studio("POSTGRE_HOST").unwrap().value, "");
    }
}
