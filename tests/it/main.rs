//! The one integration-test binary. Behaviour suites run on SQLite and on a real
//! PostgreSQL server alike (see `on_both_backends!`).

mod harness;
mod hostile;
mod layers;

mod demo;
mod discovery;
mod docs;
mod doctor;
mod dotenv_diff;
mod fake_ls;
mod fix;
mod generated;
mod migrate;
mod orgs;
mod roundtrips;
mod safety;
mod secrets;
mod token;
mod upgrade;
mod via_api;
mod worse_off;

/// Instantiate each listed `fn name(fixture: &dyn Fixture)` as a test on a fresh SQLite
/// database and another on a fresh PostgreSQL database.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&$crate::harness::SqliteFixture::new()) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(&$crate::harness::PgFixture::new()) } )*
        }
    };
}
