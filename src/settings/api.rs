//! A change through Label Studio's API: where it acts, the two settings, and a restore's
//! plan.

use serde::{Deserialize, Serialize};

use super::*;

/// Where a change through the API acts: the Label Studio, the signed-in user, and that
/// user's active organization (the only one `/api/jwt/settings` changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiAccount {
    /// Label Studio's base URL, never with `user:password@`.
    pub url: String,
    pub organization_id: i64,
    pub organization_title: Option<String>,
    pub user_id: i64,
    pub user_email: Option<String>,
}

/// The two switches as `/api/jwt/settings` reads and writes them, for the caller's
/// active organization (the endpoint shows nothing else: no row, no ttl, no times).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSettings {
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
}

impl ApiSettings {
    pub fn get(self, setting: Setting) -> bool {
        match setting {
            Setting::LegacyApiTokensEnabled => self.legacy_api_tokens_enabled,
            Setting::ApiTokensEnabled => self.api_tokens_enabled,
        }
    }

    /// These settings with `toggle` applied.
    pub fn toggled(self, toggle: Toggle) -> ApiSettings {
        let mut after = self;
        match toggle.setting {
            Setting::LegacyApiTokensEnabled => after.legacy_api_tokens_enabled = toggle.enable,
            Setting::ApiTokensEnabled => after.api_tokens_enabled = toggle.enable,
        }
        after
    }
}

impl std::fmt::Display for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = |b: bool| if b { "on" } else { "off" };
        write!(f, "PATs {}, legacy tokens {}", on(self.api_tokens_enabled), on(self.legacy_api_tokens_enabled))
    }
}

/// What restoring an API backup means now, from the settings the server shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiRestore {
    /// The settings are already what the backup holds: nothing to do.
    AlreadyRestored,
    /// The settings are what the change wrote: put the old ones back.
    Restore,
    /// The settings are neither: changed by someone since (restored only with --force).
    Conflict,
}

pub fn plan_api_restore(current: ApiSettings, before: ApiSettings, after: ApiSettings) -> ApiRestore {
    if current == before {
        ApiRestore::AlreadyRestored
    } else if current == after {
        ApiRestore::Restore
    } else {
        ApiRestore::Conflict
    }
}

#[cfg(test)]
mod api_tests {
    use super::*;

    const LEGACY_OFF: ApiSettings = ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: false };

    #[test]
    fn a_toggle_changes_one_switch_only() {
        let on = Toggle { setting: Setting::LegacyApiTokensEnabled, enable: true };
        let after = LEGACY_OFF.toggled(on);
        assert_eq!(after, ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: true });
        assert!(after.get(Setting::LegacyApiTokensEnabled) && after.get(Setting::ApiTokensEnabled));
        assert_eq!(after.toggled(on), after, "applying it twice changes nothing more");
        let pat_off = Toggle { setting: Setting::ApiTokensEnabled, enable: false };
        assert_eq!(
            LEGACY_OFF.toggled(pat_off),
            ApiSettings { api_tokens_enabled: false, legacy_api_tokens_enabled: false }
        );
    }

    #[test]
    fn a_restore_puts_back_only_what_the_change_left() {
        let after = ApiSettings { api_tokens_enabled: true, legacy_api_tokens_enabled: true };
        assert_eq!(plan_api_restore(after, LEGACY_OFF, after), ApiRestore::Restore);
        assert_eq!(plan_api_restore(LEGACY_OFF, LEGACY_OFF, after), ApiRestore::AlreadyRestored);
        let someone_else = ApiSettings { api_tokens_enabled: false, legacy_api_tokens_enabled: true };
        assert_eq!(plan_api_restore(someone_else, LEGACY_OFF, after), ApiRestore::Conflict);
    }
}
