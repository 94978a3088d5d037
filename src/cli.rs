//! The command line: global options, subcommands, value enums (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

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
    #[arg(long, global = true, value_name = "PATH|URL", value_hint = ValueHint::FilePath)]
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

    /// Seconds to wait for a database lock held by Label Studio (0 to 3600)
    #[arg(long, global = true, default_value = "10", value_name = "SECONDS", value_parser = parse_lock_timeout)]
    pub lock_timeout: Seconds,
}

/// A validated number of seconds: finite, not negative, within its option's range. Every
/// duration on the command line goes through `parse_seconds`, so `nan`, `inf` or `-1`
/// is a usage error (exit 2) everywhere, never a panic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(f64);

impl Seconds {
    pub fn duration(self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.0)
    }
}

/// `text` as seconds within `min..=max` (`min` itself allowed only when `zero_ok`).
pub fn parse_seconds(text: &str, max: f64, zero_ok: bool) -> Result<Seconds, String> {
    let value: f64 = text.trim().parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
    let low_ok = if zero_ok { value >= 0.0 } else { value > 0.0 };
    if !(value.is_finite() && low_ok && value <= max) {
        let low = if zero_ok { "from 0" } else { "more than 0" };
        return Err(format!("{text:?}: give seconds {low} up to {max}"));
    }
    Ok(Seconds(value))
}

fn parse_timeout(text: &str) -> Result<Seconds, String> {
    parse_seconds(text, 600.0, false)
}

fn parse_lock_timeout(text: &str) -> Result<Seconds, String> {
    parse_seconds(text, 3600.0, true)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl Command {
    /// `--backup-dir`, for the commands that take one.
    pub fn backup_dir(&self) -> Option<&std::path::Path> {
        let change = match self {
            Command::EnableLegacy(a) | Command::DisableLegacy(a) | Command::EnablePat(a) | Command::DisablePat(a) => {
                &a.change
            }
            Command::MigrateEnv(a) => &a.change,
            Command::Rollback(a) => &a.change,
            Command::Pin(a) => &a.change,
            _ => return None,
        };
        change.backup_dir.as_deref()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find every known cause of a failing token and name the exact fix (changes nothing)
    #[command(after_help = "Exit status: 0 nothing fails (warnings allowed unless --strict), 1 something fails, \
2 bad input, 3 neither the database nor the API could be reached.\n\nExamples:\n  lsauth doctor\n  \
lsauth doctor --env-file /srv/ml-backend/.env\n  lsauth --db postgres://ls@db/ls doctor --project 12 --json")]
    Doctor(DoctorArgs),

    /// Show each organization's token settings, as stored and as Label Studio applies them
    #[command(after_help = "Examples:\n  lsauth orgs\n  lsauth --db postgres://ls@db/labelstudio orgs --json")]
    Orgs,

    /// Turn legacy API tokens on for organizations (legacy_api_tokens_enabled = true)
    #[command(after_help = "The organization Label Studio consults for a legacy token is its owner's active \
organization; --user EMAIL selects exactly that one.\n\nExamples:\n  lsauth enable-legacy --all --dry-run\n  \
lsauth enable-legacy --org 2 --org 5\n  lsauth enable-legacy --user ml-backend@example.com --yes\n\n\
Without database access (Docker, Kubernetes), through the API, for the signed-in user's active organization:\n  \
lsauth enable-legacy --via-api --url https://ls.example.com --login admin@example.com")]
    EnableLegacy(ToggleArgs),

    /// Turn legacy API tokens off for organizations
    #[command(
        after_help = "Examples:\n  lsauth disable-legacy --all --dry-run\n  lsauth disable-legacy --org 1 --yes\n  \
lsauth disable-legacy --via-api --url https://ls.example.com --login admin@example.com"
    )]
    DisableLegacy(ToggleArgs),

    /// Turn Personal Access Tokens on for organizations (api_tokens_enabled = true)
    #[command(
        after_help = "Examples:\n  lsauth enable-pat --all\n  lsauth enable-pat --user admin@example.com --yes\n  \
lsauth enable-pat --via-api --url https://ls.example.com --login admin@example.com"
    )]
    EnablePat(ToggleArgs),

    /// Turn Personal Access Tokens off for organizations
    #[command(after_help = "Examples:\n  lsauth disable-pat --org 3 --dry-run\n  \
printf '%s' \"$PAT\" | lsauth disable-pat --via-api --url https://ls.example.com --token-stdin --dry-run")]
    DisablePat(ToggleArgs),

    /// Tell what a token is and why Label Studio accepts or rejects it
    #[command(
        subcommand,
        after_help = "Examples:\n  lsauth token inspect --env-file .env\n  lsauth token test --env-file .env\n  \
printf '%s' \"$TOKEN\" | lsauth token test --url https://ls.example.com --token-stdin --json"
    )]
    Token(TokenArgs),

    /// Move an integration's .env from a legacy token to a PAT (or username/password), verified
    #[command(after_help = "Examples:\n  lsauth migrate-env --env-file .env --dry-run\n  \
lsauth migrate-env --env-file .env --yes                      # mint with the legacy token\n  \
printf '%s' \"$PAT\" | lsauth migrate-env --pat-stdin --yes\n  \
lsauth migrate-env --login me@example.com --password-stdin --revoke-existing --yes < pw.txt\n  \
lsauth rollback --env-file .env --latest")]
    MigrateEnv(MigrateEnvArgs),

    /// Print the shell completion script for SHELL
    #[command(after_help = "Examples:\n  lsauth completions bash > /etc/bash_completion.d/lsauth\n  \
lsauth completions zsh > \"${fpath[1]}/_lsauth\"\n  lsauth completions fish > ~/.config/fish/completions/lsauth.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff)
    #[command(hide = true)]
    Manpage,

    /// Before an upgrade: what it will reject that works today, for whom, and the fix (reads only)
    #[command(after_help = "Exit status: 0 the upgrade rejects nothing that works today, 1 it does, 2 a release \
lsauth does not know (or a downgrade), 3 the database could not be reached.\n\nExamples:\n  \
lsauth upgrade-check --to latest\n  lsauth --db postgres://ls@db/labelstudio upgrade-check --to 1.23.2 --json")]
    UpgradeCheck(UpgradeCheckArgs),

    /// Write explicit settings rows with today's values for organizations without one, so
    /// that no release's change of defaults reaches them
    #[command(after_help = "On Label Studio 1.17 to 1.21 an organization without a row keeps legacy tokens; \
on 1.22 and later the same organization rejects them. Pin before upgrading (lsauth upgrade-check says \
when).\n\nExamples:\n  lsauth pin --all --dry-run\n  lsauth pin --org 2 --yes\n  lsauth rollback --latest")]
    Pin(PinArgs),

    /// Undo a change from its backup (list backups, restore one, or the latest)
    #[command(after_help = "Examples:\n  lsauth rollback --list\n  lsauth rollback --latest --dry-run\n  \
lsauth rollback 20261122T120603123456Z-enable-legacy --yes\n\n\
A change made with --via-api is undone through the API:\n  \
lsauth rollback --latest --url https://ls.example.com --login admin@example.com")]
    Rollback(RollbackArgs),
}

/// Which organizations a change applies to (required, unless --via-api, which changes
/// the signed-in user's active organization; the toggles refuse both together). One
/// definition for the toggles and pin.
#[derive(Debug, Args)]
#[group(id = "selection", multiple = true)]
pub struct Selection {
    /// An organization id (repeatable)
    #[arg(long = "org", value_name = "ID")]
    pub orgs: Vec<i64>,

    /// Every organization
    #[arg(long, conflicts_with_all = ["orgs", "users"])]
    pub all: bool,

    /// The active organization of this user, the one Label Studio consults for their
    /// token (repeatable)
    #[arg(long = "user", value_name = "EMAIL")]
    pub users: Vec<String>,
}

/// How a change is confirmed and where its backup goes.
#[derive(Debug, Args)]
pub struct ChangeArgs {
    /// Apply without asking (required when there is no terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Show the plan and change nothing, on disk or in the database
    #[arg(long)]
    pub dry_run: bool,

    /// Where backups are kept [env: LSAUTH_BACKUP_DIR; default: ~/.local/state/lsauth/backups]
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub backup_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpgradeCheckArgs {
    /// The release to upgrade to (1.17.0 to 1.23.2, or latest)
    #[arg(long, value_name = "RELEASE")]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// The organizations, as every database change selects them (a pin has no --via-api).
    #[command(flatten)]
    pub selection: Selection,

    #[command(flatten)]
    pub change: ChangeArgs,
}

#[derive(Debug, Args)]
pub struct ToggleArgs {
    #[command(flatten)]
    pub selection: Selection,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub api: ApiCredentials,

    /// With --via-api: an integration's .env; its LABEL_STUDIO_URL is the URL, its token
    /// signs in when neither --token-stdin nor --login is given, and is tested after the
    /// change (a legacy token after enable-legacy, a PAT after enable-pat)
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, requires = "via_api")]
    pub env_file: Option<PathBuf>,
}

/// Working through Label Studio's API instead of the database (`--via-api`): where, and
/// who signs in.
#[derive(Debug, Args)]
pub struct ApiCredentials {
    /// Change the settings through Label Studio's API (/api/jwt/settings) instead of the
    /// database: the signed-in user's active organization changes. For installs where
    /// only a URL and a login are at hand (Docker, Kubernetes)
    #[arg(long)]
    pub via_api: bool,

    /// Label Studio's base URL, with any sub-path [default: LABEL_STUDIO_URL of --env-file
    /// or of the environment, else http://localhost:8080]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Sign in with a token read from standard input: a PAT, or a legacy token that still
    /// works
    #[arg(long, conflicts_with_all = ["login", "password_stdin"])]
    pub token_stdin: bool,

    /// Sign in through the web login as EMAIL (works whatever the token settings); the
    /// password is asked on a terminal, or read with --password-stdin
    #[arg(long, value_name = "EMAIL")]
    pub login: Option<String>,

    /// Read the --login password from standard input
    #[arg(long, requires = "login")]
    pub password_stdin: bool,

    /// Seconds before an API request is given up [default: 10]
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<Seconds>,
}

impl ApiCredentials {
    /// Whether any option of the API path was given.
    pub fn any(&self) -> bool {
        self.via_api || self.url.is_some() || self.token_stdin || self.login.is_some() || self.password_stdin
    }

    pub fn timeout(&self) -> std::time::Duration {
        self.timeout.map(Seconds::duration).unwrap_or(std::time::Duration::from_secs(10))
    }
}

#[derive(Debug, Args)]
#[group(id = "which", required = true, multiple = false)]
pub struct RollbackWhich {
    /// The backup to restore (see --list)
    #[arg(value_name = "ID")]
    pub id: Option<String>,

    /// Restore the newest backup of this database
    #[arg(long)]
    pub latest: bool,

    /// List this database's backups
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub which: RollbackWhich,

    /// Restore this .env file from a migrate-env backup instead of database rows
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, conflicts_with_all = ["via_api", "url", "token_stdin", "login"])]
    pub env_file: Option<PathBuf>,

    /// Restore even rows that were changed since the backup was taken
    #[arg(long)]
    pub force: bool,

    /// With --env-file: revoke on the server the PAT the file holds and the restored one
    /// does not (the PAT migrate-env minted), once the file is restored
    #[arg(long, requires = "env_file")]
    pub revoke_minted: bool,

    #[command(flatten)]
    pub change: ChangeArgs,

    /// Backups made with --via-api are restored through the API, with the same options
    /// (--url defaults to the backup's own URL)
    #[command(flatten)]
    pub api: ApiCredentials,
}

#[derive(Debug, Subcommand)]
pub enum TokenArgs {
    /// What a token is, offline: kind, claims, expiry, signature, database facts
    #[command(after_help = "Examples:\n  lsauth token inspect --env-file .env\n  \
printf '%s' \"$TOKEN\" | lsauth token inspect --token-stdin --ls-data-dir ~/.local/share/label-studio")]
    Inspect(TokenInspectArgs),

    /// Test a token against the API the way clients use it, and name the cause of a 401
    #[command(
        after_help = "Exit status: 0 the token works, 1 rejected (cause found), 2 bad input, 3 unreachable.\n\n\
Examples:\n  lsauth token test --env-file .env\n  lsauth token test --url http://localhost:8080/label-studio --token-stdin < token.txt\n  \
lsauth token test --url https://ls.example.com --all-from tokens.txt --json"
    )]
    Test(TokenTestArgs),
}

/// Where the token comes from.
#[derive(Debug, Args)]
pub struct TokenInput {
    /// The token (prefer --token-stdin or --env-file: arguments end up in shell history)
    #[arg(value_name = "TOKEN", conflicts_with_all = ["token_stdin", "env_file"])]
    pub token: Option<String>,

    /// Read the token from standard input
    #[arg(long, conflicts_with = "env_file")]
    pub token_stdin: bool,

    /// Read LABEL_STUDIO_API_KEY / _API_TOKEN / _ACCESS_TOKEN (and LABEL_STUDIO_URL) from this .env file
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokenInspectArgs {
    #[command(flatten)]
    pub token: TokenInput,

    /// Label Studio's data directory, whose .env holds SECRET_KEY [default: found like Label Studio does]
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub ls_data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokenTestArgs {
    #[command(flatten)]
    pub token: TokenInput,

    /// Label Studio's base URL, with any sub-path [default: the env file's or the environment's
    /// LABEL_STUDIO_URL / LABEL_STUDIO_HOST, else http://localhost:8080]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Seconds before a request is given up
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Seconds,

    /// Test every token in FILE (one per line), concurrently, one row each
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, conflicts_with_all = ["token", "token_stdin"])]
    pub all_from: Option<PathBuf>,

    /// How many tokens to test at once with --all-from
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,

    /// Which client this integration is: its row decides the verdict [default: auto: an
    /// ML backend when the .env's variables or the files beside it say so, else not known]
    #[arg(long, value_enum, default_value_t = TestClient::Auto)]
    pub client: TestClient,
}

/// The client `token test` judges the key for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestClient {
    /// Tell from the .env and what stands beside it
    Auto,
    /// The SDK's LabelStudio client (refreshes a PAT)
    Sdk,
    /// An ML backend from 2026-02-12 on (refreshes a PAT in LABEL_STUDIO_API_KEY only)
    MlBackend,
    /// An ML backend before 2026-02-12, or the SDK's get_local_path with the raw key
    MlBackendBeforeFix,
    /// Authorization: Token (curl, the legacy SDK Client)
    TokenHeader,
}

impl TestClient {
    pub fn client(self) -> Option<crate::token::clients::ClientId> {
        use crate::token::clients::ClientId;
        match self {
            TestClient::Auto => None,
            TestClient::Sdk => Some(ClientId::Sdk),
            TestClient::MlBackend => Some(ClientId::MlBackend),
            TestClient::MlBackendBeforeFix => Some(ClientId::BearerDirect),
            TestClient::TokenHeader => Some(ClientId::TokenHeader),
        }
    }
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// An integration's .env: its LABEL_STUDIO_URL and token are checked too
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub env_file: Option<PathBuf>,

    /// Label Studio's base URL [default: the env file's or the environment's LABEL_STUDIO_URL;
    /// without one the API checks are skipped]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Label Studio's data directory, whose .env holds SECRET_KEY
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub ls_data_dir: Option<PathBuf>,

    /// Follow the ML backend / export path of this project: project → organization →
    /// creators → their legacy tokens → the settings Label Studio consults
    #[arg(long, value_name = "ID")]
    pub project: Option<i64>,

    /// Warnings fail too (exit 1)
    #[arg(long)]
    pub strict: bool,

    /// Without a database: sign in through the web login as EMAIL to read the active
    /// organization's token settings from the API (api.jwt_settings); without it the
    /// configured token signs in when it can
    #[arg(long, value_name = "EMAIL")]
    pub login: Option<String>,

    /// Read the --login password from standard input
    #[arg(long, requires = "login")]
    pub password_stdin: bool,

    /// Seconds before an API request is given up
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Seconds,
}

/// Which client reads the env file migrate-env rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientKind {
    /// Tell from the file's variables
    Auto,
    /// A Label Studio ML backend (downloads task data with the key as it is)
    MlBackend,
    /// Anything else (the SDK's LabelStudio client, a script that refreshes PATs)
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MigrateTarget {
    /// A Personal Access Token in the same variable
    Pat,
    /// LABEL_STUDIO_USERNAME and LABEL_STUDIO_PASSWORD, for clients that sign in
    Password,
}

#[derive(Debug, Args)]
pub struct MigrateEnvArgs {
    /// The .env file to migrate
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, default_value = ".env")]
    pub env_file: PathBuf,

    /// The variable holding the token [default: the first of LABEL_STUDIO_API_KEY,
    /// LABEL_STUDIO_API_TOKEN, LABEL_STUDIO_ACCESS_TOKEN that is set]
    #[arg(long, value_name = "NAME")]
    pub var: Option<String>,

    /// Label Studio's base URL [default: LABEL_STUDIO_URL / LABEL_STUDIO_HOST of the file or
    /// the environment, else http://localhost:8080]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// What to write instead of the legacy token
    #[arg(long, value_enum, default_value_t = MigrateTarget::Pat)]
    pub to: MigrateTarget,

    /// Read a PAT you created from standard input
    #[arg(long, conflicts_with_all = ["login", "password_stdin"])]
    pub pat_stdin: bool,

    /// Sign in through the web login as EMAIL and mint the PAT there
    #[arg(long, value_name = "EMAIL")]
    pub login: Option<String>,

    /// Read the --login password from standard input
    #[arg(long)]
    pub password_stdin: bool,

    /// When the user already has a PAT (409), revoke it and mint a new one. Only done
    /// once lsauth knows a new PAT will work; the plan names the PATs it would revoke
    #[arg(long)]
    pub revoke_existing: bool,

    /// When PATs are off for the token owner's active organization, turn them on in the
    /// same run (a database change with its own backup and undo line)
    #[arg(long)]
    pub enable_pat: bool,

    /// Accept a new credential of another user than the old token's owner, or when the
    /// owner cannot be found (no working legacy token, no database)
    #[arg(long)]
    pub allow_other_user: bool,

    /// Which client reads this file [default: auto: an ML backend when the file sets
    /// LABEL_STUDIO_ML_BACKEND_V2, MODEL_DIR or an ML_BACKEND variable]
    #[arg(long, value_enum, default_value_t = ClientKind::Auto)]
    pub client: ClientKind,

    /// This client refreshes PATs itself (a recent ML backend that gets its access token
    /// through the SDK client): move it to a PAT even though it is an ML backend
    #[arg(long)]
    pub pat_capable: bool,

    /// Remove the legacy token instead of keeping it commented out with a dated note
    #[arg(long)]
    pub drop_legacy: bool,

    /// Seconds before an API request is given up
    #[arg(long, default_value = "10", value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Seconds,

    #[command(flatten)]
    pub change: ChangeArgs,
}

/// The command definition, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// The completion script for a shell, as `lsauth completions SHELL` prints it.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    // Hidden commands (manpage) are for packagers: a shell never offers them. Path options
    // carry a ValueHint, so bash completes `sync/` (filenames option), not `sync `.
    let full = command();
    let mut cmd = clap::Command::new("lsauth")
        .version(env!("CARGO_PKG_VERSION"))
        .about(full.get_about().cloned().unwrap_or_default());
    for arg in full.get_arguments() {
        cmd = cmd.arg(arg.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        cmd = cmd.subcommand(sub.clone());
    }
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "lsauth", &mut out);
    out
}

/// The man page, as `lsauth manpage` prints it.
pub fn manpage() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let cmd = command();
    clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
    // One page for the whole tool: each subcommand's own synopsis and options follow.
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        out.extend_from_slice(format!(".SH \"LSAUTH {}\"\n", sub.get_name().to_uppercase()).as_bytes());
        let page = clap_mangen::Man::new(sub.clone().name(format!("lsauth {}", sub.get_name())));
        let mut section = Vec::new();
        page.render_description_section(&mut section)?;
        page.render_synopsis_section(&mut section)?;
        page.render_options_section(&mut section)?;
        if sub.get_after_help().is_some() {
            page.render_extra_section(&mut section)?;
        }
        // Demote the subcommand's headings under this section.
        let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
        out.extend_from_slice(text.as_bytes());
    }
    Ok(out)
}
