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
    let _cancel = CancelOnInterrupt::install();
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
    let _cancel = CancelOnInterrupt::install();
    dialoguer::Password::new().with_prompt(what).interact().or_else(|_| cancelled())
}

const CANCELLED: &[u8] = b"\x1b[?25h\nCancelled; nothing was changed.\n";

/// Ctrl-C at a prompt (read as a key in raw mode): every prompt comes before any change.
fn cancelled<T>() -> anyhow::Result<T> {
    use std::io::Write;
    let _ = std::io::stderr().write_all(CANCELLED);
    std::process::exit(130)
}

/// While a prompt waits, SIGINT (Ctrl-C in cooked mode) says that nothing was changed
/// and exits 130, as the default action would, instead of dying without a word. The
/// previous action is restored when the prompt is answered.
struct CancelOnInterrupt {
    previous: libc::sigaction,
}

extern "C" fn on_interrupt(_: libc::c_int) {
    // Only async-signal-safe calls: write(2) and _exit(2).
    unsafe {
        libc::write(2, CANCELLED.as_ptr().cast(), CANCELLED.len());
        libc::_exit(130);
    }
}

impl CancelOnInterrupt {
    fn install() -> Self {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; the handler
        // only makes async-signal-safe calls.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_interrupt as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            libc::sigaction(libc::SIGINT, &action, &mut previous);
            CancelOnInterrupt { previous }
        }
    }
}

impl Drop for CancelOnInterrupt {
    fn drop(&mut self) {
        // SAFETY: restores the action saved by `install`.
        unsafe {
            libc::sigaction(libc::SIGINT, &self.previous, std::ptr::null_mut());
        }
    }
}
