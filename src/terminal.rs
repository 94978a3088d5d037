//! Asking a person. Only on a terminal: dialoguer checks stderr alone and falls back to
//! /dev/tty, which would prompt a cron job; so stdin and stderr are both checked here,
//! and without a terminal a change needs `--yes`.

use std::io::IsTerminal;

use crate::exit::refused;

pub fn confirm(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(refused(
            "no terminal to ask for confirmation: add --yes to apply this change (nothing was changed)",
        ));
    }
    let answer = dialoguer::Confirm::new().with_prompt(question).default(false).interact();
    match answer {
        Ok(true) => Ok(()),
        Ok(false) | Err(_) => Err(refused("not confirmed: nothing was changed")),
    }
}
