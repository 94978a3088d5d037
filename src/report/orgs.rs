//! Rendering of `lsauth orgs`.

use comfy_table::Cell;

use super::{on_off, print_json, print_text, Output};
use crate::outcome::orgs::OrgsReport;

pub fn render(report: &OrgsReport, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(report);
    }
    let db = &report.database;
    let mut text = format!("Database: {} {}\n", db.kind, db.location);
    if report.organizations.is_empty() {
        text.push_str("No organizations.\n");
        return print_text(&text);
    }
    let mut table = out.table();
    if out.narrow() {
        narrow_rows(&mut table, report);
        text.push_str(&table.to_string());
        text.push_str("\n* no settings row: Label Studio's default (creators, members, TTL: --json)\n");
        return finish(text, report, out.width);
    }
    table.set_header(vec![
        "ID",
        "Title",
        "Creator",
        "Members",
        "Settings row",
        "PATs",
        "Legacy tokens",
        "TTL days",
        "Legacy tokens rejected",
    ]);
    for org in &report.organizations {
        let from_defaults = |v: bool| {
            if org.has_settings_row {
                on_off(v).to_string()
            } else {
                format!("{} (default)", on_off(v))
            }
        };
        table.add_row(vec![
            Cell::new(org.id),
            Cell::new(crate::text::shown::outside(&org.title)),
            Cell::new(crate::text::shown::outside(org.creator_email.as_deref().unwrap_or("-"))),
            Cell::new(org.active_members),
            Cell::new(if org.has_settings_row { "yes" } else { "no" }),
            Cell::new(from_defaults(org.api_tokens_enabled)),
            Cell::new(from_defaults(org.legacy_api_tokens_enabled)),
            Cell::new(org.api_token_ttl_days),
            Cell::new(org.rejected_legacy_tokens),
        ]);
    }
    text.push_str(&table.to_string());
    text.push('\n');
    finish(text, report, out.width)
}

/// Under 100 columns: the columns that tell what is wrong, with short headers, so that no
/// word or email is broken into pieces.
fn narrow_rows(table: &mut comfy_table::Table, report: &OrgsReport) {
    table.set_header(vec!["ID", "Title", "Row", "PATs", "Legacy", "Rejected"]);
    for org in &report.organizations {
        let value = |v: bool| format!("{}{}", on_off(v), if org.has_settings_row { "" } else { "*" });
        table.add_row(vec![
            Cell::new(org.id),
            Cell::new(crate::text::shown::outside(&org.title)),
            Cell::new(if org.has_settings_row { "yes" } else { "no" }),
            Cell::new(value(org.api_tokens_enabled)),
            Cell::new(value(org.legacy_api_tokens_enabled)),
            Cell::new(org.rejected_legacy_tokens),
        ]);
    }
}

/// The summary lines under the table.
fn finish(mut text: String, report: &OrgsReport, width: Option<usize>) -> anyhow::Result<()> {
    let db = &report.database;
    let s = &report.summary;
    text.push_str(&format!(
        "{}: {} without a settings row, {} with legacy tokens off, {} with PATs off; {} rejected.\n",
        super::style::count_s(s.organizations, "organization"),
        s.without_settings_row,
        s.legacy_disabled,
        s.pat_disabled,
        super::style::count(s.rejected_legacy_tokens as usize, "legacy token will be", "legacy tokens will be")
    ));
    if s.inactive_legacy_token_holders > 0 {
        text.push_str(&format!(
            "{} to inactive users: refused as \"User inactive or deleted\", whatever the settings.\n",
            super::style::count(
                s.inactive_legacy_token_holders as usize,
                "legacy token belongs",
                "legacy tokens belong"
            )
        ));
    }
    if let crate::settings::JwtFlag::Off { variable } = &report.feature_flag {
        text.push_str(&format!(
            "{variable} is off in this environment: if Label Studio runs with it, it accepts legacy tokens whatever \
             the settings and refuses every PAT.\n"
        ));
    }
    if s.without_settings_row > 0 && !db.defaults_known {
        text.push_str(
            "Organizations without a row: the database records no jwt_auth migration, so which defaults Label Studio \
             applies is unknown; lsauth's changes insert explicit rows for them.\n",
        );
    } else if s.without_settings_row > 0 {
        let d = &db.defaults_without_row;
        text.push_str(&format!(
            "Organizations without a row get Label Studio's defaults: PATs {}, legacy tokens {} ({}).\n",
            on_off(d.api_tokens_enabled),
            on_off(d.legacy_api_tokens_enabled),
            db.label_studio_generation
        ));
    }
    if s.rejected_legacy_tokens > 0 {
        text.push_str(&format!(
            "Fix: {} (or --all), or move the integrations to PATs.\n",
            crate::text::paste::lsauth("enable-legacy --org ID")
        ));
    }
    print_text(&super::style::wrap_prose(&text, width))
}
