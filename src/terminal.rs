//! Asking a person. Only on a terminal: dialoguer checks stderr alone and falls back to
//! /dev/tty, which would prompt a cron job; so stdin and stderr are both checked here,
//! and without a terminal a change needs `--yes`. With `--json` a script is reading the
//! output, so a change needs `--yes` there too: no prompt a script cannot see.

use std::io::IsTerminal;

use crate::exit::refused;

/// Whether a person can be asked: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ask before a change. Every caller asks before it has changed anything anywhere, so a
/// refusal says "nothing was changed".
pub fn confirm(question: &str, yes: bool, json: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if json {
        return Err(refused(
            "--json needs --yes to apply a change (no prompt a script cannot see); nothing was changed",
        ));
    }
    if !interactive() {
        return Err(refused(
            "no terminal to ask for confirmation: add --yes to apply this change (nothing was changed)",
        ));
    }
    let answer = dialoguer::Confirm::new().with_prompt(crate::shown::terminal_text(question)).default(false).interact();
    match answer {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(refused("not confirmed: nothing was changed")),
    }
}

/// A secret typed at a hidden prompt; refused when none is given.
pub fn secret_prompt(what: &str) -> anyhow::Result<String> {
    dialoguer::Password::new().with_prompt(what).interact().map_err(|_| refused(format!("no {what} given")))
}
