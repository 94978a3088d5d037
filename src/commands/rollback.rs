//! `lsauth rollback`: list backups, or restore the rows of one, after a conflict check,
//! taking a backup of the current state first so a rollback can itself be undone.

use super::Ctx;
use crate::backup::api::ApiBackup;
use crate::backup::{self, Backup};
use crate::cli::RollbackArgs;
use crate::db::{Access, OrgScope};
use crate::exit::{bad_input, bad_input_from, problem, ExitStatus};
use crate::outcome::change::{
    ApiBackupList, ApiBackupSummary, ApiRollbackOutcome, ApiTarget, BackupList, BackupSummary, EnvBackupSummary,
    EnvRollbackOutcome, EnvRollbackResult, ListedBackup, RollbackOutcome,
};
use crate::report;
use crate::report::terminal;
use crate::settings::DbIdentity;
use crate::settings::{plan_api_restore, ApiRestore, RestorePlan, RestorePlanner};
use crate::write::api::{api_target, write_api_settings, ApiSession, ApiWrite};
use crate::write::database::{write_with_backup, Confirmed, RestoreReplan, WriteLabel};

/// From this many rows on, a rollback reads every organization instead of a list of ids.
const READ_ALL_FROM: usize = 1000;

fn summary(b: &Backup) -> BackupSummary {
    BackupSummary {
        listed: ListedBackup::new(&b.id, &b.body.header),
        command: b.body.header.command.join(" "),
        rows: b.body.rows.len(),
        restores: b.body.restores.clone(),
        path: b.path.display().to_string(),
    }
}

/// This database's backups, oldest first; corrupt files are reported on stderr.
fn backups_of(ctx: &Ctx, dir: &std::path::Path, identity: &DbIdentity) -> anyhow::Result<Vec<Backup>> {
    let mut mine = Vec::new();
    for entry in backup::list(dir)? {
        match entry {
            Ok(b) if &b.body.database == identity => mine.push(b),
            Ok(_) => {}
            Err((path, why)) => ctx.out.note(format!("lsauth: warning: skipping {}: {why}", path.display())),
        }
    }
    Ok(mine)
}

pub fn run(ctx: &Ctx, args: &RollbackArgs) -> anyhow::Result<ExitStatus> {
    let flag = args.change.backup_dir.as_deref();
    // A restore writes a backup of what it replaces: the directory must take it.
    let dir =
        if args.which.list || args.change.dry_run { ctx.backup_dir(flag)? } else { ctx.backup_dir_for_writing(flag)? };
    if let Some(env_file) = &args.env_file {
        return env_rollback(ctx, args, &dir, env_file);
    }
    let api_backup_named = args.which.id.as_deref().is_some_and(|id| backup::kind_of(id) == backup::Kind::Api);
    if args.api.any() || api_backup_named {
        return api_rollback(ctx, args, &dir);
    }
    let read_only = args.which.list || args.change.dry_run;
    let (mut db, _) = ctx
        .open_db(if read_only { Access::ReadOnly } else { Access::ReadWrite })
        .map_err(|e| super::suggest_via_api(ctx, e, "rollback"))?;
    let identity = db.identity();
    if args.which.list {
        let backups = backups_of(ctx, &dir, &identity)?.iter().map(summary).collect();
        let list = BackupList { database: identity, backup_dir: dir.display().to_string(), backups };
        report::change::render_backup_list(&list, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    let chosen = match &args.which.id {
        Some(id) => backup::load(&dir, id)?,
        None => {
            let (latest, skipped) = backup::latest(&dir, &identity)?;
            for (path, why) in skipped {
                ctx.out.note(format!("lsauth: warning: skipping {}: {why}", path.display()));
            }
            latest.ok_or_else(|| bad_input(format!("no backup of {identity} in {}", dir.display())))?
        }
    };
    if chosen.body.database != identity {
        return Err(bad_input(format!(
            "backup {} belongs to {}, not to this database ({identity}); nothing was restored",
            chosen.id, chosen.body.database
        )));
    }
    restore_rows(ctx, args, db.as_mut(), &dir, chosen)
}

/// Before the question (and in a dry run): the organizations whose legacy tokens the
/// restore turns off on this release, as upgrade-check would name them. Undoing a pin
/// after the upgrade to 1.22+ restores "no row", which there means legacy tokens off.
fn warn_legacy_rejected(ctx: &Ctx, outcome: &mut RollbackOutcome, force: bool, defaults: crate::settings::JwtSettings) {
    let rejected: Vec<i64> = outcome.plan.legacy_rejected_after(force, defaults).map(|l| l.organization_id).collect();
    if rejected.is_empty() {
        return;
    }
    // A few are named, with the line that keeps them; many (the undo of an --all) are
    // counted, and --json lists every id: a warning of 100,000 ids is no warning.
    const NAMED: usize = 10;
    let named: Vec<String> = outcome
        .plan
        .legacy_rejected_after(force, defaults)
        .take(NAMED)
        .map(|l| match l.title {
            Some(t) => format!("{} {}", l.organization_id, crate::text::shown::quoted(t)),
            None => l.organization_id.to_string(),
        })
        .collect();
    let more = if rejected.len() > NAMED { format!(" and {} more", rejected.len() - NAMED) } else { String::new() };
    let keep = if rejected.len() <= NAMED {
        let orgs: Vec<String> = rejected.iter().map(|id| format!("--org {id}")).collect();
        format!("run afterwards: {}", crate::text::paste::lsauth(&format!("enable-legacy {}", orgs.join(" "))))
    } else {
        format!(
            "run {} afterwards with --org for each (the ids are --json's legacy_rejected), or {} if every \
             organization should accept them",
            crate::text::paste::lsauth("enable-legacy"),
            crate::text::paste::lsauth("enable-legacy --all")
        )
    };
    ctx.out.note(format!(
        "lsauth: warning: this rollback turns legacy tokens off for {}: {}{more} (it restores what they held before \
         the change: legacy tokens off{}), so their keys get 401 from then on; to keep them working, {keep}",
        crate::report::style::count_s(rejected.len(), "organization"),
        named.join(", "),
        if defaults.legacy_api_tokens_enabled {
            ""
        } else {
            ", or no row, which on this database's release (Label Studio 1.22 or later) means legacy tokens off"
        },
    ));
    outcome.legacy_rejected = rejected;
}

/// The refusal of a rollback whose rows were changed since the backup, once the plan
/// showing them has been rendered.
fn conflicts_refused(ctx: &Ctx, outcome: &RollbackOutcome) -> anyhow::Result<ExitStatus> {
    report::change::render_rollback(outcome, &ctx.out)?;
    Err(problem(format!(
        "{} since backup {} was taken; nothing was restored (--force restores them anyway)",
        crate::report::style::count(outcome.plan.conflicts(), "row changed", "rows changed"),
        outcome.backup
    )))
}

/// Restore the rows of a database backup: plan, show and confirm (unless `--yes`), then
/// write under the lock with an undo backup.
fn restore_rows(
    ctx: &Ctx,
    args: &RollbackArgs,
    db: &mut dyn crate::db::Database,
    dir: &std::path::Path,
    mut chosen: Backup,
) -> anyhow::Result<ExitStatus> {
    let scope = restore_scope(&chosen);
    let recorded = std::mem::take(&mut chosen.body.rows);
    let mut outcome = RollbackOutcome {
        database: db.identity(),
        backup: chosen.id.clone(),
        dry_run: args.change.dry_run,
        force: args.force,
        plan: RestorePlan::default(),
        restored: 0,
        undo_backup: None,
        legacy_rejected: Vec::new(),
    };
    let defaults = db.jwt_schema().model_defaults();
    // A person must see the plan before being asked, so it is read once without the lock
    // and planned again under it, to compare. With --yes nobody is asked: the plan is made
    // once, as the rows are read under the lock.
    let shown = args.change.dry_run || !args.change.yes;
    let mut planner = RestorePlanner::new(recorded);
    if shown {
        db.visit_scope(&scope, &mut |org| {
            planner.see(org);
            Ok(())
        })?;
        outcome.plan = planner.finish();
        if outcome.plan.conflicts() > 0 && !args.force {
            return conflicts_refused(ctx, &outcome);
        }
        warn_legacy_rejected(ctx, &mut outcome, args.force, defaults);
        let to_restore = outcome.plan.to_restore(args.force);
        if to_restore == 0 || args.change.dry_run {
            report::change::render_rollback(&outcome, &ctx.out)?;
            return Ok(ExitStatus::Ok);
        }
        report::change::render_rollback_plan(&outcome, &ctx.out)?;
        let question =
            format!("Restore {} from backup {}?", crate::report::style::count_s(to_restore, "row"), chosen.id);
        terminal::confirm(&question, args.change.yes, ctx.out.json)?;
        planner = outcome.plan.plan_again();
    }

    let label = WriteLabel { operation: "rollback", toggle: None, restores: Some(chosen.id.clone()) };
    let mut deciding = Confirmed::new(RestoreReplan { planner, force: args.force }, shown.then_some(&outcome.plan));
    let written = write_with_backup(db, &scope, dir, label, &mut deciding);
    if let (false, Some(made)) = (shown, deciding.into_plan()) {
        // With --yes the plan is the one made under the lock (also when it was refused).
        outcome.plan = made.plan;
    }
    if !shown && outcome.plan.conflicts() > 0 && !args.force {
        return conflicts_refused(ctx, &outcome);
    }
    if let Some(committed) = written? {
        if !shown {
            // With --yes nobody was asked: said once the rows made under the lock are written.
            warn_legacy_rejected(ctx, &mut outcome, args.force, defaults);
        }
        ctx.note_lock_held(&committed);
        outcome.restored = committed.rows;
        outcome.undo_backup = Some(committed.backup);
        if !shown {
            // What --yes restored, as a person asked first would have seen it.
            report::change::render_rollback_plan(&outcome, &ctx.out)?;
        }
    }
    report::change::render_rollback(&outcome, &ctx.out)?;
    super::skip_freeing(outcome);
    Ok(ExitStatus::Ok)
}

/// The rows to compare: a few by id; for a large backup (a change of --all) every row,
/// which SQLite reads in one ordered scan, faster than looking up every id at scale
/// (docs/performance.md). Rows the backup does not name are read and ignored.
fn restore_scope(chosen: &Backup) -> OrgScope {
    if chosen.body.rows.len() > READ_ALL_FROM {
        OrgScope::All
    } else {
        OrgScope::ids(chosen.body.rows.iter().map(|r| r.organization_id).collect())
    }
}

/// Values worth masking in a diff of .env files: anything named like a credential.
fn env_secrets(texts: &[&[u8]]) -> Vec<String> {
    texts
        .iter()
        .filter_map(|bytes| crate::config::envfile::EnvDocument::parse(bytes).ok())
        .flat_map(|doc| doc.secret_values())
        .collect()
}

fn env_rollback(
    ctx: &Ctx,
    args: &RollbackArgs,
    dir: &std::path::Path,
    env_file: &std::path::Path,
) -> anyhow::Result<ExitStatus> {
    use crate::backup::env as envbackup;
    if args.which.list {
        let backups: Vec<EnvBackupSummary> = envbackup::records_for(dir, env_file)?
            .into_iter()
            .map(|b| EnvBackupSummary {
                listed: ListedBackup::new(&b.id, &b.record.header),
                backup_file: b.record.backup_file,
            })
            .collect();
        report::change::render_env_backup_list(&env_file.display().to_string(), &backups, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    let (chosen, saved) = chosen_env_backup(args, dir, env_file)?;
    let current = crate::fsutil::read_regular_file(env_file, crate::fsutil::ENV_FILE_LIMIT)?;
    let current_sha = envbackup::sha256(&current);
    let mut outcome = EnvRollbackOutcome {
        env_file: env_file.display().to_string(),
        backup: chosen.id.clone(),
        dry_run: args.change.dry_run,
        result: EnvRollbackResult::AlreadyRestored,
        diff: String::new(),
        undo_backup_file: None,
        undo_backup_id: None,
        mode: None,
        in_place: false,
        pats_left: Vec::new(),
    };
    if current_sha == chosen.record.before_sha256 {
        report::change::render_env_rollback(&outcome, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    let secrets = env_secrets(&[&current, &saved]);
    let secret_refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    outcome.diff = report::diff::unified(
        &String::from_utf8_lossy(&current),
        &String::from_utf8_lossy(&saved),
        &env_file.display().to_string(),
        &secret_refs,
    );
    if current_sha != chosen.record.after_sha256 && !args.force {
        report::change::render_env_rollback(&outcome, &ctx.out)?;
        return Err(problem(format!(
            "{} was edited after backup {} was taken; nothing was restored (--force restores it anyway)",
            env_file.display(),
            chosen.id
        )));
    }
    let left = pats_taken_out(&current, &saved);
    let api = if left.is_empty() { None } else { env_api(ctx, env_file, &current) };
    if args.change.dry_run {
        outcome.pats_left = left.iter().map(|p| left_pat(api.as_ref(), p, false)).collect();
        outcome.result = EnvRollbackResult::WouldRestore;
        report::change::render_env_rollback(&outcome, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    crate::report::terminal::confirm(
        &format!("Restore {} from backup {}?", env_file.display(), chosen.id),
        args.change.yes,
        ctx.out.json,
    )?;
    // The file is re-read right before the replace: an edit made while the prompt was
    // open is refused, not overwritten.
    let target = crate::fsutil::prepare_replace(env_file)?;
    let mode = chosen.record.mode.as_deref().and_then(envbackup::parse_mode);
    let committed = envbackup::commit_rewrite(&target, &current, &saved, mode, dir, "rollback").map_err(|e| e.error)?;
    outcome.undo_backup_id = Some(committed.backup_id);
    outcome.undo_backup_file = Some(committed.backup_file.display().to_string());
    outcome.mode = mode.map(|m| format!("{m:o}"));
    outcome.in_place = committed.in_place;
    outcome.result = EnvRollbackResult::Restored;
    outcome.pats_left = left.iter().map(|p| left_pat(api.as_ref(), p, args.revoke_minted)).collect();
    report::change::render_env_rollback(&outcome, &ctx.out)?;
    Ok(ExitStatus::Ok)
}

/// The `.env` backup a rollback restores (the one named, else the newest of the file) and
/// its copy's bytes, checked against the record (exit 2 when it is gone or was edited).
fn chosen_env_backup(
    args: &RollbackArgs,
    dir: &std::path::Path,
    env_file: &std::path::Path,
) -> anyhow::Result<(crate::backup::env::EnvBackup, Vec<u8>)> {
    use crate::backup::env as envbackup;
    let chosen = match &args.which.id {
        Some(id) => envbackup::load(dir, env_file, id)?,
        None => envbackup::records_for(dir, env_file)?
            .pop()
            .ok_or_else(|| bad_input(format!("no backup of {} in {}", env_file.display(), dir.display())))?,
    };
    let saved = crate::fsutil::read_regular_file(chosen.record.backup_file.as_ref(), crate::fsutil::ENV_FILE_LIMIT)
        .map_err(|e| bad_input_from(format!("backup copy {} is unreadable", chosen.record.backup_file), e))?;
    if envbackup::sha256(&saved) != chosen.record.before_sha256 {
        return Err(bad_input(format!(
            "backup copy {} is corrupt or was edited: its checksum does not match",
            chosen.record.backup_file
        )));
    }
    Ok((chosen, saved))
}

/// The PATs `current` holds in a token variable that `restored` does not: what a rollback
/// of a migration takes out of the file (and leaves valid on the server).
fn pats_taken_out(current: &[u8], restored: &[u8]) -> Vec<String> {
    let values = |bytes: &[u8]| -> Vec<String> {
        crate::config::envfile::EnvDocument::parse(bytes)
            .map(|doc| {
                crate::config::sources::TOKEN_VARIABLES
                    .iter()
                    .filter_map(|v| doc.get(v).map(|s| s.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let kept = values(restored);
    values(current)
        .into_iter()
        .filter(|v| !kept.contains(v))
        .filter(|v| crate::token::inspect(v, crate::token::check::now_secs()).kind == crate::token::TokenKind::Pat)
        .collect()
}

/// A client for the server the file names (its LABEL_STUDIO_URL, else the environment's).
fn env_api(ctx: &Ctx, env_file: &std::path::Path, current: &[u8]) -> Option<crate::api::Api> {
    let doc = crate::config::envfile::EnvDocument::parse(current).ok()?;
    let (url, _) = crate::config::sources::url_source(None, Some((env_file, &doc)), &ctx.env);
    let base = crate::api::parse_base_url(&url).ok()?;
    crate::api::Api::new(base, std::time::Duration::from_secs(10)).ok()
}

/// What the server says of a PAT taken out of the file; revoked first when `revoke`.
fn left_pat(api: Option<&crate::api::Api>, pat: &str, revoke: bool) -> crate::outcome::change::LeftPat {
    let jti = crate::token::inspect(pat, 0)
        .claims
        .and_then(|c| c.jti)
        .map(|j| j.chars().take(8).collect::<String>())
        .unwrap_or_else(|| "?".into());
    let Some(api) = api else { return crate::outcome::change::LeftPat { jti, still_valid: None, revoked: false } };
    let revoked =
        revoke && matches!(api.block_on(crate::api::pats::revoke_pat(api, pat)), Ok(crate::api::pats::Revoked::Now));
    let still_valid = api.block_on(crate::api::pats::pat_still_valid(api, pat));
    crate::outcome::change::LeftPat { jti, still_valid, revoked }
}

/// The URL API backups are listed for: `--url`, else LABEL_STUDIO_URL, else the default.
fn api_url(ctx: &Ctx, args: &RollbackArgs) -> anyhow::Result<String> {
    let (text, _) = crate::config::sources::url_source(args.api.url.as_deref(), None, &ctx.env);
    Ok(crate::text::secrets::shown_url(&crate::api::parse_base_url(&text)?))
}

fn api_summary(b: &ApiBackup) -> ApiBackupSummary {
    ApiBackupSummary {
        listed: ListedBackup::new(&b.id, &b.body.header),
        organization_id: b.body.account.organization_id,
        organization_title: b.body.account.organization_title.clone(),
        user_email: b.body.account.user_email.clone(),
        before: b.body.before,
        after: b.body.after,
        restores: b.body.restores.clone(),
        path: b.path.display().to_string(),
    }
}

/// Restore a backup made through the API, through the API: the signed-in user's active
/// organization must be the backup's, and the settings must still be what the change
/// wrote (else refused, unless --force).
fn api_rollback(ctx: &Ctx, args: &RollbackArgs, dir: &std::path::Path) -> anyhow::Result<ExitStatus> {
    let Some(chosen) = choose_api_backup(ctx, args, dir)? else {
        return Ok(ExitStatus::Ok);
    };
    let mut session = ctx.sign_in_api(&args.api, None, Some(&chosen.body.account.url))?;
    let target = backups_target(&chosen, &session)?;
    let signed = &session.signed;
    let current = signed.api.block_on(crate::api::session::read_settings(&signed.caller(), &signed.who()))?;
    let mut outcome = ApiRollbackOutcome {
        via: "api",
        target,
        backup: chosen.id.clone(),
        dry_run: args.change.dry_run,
        force: args.force,
        current,
        restore_to: chosen.body.before,
        state: plan_api_restore(current, chosen.body.before, chosen.body.after),
        restored: 0,
        read_back: None,
        undo_backup: None,
        undo: None,
        warnings: Vec::new(),
    };
    if outcome.state == ApiRestore::Conflict && !args.force {
        report::api_change::render_api_rollback(&outcome, &ctx.out)?;
        return Err(problem(format!(
            "the settings changed since backup {} was taken (now {current}, the change wrote {}); nothing was \
             restored (--force restores them anyway)",
            chosen.id, chosen.body.after
        )));
    }
    if outcome.state == ApiRestore::AlreadyRestored || args.change.dry_run {
        report::api_change::render_api_rollback(&outcome, &ctx.out)?;
        return Ok(ExitStatus::Ok);
    }
    report::api_change::render_api_rollback_plan(&outcome, &ctx.out)?;
    terminal::confirm(
        &format!(
            "Restore organization {} from backup {} through the API?",
            chosen.body.account.organization_id, chosen.id
        ),
        args.change.yes,
        ctx.out.json,
    )?;
    let write = ApiWrite {
        operation: "rollback",
        toggle: None,
        restores: Some(chosen.id.clone()),
        target: &outcome.target,
        before: current,
        after: chosen.body.before,
    };
    let written = write_api_settings(&mut session, dir, write)?;
    outcome.restored = 1;
    outcome.undo = Some(written.undo);
    outcome.undo_backup = Some(written.backup);
    outcome.read_back = written.read_back;
    outcome.warnings = written.warnings;
    report::api_change::render_api_rollback(&outcome, &ctx.out)?;
    Ok(ExitStatus::Ok)
}

/// The API backup a rollback restores: the one named, or the latest made through this URL.
/// `None` when `--list` asked only for the list, which is then shown.
fn choose_api_backup(ctx: &Ctx, args: &RollbackArgs, dir: &std::path::Path) -> anyhow::Result<Option<ApiBackup>> {
    if let Some(id) = &args.which.id {
        if backup::kind_of(id) != backup::Kind::Api {
            return Err(bad_input(format!(
                "backup {id} is a database backup, not one made through the API: restore it without --via-api, \
                 --url, --login or --token-stdin"
            )));
        }
        return backup::api::load(dir, id).map(Some);
    }
    let url = api_url(ctx, args)?;
    let (found, skipped) = backup::api::list_for(dir, &url)?;
    for (path, why) in skipped {
        ctx.out.note(format!("lsauth: warning: skipping {}: {why}", path.display()));
    }
    if args.which.list {
        let backups = found.iter().map(api_summary).collect();
        let list = ApiBackupList { url, backup_dir: dir.display().to_string(), backups };
        report::api_change::render_api_backup_list(&list, &ctx.out)?;
        return Ok(None);
    }
    let Some(latest) = found.into_iter().last() else {
        return Err(bad_input(format!("no backup of a change through the API at {url} in {}", dir.display())));
    };
    Ok(Some(latest))
}

/// Where the rollback goes, checked to be where the backup's change went: the API
/// restores only the signed-in user's active organization, at the URL signed in to, so a
/// backup made elsewhere is refused before anything is written.
fn backups_target(chosen: &ApiBackup, session: &ApiSession) -> anyhow::Result<ApiTarget> {
    if session.url != chosen.body.account.url {
        return Err(bad_input(format!(
            "backup {} was made through {}, not {}; nothing was restored",
            chosen.id, chosen.body.account.url, session.url
        )));
    }
    let target = api_target(session)?;
    let wanted = chosen.body.account.organization_id;
    if target.account.organization_id != wanted {
        return Err(problem(format!(
            "backup {} is of organization {wanted}, but the active organization of {} is {}: the API changes the \
             active organization only. Sign in as a user whose active organization is {wanted} (or switch it in \
             Label Studio); nothing was restored",
            chosen.id,
            session.signed.who(),
            target.account.organization_id,
        )));
    }
    Ok(target)
}
