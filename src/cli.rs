//! The command line: global options, subcommands, value enums (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "lsauth",
    version,
    about = "Diagnose and fix Label Studio API token failures (401 Unauthorized)",
    long_about = "lsauth finds why Label Studio answers 401 to an API token and fixes the \
                  organization settings in jwt_auth_jwtsettings safely, with backups.\n\n\
                  Without --db it finds the database the way Label Studio does: DJANGO_DB, \
                  DATABASE_NAME, BASE_DATA_DIR, POSTGRE_* (each also with the LABEL_STUDIO_ \
                  and HEARTEX_ prefixes).",
    after_help = "Exit status: 0 ok, 1 a problem found or a change refused, 2 bad input or usage, \
                  3 the database or the API could not be reached.\n\n\
                  Example:\n  lsauth --db ~/.local/share/label-studio/label_studio.sqlite3 orgs"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The Label Studio database: a SQLite path, sqlite:///abs/path, or
    /// postgres://user:pass@host:port/db?sslmode=verify-full&sslrootcert=ca.pem
    /// [env: LSAUTH_DB; default: found from Label Studio's own environment]
    #[arg(long, global = true, value_name = "PATH|URL")]
    pub db: Option<String>,

    /// Print one JSON document on stdout instead of tables
    #[arg(long, global = true)]
    pub json: bool,

    /// Say where things came from (database source, TLS) on stderr
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// When to use colour and symbols
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Print tokens and passwords in full instead of masked
    #[arg(long, global = true)]
    pub show_secrets: bool,

    /// Seconds to wait for a database lock held by Label Studio
    #[arg(long, global = true, default_value_t = 10.0, value_name = "SECONDS")]
    pub lock_timeout: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show each organization's token settings, as stored and as Label Studio applies them
    #[command(
        after_help = "Examples:\n  lsauth orgs\n  lsauth --db postgres://ls@db/labelstudio orgs --json"
    )]
    Orgs,
}
