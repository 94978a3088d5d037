//! A change through Label Studio's API, as the database path makes one: who signed in and
//! where the change goes (`api_target`), then `write_api_settings`: re-read, backup synced,
//! POST, a lost answer read again, read back.

use crate::backup;
use crate::outcome::change::BackupRef;
use crate::settings::Toggle;
use crate::text::paste::shell_quote;

/// Someone signed in for `--via-api`, and a token at hand to test after the change.
pub struct ApiSession {
    pub signed: crate::api::session::SignedIn,
    /// The base URL as shown (never with credentials).
    pub url: String,
    /// The token of `--env-file`, else the one read with `--token-stdin`.
    pub token_at_hand: Option<crate::config::sources::TokenSource>,
}

/// One write of the active organization's settings through the API.
pub struct ApiWrite<'a> {
    pub operation: &'a str,
    pub toggle: Option<Toggle>,
    pub restores: Option<String>,
    pub target: &'a crate::outcome::change::ApiTarget,
    /// What the plan was made from, and what is to be written.
    pub before: crate::settings::ApiSettings,
    pub after: crate::settings::ApiSettings,
}

/// What a write through the API left.
pub struct ApiWritten {
    pub backup: BackupRef,
    /// The command that undoes it (`api_undo_command`).
    pub undo: String,
    /// The settings read again (`None`: the credential the change switched off can no
    /// longer read them; Label Studio's answer to the write confirmed them).
    pub read_back: Option<crate::settings::ApiSettings>,
    pub warnings: Vec<String>,
}

/// Write settings through the API as the database path writes rows: re-read (a change
/// made while the plan was shown is refused), back up and sync, POST, then read back.
/// A write that certainly did not happen leaves no backup; one whose answer was lost is
/// read again to say which it was.
pub fn write_api_settings(
    session: &mut ApiSession,
    backup_dir: &std::path::Path,
    write: ApiWrite<'_>,
) -> anyhow::Result<ApiWritten> {
    use crate::api::session;
    use crate::exit::{problem, unreachable_error, ExitStatus};
    session.signed.renew()?;
    let who = session.signed.who();
    let signed = &session.signed;
    let caller = signed.caller();
    let now_settings = signed.api.block_on(session::read_settings(&caller, &who))?;
    if now_settings != write.before {
        return Err(problem(
            "the settings changed while the plan was shown; nothing was changed: run the command again",
        ));
    }
    let now = time::OffsetDateTime::now_utc();
    let body = backup::api::ApiBackupBody {
        header: backup::Header::new(backup::api::FORMAT, now, write.operation)?,
        via: "api".into(),
        account: write.target.account.clone(),
        toggle: write.toggle,
        restores: write.restores.clone(),
        before: write.before,
        after: write.after,
    };
    let (id, path) = backup::api::write(backup_dir, now, &body)?;
    let backup = BackupRef { id: id.clone(), path: path.display().to_string() };
    let mut warnings = Vec::new();
    let posted = signed.api.block_on(session::post_settings(&caller, write.after));
    // Whatever this client read before the change (whoami, an access token) is read anew
    // after it: the read-back and the live check must see the server as it is now.
    signed.api.forget();
    match session::settings_from("changing the token settings", &who, &posted) {
        Ok(stored) if stored == write.after => {}
        Ok(stored) => {
            return Err(problem(format!(
                "Label Studio stored \"{stored}\" instead of \"{}\": the settings CHANGED, differently than planned; \
                 backup {id} holds them as they were ({} --force restores them)",
                write.after,
                api_undo_command(&id, write.target)
            )))
        }
        Err(e) if crate::db::status_of(&e) != ExitStatus::Unreachable => {
            let _ = std::fs::remove_file(&path);
            return Err(e.context("nothing was changed"));
        }
        // No answer: read again to tell whether the change happened.
        Err(e) => match signed.api.block_on(session::read_settings(&caller, &who)).ok() {
            Some(now) if now == write.after => {
                warnings.push(format!("the answer to the change was lost ({e:#}); read again, the change is applied"));
            }
            Some(now) if now == write.before => {
                let _ = std::fs::remove_file(&path);
                return Err(unreachable_error(format!("{e:#}; read again, nothing was changed")));
            }
            _ => {
                let _ = std::fs::write(path.with_extension("json.unconfirmed"), "the change was not confirmed\n");
                return Err(crate::exit::outcome_unknown(format!(
                    "{e:#}: whether the settings changed is unknown; backup {id} was kept (unconfirmed): check with \
                     lsauth {} --via-api --dry-run",
                    write.operation
                )));
            }
        },
    }
    let read_back = read_back(signed, &write, &mut warnings);
    let undo = api_undo_command(&backup.id, write.target);
    Ok(ApiWritten { backup, undo, read_back, warnings })
}

/// The settings read again after the change: what the server holds now, with a warning
/// when it is not what was written (someone changed them right after) or cannot be read
/// (unless the change switched off what the signed-in key needs: then no read can work).
fn read_back(
    signed: &crate::api::session::SignedIn,
    write: &ApiWrite<'_>,
    warnings: &mut Vec<String>,
) -> Option<crate::settings::ApiSettings> {
    let switched_off_own = signed.kind.needs().is_some_and(|s| !write.after.get(s));
    match signed.api.block_on(crate::api::session::read_settings(&signed.caller(), &signed.who())) {
        Ok(s) if s == write.after => Some(s),
        Ok(s) => {
            warnings.push(format!("read again, the settings are \"{s}\": someone changed them right after lsauth did"));
            Some(s)
        }
        Err(_) if switched_off_own => None,
        Err(e) => {
            warnings.push(format!(
                "the settings could not be read again ({e:#}); Label Studio's answer to the change confirmed them"
            ));
            None
        }
    }
}

/// The command that undoes a change made through the API. The web login always works,
/// so it is named when the email is known.
pub fn api_undo_command(backup_id: &str, target: &crate::outcome::change::ApiTarget) -> String {
    let who = match &target.account.user_email {
        Some(email) => format!("--login {}", shell_quote(email)),
        None => "--token-stdin".into(),
    };
    crate::text::paste::rollback(&format!(
        "{} --url {} {who}",
        shell_quote(backup_id),
        shell_quote(&target.account.url)
    ))
}

/// Where the change goes: the URL, the signed-in user's active organization and its
/// title, who signed in.
pub fn api_target(session: &ApiSession) -> anyhow::Result<crate::outcome::change::ApiTarget> {
    let signed = &session.signed;
    let organization_id = signed.user.active_organization.ok_or_else(|| {
        crate::exit::problem(format!(
            "{} has no active organization: Label Studio's settings endpoint changes the signed-in user's active \
             organization only; sign in as a member of the organization to change",
            signed.who()
        ))
    })?;
    let organization_title =
        signed.api.block_on(crate::api::session::organization_title(&signed.caller(), organization_id));
    let account = crate::settings::ApiAccount {
        url: session.url.clone(),
        organization_id,
        organization_title,
        user_id: signed.user.id,
        user_email: signed.user.email.clone(),
    };
    Ok(crate::outcome::change::ApiTarget { account, credential: signed.kind })
}
