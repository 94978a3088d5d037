//! The outcome of `lsauth upgrade-check`: what an upgrade will do to each organization's
//! tokens, predicted from the database and the releases' facts.

use serde::Serialize;

use crate::settings::releases::{Generation, OrgPrediction};

/// One step of the fix: a command to paste as it is, and why it comes then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FixStep {
    pub command: String,
    pub why: String,
}

impl FixStep {
    pub fn new(command: impl Into<String>, why: impl Into<String>) -> Self {
        FixStep { command: command.into(), why: why.into() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UpgradeReport {
    /// The release the upgrade goes to.
    pub to: &'static str,
    /// The database: where it is, and the `jwt_auth` generation it runs now.
    pub database: String,
    pub now_generation: Generation,
    pub to_generation: Generation,
    /// Whether the upgrade rejects any token that works today.
    pub breaks: bool,
    pub organizations: Vec<OrgPrediction>,
    pub rejected_legacy_tokens_now: i64,
    pub rejected_legacy_tokens_after: i64,
    pub rejected_pats_now: i64,
    pub rejected_pats_after: i64,
    /// The commands that keep today's tokens working through the upgrade, in order.
    pub fix: Vec<FixStep>,
    /// New organizations on the target release: what `create_organization` gives them.
    pub new_organizations: String,
    pub warnings: Vec<String>,
}
