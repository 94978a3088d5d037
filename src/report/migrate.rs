//! Rendering of `lsauth migrate-env`: the diff, the verification, and the last word on
//! what changed (file, server, database). With `--json`, exactly one document on every
//! path, a failure included.

use super::{print_json, print_text, Output};
use crate::outcome::migrate::{MigrateOutcome, MigrateResult, MigrateTo, ServerAction};

/// Said whenever a file was rewritten in place: a reader at that moment could have seen
/// part of it, which an atomic replace rules out.
pub const IN_PLACE: &str =
    "The file is a mount point (bind-mounted), so it was written in place, not atomically (backup first).\n";

pub fn render(o: &MigrateOutcome, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(o);
    }
    let mut t = String::new();
    if !o.file.diff.is_empty() {
        t.push_str(&o.file.diff);
        t.push('\n');
    }
    if let Some(p) = o.preflight.as_ref().filter(|_| !o.plan_shown) {
        t.push_str(&preflight_line(p));
    }
    match (o.result, &o.new_credential.user) {
        (MigrateResult::AlreadyMigrated, Some(user)) => t.push_str(&format!(
            "{} already holds a working PAT (user {}): nothing to migrate.\n",
            o.variable,
            crate::text::shown::outside(user.email.as_deref().unwrap_or("?"))
        )),
        (_, Some(user)) if o.to == MigrateTo::Password && o.new_credential.verified => t.push_str(&format!(
            "Verified: signed in through the web login as {} (id {}).\n",
            crate::text::shown::outside(user.email.as_deref().unwrap_or("?")),
            user.id
        )),
        (_, Some(user)) if o.new_credential.verified => t.push_str(&format!(
            "Verified: the new PAT refreshes and its access token passes whoami as {} (id {}).\n",
            crate::text::shown::outside(user.email.as_deref().unwrap_or("?")),
            user.id
        )),
        _ => {}
    }
    match o.result {
        MigrateResult::DryRun => {
            t.push_str(&format!("Dry run: nothing was changed ({} and the server are as they were).\n", o.env_file))
        }
        MigrateResult::Migrated => {
            let what = if o.to == MigrateTo::Password {
                "LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD"
            } else {
                "a Personal Access Token"
            };
            t.push_str(&format!(
                "{} now uses {what} ({}). Restart the integration to pick it up.\n",
                o.env_file, o.variable
            ));
            if o.file.in_place {
                t.push_str(IN_PLACE);
            }
            if let (Some(file), Some(id)) = (&o.file.backup_file, &o.file.backup_id) {
                t.push_str(&format!("Backup: {file}\nUndo:   {}\n", crate::text::paste::env_rollback(&o.env_file, id)));
            }
        }
        _ => {}
    }
    if o.result == MigrateResult::Migrated {
        t.push_str(&format!("What changed: {}\n", o.summary));
    }
    // A migration's "What changed" already says each server change: no bullet repeats it.
    if !matches!(o.result, MigrateResult::DryRun | MigrateResult::AlreadyMigrated | MigrateResult::Migrated) {
        for c in &o.server_changes {
            let mark = if c.action == ServerAction::PatRevokeFailed { "!" } else { "-" };
            t.push_str(&format!("{mark} on the server: {}\n", c.detail));
        }
    }
    for w in &o.warnings {
        t.push_str(&format!("warning: {w}\n"));
    }
    print_text(&t)
}

/// What the preflight found, in one line.
pub fn preflight_line(p: &crate::outcome::migrate::Preflight) -> String {
    let org = p.organization_id.map(|id| format!("organization {id}")).unwrap_or("the owner's organization".into());
    let state = match p.api_tokens_enabled {
        Some(true) => "on",
        Some(false) => "off",
        None => "unknown (a minted PAT that fails verification is revoked again)",
    };
    format!("Preflight: PATs for {org}: {state} (from {}).\n", p.source.as_str())
}
