//! Asking a person. Only on a terminal: dialoguer checks stderr alone and falls back to
//! /dev/tty, which would prompt a cron job; so stdin and stderr are both checked here,
//! and without a terminal a change needs `--yes`. With `--json` a script is reading the
//! output, so a change needs `--yes` there too: no prompt a script cannot see.

use std::io::IsTerminal;

use crate::exit::problem;

/// Whether a person can be asked: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Whether `confirm` will ask a person (not --yes, not --json, a terminal): a plan is
/// then shown before the question.
pub fn will_ask(yes: bool, json: bool) -> bool {
    !yes && !json && interactive()
}

/// Ask before a change. Every caller asks before it has changed anything anywhere, so a
/// refusal says "nothing was changed".
pub fn confirm(question: &str, yes: bool, json: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if json {
        return Err(problem(
            "--json needs --yes to apply a change (no prompt a script cannot see); nothing was changed",
        ));
    }
    if !interactive() {
        return Err(problem(
            "no terminal to ask for confirmation: add --yes to apply this change (nothing was changed)",
        ));
    }
    let _cancel = crate::signals::prompting();
    let answer =
        dialoguer::Confirm::new().with_prompt(crate::text::shown::terminal_text(question)).default(false).interact();
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err(problem("not confirmed: nothing was changed")),
        Err(_) => cancelled(),
    }
}

/// A secret typed at a hidden prompt; refused when none is given.
pub fn secret_prompt(what: &str) -> anyhow::Result<String> {
    let _cancel = crate::signals::prompting();
    dialoguer::Password::new().with_prompt(what).interact().or_else(|_| cancelled())
}

/// Ctrl-C at a prompt (read as a key in raw mode): every prompt comes before any change.
fn cancelled<T>() -> anyhow::Result<T> {
    crate::signals::cancelled_at_prompt()
}
