//! config.*: what doctor was given to check, and where each thing came from.

use super::inputs::Inputs;
use crate::commands::DbChoice;
use crate::config::sources;
use crate::outcome::checks::{Checks, Section};
use crate::text::secrets::mask;

pub fn checks(checks: &mut Checks, inputs: &Inputs) {
    let sec = Section::Configuration;
    let s = &inputs.sources;
    match &inputs.database_choice {
        DbChoice::Named(l) | DbChoice::Discovered(l) => {
            checks.pass("config.database", sec, format!("database: {}", l.target)).detail(format!("from {}", l.source));
        }
        DbChoice::Absent { reason, .. } => {
            checks
                .skip("config.database", sec, "no database to check")
                .detail(reason.clone())
                .fix("run doctor on the Label Studio host, or give --db PATH|postgres://... (LSAUTH_DB)");
        }
    }
    match &s.url {
        Some((url, from)) => {
            checks
                .pass("config.url", sec, format!("Label Studio URL: {}", crate::text::secrets::mask_url(url)))
                .detail(format!("from {from}"));
        }
        None => {
            checks
                .skip("config.url", sec, "no Label Studio URL: API checks skipped")
                .fix("give --url, --env-file with LABEL_STUDIO_URL, or set LABEL_STUDIO_URL");
        }
    }
    if let Some(warning) = s.env_doc.as_ref().and_then(|(p, d)| sources::bom_warning(p, d)) {
        checks
            .warn("config.env_file_bom", sec, "the env file starts with a byte order mark")
            .detail(warning)
            .fix("save the file as UTF-8 without a BOM (sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)");
    }
    match &s.token {
        Some(t) => {
            let shown = if inputs.show_secrets { t.value.clone() } else { mask(t.value.trim()) };
            checks.pass("config.token", sec, format!("token {shown}")).detail(format!("from {}", t.source));
        }
        None => {
            checks
                .skip("config.token", sec, "no token: token checks skipped")
                .fix(format!("give --env-file with {} or set one of them", sources::TOKEN_VARIABLES.join(" / ")));
        }
    }
    match (&inputs.secret_key, &inputs.data_dir) {
        (Some((_, from)), _) => {
            checks.pass("config.secret_key", sec, format!("SECRET_KEY persisted in {from}"));
        }
        (None, Some(d)) => {
            checks
                .warn("config.secret_key", sec, "SECRET_KEY is not persisted")
                .detail(format!(
                    "neither the SECRET_KEY variable nor {}/.env holds it: Label Studio generates one at start and \
                     writes it there; if that fails, every restart makes a new key and invalidates every PAT",
                    d.display()
                ))
                .fix(format!(
                    "make {}/.env writable by Label Studio, or set SECRET_KEY in its environment",
                    d.display()
                ));
        }
        (None, None) => {
            checks
                .skip("config.secret_key", sec, "SECRET_KEY not found (not on the Label Studio host?)")
                .fix("set SECRET_KEY or give --ls-data-dir to check PAT signatures");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::inputs::tests::inputs;
    use super::*;
    use crate::outcome::checks::Status;

    #[test]
    fn a_data_directory_without_a_secret_key_warns_that_restarts_invalidate_pats() {
        let mut i = inputs();
        i.data_dir = Some("/var/lib/label-studio".into());
        let mut c = Checks::default();
        checks(&mut c, &i);
        let key = c.checks.iter().find(|c| c.id == "config.secret_key").unwrap();
        assert_eq!(key.status, Status::Warn);
        assert!(key.fix.as_deref().unwrap().contains("/var/lib/label-studio/.env writable"), "{key:?}");
    }

    #[test]
    fn the_token_is_shown_masked() {
        let mut i = inputs();
        i.sources.token = Some(crate::config::sources::TokenSource {
            value: "0123456789abcdefghij0123456789abcdefghij".into(),
            source: "LABEL_STUDIO_API_KEY".into(),
            variable: Some("LABEL_STUDIO_API_KEY".into()),
        });
        let mut c = Checks::default();
        checks(&mut c, &i);
        let token = c.checks.iter().find(|c| c.id == "config.token").unwrap();
        assert!(!token.summary.contains("456789abcdefghij0123"), "{}", token.summary);
    }
}
