//! Rendering of `lsauth upgrade-check`: what breaks, for whom, and the fix.

use comfy_table::Cell;

use super::{on_off, print_json, print_text, Output};
use crate::outcome::upgrade::UpgradeReport;
use crate::settings::releases::Effective;

/// "on / off": PATs, then legacy tokens.
fn pair(e: &Effective) -> String {
    format!("{} / {}", on_off(e.api_tokens_enabled), on_off(e.legacy_api_tokens_enabled))
}

pub fn render(r: &UpgradeReport, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(r);
    }
    let mut t = format!(
        "Database: {}\nNow:      {}\nUpgrade:  Label Studio {}, {}\n",
        r.database,
        r.now_generation.describe(),
        r.to,
        r.to_generation.describe()
    );
    let changing: Vec<_> = r.organizations.iter().filter(|o| o.now != o.after || o.breaks()).collect();
    if !changing.is_empty() {
        let mut table = out.table();
        table.set_header(vec![
            "ID",
            "Title",
            "Settings row",
            "PATs / legacy now",
            "after",
            "legacy tokens rejected",
            "PATs rejected",
        ]);
        for o in &changing {
            table.add_row(vec![
                Cell::new(o.id),
                Cell::new(crate::text::shown::outside(&o.title)),
                Cell::new(if o.has_settings_row { "yes" } else { "no" }),
                Cell::new(pair(&o.now)),
                Cell::new(pair(&o.after)),
                Cell::new(format!("{} -> {}", o.rejected_legacy_tokens_now, o.rejected_legacy_tokens_after)),
                Cell::new(format!("{} -> {}", o.rejected_pats_now, o.rejected_pats_after)),
            ]);
        }
        t.push_str(&table.to_string());
        t.push('\n');
    }
    let kept = r.organizations.len() - changing.len();
    if kept > 0 {
        t.push_str(&format!(
            "{} their settings (they have a row, or the defaults do not change).\n",
            super::style::count(kept, "organization keeps", "organizations keep")
        ));
    }
    let breaking = r.organizations.iter().filter(|o| o.breaks()).count();
    if r.breaks {
        t.push_str(&format!(
            "The upgrade to {} rejects tokens that work today: {} and {}, in {}.\nFix:\n",
            r.to,
            super::style::count_s(
                (r.rejected_legacy_tokens_after - r.rejected_legacy_tokens_now) as usize,
                "legacy token"
            ),
            super::style::count_s((r.rejected_pats_after - r.rejected_pats_now) as usize, "PAT"),
            super::style::count_s(breaking, "organization"),
        ));
        for step in &r.fix {
            t.push_str(&format!("  {}\n      {}\n", step.command, step.why));
        }
    } else {
        t.push_str(&format!("The upgrade to {} rejects nothing that works today.\n", r.to));
    }
    t.push_str(&format!("Note: {}.\n", r.new_organizations));
    for w in &r.warnings {
        t.push_str(&format!("warning: {w}\n"));
    }
    print_text(&t)
}
