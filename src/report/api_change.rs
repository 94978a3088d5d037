//! Rendering of changes made through the API (`--via-api`): plans, results, rollbacks,
//! backup lists.

use comfy_table::Cell;

use super::{print_json, print_text, Output};
use crate::outcome::change::{ApiBackupList, ApiRollbackOutcome, ApiTarget, ApiToggleOutcome, LiveCheck};
use crate::settings::{ApiRestore, ApiSettings, Setting};

fn on_off(b: bool) -> &'static str {
    super::on_off(b)
}

fn header(target: &ApiTarget) -> String {
    let t = &target.account;
    let title =
        t.organization_title.as_deref().map(|s| format!(" \"{}\"", crate::text::shown::outside(s))).unwrap_or_default();
    let who = t
        .user_email
        .as_deref()
        .map(|e| crate::text::shown::outside(e).into_owned())
        .unwrap_or_else(|| format!("user {}", t.user_id));
    format!(
        "Through the API: {} as {who} (signed in with {})\nOrganization {}{title} (the active organization of {who})\n",
        t.url,
        target.credential.describe(),
        t.organization_id,
    )
}

fn settings_lines(before: ApiSettings, after: ApiSettings) -> String {
    let mut text = String::new();
    for setting in [Setting::LegacyApiTokensEnabled, Setting::ApiTokensEnabled] {
        let (b, a) = (before.get(setting), after.get(setting));
        if b == a {
            text.push_str(&format!("  {}: {} (unchanged)\n", setting.label(), on_off(b)));
        } else {
            text.push_str(&format!("  {}: {} -> {}\n", setting.label(), on_off(b), on_off(a)));
        }
    }
    text
}

fn warnings(list: &[String]) -> String {
    list.iter().map(|w| format!("warning: {w}\n")).collect()
}

fn plan_text(o: &ApiToggleOutcome) -> String {
    format!("{}{}{}", header(&o.target), settings_lines(o.before, o.after), warnings(&o.warnings))
}

/// The plan, shown before the confirmation prompt (people only).
pub fn render_api_toggle_plan(o: &ApiToggleOutcome, out: &Output) -> anyhow::Result<()> {
    super::print_plan(out, || plan_text(o))
}

fn live_line(check: &LiveCheck) -> String {
    if check.passes {
        format!("Live check: the token from {} ({}) now works: {}\n", check.source, check.token, check.explanation)
    } else {
        format!(
            "Live check FAILED: the token from {} ({}) is still refused ({}): {}\n",
            check.source,
            check.token,
            check.cause.as_str(),
            check.explanation
        )
    }
}

pub fn render_api_toggle(o: &ApiToggleOutcome, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(o);
    }
    let setting = o.after;
    if o.before == o.after {
        return print_text(&format!(
            "{}Nothing to change: organization {} already has {setting}. Nothing was changed.\n",
            plan_text(o),
            o.target.account.organization_id
        ));
    }
    let Some(backup) = &o.backup else {
        return print_text(&format!(
            "{}Dry run: organization {} would change through the API; nothing was changed.\n",
            plan_text(o),
            o.target.account.organization_id
        ));
    };
    let mut text = format!(
        "Changed organization {} ({}) through the API: now {setting}. Label Studio applies it on the next request.\n",
        o.target.account.organization_id, o.operation
    );
    text.push_str(&match o.read_back {
        Some(s) if s == o.after => "Read back: the server shows the new settings.\n".to_string(),
        Some(s) => format!("Read back: the server shows {s}.\n"),
        None => "Read back: not possible with the credential this change switched off; Label Studio's answer to the \
                 change confirmed it.\n"
            .to_string(),
    });
    text.push_str(&warnings(&o.warnings[o.warnings_shown..]));
    if let Some(check) = &o.live_check {
        text.push_str(&live_line(check));
    }
    text.push_str(&format!("Backup: {}\n", backup.path));
    if let Some(undo) = &o.undo {
        text.push_str(&format!("Undo:   {undo}\n"));
    }
    print_text(&text)
}

fn rollback_text(o: &ApiRollbackOutcome) -> String {
    let state = match o.state {
        ApiRestore::Restore => "restore",
        ApiRestore::AlreadyRestored => "already as before",
        ApiRestore::Conflict if o.force => "changed since (forced)",
        ApiRestore::Conflict => "CONFLICT: changed since the backup was taken",
    };
    format!(
        "{}Backup: {}\n  now:         {}\n  restored to: {}\n  status:      {state}\n",
        header(&o.target),
        o.backup,
        o.current,
        o.restore_to
    )
}

pub fn render_api_rollback_plan(o: &ApiRollbackOutcome, out: &Output) -> anyhow::Result<()> {
    super::print_plan(out, || rollback_text(o))
}

pub fn render_api_rollback(o: &ApiRollbackOutcome, out: &Output) -> anyhow::Result<()> {
    super::print_outcome(out, o, || match &o.undo_backup {
        Some(b) => {
            let mut text = format!(
                "Restored organization {} from backup {} through the API: now {}.\nBackup of the settings before \
                 this rollback: {}\n",
                o.target.account.organization_id, o.backup, o.restore_to, b.path
            );
            text.push_str(&warnings(&o.warnings));
            if let Some(undo) = &o.undo {
                text.push_str(&format!("Undo:   {undo}\n"));
            }
            text
        }
        None if o.state == ApiRestore::Conflict && !o.force => rollback_text(o),
        None if o.state == ApiRestore::AlreadyRestored => format!(
            "{}Nothing to restore: the settings are already as they were before that change. Nothing was changed.\n",
            rollback_text(o)
        ),
        None => format!("{}Dry run: the settings would be restored; nothing was changed.\n", rollback_text(o)),
    })
}

pub fn render_api_backup_list(list: &ApiBackupList, out: &Output) -> anyhow::Result<()> {
    let rows = list
        .backups
        .iter()
        .map(|b| {
            let rest = vec![
                Cell::new(b.organization_id),
                Cell::new(crate::text::shown::outside(b.user_email.as_deref().unwrap_or(""))),
                Cell::new(b.before.to_string()),
                Cell::new(b.after.to_string()),
            ];
            super::backup_row(&b.listed, b.restores.as_deref(), rest)
        })
        .collect();
    let place = format!("changes through the API at {} in {}", list.url, list.backup_dir);
    super::render_backups(out, list, &place, &["Org", "Signed in as", "Before", "After"], rows)
}
