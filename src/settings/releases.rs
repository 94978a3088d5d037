//! What each Label Studio release does with token settings, and what an upgrade will do
//! to each organization. Pure. The facts are those measured on every release from 1.17.0
//! to 1.23.2 (installed from PyPI, started fresh, upgraded in place).

use std::collections::HashMap;

use serde::Serialize;

use crate::settings::{release_minor, JwtSchema, JwtSettings, OrgRecord, DEFAULT_TTL_DAYS};

/// Which `jwt_auth` migrations a release ships, and so what an organization without a
/// row gets when Label Studio first touches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Generation {
    /// Before 1.17: no `jwt_auth` app; legacy tokens are the only kind, always accepted.
    BeforeJwt,
    /// 1.17 to 1.21: `jwt_auth 0001`; no row means PATs off, legacy tokens on.
    Initial,
    /// 1.22 and later: `0001` + `0002`; no row means PATs on, legacy tokens off.
    Flipped,
}

impl Generation {
    /// The generation a database's migrations say it runs (`None`: no settings table).
    pub fn of(schema: Option<&JwtSchema>) -> Generation {
        match schema {
            None => Generation::BeforeJwt,
            Some(s) if s.has_flipped_defaults() => Generation::Flipped,
            Some(_) => Generation::Initial,
        }
    }

    /// What an organization without a row gets (`None` before 1.17: there are no rows):
    /// the one statement of each generation's defaults, which everything else reads.
    pub const fn defaults(self) -> Option<JwtSettings> {
        let (api, legacy) = match self {
            Generation::BeforeJwt => return None,
            Generation::Initial => (false, true),
            Generation::Flipped => (true, false),
        };
        Some(JwtSettings {
            api_tokens_enabled: api,
            legacy_api_tokens_enabled: legacy,
            api_token_ttl_days: DEFAULT_TTL_DAYS,
        })
    }

    /// The generation of a release (major, minor), read off `KNOWN`: the newest known
    /// release not after it (before 1.17, none).
    pub fn of_release(minor: (u32, u32)) -> Generation {
        KNOWN
            .iter()
            .rev()
            .find(|r| release_minor(r.version).is_some_and(|known| known <= minor))
            .map(|r| r.generation)
            .unwrap_or(Generation::BeforeJwt)
    }

    /// The `jwt_auth` migrations a generation's database records, in words.
    fn migrations(self) -> &'static str {
        match self {
            Generation::BeforeJwt => "no jwt_auth migration",
            Generation::Initial => "0001 only",
            Generation::Flipped => "0001 and 0002",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Generation::BeforeJwt => "no jwt_auth app (Label Studio before 1.17)",
            Generation::Initial => "jwt_auth 0001 (Label Studio 1.17 to 1.21: no row means PATs off, legacy tokens on)",
            Generation::Flipped => {
                "jwt_auth 0001 + 0002 (Label Studio 1.22 and later: no row means PATs on, legacy tokens off)"
            }
        }
    }
}

/// What the newest generation (Label Studio 1.22+, jwt_auth 0002) gives an organization
/// without a row.
pub const CURRENT_DEFAULTS: JwtSettings = match Generation::Flipped.defaults() {
    Some(d) => d,
    None => panic!("the newest generation has rows"),
};

impl JwtSchema {
    /// The generation these migrations say (a settings table without a recorded jwt_auth
    /// migration reads as 1.17-1.21's, see `known_defaults`).
    pub fn generation(&self) -> Generation {
        Generation::of(Some(self))
    }

    /// The defaults when the migrations tell them: `None` for a database whose
    /// `jwt_auth_jwtsettings` exists but whose `django_migrations` records no `jwt_auth`
    /// migration (copied or hand-made): which Label Studio reads it is unknown.
    pub fn known_defaults(&self) -> Option<JwtSettings> {
        (!self.migrations.is_empty()).then(|| self.model_defaults())
    }

    /// What `AutoOneToOneField` creates for an organization that has no row (the 0001
    /// defaults also stand in when no migration is recorded; see `known_defaults`).
    pub fn model_defaults(&self) -> JwtSettings {
        self.generation().defaults().unwrap_or(CURRENT_DEFAULTS)
    }

    /// The Label Studio versions this migration state belongs to.
    pub fn version_hint(&self) -> &'static str {
        match self.generation() {
            Generation::Flipped => {
                "Label Studio 1.22 or later (jwt_auth 0002: no row means legacy tokens off, PATs on)"
            }
            _ if self.migrations.iter().any(|m| m.starts_with("0001")) => {
                "Label Studio 1.17 to 1.21 (jwt_auth 0001 only: no row means legacy tokens on, PATs off)"
            }
            _ => "jwt_auth_jwtsettings exists but django_migrations records no jwt_auth migration",
        }
    }

    /// The generation the recorded migrations belong to, strictly: none recorded is
    /// before 1.17's.
    fn recorded_generation(&self) -> Generation {
        if self.migrations.iter().any(|m| m.starts_with("0001")) {
            self.generation()
        } else {
            Generation::BeforeJwt
        }
    }
}

/// Whether the release answering the API and the database's migrations belong together
/// (each release's generation, from `KNOWN`, says which migrations it has). `Some(reason)`
/// when they do not (another instance's database, or migrations not run).
pub fn release_mismatch(release: &str, schema: &JwtSchema) -> Option<String> {
    let expected = Generation::of_release(release_minor(release)?);
    (schema.recorded_generation() != expected).then(|| {
        format!(
            "the API answers Label Studio {release}, which has {}, but the database records {}: lsauth may be \
             looking at another instance's database, or the migrations did not run",
            expected.migrations(),
            if schema.migrations.is_empty() { "none".to_string() } else { schema.migrations.join(", ") }
        )
    })
}

/// One release's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Release {
    pub version: &'static str,
    pub generation: Generation,
    /// `LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN` / `--enable-legacy-api-token` exist (1.18+):
    /// new organizations then get legacy tokens as it says (default off); on 1.17.0 always off.
    pub enable_legacy_setting: bool,
}

const fn release(version: &'static str, generation: Generation, enable_legacy_setting: bool) -> Release {
    Release { version, generation, enable_legacy_setting }
}

/// Every release lsauth knows, oldest first.
pub const KNOWN: [Release; 9] = [
    release("1.17.0", Generation::Initial, false),
    release("1.18.0", Generation::Initial, true),
    release("1.19.0", Generation::Initial, true),
    release("1.20.0", Generation::Initial, true),
    release("1.21.0", Generation::Initial, true),
    release("1.22.0", Generation::Flipped, true),
    release("1.23.0", Generation::Flipped, true),
    release("1.23.1", Generation::Flipped, true),
    release("1.23.2", Generation::Flipped, true),
];

/// A release by its version, or `latest` (the newest known); the error lists the known ones.
pub fn find(text: &str) -> Result<Release, String> {
    let text = text.trim().trim_start_matches('v');
    if text == "latest" {
        return Ok(KNOWN[KNOWN.len() - 1]);
    }
    KNOWN.iter().copied().find(|r| r.version == text).ok_or_else(|| {
        let known: Vec<&str> = KNOWN.iter().map(|r| r.version).collect();
        format!("lsauth does not know Label Studio {text:?}: it knows {} (or latest)", known.join(", "))
    })
}

/// The two settings that decide authentication, as Label Studio applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Effective {
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
}

impl Effective {
    fn of(s: JwtSettings) -> Self {
        Effective { api_tokens_enabled: s.api_tokens_enabled, legacy_api_tokens_enabled: s.legacy_api_tokens_enabled }
    }
}

/// What one organization does with tokens now, and after the upgrade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgPrediction {
    pub id: i64,
    pub title: String,
    pub has_settings_row: bool,
    pub now: Effective,
    pub after: Effective,
    /// Active users whose active organization this is and who hold a legacy token.
    pub legacy_token_holders: i64,
    /// Live (not revoked, not expired) PATs of users whose active organization this is.
    pub live_pats: i64,
    pub rejected_legacy_tokens_now: i64,
    pub rejected_legacy_tokens_after: i64,
    pub rejected_pats_now: i64,
    pub rejected_pats_after: i64,
}

impl OrgPrediction {
    /// The upgrade rejects tokens of this organization that work today.
    pub fn breaks(&self) -> bool {
        self.rejected_legacy_tokens_after > self.rejected_legacy_tokens_now
            || self.rejected_pats_after > self.rejected_pats_now
    }
}

/// Predict every organization's settings after an upgrade from `current` to `target`: a
/// row is kept as it is (no release migrates rows); an organization without one gets the
/// target's defaults when Label Studio first touches it. Before 1.17 every legacy token is
/// accepted and no PAT exists. With the JWT feature flag off in Label Studio's environment
/// (`flag_off`) legacy tokens are always accepted and PATs never.
pub fn predict(
    orgs: &[OrgRecord],
    live_pats: &HashMap<i64, i64>,
    current: Generation,
    target: &Release,
    flag_off: bool,
) -> Vec<OrgPrediction> {
    let now_defaults = current.defaults();
    let after_defaults = target.generation.defaults().expect("every known release has jwt_auth");
    orgs.iter()
        .map(|o| {
            let now = match (o.stored, now_defaults) {
                (Some(row), _) => Effective::of(row),
                (None, Some(d)) => Effective::of(d),
                (None, None) => Effective { api_tokens_enabled: false, legacy_api_tokens_enabled: true },
            };
            let after = Effective::of(o.stored.unwrap_or(after_defaults));
            let pats = live_pats.get(&o.id).copied().unwrap_or(0);
            let legacy_rejected =
                |e: Effective| if flag_off || e.legacy_api_tokens_enabled { 0 } else { o.legacy_token_holders };
            let pats_rejected = |e: Effective| if flag_off || !e.api_tokens_enabled { pats } else { 0 };
            OrgPrediction {
                id: o.id,
                title: o.title.clone(),
                has_settings_row: o.stored.is_some(),
                now,
                after,
                legacy_token_holders: o.legacy_token_holders,
                live_pats: pats,
                rejected_legacy_tokens_now: if current == Generation::BeforeJwt { 0 } else { legacy_rejected(now) },
                rejected_legacy_tokens_after: legacy_rejected(after),
                rejected_pats_now: pats_rejected(now),
                rejected_pats_after: pats_rejected(after),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The release table is the one rule: a release's generation gives the migrations it
    /// has and the defaults of an organization without a row, whatever asks.
    #[test]
    fn the_release_table_decides_generations_and_defaults() {
        assert_eq!(Generation::of_release((1, 16)), Generation::BeforeJwt);
        assert_eq!(Generation::of_release((1, 17)), Generation::Initial);
        assert_eq!(Generation::of_release((1, 21)), Generation::Initial);
        assert_eq!(Generation::of_release((1, 22)), Generation::Flipped);
        assert_eq!(Generation::of_release((1, 30)), Generation::Flipped, "a newer release: the newest known");
        let flipped = JwtSchema { migrations: vec!["0001_initial".into(), "0002_alter".into()] };
        let initial = JwtSchema { migrations: vec!["0001_initial".into()] };
        assert_eq!(Some(flipped.model_defaults()), Generation::Flipped.defaults());
        assert_eq!(Some(initial.model_defaults()), Generation::Initial.defaults());
        assert_eq!(Some(CURRENT_DEFAULTS), KNOWN[KNOWN.len() - 1].generation.defaults());
        for r in KNOWN {
            let schema = if r.generation == Generation::Flipped { &flipped } else { &initial };
            assert_eq!(release_mismatch(r.version, schema), None, "{}", r.version);
        }
        assert!(release_mismatch("1.16.0", &initial).unwrap().contains("no jwt_auth migration"));
    }

    fn org(id: i64, stored: Option<(bool, bool)>, holders: i64) -> OrgRecord {
        OrgRecord {
            id,
            title: format!("Org {id}"),
            creator_email: None,
            active_members: 1,
            stored: stored.map(|(api, legacy)| JwtSettings {
                api_tokens_enabled: api,
                legacy_api_tokens_enabled: legacy,
                api_token_ttl_days: DEFAULT_TTL_DAYS,
            }),
            legacy_token_holders: holders,
            inactive_legacy_token_holders: 0,
        }
    }

    #[test]
    fn releases_are_known_by_version_or_latest() {
        assert_eq!(find("latest").unwrap().version, "1.23.2");
        assert_eq!(find("1.21.0").unwrap().generation, Generation::Initial);
        assert!(!find("1.17.0").unwrap().enable_legacy_setting);
        assert!(find("1.18.0").unwrap().enable_legacy_setting);
        let err = find("1.24.0").unwrap_err();
        assert!(err.contains("1.17.0") && err.contains("1.23.2"), "{err}");
    }

    /// The field reports: a row-less organization on 1.17-1.21 loses legacy tokens on 1.22+,
    /// one with 0001's row keeps them (and its PATs stay off); a row made on 1.22 is kept.
    #[test]
    fn a_rowless_organization_on_1_21_loses_legacy_tokens_on_1_22() {
        let orgs = [org(1, None, 3), org(2, Some((false, true)), 2), org(3, Some((true, false)), 0)];
        let pats = HashMap::from([(2, 1), (3, 4)]);
        let p = predict(&orgs, &pats, Generation::Initial, &find("1.23.2").unwrap(), false);
        assert!(p[0].now.legacy_api_tokens_enabled && !p[0].after.legacy_api_tokens_enabled);
        assert_eq!((p[0].rejected_legacy_tokens_now, p[0].rejected_legacy_tokens_after), (0, 3));
        assert!(p[0].breaks());
        assert_eq!((p[1].rejected_pats_now, p[1].rejected_pats_after), (1, 1), "PATs off before and after");
        assert!(!p[1].breaks() && !p[2].breaks());
        // Within 1.17-1.21 nothing changes.
        assert!(predict(&orgs, &pats, Generation::Initial, &find("1.20.0").unwrap(), false)
            .iter()
            .all(|o| !o.breaks()));
    }

    #[test]
    fn before_1_17_every_legacy_token_is_lost_on_1_22_and_kept_on_1_20() {
        let orgs = [org(1, None, 2)];
        let none = HashMap::new();
        let p = predict(&orgs, &none, Generation::BeforeJwt, &find("1.22.0").unwrap(), false);
        assert_eq!((p[0].rejected_legacy_tokens_now, p[0].rejected_legacy_tokens_after), (0, 2));
        let p = predict(&orgs, &none, Generation::BeforeJwt, &find("1.20.0").unwrap(), false);
        assert!(!p[0].breaks());
        assert!(!p[0].after.api_tokens_enabled, "PATs off instead");
    }

    #[test]
    fn the_jwt_flag_off_keeps_legacy_tokens_whatever_the_settings() {
        let orgs = [org(1, None, 2)];
        let p = predict(&orgs, &HashMap::new(), Generation::Initial, &find("latest").unwrap(), true);
        assert!(!p[0].breaks());
    }
}
