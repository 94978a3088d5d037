//! Where a token and a URL come from: the command line, standard input, an integration's
//! `.env` file, or the environment, in the order clients read them. Each answer says where
//! it came from, so the output can tell the user.

use std::path::{Path, PathBuf};

use crate::config::envfile::EnvDocument;
use crate::environment::Environment;
use crate::exit::{bad_input, bad_input_from};

/// Where clients read the token from, in the order lsauth looks.
pub const TOKEN_VARIABLES: [&str; 3] = ["LABEL_STUDIO_API_KEY", "LABEL_STUDIO_API_TOKEN", "LABEL_STUDIO_ACCESS_TOKEN"];

pub const URL_VARIABLES: [&str; 2] = ["LABEL_STUDIO_URL", "LABEL_STUDIO_HOST"];

pub const DEFAULT_URL: &str = "http://localhost:8080";

/// The token and a sentence on where it came from.
#[derive(Debug, Clone)]
pub struct TokenSource {
    pub value: String,
    pub source: String,
    pub variable: Option<String>,
}

pub fn read_env_file(path: &Path) -> anyhow::Result<EnvDocument> {
    let shown = path.display();
    let bytes = crate::fsutil::read_regular_file(path, crate::fsutil::ENV_FILE_LIMIT)
        .map_err(|e| bad_input_from("env file", e))?;
    EnvDocument::parse(&bytes).map_err(|e| bad_input_from(shown.to_string(), e))
}

/// A warning for a file that starts with a UTF-8 byte order mark (Notepad writes one):
/// python-dotenv 1.2 skips it, older releases read the first variable's name with the mark
/// in front (`\u{feff}NAME`), so for them NAME is unset. Names the variable, never its value.
pub fn bom_warning(path: &Path, doc: &EnvDocument) -> Option<String> {
    doc.bom_hidden_key().map(|key| {
        format!(
            "{} starts with a byte order mark: python-dotenv before 1.2.3 reads its first variable as \\ufeff{key}, \
             so {key} is unset for clients on those releases; save the file as UTF-8 without a BOM",
            path.display()
        )
    })
}

/// The one rule for "this `.env` belongs to a Label Studio ML backend" (migrate-env's
/// refusal, doctor's and token test's client, the fixes doctor offers): what the file
/// sets (`token::clients::ml_backend_markers`) and what stands beside it, or beside the
/// file it links to (`ml_backend_neighbors`), each said in words. Empty: not known to be one.
pub fn ml_backend_evidence(env_file: &Path, doc: &EnvDocument) -> Vec<String> {
    let mut evidence = crate::token::clients::ml_backend_markers(doc);
    evidence.extend(ml_backend_neighbors(env_file));
    evidence
}

/// The integration reading `env_file`: an ML backend when `ml_backend_evidence` says so
/// (the current generation: the one a backend installed today is), else unknown.
pub fn integration_of(env_file: &Path, doc: &EnvDocument) -> Option<crate::token::clients::Integration> {
    let evidence = ml_backend_evidence(env_file, doc);
    (!evidence.is_empty()).then(|| crate::token::clients::Integration {
        client: crate::token::clients::ClientId::MlBackend,
        from: evidence.join(", "),
    })
}

/// Files beside an `.env` that say it belongs to a Label Studio ML backend: the backend's
/// `model.py` and `_wsgi.py` (what every example and the template have), or a compose file
/// naming `label-studio-ml` / `label_studio_ml`. A template `.env` of a backend sets only
/// LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY, as a script's does: what stands beside it
/// tells them apart. Each marker is said as "model.py beside it".
fn ml_backend_neighbors(env_file: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (dir, beside) in neighbor_dirs(env_file) {
        for name in ["model.py", "_wsgi.py"] {
            if dir.join(name).is_file() {
                found.push(format!("{name} {beside}"));
            }
        }
        for name in ["docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"] {
            let names_backend = crate::fsutil::read_regular_file(&dir.join(name), 1 << 20).is_ok_and(|b| {
                let text = String::from_utf8_lossy(&b);
                text.contains("label-studio-ml") || text.contains("label_studio_ml")
            });
            if names_backend {
                found.push(format!("{name} {beside} names label-studio-ml"));
            }
        }
    }
    found
}

/// The directories whose files tell what an `.env` belongs to: its own, and, when it is a
/// symlink (`deploy/.env -> ../backend/.env`), that of the file it links to, where the
/// backend's code stands. With how a marker found there is said.
fn neighbor_dirs(env_file: &Path) -> Vec<(PathBuf, String)> {
    let dir = env_file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let mut dirs = vec![(dir.clone(), "beside it".to_string())];
    if let Ok(real) = std::fs::canonicalize(env_file) {
        let real_dir = real.parent().map(Path::to_path_buf).unwrap_or_default();
        if std::fs::canonicalize(&dir).ok().as_ref() != Some(&real_dir) {
            dirs.push((real_dir, format!("beside the file it links to ({})", real.display())));
        }
    }
    dirs
}

/// The container files beside `env_file` (a Dockerfile, a compose file): the `.env` is
/// then read inside a container, where localhost is the container itself.
pub fn container_files(env_file: &Path) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (dir, _) in neighbor_dirs(env_file) {
        for name in ["Dockerfile", "docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"] {
            if dir.join(name).is_file() && !found.iter().any(|f| f == name) {
                found.push(name.to_string());
            }
        }
    }
    found
}

/// The paste-ready `lsauth migrate-env` that moves the integration of `env_file` to a PAT,
/// or `None` when migrate-env would refuse it (an ML backend's `.env`: the backend needs
/// a key it can send as it is, see `clients`).
pub fn migrate_env_command(env_file: &Path, doc: &EnvDocument) -> Option<String> {
    ml_backend_evidence(env_file, doc).is_empty().then(|| {
        crate::text::paste::lsauth(&format!(
            "migrate-env --env-file {}",
            crate::text::paste::shell_quote(&env_file.display().to_string())
        ))
    })
}

pub fn token_source(
    positional: Option<&str>,
    from_stdin: bool,
    env_doc: Option<(&Path, &EnvDocument)>,
    env: &Environment,
) -> anyhow::Result<TokenSource> {
    if let Some(t) = positional {
        return Ok(TokenSource { value: t.to_string(), source: "the command line".into(), variable: None });
    }
    if from_stdin {
        let line = read_secret_stdin("token")?;
        return Ok(TokenSource { value: line, source: "standard input".into(), variable: None });
    }
    if let Some((path, doc)) = env_doc {
        for var in TOKEN_VARIABLES {
            if let Some(e) = doc.entry(var) {
                return Ok(TokenSource {
                    value: e.value.to_string(),
                    source: format!("{} line {} ({var})", path.display(), e.line),
                    variable: Some(var.to_string()),
                });
            }
        }
        return Err(bad_input(format!("{} sets none of {}", path.display(), TOKEN_VARIABLES.join(", "))));
    }
    for var in TOKEN_VARIABLES {
        if let Some(v) = env.get(var).filter(|v| !v.is_empty()) {
            return Ok(TokenSource {
                value: v.to_string(),
                source: format!("environment ({var})"),
                variable: Some(var.into()),
            });
        }
    }
    Err(bad_input(format!(
        "no token: give it as an argument, with --token-stdin, with --env-file, or in {}",
        TOKEN_VARIABLES.join(" / ")
    )))
}

pub fn url_source(flag: Option<&str>, env_doc: Option<(&Path, &EnvDocument)>, env: &Environment) -> (String, UrlFrom) {
    if let Some(u) = flag {
        return (u.to_string(), UrlFrom::Flag);
    }
    if let Some((path, doc)) = env_doc {
        for var in URL_VARIABLES {
            if let Some(e) = doc.entry(var) {
                return (e.value.to_string(), UrlFrom::EnvFile(format!("{} line {} ({var})", path.display(), e.line)));
            }
        }
    }
    for var in URL_VARIABLES {
        if let Some(v) = env.get(var).filter(|v| !v.is_empty()) {
            return (v.to_string(), UrlFrom::Environment(var));
        }
    }
    (DEFAULT_URL.into(), UrlFrom::Default)
}

/// Where the Label Studio URL came from; shown as "--url", "FILE line N (VAR)",
/// "environment (VAR)" or "default".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlFrom {
    Flag,
    EnvFile(String),
    Environment(&'static str),
    /// Nothing configured it: `DEFAULT_URL`.
    Default,
}

impl UrlFrom {
    pub fn is_default(&self) -> bool {
        *self == UrlFrom::Default
    }
}

impl std::fmt::Display for UrlFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlFrom::Flag => f.write_str("--url"),
            UrlFrom::EnvFile(at) => f.write_str(at),
            UrlFrom::Environment(var) => write!(f, "environment ({var})"),
            UrlFrom::Default => f.write_str("default"),
        }
    }
}

/// A secret from standard input: its first non-empty line, without the line end. One
/// rule for every `--*-stdin` option (`printf` and `echo` both work).
pub fn read_secret_stdin(what: &str) -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| bad_input_from(format!("reading the {what} from stdin"), e))?;
    let text = String::from_utf8(bytes).map_err(|_| bad_input(format!("the {what} on standard input is not UTF-8")))?;
    let line = text.lines().map(|l| l.trim_end_matches('\r')).find(|l| !l.trim().is_empty()).unwrap_or("");
    if line.is_empty() {
        return Err(bad_input(format!("no {what} on standard input")));
    }
    Ok(line.to_string())
}
