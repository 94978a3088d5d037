//! SIGINT and SIGTERM, so that neither can leave a person worse off:
//!
//! - While a change is in flight on the server and in a file (a PAT revoked, a new one not
//!   yet written), the signals are *held*: lsauth finishes the change, says what it did,
//!   and then exits as interrupted (130 for SIGINT, 143 for SIGTERM). SIGKILL cannot be
//!   held; docs/backups-and-rollback.md says what it can leave and how to find it.
//! - While a prompt waits (echo off for a password), the terminal's settings are put back
//!   before the process ends, and the user is told that nothing was changed.
//! - Otherwise the signal does what it always did: the process ends by it.
//!
//! One handler for both signals, installed on first use. It makes only async-signal-safe
//! calls (atomics, `write`, `tcsetattr`, `signal`, `raise`, `_exit`).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::Once;

/// How many critical sections are open (they nest).
static HELD: AtomicUsize = AtomicUsize::new(0);
/// The first signal that arrived while held (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);
/// Whether a prompt is waiting: a signal then cancels it.
static PROMPTING: AtomicBool = AtomicBool::new(false);
/// The terminal's settings before the prompt, for each of stdin, stdout and stderr that
/// is a terminal.
static SAVED: [SavedTermios; 3] = [SavedTermios::new(), SavedTermios::new(), SavedTermios::new()];
static INSTALL: Once = Once::new();

const CANCELLED: &[u8] = b"\x1b[?25h\nCancelled; nothing was changed.\n";
const HOLDING: &[u8] = b"\nlsauth: finishing the change in progress first (stopping now could leave a key written \
nowhere); it stops right after and says what it did.\n";

/// A termios saved before a prompt, readable from the handler without a lock: `set` is
/// written only while no prompt is waiting (the handler does not read it then).
struct SavedTermios {
    set: AtomicBool,
    value: std::cell::UnsafeCell<std::mem::MaybeUninit<libc::termios>>,
}

// SAFETY: `value` is written only while `set` is false and read only while it is true
// (Release/Acquire on `set`).
unsafe impl Sync for SavedTermios {}

impl SavedTermios {
    const fn new() -> Self {
        SavedTermios { set: AtomicBool::new(false), value: std::cell::UnsafeCell::new(std::mem::MaybeUninit::uninit()) }
    }
}

/// Signals ignored when lsauth started (`cmd &` in a non-interactive shell ignores
/// SIGINT): still ignored outside a prompt and a critical section.
static IGNORED_INT: AtomicBool = AtomicBool::new(false);
static IGNORED_TERM: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: errno is this thread's; what the handler's calls set is put back, so the
    // code it interrupted reads its own.
    let errno = unsafe { *libc::__errno_location() };
    handle(sig);
    unsafe { *libc::__errno_location() = errno };
}

fn handle(sig: libc::c_int) {
    if HELD.load(Ordering::SeqCst) > 0 {
        let _ = PENDING.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
        // Said at every signal, so that a second Ctrl-C is not met with silence.
        // SAFETY: write(2) is async-signal-safe.
        unsafe { libc::write(2, HOLDING.as_ptr().cast(), HOLDING.len()) };
        return;
    }
    let ignored = if sig == libc::SIGINT { &IGNORED_INT } else { &IGNORED_TERM };
    if ignored.load(Ordering::SeqCst) && !PROMPTING.load(Ordering::SeqCst) {
        return;
    }
    restore_terminal();
    if PROMPTING.load(Ordering::SeqCst) {
        // SAFETY: async-signal-safe calls only.
        unsafe {
            libc::write(2, CANCELLED.as_ptr().cast(), CANCELLED.len());
            libc::_exit(128 + sig);
        }
    }
    // SAFETY: the default action, then the signal again: the process ends by it, as it
    // would have without lsauth's handler.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

fn restore_terminal() {
    for (fd, saved) in SAVED.iter().enumerate() {
        if saved.set.load(Ordering::Acquire) {
            // SAFETY: set only after the value was written; tcsetattr is async-signal-safe.
            unsafe { libc::tcsetattr(fd as libc::c_int, libc::TCSANOW, (*saved.value.get()).as_ptr()) };
        }
    }
}

fn install() {
    INSTALL.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; the handler
        // only makes async-signal-safe calls. SA_RESTART: a read or write the signal
        // interrupts while held goes on.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            for (sig, ignored) in [(libc::SIGINT, &IGNORED_INT), (libc::SIGTERM, &IGNORED_TERM)] {
                let mut previous: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, &action, &mut previous);
                ignored.store(previous.sa_sigaction == libc::SIG_IGN, Ordering::SeqCst);
            }
        }
    });
}

/// A critical section: SIGINT and SIGTERM are held until it is dropped (and every other
/// one open with it). The signal then stays pending for `pending_exit`.
#[must_use = "the signals are held only while this lives"]
pub struct Held(());

pub fn hold() -> Held {
    install();
    HELD.fetch_add(1, Ordering::SeqCst);
    Held(())
}

/// Hold SIGINT and SIGTERM from now until the process ends: for a change whose last words
/// (the error naming where a saved PAT is) are printed after the command returns.
/// `pending_exit`, at the very end, says whether one came.
pub fn hold_to_exit() {
    std::mem::forget(hold());
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The exit status of a run a held signal interrupted (128 + the signal), asked once all
/// was said: the run finished its change and said so; the process now ends as interrupted.
pub fn pending_exit() -> Option<u8> {
    let sig = PENDING.load(Ordering::SeqCst);
    (sig != 0).then(|| {
        let name = if sig == libc::SIGTERM { "SIGTERM" } else { "SIGINT" };
        eprintln!("lsauth: stopped by {name}, after finishing the change above");
        (128 + sig) as u8
    })
}

/// While a prompt waits: the terminal's settings as they were, put back if a signal
/// ends the process (a password prompt turns echo off), with "nothing was changed".
pub struct Prompting(());

pub fn prompting() -> Prompting {
    install();
    for (fd, saved) in SAVED.iter().enumerate() {
        let mut value = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills `value` when it returns 0; `set` is false here, so the
        // handler does not read the cell while it is written.
        unsafe {
            if libc::isatty(fd as libc::c_int) == 1 && libc::tcgetattr(fd as libc::c_int, value.as_mut_ptr()) == 0 {
                *saved.value.get() = value;
                saved.set.store(true, Ordering::Release);
            }
        }
    }
    PROMPTING.store(true, Ordering::SeqCst);
    Prompting(())
}

impl Drop for Prompting {
    fn drop(&mut self) {
        PROMPTING.store(false, Ordering::SeqCst);
        for saved in &SAVED {
            saved.set.store(false, Ordering::Release);
        }
    }
}

/// What a cancelled prompt (Ctrl-C read as a key in raw mode) prints and exits with.
pub fn cancelled_at_prompt() -> ! {
    use std::io::Write;
    restore_terminal();
    let _ = std::io::stderr().write_all(CANCELLED);
    std::process::exit(130)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SIGTERM sent while held does not end the process; it is reported once released.
    #[test]
    fn a_held_signal_waits_for_the_end_of_the_section() {
        let held = hold();
        // SAFETY: sends the signal to this process; the handler holds it.
        unsafe { libc::raise(libc::SIGTERM) };
        assert_eq!(PENDING.load(Ordering::SeqCst), libc::SIGTERM);
        let inner = hold();
        drop(inner);
        drop(held);
        assert_eq!(pending_exit(), Some(143));
        PENDING.store(0, Ordering::SeqCst);
    }
}
