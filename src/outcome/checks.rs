//! Findings: what doctor reports. Each has a stable id, a section, a status, a one-line
//! summary, optional detail and the fix. Pure.

use serde::Serialize;

use crate::exit::ExitStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Configuration,
    Database,
    Organizations,
    Tokens,
    Api,
    Project,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::Configuration => "Configuration",
            Section::Database => "Database",
            Section::Organizations => "Organizations",
            Section::Tokens => "Token",
            Section::Api => "API",
            Section::Project => "Project",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: String,
    pub section: Section,
    pub status: Status,
    pub summary: String,
    pub detail: Option<String>,
    pub fix: Option<String>,
    /// The id of the failing or warning check whose cause explains this one: one cause,
    /// reported once, with this check listed under it as a symptom (see `Checks::group`).
    pub explained_by: Option<String>,
    /// Causes this check names (`legacy_off:1`): a symptom of one of them is listed under it.
    #[serde(skip)]
    covers: Vec<String>,
    /// Causes this check is a symptom of; grouped when one check covers them all.
    #[serde(skip)]
    because: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// What doctor found, counted by cause: a cause and the symptoms it explains count once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Causes {
    pub problems: usize,
    pub warnings: usize,
}

/// Checks in the order they were made.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Checks {
    pub checks: Vec<Check>,
}

impl Checks {
    pub fn add(&mut self, id: &str, section: Section, status: Status, summary: impl Into<String>) -> &mut Check {
        self.checks.push(Check {
            id: id.into(),
            section,
            status,
            summary: summary.into(),
            detail: None,
            fix: None,
            explained_by: None,
            covers: Vec::new(),
            because: Vec::new(),
        });
        self.checks.last_mut().expect("just pushed")
    }

    pub fn pass(&mut self, id: &str, section: Section, summary: impl Into<String>) -> &mut Check {
        self.add(id, section, Status::Pass, summary)
    }

    pub fn warn(&mut self, id: &str, section: Section, summary: impl Into<String>) -> &mut Check {
        self.add(id, section, Status::Warn, summary)
    }

    pub fn fail(&mut self, id: &str, section: Section, summary: impl Into<String>) -> &mut Check {
        self.add(id, section, Status::Fail, summary)
    }

    pub fn skip(&mut self, id: &str, section: Section, summary: impl Into<String>) -> &mut Check {
        self.add(id, section, Status::Skip, summary)
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for check in &self.checks {
            match check.status {
                Status::Pass => c.pass += 1,
                Status::Warn => c.warn += 1,
                Status::Fail => c.fail += 1,
                Status::Skip => c.skip += 1,
            }
        }
        c
    }

    /// Lists each failing or warning check under the first check that names its cause
    /// (covers every cause it is a symptom of) and is at least as severe; that check is
    /// the cause's block, with the one fix. Run once, after the last check.
    pub fn group(&mut self) {
        use std::collections::HashSet;
        let severity = |s: Status| match s {
            Status::Fail => 2,
            Status::Warn => 1,
            Status::Pass | Status::Skip => 0,
        };
        // Linear in the keys: each check's `covers` as a set, looked up once per key of a
        // symptom (a Vec's `contains` made 100,000 organizations quadratic).
        let covers: Vec<HashSet<&str>> =
            self.checks.iter().map(|c| c.covers.iter().map(String::as_str).collect()).collect();
        let heads_possible: Vec<usize> = (0..self.checks.len()).filter(|&j| !covers[j].is_empty()).collect();
        let mut explained: Vec<Option<usize>> = vec![None; self.checks.len()];
        for i in 0..self.checks.len() {
            let symptom = &self.checks[i];
            if symptom.because.is_empty() || severity(symptom.status) == 0 {
                continue;
            }
            explained[i] = heads_possible.iter().copied().find(|&j| {
                let h = &self.checks[j];
                j != i
                    && explained[j].is_none()
                    && severity(h.status) >= severity(symptom.status)
                    && symptom.because.iter().all(|k| covers[j].contains(k.as_str()))
            });
        }
        // A head never hangs under another: heads are the checks nothing explains (by id,
        // as ids name checks everywhere: a check whose id a head has is no symptom).
        let heads: HashSet<&str> = explained.iter().flatten().map(|&j| self.checks[j].id.as_str()).collect();
        let ids: Vec<Option<String>> = explained
            .iter()
            .zip(&self.checks)
            .map(|(head, c)| head.filter(|_| !heads.contains(c.id.as_str())).map(|j| self.checks[j].id.clone()))
            .collect();
        for (check, id) in self.checks.iter_mut().zip(ids) {
            check.explained_by = id;
        }
    }

    /// The causes found: failing and warning checks that no other check explains.
    pub fn causes(&self) -> Causes {
        let heads = self.checks.iter().filter(|c| c.explained_by.is_none());
        let mut causes = Causes::default();
        for c in heads {
            match c.status {
                Status::Fail => causes.problems += 1,
                Status::Warn => causes.warnings += 1,
                Status::Pass | Status::Skip => {}
            }
        }
        causes
    }

    /// 1 when anything fails (or warns, with `strict`), 0 otherwise.
    pub fn exit_status(&self, strict: bool) -> ExitStatus {
        let c = self.counts();
        if c.fail > 0 || (strict && c.warn > 0) {
            ExitStatus::Problem
        } else {
            ExitStatus::Ok
        }
    }
}

impl Check {
    pub fn detail(&mut self, detail: impl Into<String>) -> &mut Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn fix(&mut self, fix: impl Into<String>) -> &mut Self {
        self.fix = Some(fix.into());
        self
    }

    /// This check names `cause` (see `Checks::group`).
    pub fn covers(&mut self, cause: impl Into<String>) -> &mut Self {
        self.covers.push(cause.into());
        self
    }

    /// This check is a symptom of `cause`.
    pub fn because(&mut self, cause: impl Into<String>) -> &mut Self {
        self.because.push(cause.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_the_exit_status_follow_the_failures() {
        let mut checks = Checks::default();
        checks.fail("database.connection", Section::Database, "this check could not run");
        checks.pass("api.reachable", Section::Api, "Label Studio 1.23.2");
        assert_eq!(checks.counts(), Counts { pass: 1, warn: 0, fail: 1, skip: 0 });
        assert_eq!(checks.exit_status(false), ExitStatus::Problem);
    }

    /// A check whose id a head also has is never listed under another head (ids name
    /// checks: the grouping is by id, as it always was).
    #[test]
    fn a_check_sharing_a_heads_id_is_no_symptom() {
        let mut checks = Checks::default();
        checks.fail("x", Section::Api, "x, first").because("k");
        checks.fail("y", Section::Api, "y").covers("k");
        checks.fail("x", Section::Api, "x, second").covers("m");
        checks.fail("z", Section::Api, "z").because("m");
        checks.group();
        let explained: Vec<Option<&str>> = checks.checks.iter().map(|c| c.explained_by.as_deref()).collect();
        assert_eq!(explained, [None, None, None, Some("x")]);
    }

    #[test]
    fn a_cause_is_counted_once_with_its_symptoms_under_it() {
        let mut checks = Checks::default();
        checks
            .fail("orgs.legacy_disabled", Section::Organizations, "2 reject")
            .covers("legacy_off:1")
            .covers("legacy_off:2");
        checks.warn("orgs.missing_settings_row", Section::Organizations, "1 row-less").because("legacy_off:2");
        checks.fail("token.live", Section::Tokens, "legacy_disabled").because("legacy_off:1");
        checks.fail("token.signature", Section::Tokens, "another key").covers("signature");
        // Another organization's symptom stays a cause of its own.
        checks.fail("project.export_key", Section::Project, "rejected by 3").because("legacy_off:3");
        // A warning does not explain a failure.
        checks.warn("orgs.pat_disabled", Section::Organizations, "PATs off").covers("pat_off:1");
        checks.fail("token.database", Section::Tokens, "PATs off").because("pat_off:1");
        checks.group();
        let by = |id: &str| checks.checks.iter().find(|c| c.id == id).unwrap().explained_by.clone();
        assert_eq!(by("orgs.missing_settings_row").as_deref(), Some("orgs.legacy_disabled"));
        assert_eq!(by("token.live").as_deref(), Some("orgs.legacy_disabled"));
        assert_eq!(by("project.export_key"), None);
        assert_eq!(by("token.database"), None);
        assert_eq!(by("orgs.legacy_disabled"), None);
        assert_eq!(checks.causes(), Causes { problems: 4, warnings: 1 });
        // Exit status and counts still see every check.
        assert_eq!(checks.counts().fail, 5);
    }

    #[test]
    fn warnings_fail_only_when_strict() {
        let mut checks = Checks::default();
        checks.warn("orgs.missing_settings_row", Section::Organizations, "1 without a row");
        checks.skip("api.reachable", Section::Api, "no URL");
        assert_eq!(checks.exit_status(false), ExitStatus::Ok);
        assert_eq!(checks.exit_status(true), ExitStatus::Problem);
    }
}
