//! Outcomes of the database changes (enable/disable-legacy/pat), of rollbacks, and of
//! `.env` rollbacks.

use serde::Serialize;

use crate::settings::DbIdentity;
use crate::settings::{ApiAccount, ApiRestore, ApiSettings, Plan, RestorePlan};
use crate::token::diagnosis::{Cause, CredentialKind};

/// Where a backup was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupRef {
    /// What `lsauth rollback ID` takes.
    pub id: String,
    /// The file, for people who want to look at it.
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToggleOutcome {
    /// `enable-legacy`, `disable-legacy`, `enable-pat` or `disable-pat`.
    pub operation: &'static str,
    pub database: DbIdentity,
    /// True when nothing was written: the plan is what would have been.
    pub dry_run: bool,
    /// One line per organization in scope, with what it needs.
    pub plan: Plan,
    /// Rows written (0 for a dry run or when nothing needed changing).
    pub changed: usize,
    /// The backup written before the commit; `null` when nothing was written.
    pub backup: Option<BackupRef>,
}

/// What every line of `rollback --list` begins with, whatever the backup's kind.
#[derive(Debug, Clone, Serialize)]
pub struct ListedBackup {
    /// What `lsauth rollback ID` takes.
    pub id: String,
    /// When the change was made, RFC 3339 UTC.
    pub created_at: String,
    /// The command that made it (`enable-legacy`, ..., `migrate-env`, `rollback`).
    pub operation: String,
}

impl ListedBackup {
    pub fn new(id: &str, header: &crate::backup::Header) -> ListedBackup {
        ListedBackup { id: id.into(), created_at: header.created_at.clone(), operation: header.operation.clone() }
    }
}

/// One database backup in `rollback --list`.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    #[serde(flatten)]
    pub listed: ListedBackup,
    /// Its whole command line, secrets masked.
    pub command: String,
    /// How many rows it changed.
    pub rows: usize,
    /// For a rollback: the backup it restored.
    pub restores: Option<String>,
    pub path: String,
}

/// `rollback --list`: the backups of one database, oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct BackupList {
    pub database: DbIdentity,
    pub backup_dir: String,
    pub backups: Vec<BackupSummary>,
}

/// `rollback` of a database backup.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackOutcome {
    pub database: DbIdentity,
    /// The id of the backup restored.
    pub backup: String,
    pub dry_run: bool,
    /// Whether rows changed since the backup were restored anyway.
    pub force: bool,
    /// One line per row the backup holds: restore, already restored, or conflict.
    pub plan: RestorePlan,
    /// Rows written (0 for a dry run, or when every row was already as before).
    pub restored: usize,
    /// The backup of the state before this rollback (to roll the rollback back).
    pub undo_backup: Option<BackupRef>,
    /// Organizations whose legacy tokens work now and are rejected once the rows are
    /// restored, on this database's release (said before the question).
    pub legacy_rejected: Vec<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvBackupSummary {
    #[serde(flatten)]
    pub listed: ListedBackup,
    pub backup_file: String,
}

/// What a rollback of an env file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvRollbackResult {
    Restored,
    /// The file was already as the backup holds it.
    AlreadyRestored,
    /// A dry run: it would be restored.
    WouldRestore,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvRollbackOutcome {
    pub env_file: String,
    pub backup: String,
    pub dry_run: bool,
    pub result: EnvRollbackResult,
    pub diff: String,
    /// The copy of the file as it was before this rollback, and its record.
    pub undo_backup_file: Option<String>,
    pub undo_backup_id: Option<String>,
    /// The mode restored from the backup record (octal), when it recorded one.
    pub mode: Option<String>,
    /// Rewritten in place (a bind-mounted file), not replaced atomically.
    pub in_place: bool,
    /// The PATs the file held that the restored file does not (migrate-env's), and what
    /// the server says of each.
    pub pats_left: Vec<LeftPat>,
}

/// A PAT a rollback took out of a file: still valid on the server unless revoked.
#[derive(Debug, Clone, Serialize)]
pub struct LeftPat {
    /// The first characters of its `jti` (an identifier, not the secret).
    pub jti: String,
    /// Whether the server still refreshes it (`null`: it could not be asked).
    pub still_valid: Option<bool>,
    /// Revoked on the server by this rollback (`--revoke-minted`).
    pub revoked: bool,
}

/// Where a change through the API went: the URL, the organization, who signed in.
#[derive(Debug, Clone, Serialize)]
pub struct ApiTarget {
    #[serde(flatten)]
    pub account: ApiAccount,
    pub credential: CredentialKind,
}

/// A token tested after the change, the way its clients use it.
#[derive(Debug, Clone, Serialize)]
pub struct LiveCheck {
    /// The token, masked.
    pub token: String,
    pub source: String,
    pub cause: Cause,
    pub passes: bool,
    pub explanation: String,
}

/// `enable-legacy --via-api` and its siblings.
#[derive(Debug, Clone, Serialize)]
pub struct ApiToggleOutcome {
    pub operation: &'static str,
    /// Always `api`.
    pub via: &'static str,
    pub target: ApiTarget,
    pub dry_run: bool,
    pub before: ApiSettings,
    pub after: ApiSettings,
    /// Organizations changed: 1, or 0 (a dry run, or nothing needed changing).
    pub changed: usize,
    pub backup: Option<BackupRef>,
    /// The settings as read again after the change (`null` when they could not be read
    /// with a credential the change itself switched off).
    pub read_back: Option<ApiSettings>,
    pub live_check: Option<LiveCheck>,
    pub warnings: Vec<String>,
    /// How many of `warnings` the plan already showed.
    #[serde(skip)]
    pub warnings_shown: usize,
    /// The command that undoes the change (credentials to be given again).
    pub undo: Option<String>,
}

/// `rollback` of a backup made through the API.
#[derive(Debug, Clone, Serialize)]
pub struct ApiRollbackOutcome {
    /// Always `api`.
    pub via: &'static str,
    pub target: ApiTarget,
    pub backup: String,
    pub dry_run: bool,
    pub force: bool,
    /// The settings now, before the rollback.
    pub current: ApiSettings,
    /// What the backup says they were before its change.
    pub restore_to: ApiSettings,
    pub state: ApiRestore,
    /// 1 when the settings were restored, else 0.
    pub restored: usize,
    pub read_back: Option<ApiSettings>,
    /// The backup of the settings before this rollback (to roll the rollback back).
    pub undo_backup: Option<BackupRef>,
    pub undo: Option<String>,
    pub warnings: Vec<String>,
}

/// The API backups made at one URL.
#[derive(Debug, Clone, Serialize)]
pub struct ApiBackupList {
    pub url: String,
    pub backup_dir: String,
    pub backups: Vec<ApiBackupSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiBackupSummary {
    #[serde(flatten)]
    pub listed: ListedBackup,
    pub organization_id: i64,
    pub organization_title: Option<String>,
    pub user_email: Option<String>,
    pub before: ApiSettings,
    pub after: ApiSettings,
    pub restores: Option<String>,
    pub path: String,
}
