//! Everything doctor reads, read before the first check: the `.env` and environment, the
//! database (read-only), and the API (the version, the configured token's probe, the
//! project's keys, the organization's settings). The only part of doctor that does I/O.

use super::inputs::{
    ApiAnswers, ApiInputs, DatabaseInputs, DatabaseRead, Inputs, JwtSettingsRead, ProjectInputs, ProjectRead, RoleKey,
    Sources, TokenInputs,
};
use crate::api::{self, Api, Auth};
use crate::cli::DoctorArgs;
use crate::commands::{Ctx, DbChoice};
use crate::config::sources;
use crate::db::status_of;
use crate::db::{self, Access, Database, Located, OpenOptions};
use crate::exit::ExitStatus;
use crate::settings::{JwtFlag, OrgStatus};
use crate::token;
use crate::token::check::SignatureState;

/// What `gather` read, and whether a read met a lock held past --lock-timeout (the run
/// then exits 3, as on every other path).
pub struct Gathered {
    pub inputs: Inputs,
    pub lock_waited: bool,
}

/// Where the URL and the token come from.
pub fn sources(ctx: &Ctx, args: &DoctorArgs) -> anyhow::Result<Sources> {
    let env_doc =
        args.env_file.as_deref().map(|p| sources::read_env_file(p).map(|d| (p.to_path_buf(), d))).transpose()?;
    let doc_ref = env_doc.as_ref().map(|(p, d)| (p.as_path(), d));
    let (url, url_from) = sources::url_source(args.url.as_deref(), doc_ref, &ctx.env);
    let url = (!url_from.is_default()).then_some((url, url_from.to_string()));
    let token = sources::token_source(None, false, doc_ref, &ctx.env).ok();
    let migrate_env = env_doc.as_ref().and_then(|(p, d)| sources::migrate_env_command(p, d));
    let env_rollback = env_doc.as_ref().and_then(|(p, _)| ctx.env_rollback_command(p));
    Ok(Sources { env_doc, migrate_env, verified_with: None, env_rollback, url, token })
}

pub fn gather(
    ctx: &Ctx,
    args: &DoctorArgs,
    mut sources: Sources,
    database_choice: DbChoice,
) -> anyhow::Result<Gathered> {
    let flag = ctx.jwt_flag.clone();
    let secret_key = ctx.secret_key(args.ls_data_dir.as_deref());
    let data_dir = args.ls_data_dir.clone().or_else(|| ctx.data_dir()).filter(|d| d.is_dir());
    // A read that fails becomes its check's "could not run"; one that met a lock past
    // --lock-timeout also makes the run exit 3.
    let lock_waited = std::cell::Cell::new(false);
    let failed = |e: anyhow::Error| {
        lock_waited.set(lock_waited.get() || db::is_lock_wait(&e));
        format!("{e:#}")
    };

    let (database, mut handle) = open_and_read(ctx, &database_choice, sources.url.is_some(), &flag, &failed)?;

    let token = sources.token.clone().map(|source| {
        let inspection = token::inspect(&source.value, crate::token::check::now_secs());
        let facts = handle.as_deref_mut().map(|db| crate::db::token_facts(db, &inspection).map_err(&failed));
        TokenInputs { source, inspection, facts }
    });
    if let Some(t) = &token {
        let local = crate::token::check::check_signature(&t.inspection, secret_key.clone());
        if local.state == SignatureState::Valid {
            sources.verified_with = local.secret_key_source;
        }
    }

    let mut project = args.project.map(|id| match handle.as_deref_mut() {
        None => ProjectInputs::NoDatabase,
        Some(db) => read_project(db, id, sources.url.as_ref().map(|(u, _)| u.clone()), &failed)
            .unwrap_or_else(|e| ProjectInputs::Unread(failed(e))),
    });
    let (api, client) = probe_api(args, &sources, token.as_ref(), &project_keys(project.as_ref(), &flag));
    if let (Some(client), Some(ProjectInputs::Found(p))) = (&client, &mut project) {
        answer_roles(client, p, &flag);
    }
    let reachable = matches!(&api, ApiInputs::Probed(a) if a.reachable());
    let jwt_settings = match client {
        Some(client) if handle.is_none() && reachable => {
            Some(read_jwt_settings(ctx, args, client, sources.token.as_ref())?)
        }
        _ => None,
    };

    let inputs = Inputs {
        show_secrets: ctx.out.show_secrets,
        flag,
        sources,
        database_choice,
        secret_key,
        data_dir,
        enable_legacy_env: ctx.env.label_studio("ENABLE_LEGACY_API_TOKEN"),
        database,
        token,
        api,
        jwt_settings,
        project,
    };
    Ok(Gathered { inputs, lock_waited: lock_waited.get() })
}

/// The database's inputs, and the database itself for the reads that follow (the token's
/// facts, the project). A database the user named that cannot be used is an error; one
/// found is a finding.
fn open_and_read(
    ctx: &Ctx,
    choice: &DbChoice,
    has_url: bool,
    flag: &JwtFlag,
    failed: &impl Fn(anyhow::Error) -> String,
) -> anyhow::Result<(DatabaseInputs, Option<Box<dyn Database>>)> {
    let (DbChoice::Named(l) | DbChoice::Discovered(l)) = choice else { return Ok((DatabaseInputs::NotLocated, None)) };
    let named = matches!(choice, DbChoice::Named(_));
    Ok(match open(ctx, l) {
        // Before 1.17 there is nothing in the database to check; a server to ask can
        // still say whether the token works.
        Ok(db) if !db.has_settings_table() => {
            let error = db::before_jwt_error(&db.target().location());
            match (has_url, named) {
                (true, _) => (DatabaseInputs::BeforeJwt { target: db.target().to_string() }, None),
                (false, true) => return Err(error),
                (false, false) => (DatabaseInputs::Unopened { lock_wait: false, error: failed(error) }, None),
            }
        }
        Ok(mut db) => {
            let read = read_database(db.as_mut(), flag, failed);
            (DatabaseInputs::Open(Box::new(read)), Some(db))
        }
        Err(e) if named && status_of(&e) == ExitStatus::BadInput => return Err(e),
        Err(e) => (DatabaseInputs::Unopened { lock_wait: db::is_lock_wait(&e), error: failed(e) }, None),
    })
}

/// The project's keys the probe tests along with the token (each once).
fn project_keys(project: Option<&ProjectInputs>, flag: &JwtFlag) -> Vec<String> {
    let Some(ProjectInputs::Found(p)) = project else { return Vec::new() };
    let mut keys: Vec<String> =
        p.roles.iter().filter_map(|role| role.live_test(flag.is_off()).map(String::from)).collect();
    keys.dedup();
    keys
}

/// What the server says of each role's key: answered with the probe, so the client keeps
/// those answers and sends nothing again.
fn answer_roles(client: &crate::api::Api, p: &mut ProjectRead, flag: &JwtFlag) {
    for role in &mut p.roles {
        if let Some(key) = role.live_test(flag.is_off()).map(String::from) {
            role.live = Some(client.block_on(async {
                crate::api::answers::whoami_legacy(&client.get_once("api/current-user/whoami", Auth::Token(&key)).await)
            }));
        }
    }
}

/// database.connection's open: read-only, waiting at most --lock-timeout.
fn open(ctx: &Ctx, l: &Located) -> anyhow::Result<Box<dyn Database>> {
    db::open(&l.target, OpenOptions { access: Access::ReadOnly, lock_timeout: ctx.lock_timeout, before_jwt: true })
}

fn read_database(db: &mut dyn Database, flag: &JwtFlag, failed: &impl Fn(anyhow::Error) -> String) -> DatabaseRead {
    let schema = db.jwt_schema().clone();
    let defaults = schema.model_defaults();
    let orgs = db
        .organizations()
        .map(|rows| rows.into_iter().map(|r| OrgStatus::from_record(r, defaults, flag)).collect())
        .map_err(failed);
    let facts = db.doctor_facts().map_err(failed);
    DatabaseRead {
        target: db.target().to_string(),
        transport: db.transport().map(|t| t.to_string()),
        schema,
        orgs,
        facts,
    }
}

/// `--project`'s facts, read in the order its checks use them, up to the first read that
/// fails (`ProjectRead::failed`): the checks of what came before it are still made.
fn read_project(
    db: &mut dyn Database,
    id: i64,
    label_studio_url: Option<String>,
    failed: &impl Fn(anyhow::Error) -> String,
) -> anyhow::Result<ProjectInputs> {
    let Some(project) = db.project(id)? else { return Ok(ProjectInputs::Missing { id }) };
    let Some(organization_id) = project.organization_id else { return Ok(ProjectInputs::NoOrganization { id }) };
    let mut read = ProjectRead {
        id: project.id,
        title: project.title,
        organization_id,
        roles: Vec::new(),
        ml_backends: None,
        task_urls: None,
        failed: None,
        label_studio_url,
    };
    let reads = (|| {
        for user in [project.project_creator, project.organization_creator] {
            read.roles.push(role_key(db, user)?);
        }
        read.ml_backends = Some(db.ml_backends(id)?);
        let mut sample = crate::token::clients::FileUrlSample::for_url(read.label_studio_url.as_deref().unwrap_or(""));
        db.each_task_data(id, &mut |data| sample.add(data))?;
        read.task_urls = Some(sample);
        anyhow::Ok(())
    })();
    read.failed = reads.err().map(failed);
    Ok(ProjectInputs::Found(Box::new(read)))
}

fn role_key(db: &mut dyn Database, user_id: Option<i64>) -> anyhow::Result<RoleKey> {
    let user = user_id.map(|u| db.user_by_id(u)).transpose()?.flatten();
    let key = match &user {
        Some(u) => db.legacy_key_of(u.id)?,
        None => None,
    };
    let defaults = db.jwt_schema().model_defaults();
    let legacy_on = match user.as_ref().and_then(|u| u.active_organization_id) {
        Some(active) => db
            .read_scope(&db::OrgScope::ids(vec![active]))?
            .into_iter()
            .next()
            .map(|o| o.effective(defaults).legacy_api_tokens_enabled)
            .unwrap_or(true),
        None => true,
    };
    Ok(RoleKey { user, key, legacy_on, live: None })
}

/// The API's answers, when a URL is configured, and the client that got them (it keeps
/// them: a later request for the same thing is not sent again).
fn probe_api(
    args: &DoctorArgs,
    sources: &Sources,
    token: Option<&TokenInputs>,
    other_keys: &[String],
) -> (ApiInputs, Option<Api>) {
    let Some((url, _)) = &sources.url else { return (ApiInputs::NoUrl, None) };
    let api = match api::parse_base_url(url).and_then(|base| Api::new(base, args.timeout.duration())) {
        Ok(api) => api,
        Err(e) => return (ApiInputs::InvalidUrl { url: url.clone(), error: format!("{e:#}") }, None),
    };
    let (version, finding, clients) = api.block_on(async {
        let version = crate::api::answers::version(&api.get("api/version", Auth::None).await);
        let probe = async {
            match token {
                Some(t) => {
                    let variable = t.source.variable.as_deref();
                    let (finding, clients) =
                        crate::api::probes::probe_all(&api, &t.inspection, &version, variable).await;
                    (Some(finding), clients)
                }
                None => (None, Vec::new()),
            }
        };
        // Legacy keys the project checks test live, with the probe (answered once, kept
        // by the client); the configured key itself is the probe's.
        let configured = token.map(|t| t.inspection.token.as_str());
        let others = other_keys.iter().filter(|k| Some(k.as_str()) != configured && version.is_ok());
        let whoamis = others.map(|k| api.get_once("api/current-user/whoami", Auth::Token(k)));
        let ((finding, clients), _) = futures_util::future::join(probe, futures_util::future::join_all(whoamis)).await;
        (version, finding, clients)
    });
    let answers = ApiAnswers { url: url.clone(), base: api.base().clone(), version, token: finding, clients };
    (ApiInputs::Probed(Box::new(answers)), Some(api))
}

/// api.jwt_settings's read: signed in with --login (the password asked for here) or else
/// the configured token, through the probe's client.
fn read_jwt_settings(
    ctx: &Ctx,
    args: &DoctorArgs,
    api: Api,
    token: Option<&crate::config::sources::TokenSource>,
) -> anyhow::Result<JwtSettingsRead> {
    let base = api.base().clone();
    let url = crate::text::secrets::shown_url(&base);
    let timeout = args.timeout.duration();
    let signed = match (&args.login, token) {
        (Some(email), _) => {
            let password = ctx.login_password(email, args.password_stdin)?;
            crate::api::session::sign_in_with_login(base.clone(), timeout, email, &password)
        }
        // The probe's client: its whoami with this token is not sent again.
        (None, Some(t)) => crate::api::session::sign_in_with_token(api, &t.value),
        (None, None) => return Ok(JwtSettingsRead::NoCredential),
    };
    let signed = match signed {
        Ok(s) => s,
        Err(e) if args.login.is_some() => return Ok(JwtSettingsRead::LoginFailed(format!("{e:#}"))),
        Err(_) => return Ok(JwtSettingsRead::TokenCannotSignIn),
    };
    let who = signed.who();
    let settings = match signed.api.block_on(crate::api::session::read_settings(&signed.caller(), &who)) {
        Ok(s) => s,
        Err(e) => return Ok(JwtSettingsRead::Unread(format!("{e:#}"))),
    };
    let org = signed.user.active_organization.map(|o| format!("organization {o}")).unwrap_or("no organization".into());
    Ok(JwtSettingsRead::Read {
        settings,
        read: format!("{org} (the active organization of {who}): {settings}"),
        email: signed.user.email.clone().unwrap_or_else(|| "EMAIL".into()),
        url,
    })
}
