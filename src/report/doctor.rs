//! Rendering of `lsauth doctor`, shaped like the doctors operators know: the verdict on
//! the first line; then one block per cause (its detail, the symptoms it explains, one
//! fix), problems before warnings; then one line per section for what passed; then, once,
//! what was not checked and what would check it. `-v` adds every check as it was made.

use super::style::{count_s, wrap, Painter, Style};
use super::{mark, print_json, print_painted, Output};
use crate::outcome::checks::{Check, Section, Status};
use crate::outcome::doctor::DoctorReport;

const INDENT: usize = 4;

pub fn render(report: &DoctorReport, out: &Output) -> anyhow::Result<()> {
    if out.json {
        return print_json(report);
    }
    let mut p = Painter::new(out.color);
    verdict(&mut p, report, out);
    let heads = |status: Status| report.checks.iter().filter(move |c| c.status == status && c.explained_by.is_none());
    for head in heads(Status::Fail).chain(heads(Status::Warn)) {
        p.newline();
        cause_block(&mut p, report, head, out);
    }
    p.newline();
    sections(&mut p, report, out);
    not_checked(&mut p, report, out);
    if out.verbose {
        every_check(&mut p, report, out);
    }
    print_painted(&p.finish())
}

fn verdict(p: &mut Painter, report: &DoctorReport, out: &Output) {
    let c = &report.causes;
    let (status, words) = match (c.problems, c.warnings) {
        (0, 0) => (Status::Pass, "no problems found".to_string()),
        (0, w) => (Status::Warn, format!("no problems found, {}", count_s(w, "warning"))),
        (n, 0) => (Status::Fail, format!("{} found", count_s(n, "problem"))),
        (n, w) => (Status::Fail, format!("{} found, {}", count_s(n, "problem"), count_s(w, "warning"))),
    };
    let made = report.counts.pass + report.counts.warn + report.counts.fail;
    p.push(Style::of(status), mark(status, out)).plain(" ").push(Style::Bold, &words);
    p.push(Style::Dim, &format!(" ({} made)", count_s(made, "check"))).newline();
}

fn line(p: &mut Painter, text: &str, indent: usize, out: &Output) {
    let pad = " ".repeat(indent);
    for l in wrap(text, out.width.map(|w| w.saturating_sub(indent)), INDENT) {
        p.plain(&pad).plain(&l).newline();
    }
}

fn headline(p: &mut Painter, check: &Check, indent: usize, out: &Output) {
    headline_of(p, check, &check.summary, indent, out)
}

/// A symptom under its cause: its first sentence (the rest, and its fix, is the cause's).
fn symptom(p: &mut Painter, check: &Check, indent: usize, out: &Output) {
    let first = match check.summary.find(". ") {
        Some(end) => &check.summary[..=end],
        None => check.summary.as_str(),
    };
    headline_of(p, check, first, indent, out)
}

fn headline_of(p: &mut Painter, check: &Check, summary: &str, indent: usize, out: &Output) {
    let marked = mark(check.status, out);
    p.plain(&" ".repeat(indent)).push(Style::of(check.status), marked).plain(" ");
    // The id wraps with the summary as its last word, so that no line runs past the width.
    let id = format!("[{}]", check.id);
    let text = format!("{}  {id}", crate::text::shown::outside(summary));
    let first = indent + marked.chars().count() + 1;
    let wrapped = wrap(&text, out.width.map(|w| w.saturating_sub(first)), indent + INDENT);
    for l in &wrapped {
        match l.strip_suffix(&id) {
            Some(before) => p.plain(before).push(Style::Dim, &id),
            None => p.plain(l),
        };
        p.newline();
    }
}

/// A fix: a command is pasted, so never wrapped; a sentence wraps like the detail.
fn fix_line(p: &mut Painter, fix: &str, indent: usize, out: &Output) {
    let fix = crate::text::shown::outside(fix);
    p.plain(&" ".repeat(indent)).push(Style::Bold, "fix:").plain(" ");
    if fix.starts_with("lsauth ") {
        p.plain(&fix).newline();
        return;
    }
    for l in wrap(&fix, out.width.map(|w| w.saturating_sub(indent + 5)), indent + INDENT) {
        p.plain(&l).newline();
    }
}

/// On a terminal a detail shows at most a screenful: its first lines, how many more, and
/// its last (what the list is about); `-v`, a pipe and `--json` have all of it.
const SCREENFUL: usize = 10;

fn cause_block(p: &mut Painter, report: &DoctorReport, head: &Check, out: &Output) {
    headline(p, head, 0, out);
    let lines: Vec<&str> = head.detail.iter().flat_map(|d| d.lines()).collect();
    if out.width.is_some() && !out.verbose && lines.len() > SCREENFUL + 2 {
        for l in &lines[..SCREENFUL] {
            line(p, l, INDENT, out);
        }
        let hidden = lines.len() - SCREENFUL - 1;
        line(p, &format!("… {hidden} more lines (lsauth doctor -v shows them)"), INDENT, out);
        line(p, lines[lines.len() - 1], INDENT, out);
    } else {
        for l in lines {
            line(p, l, INDENT, out);
        }
    }
    let symptoms: Vec<&Check> =
        report.checks.iter().filter(|c| c.explained_by.as_deref() == Some(head.id.as_str())).collect();
    if !symptoms.is_empty() {
        line(p, "which also explains:", INDENT, out);
        for s in symptoms {
            symptom(p, s, INDENT + 2, out);
        }
    }
    if let Some(fix) = &head.fix {
        fix_line(p, fix, INDENT, out);
    }
}

fn present_sections(report: &DoctorReport) -> Vec<Section> {
    let mut sections: Vec<Section> = report.checks.iter().map(|c| c.section).collect();
    sections.sort();
    sections.dedup();
    sections
}

/// One line a section: what passed there, and how many of its checks are shown above.
fn sections(p: &mut Painter, report: &DoctorReport, out: &Output) {
    for section in present_sections(report) {
        let of: Vec<&Check> = report.checks.iter().filter(|c| c.section == section).collect();
        let passed = of.iter().filter(|c| c.status == Status::Pass).count();
        let above = of.iter().filter(|c| matches!(c.status, Status::Fail | Status::Warn)).count();
        if passed == 0 && above == 0 {
            continue;
        }
        let status = if of.iter().any(|c| c.status == Status::Fail) {
            Status::Fail
        } else if above > 0 {
            Status::Warn
        } else {
            Status::Pass
        };
        let what = match (passed, above) {
            (_, 0) => format!("{} passed", count_s(passed, "check")),
            (0, n) => format!("{n} above"),
            (_, n) => format!("{} passed, {n} above", count_s(passed, "check")),
        };
        p.push(Style::of(status), mark(status, out)).plain(" ").push(Style::Bold, section.title());
        p.plain(&format!(" ({what})")).newline();
    }
}

/// The skips that something would enable, each once, with that something.
fn not_checked(p: &mut Painter, report: &DoctorReport, out: &Output) {
    let mut seen: Vec<&str> = Vec::new();
    let skipped: Vec<&Check> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Skip)
        .filter(|c| match c.fix.as_deref() {
            Some(fix) if !seen.contains(&fix) => {
                seen.push(fix);
                true
            }
            _ => false,
        })
        .collect();
    if skipped.is_empty() {
        return;
    }
    p.newline().push(Style::Bold, "Not checked:").newline();
    for c in skipped {
        let text = format!("{} ({})", c.summary, c.fix.as_deref().unwrap_or_default());
        p.plain("  ").push(Style::of(Status::Skip), mark(Status::Skip, out)).plain(" ");
        let wrapped = wrap(&crate::text::shown::outside(&text), out.width.map(|w| w.saturating_sub(7)), INDENT + 2);
        for l in wrapped {
            p.plain(&l).newline();
        }
    }
}

/// `-v`: every check as it was made, by section, with its detail and fix.
fn every_check(p: &mut Painter, report: &DoctorReport, out: &Output) {
    p.newline().push(Style::Bold, "Every check:").newline();
    for section in present_sections(report) {
        p.push(Style::Bold, section.title()).newline();
        for check in report.checks.iter().filter(|c| c.section == section) {
            headline(p, check, 2, out);
            if let Some(by) = &check.explained_by {
                line(p, &format!("(explained by {by})"), 2 + INDENT + 1, out);
            }
            for l in check.detail.iter().flat_map(|d| d.lines()) {
                line(p, l, 2 + INDENT + 1, out);
            }
            if let Some(fix) = &check.fix {
                fix_line(p, fix, 2 + INDENT + 1, out);
            }
        }
    }
}
