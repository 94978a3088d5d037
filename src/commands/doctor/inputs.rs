//! What doctor's checks judge: everything read from the files, the database and the API,
//! gathered before the first check (`gather`). Plain data; the checks are pure functions
//! of it, so each can be unit-tested with a value built by hand.

use std::path::PathBuf;

use crate::commands::DbChoice;
use crate::config::envfile::EnvDocument;
use crate::config::sources::TokenSource;
use crate::db;
use crate::environment::Found;
use crate::settings::ApiSettings;
use crate::settings::{JwtFlag, JwtSchema, OrgStatus};
use crate::token::check::DbFacts;
use crate::token::clients::ClientResult;
use crate::token::diagnosis::Finding;
use crate::token::Inspection;

pub struct Inputs {
    pub show_secrets: bool,
    /// The JWT feature flag as lsauth's environment sets it.
    pub flag: JwtFlag,
    pub sources: Sources,
    /// The database to check, or why there is none (`Ctx::database_choice`).
    pub database_choice: DbChoice,
    /// The SECRET_KEY lsauth found and where (`Ctx::secret_key`).
    pub secret_key: Option<(String, String)>,
    /// Label Studio's data directory, when it exists: where a SECRET_KEY is persisted.
    pub data_dir: Option<PathBuf>,
    /// LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN (or its older names), when set.
    pub enable_legacy_env: Option<Found>,
    pub database: DatabaseInputs,
    /// The configured token, when there is one.
    pub token: Option<TokenInputs>,
    pub api: ApiInputs,
    /// The active organization's settings read through the API (no database only).
    pub jwt_settings: Option<JwtSettingsRead>,
    /// `--project`'s facts, when it was given.
    pub project: Option<ProjectInputs>,
}

/// Where the URL and the token come from; `None` when nothing configures them (doctor
/// then checks what the database allows, without guessing a URL).
pub struct Sources {
    pub env_doc: Option<(PathBuf, EnvDocument)>,
    /// The migrate-env command for the given `.env`, where moving it to a PAT is a way out.
    pub migrate_env: Option<String>,
    /// Where the SECRET_KEY lsauth found came from, when the configured PAT verifies with it.
    pub verified_with: Option<String>,
    /// The rollback that restores the `.env`'s previous key, when lsauth has a backup of it.
    pub env_rollback: Option<String>,
    /// The URL and a sentence on where it came from.
    pub url: Option<(String, String)>,
    pub token: Option<TokenSource>,
}

pub enum DatabaseInputs {
    /// No database was located (`Inputs::located` says why).
    NotLocated,
    /// Located but not opened: the error (`{:#}`) and whether it was a lock wait.
    Unopened {
        error: String,
        lock_wait: bool,
    },
    Open(Box<DatabaseRead>),
    /// A database from before 1.17 (no token settings: legacy tokens only), with a server
    /// to test the token against.
    BeforeJwt {
        target: String,
    },
}

/// What doctor read from an open database. A read that failed is its error's text, for
/// the check that reports it ("this check could not run").
pub struct DatabaseRead {
    pub target: String,
    pub transport: Option<String>,
    pub schema: JwtSchema,
    pub orgs: Result<Vec<OrgStatus>, String>,
    pub facts: Result<db::DoctorFacts, String>,
}

pub struct TokenInputs {
    pub source: TokenSource,
    pub inspection: Inspection,
    /// What the database says of it: `None` without a database, `Err` when the read failed.
    pub facts: Option<Result<DbFacts, String>>,
}

impl Inputs {
    /// The database doctor checks, when there is one.
    pub fn located(&self) -> Option<&db::Located> {
        match &self.database_choice {
            DbChoice::Named(l) | DbChoice::Discovered(l) => Some(l),
            DbChoice::Absent { .. } => None,
        }
    }
}

impl TokenInputs {
    pub fn facts(&self) -> Option<&DbFacts> {
        self.facts.as_ref().and_then(|f| f.as_ref().ok())
    }
}

pub enum ApiInputs {
    /// No URL configured.
    NoUrl,
    /// The URL is not one: the error.
    InvalidUrl {
        url: String,
        error: String,
    },
    Probed(Box<ApiAnswers>),
}

/// What the server answered: its version, the configured token's probe and how each
/// kind of client fared with it.
pub struct ApiAnswers {
    pub url: String,
    pub base: url::Url,
    pub version: Result<String, Finding>,
    pub token: Option<Finding>,
    pub clients: Vec<ClientResult>,
}

impl ApiAnswers {
    pub fn reachable(&self) -> bool {
        !matches!(&self.version, Err(f) if f.cause == crate::token::diagnosis::Cause::Unreachable)
    }
}

pub enum JwtSettingsRead {
    /// No token and no --login to sign in with.
    NoCredential,
    /// --login did not sign in: the error.
    LoginFailed(String),
    /// The configured token could not sign in.
    TokenCannotSignIn,
    /// Signed in, but the settings were not read: the error.
    Unread(String),
    Read {
        settings: ApiSettings,
        /// "organization N (the active organization of WHO)".
        read: String,
        /// The signed-in user's email, for the paste-ready --via-api fixes.
        email: String,
        url: String,
    },
}

pub enum ProjectInputs {
    /// --project without a database.
    NoDatabase,
    /// Reading the project failed: the error.
    Unread(String),
    Missing {
        id: i64,
    },
    NoOrganization {
        id: i64,
    },
    Found(Box<ProjectRead>),
}

pub struct ProjectRead {
    pub id: i64,
    pub title: Option<String>,
    pub organization_id: i64,
    /// The project's creator (the key Label Studio sends to /setup), then the
    /// organization's creator (exports with media), as far as they were read.
    pub roles: Vec<RoleKey>,
    /// `None` when not read.
    pub ml_backends: Option<Vec<db::MlBackendRow>>,
    /// The file URLs of the first tasks' data, counted by netloc (`None` when not read).
    pub task_urls: Option<crate::token::clients::FileUrlSample>,
    /// The first read that failed (its error's text): what was read before it is still
    /// judged, then project.error reports it; nothing after it is read.
    pub failed: Option<String>,
    /// The LABEL_STUDIO_URL lsauth was given (the backend's), to compare the tasks' with.
    pub label_studio_url: Option<String>,
}

/// What the database says of one project role's user and legacy key, and the server's
/// answer to that key when it was tested live.
pub struct RoleKey {
    pub user: Option<db::UserFacts>,
    pub key: Option<String>,
    /// Legacy tokens on for the organization Label Studio consults for that user.
    pub legacy_on: bool,
    pub live: Option<Finding>,
}

impl RoleKey {
    /// The key the project check tests live, if it gets that far.
    pub fn live_test(&self, flag_off: bool) -> Option<&str> {
        let user = self.user.as_ref()?;
        (user.active_organization_id.is_some() && (self.legacy_on || flag_off)).then_some(self.key.as_deref()?)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// Inputs with nothing configured, for a test to fill in what its check reads.
    pub fn inputs() -> Inputs {
        Inputs {
            show_secrets: false,
            flag: JwtFlag::Default,
            sources: Sources {
                env_doc: None,
                migrate_env: None,
                verified_with: None,
                env_rollback: None,
                url: None,
                token: None,
            },
            database_choice: DbChoice::Absent { reason: "no database here".into(), named_by_label_studio: false },
            secret_key: None,
            data_dir: None,
            enable_legacy_env: None,
            database: DatabaseInputs::NotLocated,
            token: None,
            api: ApiInputs::NoUrl,
            jwt_settings: None,
            project: None,
        }
    }

    /// An open database with these jwt_auth migrations and organizations `(id, legacy
    /// tokens on in its row, or no row, legacy token holders)`.
    pub fn open_database(migrations: &[&str], orgs: &[(i64, Option<bool>, i64)]) -> DatabaseInputs {
        let schema = JwtSchema { migrations: migrations.iter().map(|m| m.to_string()).collect() };
        let defaults = schema.model_defaults();
        let orgs = orgs
            .iter()
            .map(|&(id, legacy, holders)| {
                let record = crate::settings::OrgRecord {
                    id,
                    title: format!("Org {id}"),
                    creator_email: Some(format!("owner{id}@example.com")),
                    active_members: holders,
                    stored: legacy.map(|legacy_api_tokens_enabled| crate::settings::JwtSettings {
                        api_tokens_enabled: true,
                        legacy_api_tokens_enabled,
                        api_token_ttl_days: 73000,
                    }),
                    legacy_token_holders: holders,
                    inactive_legacy_token_holders: 0,
                };
                OrgStatus::from_record(record, defaults, &JwtFlag::Default)
            })
            .collect();
        DatabaseInputs::Open(Box::new(DatabaseRead {
            target: "sqlite /var/lib/label-studio/label_studio.sqlite3".into(),
            transport: None,
            schema,
            orgs: Ok(orgs),
            facts: Ok(db::DoctorFacts::default()),
        }))
    }
}
