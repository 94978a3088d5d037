//! Rendering of `lsauth migrate-env` and of `.env` rollbacks.

use super::{print_json, print_text, Output};
use crate::commands::migrate_env::MigrateOutcome;

pub fn render(o: &MigrateOutcome, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(o);
    }
    let mut t = String::new();
    if !o.diff.is_empty() {
        t.push_str(&o.diff);
        t.push('\n');
    }
    if let Some(user) = &o.user {
        t.push_str(&format!(
            "Verified: the new PAT refreshes and its access token passes whoami as {} (id {}).\n",
            user.email.as_deref().unwrap_or("?"),
            user.id
        ));
    }
    if o.dry_run {
        t.push_str(&format!("Dry run: {} was not changed.\n", o.env_file));
    } else {
        let what = if o.to == "password" {
            "LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD"
        } else {
            "a Personal Access Token"
        };
        t.push_str(&format!(
            "{} now uses {what} ({}). Restart the integration to pick it up.\n",
            o.env_file, o.variable
        ));
        if let (Some(file), Some(id)) = (&o.backup_file, &o.backup_id) {
            t.push_str(&format!("Backup: {file}\nUndo:   lsauth rollback --env-file {} {id}\n", o.env_file));
        }
    }
    for n in &o.notes {
        t.push_str(&format!("note: {n}\n"));
    }
    print_text(&t)
}
