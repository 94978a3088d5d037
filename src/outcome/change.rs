//! Outcomes of the database changes (enable/disable-legacy/pat), of rollbacks, and of
//! `.env` rollbacks.

use serde::Serialize;

use crate::change::DbIdentity;
use crate::change::{ApiRestore, ApiSettings, Plan, RestorePlan};
use crate::diagnosis::{Cause, CredentialKind};

/// Where a backup was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupRef {
    pub id: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToggleOutcome {
    pub operation: &'static str,
    pub database: DbIdentity,
    pub dry_run: bool,
    pub plan: Plan,
    /// Rows written (0 for a dry run or when nothing needed changing).
    pub changed: usize,
    pub backup: Option<BackupRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub id: String,
    pub created_at: String,
    pub operation: String,
    pub command: String,
    pub rows: usize,
    pub restores: Option<String>,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupList {
    pub database: DbIdentity,
    pub backup_dir: String,
    pub backups: Vec<BackupSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollbackOutcome {
    pub database: DbIdentity,
    pub backup: String,
    pub dry_run: bool,
    pub force: bool,
    pub plan: RestorePlan,
    pub restored: usize,
    /// The backup of the state before this rollback (to roll the rollback back).
    pub undo_backup: Option<BackupRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvBackupSummary {
    pub id: String,
    pub created_at: String,
    pub operation: String,
    pub backup_file: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvRollbackOutcome {
    pub env_file: String,
    pub backup: String,
    pub dry_run: bool,
    /// `restored`, `already_restored`, or `would_restore` for a dry run.
    pub result: &'static str,
    pub diff: String,
    /// The copy of the file as it was before this rollback, and its record.
    pub undo_backup_file: Option<String>,
    pub undo_backup_id: Option<String>,
    /// The mode restored from the backup record (octal), when it recorded one.
    pub mode: Option<String>,
}

/// Where a change through the API went: the URL, the organization, who signed in.
#[derive(Debug, Clone, Serialize)]
pub struct ApiTarget {
    /// Label Studio's base URL, never with `user:password@`.
    pub url: String,
    pub organization_id: i64,
    pub organization_title: Option<String>,
    pub user_id: i64,
    pub user_email: Option<String>,
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
    pub id: String,
    pub created_at: String,
    pub operation: String,
    pub organization_id: i64,
    pub organization_title: Option<String>,
    pub user_email: Option<String>,
    pub before: ApiSettings,
    pub after: ApiSettings,
    pub restores: Option<String>,
    pub path: String,
}
