//! The outcome of `lsauth migrate-env`, with the ledger of what changed on the server.

use serde::Serialize;

use crate::token::diagnosis::ApiUser;
use crate::token::TokenKind;

/// How the new credential was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialSource {
    PatStdin,
    Prompt,
    MintedWithLegacyToken,
    MintedAfterLogin,
    Password,
    /// Not obtained (yet): a dry run, or a run that stopped before.
    NotObtained,
}

/// How a migration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrateResult {
    Migrated,
    /// `--dry-run`: nothing was changed anywhere.
    DryRun,
    /// The file already held a working PAT.
    AlreadyMigrated,
    /// Stopped before the file was written; `error` says why.
    Failed,
}

/// What the file moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrateTo {
    Pat,
    /// `LABEL_STUDIO_USERNAME` / `LABEL_STUDIO_PASSWORD`.
    Password,
}

/// Which client reads the file: an ML backend sends the key without refreshing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvClient {
    MlBackend,
    Other,
}

/// How lsauth knows who owns the old token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerSource {
    /// `whoami` answered with the token: it works.
    Whoami,
    Database,
}

/// Who the old token belongs to, and how lsauth knows.
#[derive(Debug, Clone, Serialize)]
pub struct Owner {
    /// The user's id, email and active organization (the one whose settings apply).
    #[serde(flatten)]
    pub user: ApiUser,
    pub source: OwnerSource,
}

/// Where the preflight learned whether PATs are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreflightSource {
    Database,
    /// GET /api/jwt/settings.
    Api,
    Unknown,
}

impl PreflightSource {
    pub fn as_str(self) -> &'static str {
        match self {
            PreflightSource::Database => "database",
            PreflightSource::Api => "api",
            PreflightSource::Unknown => "unknown",
        }
    }
}

/// What lsauth found out before changing anything: will a new PAT work?
#[derive(Debug, Clone, Serialize)]
pub struct Preflight {
    pub organization_id: Option<i64>,
    /// `api_tokens_enabled` of the owner's active organization as Label Studio applies
    /// it; `null` when lsauth could not find out.
    pub api_tokens_enabled: Option<bool>,
    pub source: PreflightSource,
}

/// A PAT the user already has, as Label Studio lists it (no signature: not a secret).
#[derive(Debug, Clone, Serialize)]
pub struct ExistingPat {
    pub jti_prefix: String,
    pub created_at: Option<String>,
    /// The listed (truncated) token itself: what the blacklist endpoint takes.
    #[serde(skip)]
    pub truncated: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerAction {
    /// A new PAT now exists on the server.
    PatCreated,
    /// A PAT lsauth created was revoked again because it was not written.
    PatRevokedAgain,
    /// A PAT lsauth created could not be revoked again: the user must do it.
    PatRevokeFailed,
    /// One of the user's existing PATs was revoked (`--revoke-existing`).
    ExistingPatRevoked,
    /// `api_tokens_enabled` was turned on in the database (`--enable-pat`).
    PatsEnabled,
    /// A PAT lsauth created could not be written to the file after the user's existing
    /// PAT was revoked: it stays live, saved in a 0600 file in the backup directory
    /// (`saved_pat_file`), so that the user is never left without a working key.
    PatSaved,
}

/// One change made on the server (or in its database), in the order it happened.
#[derive(Debug, Clone, Serialize)]
pub struct ServerChange {
    pub action: ServerAction,
    /// The change in one sentence, secrets masked.
    pub detail: String,
}

/// The credential the file moves to, and whether it was seen to work.
#[derive(Debug, Clone, Serialize)]
pub struct NewCredential {
    pub credential: CredentialSource,
    /// The new PAT, masked (`null` for --to password or before one exists).
    pub new_token: Option<String>,
    /// Who the new credential signs in as, as the API answered.
    pub user: Option<ApiUser>,
    /// True once the new credential signed in to the API as the same user.
    pub verified: bool,
}

impl NewCredential {
    pub fn none() -> NewCredential {
        NewCredential { credential: CredentialSource::NotObtained, new_token: None, user: None, verified: false }
    }

    /// The API answered the new credential as `user` (the owner of the old key).
    pub fn verified_as(&mut self, user: ApiUser) {
        self.user = Some(user);
        self.verified = true;
    }
}

/// What became of the env file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileChange {
    pub file_written: bool,
    /// The file's change as a diff, secrets masked.
    pub diff: String,
    /// The copy of the file as it was, and the id `rollback --env-file` takes.
    pub backup_file: Option<String>,
    pub backup_id: Option<String>,
    /// The file's mode, kept as it was.
    pub mode: Option<String>,
    /// The file is a mount point (a bind-mounted `.env`): it was rewritten in place, which
    /// is not atomic, since no rename can replace it.
    pub in_place: bool,
    /// A write that failed after the file was touched and could not be undone: the file
    /// may hold part of the change; `backup_file` holds it as it was, and `restore` is the
    /// command that puts it back. `null` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_partial: Option<PartialWrite>,
    /// Where a minted PAT that could not be written was saved (0600), `null` otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_pat_file: Option<String>,
}

/// A file left as neither its old nor its new content.
#[derive(Debug, Clone, Serialize)]
pub struct PartialWrite {
    pub restore: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrateOutcome {
    pub result: MigrateResult,
    /// Whether anything changed anywhere: the file, the server, the database.
    pub changed: bool,
    /// One sentence on what changed (or "Nothing was changed.").
    pub summary: String,
    /// Why the migration failed, when it did.
    pub error: Option<String>,
    pub env_file: String,
    /// The variable holding the key (`LABEL_STUDIO_API_KEY`, ...).
    pub variable: String,
    pub to: MigrateTo,
    /// Label Studio's base URL, never with `user:password@`.
    pub url: String,
    /// The key the file held, masked, and its kind.
    pub old_token: String,
    pub old_kind: TokenKind,
    pub client: EnvClient,
    /// The variables that made lsauth take the file for an ML backend's.
    pub ml_backend_markers: Vec<String>,
    pub owner: Option<Owner>,
    pub preflight: Option<Preflight>,
    /// The plan (diff and preflight) was shown before the prompt: not again at the end.
    #[serde(skip)]
    pub plan_shown: bool,
    /// PATs `--revoke-existing` would revoke if Label Studio refuses a second one.
    pub would_revoke: Vec<ExistingPat>,
    #[serde(flatten)]
    pub new_credential: NewCredential,
    pub dry_run: bool,
    #[serde(flatten)]
    pub file: FileChange,
    /// Every change made on the server or in its database, in order: a PAT minted or
    /// revoked, a setting turned on. Empty means none.
    pub server_changes: Vec<ServerChange>,
    pub warnings: Vec<String>,
}

/// What the ledger of server changes says, in one sentence.
pub fn summarize(changes: &[ServerChange], file: Option<&str>) -> String {
    let mut parts: Vec<String> = changes.iter().map(|c| c.detail.clone()).collect();
    if let Some(file) = file {
        parts.push(format!("the file {file} was rewritten"));
    }
    if parts.is_empty() {
        return "Nothing was changed.".into();
    }
    let mut text = parts.join("; ");
    if file.is_none() {
        text.push_str("; the env file was not changed");
    }
    format!("{}.", capitalize(&text))
}

/// What a failed run changed: the server's changes, then, when an in-place write could
/// not be undone, what was left of the file (`file_left`); else that the file was not
/// changed. "Nothing was changed." only when neither.
pub fn summarize_failed(changes: &[ServerChange], file_left: Option<&str>) -> String {
    let Some(left) = file_left else { return summarize(changes, None) };
    let mut parts: Vec<&str> = changes.iter().map(|c| c.detail.as_str()).collect();
    parts.push(left);
    format!("{}.", capitalize(&parts.join("; ")))
}

/// The first letter in upper case: a summary is a sentence of its own.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scripts read these keys: grouping the fields in Rust must not move or rename them.
    #[test]
    fn a_migrate_outcome_keeps_its_json_keys_and_their_order() {
        let mut new_credential = NewCredential::none();
        new_credential.verified_as(ApiUser { id: 7, email: Some("a@b.c".into()), active_organization: Some(1) });
        let outcome = MigrateOutcome {
            result: MigrateResult::Migrated,
            changed: true,
            summary: "S".into(),
            error: None,
            env_file: ".env".into(),
            variable: "LABEL_STUDIO_API_KEY".into(),
            to: MigrateTo::Pat,
            url: "http://ls".into(),
            old_token: "0123…4567".into(),
            old_kind: TokenKind::Legacy,
            client: EnvClient::MlBackend,
            ml_backend_markers: vec!["MODEL_DIR".into()],
            owner: Some(Owner {
                user: ApiUser { id: 7, email: Some("a@b.c".into()), active_organization: Some(1) },
                source: OwnerSource::Database,
            }),
            preflight: Some(Preflight {
                organization_id: Some(1),
                api_tokens_enabled: Some(true),
                source: PreflightSource::Api,
            }),
            plan_shown: false,
            would_revoke: Vec::new(),
            new_credential,
            dry_run: false,
            file: FileChange {
                file_written: true,
                diff: "D".into(),
                mode: Some("600".into()),
                ..FileChange::default()
            },
            server_changes: Vec::new(),
            warnings: Vec::new(),
        };
        let expected = [
            r#"{"result":"migrated","changed":true,"summary":"S","error":null,"env_file":".env","#,
            r#""variable":"LABEL_STUDIO_API_KEY","to":"pat","url":"http://ls","old_token":"0123…4567","#,
            r#""old_kind":"legacy","client":"ml_backend","ml_backend_markers":["MODEL_DIR"],"#,
            r#""owner":{"id":7,"email":"a@b.c","active_organization":1,"source":"database"},"#,
            r#""preflight":{"organization_id":1,"api_tokens_enabled":true,"source":"api"},"would_revoke":[],"#,
            r#""credential":"not_obtained","new_token":null,"user":{"id":7,"email":"a@b.c","active_organization":1},"#,
            r#""verified":true,"dry_run":false,"file_written":true,"diff":"D","backup_file":null,"backup_id":null,"#,
            r#""mode":"600","in_place":false,"server_changes":[],"warnings":[]}"#,
        ];
        assert_eq!(serde_json::to_string(&outcome).unwrap(), expected.concat());
    }

    #[test]
    fn summaries_say_exactly_what_changed() {
        assert_eq!(summarize(&[], None), "Nothing was changed.");
        let minted = ServerChange { action: ServerAction::PatCreated, detail: "a PAT was created (jti ab)".into() };
        let undone = ServerChange {
            action: ServerAction::PatRevokedAgain,
            detail: "the PAT created (jti ab) was revoked again, as it was not written".into(),
        };
        let text = summarize(&[minted.clone(), undone], None);
        assert!(text.starts_with("A PAT was created (jti ab); the PAT created (jti ab) was revoked again"), "{text}");
        assert!(text.ends_with("the env file was not changed."), "{text}");
        assert!(!text.contains("Nothing was changed"));
        assert_eq!(summarize(&[minted], Some(".env")), "A PAT was created (jti ab); the file .env was rewritten.");
        let left = "the file .env may hold part of the change: its backup is B; restore it with: R";
        assert_eq!(summarize_failed(&[], Some(left)), format!("{}.", capitalize(left)), "never 'Nothing was changed'");
        assert!(summarize_failed(&[], None).starts_with("Nothing was changed"));
        // A path is never capitalised: "T1.env" stays as it is named.
        assert_eq!(summarize(&[], Some("t1.env")), "The file t1.env was rewritten.");
    }
}
