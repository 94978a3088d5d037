//! Backups of settings changed through the API (`--via-api`): the active organization's
//! two switches before and after, written and synced before the POST, with the same
//! checksum rules as database backups. They say that they were made through the API, at
//! which URL (never with credentials), for which organization and as which user.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{read_checked, write_checked, Kind};
use crate::exit::bad_input;
use crate::settings::{ApiAccount, ApiSettings, Toggle};

pub const FORMAT: &str = "lsauth-api-backup/1";

/// API backup ids are `TIME-api-OPERATION`.
pub const ID_PREFIX: &str = "api-";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiBackupBody {
    #[serde(flatten)]
    pub header: super::Header,
    /// Always `api`: the change went through `/api/jwt/settings`, not the database.
    pub via: String,
    #[serde(flatten)]
    pub account: ApiAccount,
    pub toggle: Option<Toggle>,
    /// For a rollback: the backup it restored.
    pub restores: Option<String>,
    pub before: ApiSettings,
    pub after: ApiSettings,
}

#[derive(Debug, Clone)]
pub struct ApiBackup {
    pub id: String,
    pub path: PathBuf,
    pub body: ApiBackupBody,
}

/// Write and sync a new API backup; returns its id and path.
pub fn write(dir: &Path, now: time::OffsetDateTime, body: &ApiBackupBody) -> anyhow::Result<(String, PathBuf)> {
    let id = super::new_id(now, &format!("{ID_PREFIX}{}", body.header.operation));
    write_checked(dir, &id, body)
}

pub fn read(path: &Path) -> anyhow::Result<ApiBackup> {
    let shown = path.display();
    let body: ApiBackupBody = read_checked(path, |body| serde_json::from_str(body))?;
    if body.header.format != FORMAT {
        let format = &body.header.format;
        return Err(bad_input(format!("backup {shown} has format {format:?}; this lsauth reads {FORMAT}")));
    }
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(ApiBackup { id, path: path.to_path_buf(), body })
}

pub fn load(dir: &Path, id: &str) -> anyhow::Result<ApiBackup> {
    read(&super::path_of(dir, id)?)
}

/// The API backups made at `url`, oldest first; corrupt files are returned for reporting.
pub fn list_for(dir: &Path, url: &str) -> anyhow::Result<(Vec<ApiBackup>, super::Skipped)> {
    Ok(super::scan(dir, super::ids(dir, Kind::Api)?.into_iter(), read, |b| b.body.account.url == url, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Setting;
    use std::os::unix::fs::PermissionsExt;

    fn body() -> ApiBackupBody {
        ApiBackupBody {
            header: super::super::tests::header(FORMAT, "enable-legacy", &["--via-api"]),
            via: "api".into(),
            account: ApiAccount {
                url: "https://ls.example.com/".into(),
                organization_id: 1,
                organization_title: Some("Label Studio".into()),
                user_id: 1,
                user_email: Some("admin@example.com".into()),
            },
            toggle: Some(Toggle { setting: Setting::LegacyApiTokensEnabled, enable: true }),
            restores: None,
            before: ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: false },
            after: ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: true },
        }
    }

    /// Backups already on disk are read by key, and a rollback shows them as written: the
    /// header and account are Rust groupings only, not a new layout.
    #[test]
    fn the_body_is_laid_out_as_the_first_api_backups_were() {
        let expected = [
            r#"{"format":"lsauth-api-backup/1","created_at":"2026-11-22T12:00:00.000001Z","operation":"enable-legacy","#,
            r#""command":["lsauth","enable-legacy","--via-api"],"via":"api","url":"https://ls.example.com/","#,
            r#""organization_id":1,"organization_title":"Label Studio","user_id":1,"user_email":"admin@example.com","#,
            r#""toggle":{"setting":"legacy_api_tokens_enabled","enable":true},"restores":null,"#,
            r#""before":{"api_tokens_enabled":true,"legacy_api_tokens_enabled":false},"#,
            r#""after":{"api_tokens_enabled":true,"legacy_api_tokens_enabled":true}}"#,
        ]
        .concat();
        assert_eq!(serde_json::to_string(&body()).unwrap(), expected);
        assert_eq!(serde_json::from_str::<ApiBackupBody>(&expected).unwrap(), body());
    }

    #[test]
    fn round_trip_private_and_told_apart_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let backups = dir.path().join("b");
        let now = time::macros::datetime!(2026-11-23 12:00:00 UTC);
        let (id, path) = write(&backups, now, &body()).unwrap();
        assert_eq!(id, "20261123T120000000000Z-api-enable-legacy");
        assert_eq!(super::super::kind_of(&id), Kind::Api);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&backups).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(load(&backups, &id).unwrap().body, body());
        let (mine, skipped) = list_for(&backups, "https://ls.example.com/").unwrap();
        assert_eq!((mine.len(), skipped.len()), (1, 0));
        assert!(list_for(&backups, "https://other.example.com/").unwrap().0.is_empty());
        // A database listing never sees it, and never reports it as corrupt.
        assert!(super::super::list(&backups).unwrap().is_empty());
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace("\"legacy_api_tokens_enabled\":false", "\"legacy_api_tokens_enabled\":true"),
        )
        .unwrap();
        assert!(format!("{:#}", load(&backups, &id).unwrap_err()).contains("checksum"));
    }
}
