//! Outcomes of the database changes (enable/disable-legacy/pat), of rollbacks, and of
//! `.env` rollbacks.

use serde::Serialize;

use crate::change::DbIdentity;
use crate::change::{Plan, RestorePlan};

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
