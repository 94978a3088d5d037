//! Rendering of changes: enable/disable plans and results, backups, rollbacks.

use comfy_table::Cell;

use super::{on_off, print_json, print_text, Output};
use crate::outcome::change::{
    BackupList, EnvBackupSummary, EnvRollbackOutcome, EnvRollbackResult, RollbackOutcome, ToggleOutcome,
};
use crate::settings::{Action, RestoreState, StoredRow};

/// Rows shown in a plan table; the rest are counted, not listed.
const PLAN_ROWS_SHOWN: usize = 50;

/// A pin's plan: the rows it writes, with both values (those Label Studio applies now).
fn pin_table(outcome: &ToggleOutcome, out: &Output) -> String {
    let mut text = format!("Database: {}\n", outcome.database);
    let pinned: Vec<_> = outcome.plan.lines.iter().filter_map(|l| Some((l, l.pinned?))).collect();
    if !pinned.is_empty() {
        let mut table = out.table();
        table.set_header(vec!["Org", "Title", "Settings row", "PATs", "Legacy tokens", "action"]);
        for (line, values) in pinned.iter().take(PLAN_ROWS_SHOWN) {
            table.add_row(vec![
                Cell::new(line.organization_id),
                Cell::new(crate::text::shown::outside(&line.title)),
                Cell::new("no"),
                Cell::new(on_off(values.api_tokens_enabled)),
                Cell::new(on_off(values.legacy_api_tokens_enabled)),
                Cell::new("insert row (pinned as today)"),
            ]);
        }
        text.push_str(&table.to_string());
        text.push('\n');
        if pinned.len() > PLAN_ROWS_SHOWN {
            text.push_str(&format!("... and {} more (--json lists all)\n", pinned.len() - PLAN_ROWS_SHOWN));
        }
    }
    let unknown = outcome.plan.lines.iter().filter(|l| l.before_unknown).count();
    let with_row = outcome.plan.lines.iter().filter(|l| l.has_settings_row).count();
    if with_row > 0 {
        text.push_str(&format!(
            "{} a settings row: no change.\n",
            super::style::count(with_row, "organization already has", "organizations already have")
        ));
    }
    if unknown > 0 {
        text.push_str(&format!(
            "{} without a row {} not pinned: the database records no jwt_auth migration, so lsauth cannot tell \
             which values Label Studio applies to them today ({} writes an explicit row with legacy tokens on).\n",
            super::style::count_s(unknown, "organization"),
            if unknown == 1 { "is" } else { "are" },
            crate::text::paste::lsauth("enable-legacy --org ID")
        ));
    }
    text
}

fn plan_table(outcome: &ToggleOutcome, out: &Output) -> String {
    if outcome.plan.pin {
        return pin_table(outcome, out);
    }
    let label = outcome.plan.toggle.setting.label();
    let changing: Vec<_> = outcome.plan.lines.iter().filter(|l| l.action != Action::None).collect();
    let unchanged = outcome.plan.lines.len() - changing.len();
    let mut text = format!("Database: {}\n", outcome.database);
    if !changing.is_empty() {
        let mut table = out.table();
        table.set_header(vec!["Org", "Title", "Settings row", &format!("{label} now")[..], "after", "action"]);
        for line in changing.iter().take(PLAN_ROWS_SHOWN) {
            table.add_row(vec![
                Cell::new(line.organization_id),
                Cell::new(crate::text::shown::outside(&line.title)),
                Cell::new(if line.has_settings_row { "yes" } else { "no" }),
                Cell::new(if line.before_unknown { "unknown" } else { on_off(line.before) }),
                Cell::new(on_off(line.after)),
                Cell::new(match line.action {
                    Action::Update => "update row",
                    Action::Insert => "insert row",
                    Action::None => "none",
                }),
            ]);
        }
        text.push_str(&table.to_string());
        text.push('\n');
        if changing.len() > PLAN_ROWS_SHOWN {
            text.push_str(&format!("... and {} more (--json lists all)\n", changing.len() - PLAN_ROWS_SHOWN));
        }
    }
    if unchanged > 0 {
        text.push_str(&format!(
            "{} {label} {}: no change.\n",
            super::style::count(unchanged, "organization already has", "organizations already have"),
            on_off(outcome.plan.toggle.enable)
        ));
    }
    text
}

/// The plan, shown before the confirmation prompt (people only).
pub fn render_toggle_plan(outcome: &ToggleOutcome, out: &Output) -> anyhow::Result<()> {
    super::print_plan(out, || plan_table(outcome, out))
}

/// The end of an enable/disable command: its whole outcome as JSON, or for people the
/// plan (dry run, nothing to do) or what was done.
pub fn render_toggle(outcome: &ToggleOutcome, out: &Output) -> anyhow::Result<()> {
    super::print_outcome(out, outcome, || match &outcome.backup {
        None if outcome.plan.changed() == 0 && outcome.plan.pin => {
            format!("{}Nothing to pin.\n", plan_table(outcome, out))
        }
        None if outcome.plan.changed() == 0 => format!(
            "{}Nothing to change: every selected organization already has {} {}.\n",
            plan_table(outcome, out),
            outcome.plan.toggle.setting.label(),
            on_off(outcome.plan.toggle.enable)
        ),
        None => format!(
            "{}Dry run: {} would change; nothing was changed.\n",
            plan_table(outcome, out),
            super::style::count_s(outcome.plan.changed(), "organization")
        ),
        Some(b) => format!(
            "Changed {} ({}). Label Studio applies it on the next request.\n\
             Backup: {}\nUndo:   {}\n",
            super::style::count_s(outcome.changed, "organization"),
            outcome.operation,
            b.path,
            crate::text::paste::rollback(&crate::text::paste::shell_quote(&b.id))
        ),
    })
}

pub fn render_backup_list(list: &BackupList, out: &Output) -> anyhow::Result<()> {
    let rows = list
        .backups
        .iter()
        .map(|b| {
            // Narrow: the command line (the widest cell) is left to --json.
            let mut rest = vec![Cell::new(b.rows)];
            if !out.narrow() {
                rest.push(Cell::new(&b.command));
            }
            super::backup_row(&b.listed, b.restores.as_deref(), rest)
        })
        .collect();
    let place = format!("{} in {}", list.database, list.backup_dir);
    let columns: &[&str] = if out.narrow() { &["Rows"] } else { &["Rows", "Command"] };
    super::render_backups(out, list, &place, columns, rows)
}

fn describe(row: &Option<StoredRow>) -> String {
    match row {
        None => "no row".into(),
        Some(r) => format!(
            "PATs {}, legacy {}, ttl {}, updated {}",
            on_off(r.api_tokens_enabled),
            on_off(r.legacy_api_tokens_enabled),
            r.api_token_ttl_days,
            r.updated_at
        ),
    }
}

fn restore_table(outcome: &RollbackOutcome, out: &Output) -> String {
    let mut table = out.table();
    table.set_header(vec!["Org", "Title", "Now", "Restored to", "Status"]);
    for line in outcome.plan.lines().take(PLAN_ROWS_SHOWN) {
        let status = match line.state {
            RestoreState::Restore => "restore".to_string(),
            RestoreState::AlreadyRestored => "already as before".to_string(),
            RestoreState::Conflict if outcome.force => "changed since (forced)".to_string(),
            RestoreState::Conflict => format!("CONFLICT: the change wrote {}", describe(line.written)),
        };
        table.add_row(vec![
            Cell::new(line.organization_id),
            Cell::new(crate::text::shown::outside(line.title.unwrap_or("(deleted)"))),
            Cell::new(describe(line.current)),
            Cell::new(describe(line.restore_to)),
            Cell::new(status),
        ]);
    }
    let mut text = format!("Database: {}\nBackup: {}\n{table}\n", outcome.database, outcome.backup);
    if outcome.plan.lines().len() > PLAN_ROWS_SHOWN {
        text.push_str(&format!("... and {} more (--json lists all)\n", outcome.plan.lines().len() - PLAN_ROWS_SHOWN));
    }
    text
}

pub fn render_rollback_plan(outcome: &RollbackOutcome, out: &Output) -> anyhow::Result<()> {
    super::print_plan(out, || restore_table(outcome, out))
}

pub fn render_rollback(outcome: &RollbackOutcome, out: &Output) -> anyhow::Result<()> {
    let to_restore = outcome.plan.to_restore(outcome.force);
    super::print_outcome(out, outcome, || match &outcome.undo_backup {
        Some(b) => format!(
            "Restored {} from backup {}.\nBackup of the state before this rollback: {}\nUndo:   {}\n",
            super::style::count_s(outcome.restored, "row"),
            outcome.backup,
            b.path,
            crate::text::paste::rollback(&crate::text::paste::shell_quote(&b.id))
        ),
        None if outcome.plan.conflicts() > 0 && !outcome.force => restore_table(outcome, out),
        None if to_restore == 0 => format!(
            "{}Nothing to restore: the rows are already as they were before that change.\n",
            restore_table(outcome, out)
        ),
        None => format!(
            "{}Dry run: {} would be restored; nothing was changed.\n",
            restore_table(outcome, out),
            super::style::count(to_restore, "row", "rows")
        ),
    })
}

pub fn render_env_backup_list(env_file: &str, backups: &[EnvBackupSummary], out: &Output) -> anyhow::Result<()> {
    let rows = backups.iter().map(|b| super::backup_row(&b.listed, None, vec![Cell::new(&b.backup_file)])).collect();
    let document = serde_json::json!({ "env_file": env_file, "backups": backups });
    super::render_backups(out, &document, env_file, &["Copy of the file before"], rows)
}

pub fn render_env_rollback(o: &EnvRollbackOutcome, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(o);
    }
    let mut t = o.diff.clone();
    match o.result {
        EnvRollbackResult::AlreadyRestored => {
            t.push_str(&format!("Nothing to restore: {} is already as it was before {}.\n", o.env_file, o.backup))
        }
        EnvRollbackResult::WouldRestore => {
            t.push_str(&format!("Dry run: {} would be restored from {}; nothing was changed.\n", o.env_file, o.backup))
        }
        EnvRollbackResult::Restored => {
            t.push_str(&format!("Restored {} from backup {}.\n", o.env_file, o.backup));
            if let Some(mode) = &o.mode {
                t.push_str(&format!("Mode restored: {mode}\n"));
            }
            if o.in_place {
                t.push_str(super::migrate::IN_PLACE);
            }
            if let (Some(f), Some(id)) = (&o.undo_backup_file, &o.undo_backup_id) {
                t.push_str(&format!(
                    "Copy of the file before this rollback: {f}\nUndo:   {}\n",
                    crate::text::paste::env_rollback(&o.env_file, id)
                ));
            }
        }
    }
    for p in &o.pats_left {
        let shown = format!("the Personal Access Token the file held (jti {}…)", p.jti);
        t.push_str(&match (p.revoked, p.still_valid, o.result) {
            (true, _, _) => format!("On the server: {shown} was revoked (--revoke-minted).\n"),
            (false, Some(false), _) => format!("On the server: {shown} is no longer valid.\n"),
            (false, valid, EnvRollbackResult::WouldRestore) => format!(
                "{shown} stays {} on the server after the rollback: add --revoke-minted to revoke it.\n",
                if valid == Some(true) { "valid" } else { "(as far as lsauth can tell) valid" }
            ),
            (false, valid, _) => format!(
                "Note: {shown} is {} on the server: revoke it in Label Studio (Account & Settings > Personal \
                 Access Token), or restore with --revoke-minted next time.\n",
                if valid == Some(true) { "still valid" } else { "perhaps still valid (the server was not asked)" }
            ),
        });
    }
    print_text(&t)
}
