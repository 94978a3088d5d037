//! Rendering of `lsauth doctor`: findings grouped by section, a mark each, the fix under
//! every failure, and a closing line with the counts.

use super::{mark, print_json, print_text, Output};
use crate::findings::{Section, Status};
use crate::outcome::doctor::DoctorReport;

pub fn render(report: &DoctorReport, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(report);
    }
    let mut text = String::new();
    let mut sections: Vec<Section> = report.checks.iter().map(|c| c.section).collect();
    sections.sort();
    sections.dedup();
    for section in sections {
        text.push_str(&format!("{}\n", section.title()));
        for check in report.checks.iter().filter(|c| c.section == section) {
            text.push_str(&format!(
                "  {:<4} {}  [{}]\n",
                mark(check.status, out),
                crate::shown::outside(&check.summary),
                check.id
            ));
            if let Some(detail) = &check.detail {
                if check.status != Status::Pass || out.verbose {
                    for line in detail.lines() {
                        text.push_str(&format!("         {line}\n"));
                    }
                }
            }
            if let Some(fix) = &check.fix {
                if matches!(check.status, Status::Fail | Status::Warn) || out.verbose {
                    text.push_str(&format!("         fix: {}\n", crate::shown::outside(fix)));
                }
            }
        }
        text.push('\n');
    }
    let c = &report.counts;
    text.push_str(&format!("{} passed, {} warnings, {} failed, {} skipped\n", c.pass, c.warn, c.fail, c.skip));
    print_text(&text)
}
