//! database.*: the database opened, its schema, and the settings in Label Studio's
//! environment that decide for every organization (the JWT feature flag, the
//! legacy-token default of new organizations).

use super::inputs::{DatabaseInputs, Inputs};
use crate::outcome::checks::{Checks, Section};
use crate::report::style::count;
use crate::settings::{parse_bool, JwtFlag, JwtSchema, OrgStatus, JWT_FLAG};
use crate::text::paste;

pub fn checks(checks: &mut Checks, inputs: &Inputs) {
    let sec = Section::Database;
    let read = match &inputs.database {
        DatabaseInputs::NotLocated => {
            checks.skip("database.connection", sec, "no database");
            return;
        }
        DatabaseInputs::Unopened { error, lock_wait } => {
            let target = inputs.located().map(|l| l.target.to_string()).unwrap_or_default();
            let fix = if *lock_wait {
                "run doctor again when Label Studio's write is done, or give --lock-timeout SECONDS".to_string()
            } else if error.contains("PGPASSWORD") {
                "give the password in --db (postgres://USER:PASSWORD@host/db), in PGPASSWORD, or in ~/.pgpass".into()
            } else {
                "check --db (LSAUTH_DB) and that the database server runs and admits this user".into()
            };
            checks.fail("database.connection", sec, format!("cannot use {target}")).detail(error.clone()).fix(fix);
            return;
        }
        DatabaseInputs::BeforeJwt { target } => {
            checks.pass("database.connection", sec, target.clone());
            checks.pass("database.schema", sec, "Label Studio before 1.17").detail(
                "no jwt_auth_jwtsettings table: legacy tokens are the only kind and are always accepted; the token is \
                 tested against the server",
            );
            return;
        }
        DatabaseInputs::Open(read) => read,
    };
    let transport = read.transport.as_ref().map(|t| format!(" ({t})")).unwrap_or_default();
    checks.pass("database.connection", sec, format!("{}{transport}", read.target));
    let schema = &read.schema;
    checks.pass("database.schema", sec, schema.version_hint()).detail(format!(
        "jwt_auth migrations: {}",
        if schema.migrations.is_empty() { "none".into() } else { schema.migrations.join(", ") }
    ));
    feature_flag_check(checks, &inputs.flag);
    let orgs = match &read.orgs {
        Ok(orgs) => orgs,
        Err(error) => {
            checks.fail("database.error", sec, "this check could not run").detail(error.clone());
            return;
        }
    };
    if let Some(found) = &inputs.enable_legacy_env {
        let on = parse_bool(&found.value).unwrap_or(false);
        let off_orgs = orgs.iter().filter(|o| !o.legacy_api_tokens_enabled).count();
        if on && off_orgs > 0 {
            checks
                .warn(
                    "database.enable_legacy_env",
                    sec,
                    format!("{}={} does not fix existing organizations", found.var, found.value),
                )
                .detail(format!(
                    "it only sets legacy tokens on for organizations created afterwards, on Label Studio 1.18 or later \
                     (1.17.0 has no such setting); {} them off (the fix turns them on for all; --org ID for some)",
                    count(off_orgs, "existing organization has", "existing organizations have")
                ))
                .fix(paste::lsauth("enable-legacy --all"));
        } else {
            checks.pass(
                "database.enable_legacy_env",
                sec,
                format!(
                    "{}={} (applies to organizations created afterwards, from Label Studio 1.18; 1.17.0 has no such \
                     setting)",
                    found.var,
                    crate::text::shown::outside(&found.value)
                ),
            );
        }
    } else if !inputs.flag.is_off() {
        next_organizations_check(checks, schema, orgs);
    }
}

/// database.feature_flag: the JWT feature flag, as far as lsauth can see it.
fn feature_flag_check(checks: &mut Checks, flag: &JwtFlag) {
    let sec = Section::Database;
    match flag {
        JwtFlag::Off { variable } => {
            checks
                .warn("database.feature_flag", sec, format!("{variable} is off: JWT authentication is disabled"))
                .detail("with the flag off Label Studio accepts legacy tokens whatever the settings and refuses every PAT's access token")
                .fix(format!("unset {variable} in Label Studio's environment to use PATs"));
        }
        JwtFlag::On { variable } => {
            checks.pass("database.feature_flag", sec, format!("JWT authentication on ({variable} set)"));
        }
        JwtFlag::Unreadable { variable, value } => {
            checks
                .warn(
                    "database.feature_flag",
                    sec,
                    format!("{variable}={} is neither on nor off", crate::text::shown::quoted(value)),
                )
                .fix(format!("set {variable} to true or false in Label Studio's environment"));
        }
        JwtFlag::Default => {
            checks
                .skip(
                    "database.feature_flag",
                    sec,
                    "JWT feature flag: no override in lsauth's environment (Label Studio's default is on)",
                )
                .detail(format!(
                    "lsauth cannot see the server's environment: if {JWT_FLAG} is off there, legacy tokens are accepted \
                     and PATs refused whatever the settings say"
                ));
        }
    }
}

/// database.enable_legacy_env, unset: integrations that depend on legacy keys keep working
/// in today's organizations, but every organization created from now on (a new instance,
/// one made through the API) gets legacy tokens off unless the server's environment sets
/// LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true (from 1.18; 1.17.0 has no such setting).
fn next_organizations_check(checks: &mut Checks, schema: &JwtSchema, orgs: &[OrgStatus]) {
    let relying: i64 = orgs.iter().filter(|o| o.legacy_api_tokens_enabled).map(|o| o.legacy_token_holders).sum();
    if relying == 0 {
        return;
    }
    let flipped =
        crate::settings::releases::Generation::of(Some(schema)) == crate::settings::releases::Generation::Flipped;
    let fix = if flipped {
        "set LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true in Label Studio's environment (or start it with \
         --enable-legacy-api-token), then restart it"
            .to_string()
    } else {
        "on Label Studio 1.18-1.21 set LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true in its environment (or start it \
         with --enable-legacy-api-token); 1.17.0 has no such setting: run lsauth enable-legacy --org ID for each new \
         organization"
            .to_string()
    };
    checks
        .warn(
            "database.enable_legacy_env",
            Section::Database,
            format!(
                "{} today's organizations; organizations created from now on will reject them",
                count(relying as usize, "legacy token works in", "legacy tokens work in")
            ),
        )
        .detail(
            "Label Studio gives a new organization legacy tokens off unless LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
             is set in its environment; lsauth does not see it set here, and cannot see the server's environment \
             when it runs elsewhere (a container, another host): if it is set there, nothing is wrong",
        )
        .fix(fix);
}

#[cfg(test)]
mod tests {
    use super::super::inputs::tests::{inputs, open_database};
    use super::*;
    use crate::outcome::checks::Status;

    fn next_organizations(migrations: &[&str]) -> crate::outcome::checks::Check {
        let mut i = inputs();
        i.database = open_database(migrations, &[(1, Some(true), 2)]);
        let mut c = Checks::default();
        checks(&mut c, &i);
        c.checks.into_iter().find(|c| c.id == "database.enable_legacy_env").unwrap()
    }

    #[test]
    fn legacy_tokens_in_use_without_the_variable_warn_for_the_next_organization_by_release() {
        let flipped = next_organizations(&["0001_initial", "0002_alter_jwtsettings_defaults"]);
        assert_eq!(flipped.status, Status::Warn);
        assert!(flipped.summary.contains("organizations created from now on will reject them"), "{flipped:?}");
        assert!(flipped.fix.as_deref().unwrap().starts_with("set LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true"));
        // 1.17-1.21: the variable exists from 1.18 only.
        let initial = next_organizations(&["0001_initial"]);
        assert!(initial.fix.as_deref().unwrap().contains("1.17.0 has no such setting"), "{initial:?}");
    }

    #[test]
    fn the_variable_set_does_not_fix_existing_organizations() {
        let mut i = inputs();
        i.database = open_database(&["0001_initial", "0002_alter_jwtsettings_defaults"], &[(1, Some(false), 2)]);
        i.enable_legacy_env = Some(crate::environment::Found {
            var: "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN".into(),
            value: "true".into(),
        });
        let mut c = Checks::default();
        checks(&mut c, &i);
        let env = c.checks.iter().find(|c| c.id == "database.enable_legacy_env").unwrap();
        assert_eq!(env.status, Status::Warn);
        assert_eq!(env.fix.as_deref(), Some("lsauth enable-legacy --all"));
    }

    #[test]
    fn a_lock_wait_on_open_names_lock_timeout() {
        let mut i = inputs();
        i.database = DatabaseInputs::Unopened { error: "database is locked".into(), lock_wait: true };
        let mut c = Checks::default();
        checks(&mut c, &i);
        assert_eq!(c.checks[0].status, Status::Fail);
        assert!(c.checks[0].fix.as_deref().unwrap().contains("--lock-timeout"), "{:?}", c.checks[0]);
        assert_eq!(c.checks.len(), 1, "nothing else is judged without the database");
    }
}
