//! project.*: `--project`'s keys as Label Studio uses them on the server side (the ML
//! backend /setup call, exports with media), its ML backends and its tasks' URLs.

use super::inputs::{Inputs, ProjectInputs, ProjectRead};
use crate::db;
use crate::outcome::checks::{Checks, Section};
use crate::report;
use crate::report::style::{count, count_s};
use crate::text::paste;
use crate::token::diagnosis::{self, Cause, ExplainContext};

pub fn checks(checks: &mut Checks, inputs: &Inputs) {
    let sec = Section::Project;
    let project = match &inputs.project {
        None => return,
        Some(ProjectInputs::NoDatabase) => {
            checks
                .skip("project.exists", sec, "the project was not checked: --project reads the database")
                .fix("run doctor on the Label Studio host, or give --db PATH|postgres://...");
            return;
        }
        Some(ProjectInputs::Unread(error)) => {
            checks.fail("project.error", sec, "this check could not run").detail(error.clone());
            return;
        }
        Some(ProjectInputs::Missing { id }) => {
            checks.fail("project.exists", sec, format!("no project {id} in this database"));
            return;
        }
        Some(ProjectInputs::NoOrganization { id }) => {
            checks.fail("project.exists", sec, format!("project {id} belongs to no organization"));
            return;
        }
        Some(ProjectInputs::Found(project)) => project,
    };
    let project_id = project.id;
    let org_id = project.organization_id;
    checks.pass(
        "project.exists",
        sec,
        format!(
            "project {} {} → organization {org_id}",
            project.id,
            crate::text::shown::quoted(project.title.as_deref().unwrap_or_default())
        ),
    );
    role_checks(checks, inputs, project);
    if let Some(backends) = &project.ml_backends {
        ml_backends_check(checks, backends, project_id);
    }
    if let Some(sample) = &project.task_urls {
        task_urls_check(checks, sample, project.label_studio_url.as_deref());
    }
    if let Some(error) = &project.failed {
        checks.fail("project.error", sec, "this check could not run").detail(error.clone());
    }
}

fn role_checks(checks: &mut Checks, inputs: &Inputs, project: &ProjectRead) {
    // Label Studio sends the project creator's legacy key to an ML backend's /setup, in the
    // body: /setup does not authenticate with it (it answers 200 whatever the settings);
    // label-studio-ml 1.0.x backends then download task data with it. Exports with media
    // use the organization creator's key. (AUTH-FACTS, "ML backends, measured".)
    let roles = [
        (
            "project.ml_backend_key",
            "label-studio-ml 1.0.x downloads (the key Label Studio sends to /setup)",
            "the project's creator",
        ),
        ("project.export_key", "exports with media", "the organization's creator"),
    ];
    for ((id, feature, who), role) in roles.into_iter().zip(&project.roles) {
        role_check(checks, inputs, project, (id, feature, who), role);
    }
}

/// One role's key (the project creator's for /setup, the organization creator's for
/// exports): who holds it, whether Label Studio accepts it, and the fix.
fn role_check(
    checks: &mut Checks,
    inputs: &Inputs,
    project: &ProjectRead,
    (id, feature, who): (&str, &str, &str),
    role: &super::inputs::RoleKey,
) {
    let sec = Section::Project;
    let project_id = project.id;
    let flag_off = inputs.flag.is_off();
    let mut chain = vec![format!("project {project_id}")];
    let Some(user) = &role.user else {
        checks.fail(id, sec, format!("{feature}: {who} is unknown (deleted user)"));
        return;
    };
    let email = crate::text::shown::outside(&user.email).into_owned();
    chain.push(format!("{who} {email} (id {})", user.id));
    let Some(key) = &role.key else {
        let summary = if id == "project.ml_backend_key" {
            // Seen on 1.23.2: 500 "User has no auth_token." and /setup is never called.
            format!(
                "{who} {email} has no legacy token: Label Studio cannot connect an ML backend to this project \
                 (it answers 500 \"User has no auth_token.\" and never calls /setup)"
            )
        } else {
            format!("{feature}: {who} {email} has no legacy token")
        };
        checks
            .fail(id, sec, summary)
            .detail(chain.join(" → "))
            .fix(format!("sign in as {email} and create an access token under Account & Settings"));
        return;
    };
    let shown = crate::text::secrets::shown_token(key, inputs.show_secrets);
    chain.push(format!("legacy token {shown}"));
    let Some(active) = user.active_organization_id else {
        chain.push("no active organization: the token is accepted".into());
        checks.pass(id, sec, format!("{feature}: {who}'s legacy token is accepted")).detail(chain.join(" → "));
        return;
    };
    let legacy_on = role.legacy_on;
    chain.push(format!("active organization {active}: legacy tokens {}", report::on_off(legacy_on)));
    if !legacy_on && !flag_off {
        checks
            .fail(
                id,
                sec,
                if id == "project.ml_backend_key" {
                    format!(
                        "{who}'s legacy token is rejected by organization {active}: {} (/setup itself answers \
                         200: the backend shows Connected)",
                        v1_downloaders(project.ml_backends.as_deref().unwrap_or_default())
                    )
                } else {
                    format!("{feature} will get 401: {who}'s legacy token is rejected by organization {active}")
                },
            )
            .detail(chain.join(" → "))
            .fix(paste::lsauth(&format!("enable-legacy --org {active}")))
            .because(format!("legacy_off:{active}"));
        return;
    }
    if let Some(finding) = &role.live {
        chain.push(format!("live test: {}", finding.cause.as_str()));
        if finding.cause != Cause::Ok {
            let (why, fix) = diagnosis::explain(
                finding,
                &ExplainContext { organization_id: Some(active), ..ExplainContext::default() },
            );
            checks.fail(id, sec, format!("{feature}: {why}")).detail(chain.join(" → ")).fix(fix);
            return;
        }
    }
    checks.pass(id, sec, format!("{feature}: {who}'s legacy token works")).detail(chain.join(" → "));
}

/// Who downloads with the project creator's key: label-studio-ml 1.0.x backends, named
/// when the project has backends (which generation each is, the database cannot tell).
fn v1_downloaders(backends: &[db::MlBackendRow]) -> String {
    const SHOWN: usize = 3;
    if backends.is_empty() {
        return "label-studio-ml 1.0.x backends download task data with it and get 401".into();
    }
    let mut names: Vec<String> = backends
        .iter()
        .take(SHOWN)
        .map(|b| {
            let title = b.title.as_deref().map(|t| format!(" {}", crate::text::shown::quoted(t))).unwrap_or_default();
            format!("ML backend {}{title}", b.id)
        })
        .collect();
    if backends.len() > SHOWN {
        names.push(format!("{} more", backends.len() - SHOWN));
    }
    let (they, download, get) =
        if backends.len() == 1 { ("it is", "downloads", "gets") } else { ("they are", "download", "get") };
    format!(
        "the project's {}, if {they} label-studio-ml 1.0.x, {download} task data with it and {get} 401",
        names.join(", ")
    )
}

/// project.ml_backends: the project's backends as Label Studio stored them (URL, state,
/// its error), what each generation needs, and ML_BLOCK_LOCAL_IP where it applies.
/// A URL as a line shows it: its first 200 characters (the host is at the start).
fn shortened(url: &str) -> String {
    match url.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &url[..at]),
        None => url.to_string(),
    }
}

/// How many ML backends or hosts a check names before "and N more" (the JSON's cap too,
/// docs/json-and-exit-codes.md).
pub const LISTED: usize = 20;

fn ml_backends_check(checks: &mut Checks, backends: &[db::MlBackendRow], project_id: i64) {
    const ID: &str = "project.ml_backends";
    let sec = Section::Project;
    if backends.is_empty() {
        checks.skip(ID, sec, format!("no ML backend is connected to project {project_id}"));
        return;
    }
    let needs = "what each generation downloads task data with: the current backend (label-studio-ml-backend from \
                 2026-02-12) LABEL_STUDIO_API_KEY of its .env (a legacy key, or a PAT it refreshes there); one from \
                 before 2026-02-12 that key as it is (a legacy key works, a PAT does not); label-studio-ml 1.0.x the \
                 project creator's legacy key (project.ml_backend_key); lsauth token test --env-file FILE tests a \
                 backend's key";
    let detail = format!("{}\n{needs}", backend_lines(backends).join("\n"));
    let down: Vec<&db::MlBackendRow> = backends.iter().filter(|b| matches!(b.state.as_str(), "DI" | "ER")).collect();
    if down.is_empty() {
        checks
            .pass(ID, sec, format!("{} connected", count(backends.len(), "ML backend is", "ML backends are")))
            .detail(detail);
        return;
    }
    checks
        .warn(ID, sec, format!("{} not connected", count(down.len(), "ML backend is", "ML backends are")))
        .detail(detail)
        .fix(down_fix(&down));
}

/// One line per backend (its id, title, URL, state and stored error), at most LISTED,
/// then how many more: 2,000 backends are a list no one reads (and megabytes of output).
fn backend_lines(backends: &[db::MlBackendRow]) -> Vec<String> {
    let state = |s: &str| match s {
        "CO" => "connected",
        "DI" => "disconnected",
        "ER" => "error",
        "TR" => "training",
        "PR" => "predicting",
        _ => "unknown state",
    };
    let mut lines: Vec<String> = backends
        .iter()
        .take(LISTED)
        .map(|b| {
            let error = b
                .error_message
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .map(|e| format!(": {}", crate::text::shown::outside(&e.chars().take(200).collect::<String>())))
                .unwrap_or_default();
            format!(
                "ML backend {}{} at {}: {}{error}",
                b.id,
                b.title.as_deref().map(|t| format!(" {}", crate::text::shown::quoted(t))).unwrap_or_default(),
                crate::text::shown::outside(&shortened(&crate::text::secrets::mask_url(&b.url))),
                state(&b.state)
            )
        })
        .collect();
    if backends.len() > LISTED {
        lines.push(format!("… and {} more", count(backends.len() - LISTED, "ML backend", "ML backends")));
    }
    lines
}

/// The fix for backends that are not connected, from what their rows say.
fn down_fix(down: &[&db::MlBackendRow]) -> String {
    let no_error = |b: &db::MlBackendRow| b.error_message.as_deref().is_none_or(|e| e.trim().is_empty());
    let reserved = |b: &db::MlBackendRow| crate::token::clients::reserved_address(&b.url);
    // Disconnected with no error: Label Studio has not checked it since it was saved (a
    // connect whose webhook was refused leaves a backend so, measured on 1.23.2) or its
    // health check failed (as it does for a loopback or private address from 1.23.2,
    // ML_BLOCK_LOCAL_IP): the row cannot tell which.
    let unchecked = down.iter().all(|b| b.state == "DI" && no_error(b));
    // Refused for its address: the error Label Studio stored says so, or a loopback or
    // private address failed otherwise.
    let blocked = down.iter().any(|b| {
        b.error_message.as_deref().is_some_and(|e| e.contains("reserved network address"))
            || (reserved(b) && !(b.state == "DI" && no_error(b)))
    });
    if blocked {
        return "set ML_BLOCK_LOCAL_IP=false in Label Studio's environment and restart it, then connect the backend \
             again (Label Studio 1.23.2 refuses backends on loopback or private addresses, which Docker networks are: \
             403 \"URL resolves to a reserved network address\"); with it false the connect can still answer that 403, \
             for the backend's webhook (SSRF_PROTECTION_ENABLED): the backend is saved all the same, Disconnected until \
             Label Studio next asks it for predictions; the webhook, needed only to train on new annotations, also \
             wants SSRF_PROTECTION_ENABLED=false"
            .into();
    }
    if !unchecked {
        return "check that the backend runs and that Label Studio reaches its URL, then connect it again (the \
                project's Model settings)"
            .into();
    }
    let address = if down.iter().any(|b| reserved(b)) {
        ", and on a loopback or private address (Docker's) that Label Studio 1.23.2 allows only with \
         ML_BLOCK_LOCAL_IP=false in its environment"
    } else {
        ""
    };
    format!(
        "ask for predictions (the Data Manager's Retrieve Predictions) or open the backend in the project's Model \
         settings: Label Studio checks a Disconnected backend again then, and marks it Connected if it answers (a \
         backend saved by a connect that answered 403 \"reserved network address\" for its webhook starts \
         Disconnected); if it stays so, check that the backend runs and that Label Studio reaches its URL{address}"
    )
}

/// project.task_urls: the first tasks' URLs to Label Studio's own files against the
/// LABEL_STUDIO_URL lsauth was given (the backend's): on another host the SDK sends no key.
fn task_urls_check(checks: &mut Checks, sample: &crate::token::clients::FileUrlSample, label_studio_url: Option<&str>) {
    const ID: &str = "project.task_urls";
    let sec = Section::Project;
    let Some(ours) = label_studio_url else {
        checks
            .skip(ID, sec, "the tasks' URLs were not compared with the backend's LABEL_STUDIO_URL")
            .fix("give --env-file with the ML backend's .env (or --url) to compare them");
        return;
    };
    let found = crate::token::clients::task_urls(sample);
    let tasks = count_s(found.tasks, "task");
    // The hosts come from task data: shown escaped.
    // Userinfo in a netloc (from the .env's URL or the task data) is masked, never shown.
    let shown_host = |h: &str| crate::text::shown::outside(&crate::text::secrets::mask_netloc(h)).into_owned();
    let other_hosts: Vec<(String, usize)> = found.other_hosts.iter().map(|(h, n)| (shown_host(h), *n)).collect();
    let Some((host, n)) = other_hosts.first() else {
        checks.pass(
            ID,
            sec,
            format!(
                "{} in the first {tasks}: relative, or on LABEL_STUDIO_URL's host",
                count_s(found.file_urls, "file URL")
            ),
        );
        return;
    };
    let scheme = if ours.trim_start().starts_with("https://") { "https" } else { "http" };
    let our_host =
        shown_host(ours.split_once("://").map(|(_, r)| r.split(['/', '?', '#']).next().unwrap_or(r)).unwrap_or(ours));
    checks
        .warn(
            ID,
            sec,
            format!(
                "{n} of {} file URLs in the first {tasks} are on {host}, not on {our_host} (LABEL_STUDIO_URL): the \
                 SDK sends the key only to LABEL_STUDIO_URL's host, so the backend's downloads of them get 401 \
                 \"Authentication credentials were not provided.\"",
                found.file_urls
            ),
        )
        .detail({
            let mut listed: Vec<String> =
                other_hosts.iter().take(LISTED).map(|(h, n)| format!("{h}: {}", count_s(*n, "URL"))).collect();
            let more_hosts = other_hosts.iter().skip(LISTED).map(|(_, n)| n).sum::<usize>() + found.unlisted;
            if more_hosts > 0 {
                listed.push(format!("… and {} on further hosts", count_s(more_hosts, "URL")));
            }
            listed.join("\n")
        })
        .fix(format!(
            "set LABEL_STUDIO_URL in the backend's .env to {scheme}://{host} (the host the tasks use), or import the \
             tasks with relative /data/... URLs"
        ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::checks::Status;

    fn backend(url: &str, state: &str, error: Option<&str>) -> db::MlBackendRow {
        db::MlBackendRow {
            id: 1,
            url: url.into(),
            state: state.into(),
            error_message: error.map(String::from),
            title: Some("SAM".into()),
        }
    }

    fn backends_check(backends: &[db::MlBackendRow]) -> crate::outcome::checks::Check {
        let mut checks = Checks::default();
        ml_backends_check(&mut checks, backends, 7);
        checks.checks.remove(0)
    }

    #[test]
    fn a_backend_refused_for_its_address_gets_ml_block_local_ip() {
        for b in [
            backend("http://ml-backend:9090", "ER", Some("URL resolves to a reserved network address")),
            backend("http://127.0.0.1:9090", "ER", Some("Connection refused")),
            backend("http://172.18.0.5:9090", "DI", Some("Connection refused")),
        ] {
            let c = backends_check(&[b]);
            assert_eq!(c.status, Status::Warn);
            assert!(c.fix.as_deref().unwrap().starts_with("set ML_BLOCK_LOCAL_IP=false"), "{c:?}");
        }
    }

    #[test]
    fn a_backend_disconnected_without_an_error_is_checked_again_by_asking_for_predictions() {
        let c = backends_check(&[backend("http://ml.example.com:9090", "DI", None)]);
        assert_eq!(c.status, Status::Warn);
        assert!(c.fix.as_deref().unwrap().starts_with("ask for predictions"), "{c:?}");
        assert!(!c.fix.as_deref().unwrap().contains("ML_BLOCK_LOCAL_IP"), "{c:?}");
        // On a loopback or private address its health check may be what 1.23.2 refuses.
        let local = backends_check(&[backend("http://127.0.0.1:9090", "DI", None)]);
        assert!(local.fix.as_deref().unwrap().starts_with("ask for predictions"), "{local:?}");
        assert!(
            local.fix.as_deref().unwrap().ends_with("only with ML_BLOCK_LOCAL_IP=false in its environment"),
            "{local:?}"
        );
    }

    #[test]
    fn connected_backends_pass_and_say_what_each_generation_downloads_with() {
        let c = backends_check(&[backend("http://ml.example.com", "CO", None)]);
        assert_eq!(c.status, Status::Pass);
        assert!(
            c.detail.as_deref().unwrap().contains("label-studio-ml 1.0.x the project creator's legacy key"),
            "{c:?}"
        );
    }

    #[test]
    fn a_read_that_fails_midway_keeps_the_checks_of_what_was_read_before_it() {
        let mut i = super::super::inputs::tests::inputs();
        i.project = Some(ProjectInputs::Found(Box::new(ProjectRead {
            id: 7,
            title: Some("SAM".into()),
            organization_id: 1,
            roles: vec![super::super::inputs::RoleKey { user: None, key: None, legacy_on: true, live: None }],
            ml_backends: None,
            task_urls: None,
            failed: Some("permission denied for table htx_user".into()),
            label_studio_url: None,
        })));
        let mut c = Checks::default();
        checks(&mut c, &i);
        let ids: Vec<&str> = c.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["project.exists", "project.ml_backend_key", "project.error"]);
        assert_eq!(c.checks[2].detail.as_deref(), Some("permission denied for table htx_user"));
    }

    #[test]
    fn the_creators_rejected_key_names_the_backends_that_download_with_it() {
        assert_eq!(v1_downloaders(&[]), "label-studio-ml 1.0.x backends download task data with it and get 401");
        assert_eq!(
            v1_downloaders(&[backend("http://ml:9090", "CO", None)]),
            "the project's ML backend 1 \"SAM\", if it is label-studio-ml 1.0.x, downloads task data with it and gets 401"
        );
    }

    #[test]
    fn task_urls_on_another_host_name_it_and_the_fix() {
        let mut sample = crate::token::clients::FileUrlSample::for_url("http://127.0.0.1:8080");
        sample.add(r#"{"image": "http://localhost:8080/data/upload/1/a.png"}"#);
        let mut checks = Checks::default();
        task_urls_check(&mut checks, &sample, Some("http://127.0.0.1:8080"));
        let c = &checks.checks[0];
        assert_eq!(c.status, Status::Warn);
        assert!(
            c.fix
                .as_deref()
                .unwrap()
                .starts_with("set LABEL_STUDIO_URL in the backend's .env to http://localhost:8080"),
            "{c:?}"
        );
    }
}
