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
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// Checks in the order they were made.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Checks {
    pub checks: Vec<Check>,
}

impl Checks {
    pub fn add(&mut self, id: &str, section: Section, status: Status, summary: impl Into<String>) -> &mut Check {
        self.checks.push(Check { id: id.into(), section, status, summary: summary.into(), detail: None, fix: None });
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

    /// Run a group of checks; one that errors is reported as failed, and the rest go on.
    /// The error is handed back for what it says about the run (a lock wait: exit 3).
    pub fn guard(
        &mut self,
        id: &str,
        section: Section,
        group: impl FnOnce(&mut Checks) -> anyhow::Result<()>,
    ) -> Option<anyhow::Error> {
        let err = group(self).err()?;
        self.fail(id, section, "this check could not run").detail(format!("{err:#}"));
        Some(err)
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crashing_check_fails_and_the_rest_go_on() {
        let mut checks = Checks::default();
        checks.guard("database.connection", Section::Database, |_| Err(anyhow::anyhow!("disk on fire")));
        checks.pass("api.reachable", Section::Api, "Label Studio 1.23.2");
        assert_eq!(checks.checks[0].status, Status::Fail);
        assert_eq!(checks.checks[0].detail.as_deref(), Some("disk on fire"));
        assert_eq!(checks.counts(), Counts { pass: 1, warn: 0, fail: 1, skip: 0 });
        assert_eq!(checks.exit_status(false), ExitStatus::Problem);
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
