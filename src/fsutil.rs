//! File writes that cannot leave a half-written file: temp file in the same directory,
//! fsync, rename (or link, when an existing file must never be replaced), fsync of the
//! directory. Nothing here ever overwrites a file it was not asked to replace.

use std::fs::{self, DirBuilder, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Create `dir` (and missing parents) as private (0700). A directory that already exists
/// is never re-permissioned: it may be `/tmp` or a directory shared on purpose; see
/// `exposed_dir_warning`.
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating backup directory {}", dir.display()))
}

/// A warning when an existing directory can be entered or read by group or others: the
/// backups in it are 0600, but their names and dates show.
pub fn exposed_dir_warning(dir: &Path) -> Option<String> {
    let mode = fs::metadata(dir).ok().filter(|m| m.is_dir())?.permissions().mode() & 0o7777;
    (mode & 0o077 != 0).then(|| {
        format!(
            "backup directory {} is accessible to group/others (mode {mode:o}); lsauth leaves it as it is, the \
             backups in it are 0600",
            dir.display()
        )
    })
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    fs::File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing directory {}", dir.display()))
}

/// The name every temporary file of lsauth's begins with: `.lsauth-tmp-<pid>-`, so that a
/// later run can tell whose it is (`clear_stale_temp_files`).
const TEMP_PREFIX: &str = ".lsauth-tmp-";

fn temp_prefix() -> String {
    format!("{TEMP_PREFIX}{}-", std::process::id())
}

/// How old a temporary file must be before a later run may take it for a leftover.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove the temporary files an interrupted run left in `dir` (lsauth's own backup
/// directory). A file is stale when both hold: it was last written over an hour ago (no
/// run of lsauth keeps a temporary file open for that long: a backup is written in
/// seconds) and the process its name names is not running on this host (or the name
/// names none, as before lsauth put the pid in it). A concurrent run's file is young, or
/// its process is alive, so it is never touched. Only regular files are removed; what
/// cannot be removed stays. Returns how many were removed.
pub fn clear_stale_temp_files(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMP_PREFIX)) else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age > STALE_AFTER);
        let owner_alive = rest.split_once('-').and_then(|(pid, _)| pid.parse::<i32>().ok()).is_some_and(process_alive);
        if meta.file_type().is_file() && old && !owner_alive && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// Whether `dir` takes new files: a probe file is created there and removed again. Exit 2
/// naming the directory and `why_needed` when it does not (read-only, not a directory,
/// `/proc`, no permission).
pub fn probe_takes_files(dir: &Path, why_needed: &str) -> anyhow::Result<()> {
    tempfile::Builder::new()
        .prefix(".lsauth-probe-")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|e| crate::exit::bad_input(format!("{} takes no new files ({e}): {why_needed}", dir.display())))
}

/// A file lsauth is about to write, for `check_room`: a path on the file system it goes
/// on (its directory, or the file itself when it is written in place) and its size.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub on: PathBuf,
    pub bytes: u64,
    pub what: String,
}

/// Whether each file system has room for the new files that will go on it (whole blocks,
/// one spare): checked before anything changes, so that a full disk is exit 2 with
/// nothing done instead of a failure halfway. Root may use the blocks kept for it.
pub fn check_room(files: &[NewFile]) -> anyhow::Result<()> {
    use std::collections::BTreeMap;
    use std::os::unix::fs::MetadataExt;
    let mut by_device: BTreeMap<u64, (PathBuf, Vec<&NewFile>)> = BTreeMap::new();
    for f in files {
        // A directory still to be made goes on its nearest existing parent's file system.
        let Some(on) = nearest_existing(&f.on) else { continue };
        let dev = fs::metadata(&on).map(|m| m.dev()).unwrap_or(0);
        by_device.entry(dev).or_insert_with(|| (on, Vec::new())).1.push(f);
    }
    for (dir, files) in by_device.values() {
        let Some((block, free)) = free_space(dir) else { continue };
        let needed: u64 = files.iter().map(|f| f.bytes.div_ceil(block).max(1) * block).sum::<u64>() + block;
        if free < needed {
            let what: Vec<&str> = files.iter().map(|f| f.what.as_str()).collect();
            return Err(crate::exit::bad_input(format!(
                "the file system of {} has {free} bytes free, and {} need {needed}: make room and run again \
                 (nothing was changed)",
                dir.display(),
                what.join(" and ")
            )));
        }
    }
    Ok(())
}

/// `path` itself when it exists, else its nearest existing parent (a relative path's
/// parents are the working directory's): where a directory still to be made would go.
pub fn nearest_existing(path: &Path) -> Option<PathBuf> {
    let absolute = std::env::current_dir().map(|cwd| cwd.join(path)).unwrap_or_else(|_| path.to_path_buf());
    absolute.ancestors().find(|a| a.exists()).map(Path::to_path_buf)
}

/// (block size, bytes this user may still write) of the file system holding `path`.
fn free_space(path: &Path) -> Option<(u64, u64)> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: statvfs fills `st` when it returns 0.
    let st = unsafe {
        if libc::statvfs(c.as_ptr(), st.as_mut_ptr()) != 0 {
            return None;
        }
        st.assume_init()
    };
    let block = (st.f_frsize as u64).max(1);
    // SAFETY: geteuid has no preconditions.
    let blocks = if unsafe { libc::geteuid() } == 0 { st.f_bfree } else { st.f_bavail } as u64;
    Some((block, blocks.saturating_mul(block)))
}

/// Write a new file `dir/<stem><suffix>`, never replacing an existing one: if the name
/// is taken, `-2`, `-3`, ... are tried. The file is complete and synced, mode `mode`,
/// before its name appears. Returns the path written.
pub fn write_new_file(dir: &Path, stem: &str, suffix: &str, bytes: &[u8], mode: u32) -> anyhow::Result<PathBuf> {
    write_new_file_with(dir, stem, suffix, mode, |w| w.write_all(bytes).map_err(Into::into))
}

/// As `write_new_file`, with the content streamed by `fill` (large backups are never
/// held in memory whole).
pub fn write_new_file_with(
    dir: &Path,
    stem: &str,
    suffix: &str,
    mode: u32,
    fill: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<PathBuf> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix())
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fill(&mut buffered).context("writing the temporary file")?;
        buffered.flush().context("writing the temporary file")?;
    }
    // The mode on the open descriptor: exact whatever the umask, and never through a name
    // someone else could have swapped.
    tmp.as_file().set_permissions(Permissions::from_mode(mode)).context("setting the temporary file's mode")?;
    tmp.as_file().sync_all().context("syncing the temporary file")?;
    let written = identity(tmp.as_file()).context("reading the temporary file back")?;
    let mut attempt = 1;
    loop {
        let name = if attempt == 1 { format!("{stem}{suffix}") } else { format!("{stem}-{attempt}{suffix}") };
        let path = dir.join(name);
        if !is_same_file(tmp.path(), written) {
            let at = tmp.path().to_path_buf();
            let _ = tmp.into_temp_path().keep();
            return Err(swapped(&at, &path));
        }
        // persist_noclobber links the temp file into place: it fails instead of replacing.
        match tmp.persist_noclobber(&path) {
            Ok(_) => {
                sync_dir(dir)?;
                if !is_same_file(&path, written) {
                    return Err(swapped(&path, &path));
                }
                return Ok(path);
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => {
                tmp = e.file;
                attempt += 1;
            }
            Err(e) => return Err(e.error).with_context(|| format!("writing {}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_overwrites_and_sets_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_new_file(dir.path(), "b", ".json", b"one", 0o600).unwrap();
        let b = write_new_file(dir.path(), "b", ".json", b"two", 0o600).unwrap();
        assert_ne!(a, b);
        assert_eq!(fs::read(&a).unwrap(), b"one");
        assert_eq!(fs::read(&b).unwrap(), b"two");
        assert!(b.ends_with("b-2.json"));
        assert_eq!(fs::metadata(&a).unwrap().permissions().mode() & 0o777, 0o600);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".lsauth-tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_new_dir_is_0700_an_existing_one_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("state/lsauth/backups");
        ensure_private_dir(&nested).unwrap();
        assert_eq!(fs::metadata(&nested).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(exposed_dir_warning(&nested), None);
        fs::set_permissions(&nested, Permissions::from_mode(0o1777)).unwrap();
        ensure_private_dir(&nested).unwrap();
        assert_eq!(fs::metadata(&nested).unwrap().permissions().mode() & 0o7777, 0o1777, "never re-permissioned");
        assert!(exposed_dir_warning(&nested).unwrap().contains("mode 1777"));
    }
}

/// A file about to be replaced: where it really is (symlinks followed), and what must be
/// kept. Made by `prepare_replace`, which refuses before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplaceTarget {
    /// The file as given.
    pub path: PathBuf,
    /// The file the bytes live in: `path` with every symlink resolved.
    pub real: PathBuf,
    pub is_symlink: bool,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The file's identity when it was checked: a rewrite in place must meet the same one.
    pub dev: u64,
    pub ino: u64,
    /// The file is a mount point (`docker run -v ./.env:/app/.env`): no rename can replace
    /// it (EBUSY), so it is rewritten in place, which is not atomic.
    pub in_place: bool,
}

impl ReplaceTarget {
    /// A warning when a file holding a credential is readable by group or others. lsauth
    /// never changes the mode: a service may read the file through its group.
    pub fn exposure_warning(&self) -> Option<String> {
        (self.mode & 0o044 != 0).then(|| {
            format!(
                "{} is readable by {} (mode {:o}) and holds a credential; lsauth keeps the mode as it is \
                 (chmod 600 it if nothing else needs to read it)",
                self.path.display(),
                if self.mode & 0o004 != 0 { "everyone" } else { "its group" },
                self.mode
            )
        })
    }
}

/// How a file's new content got there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    /// A complete new file renamed over the old one: a reader saw one or the other.
    Atomically,
    /// Truncated and written in place (a bind-mounted file): a reader at that moment could
    /// have seen a partial file.
    InPlace,
}

/// A file as it may be read: a regular file, no larger than `limit`, opened without
/// blocking (a FIFO would hang an ordinary open) and checked on the open descriptor, so
/// what is checked is what is read. Exit 2 for anything else.
pub fn read_regular_file(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    read_file_opened_with(path, limit, 0)
}

/// As `read_regular_file`, never through a symlink at `path` itself: a backup lsauth
/// wrote is a regular file in its directory, and a link planted at its name (pointing at
/// a file of someone else's) is refused, not read.
pub fn read_backup_file(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    read_file_opened_with(path, limit, libc::O_NOFOLLOW).map_err(|e| {
        if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            crate::exit::bad_input(format!(
                "{} is a symbolic link, which lsauth never writes in its backup directory: not followed",
                path.display()
            ))
        } else {
            e
        }
    })
}

fn read_file_opened_with(path: &Path, limit: u64, flags: libc::c_int) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let mut file = fs::OpenOptions::new()
        .read(true)
        // Non-blocking: a FIFO fails at once instead of waiting for a writer; no tty given
        // as a path becomes the controlling terminal.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | flags)
        .open(path)
        .map_err(|e| crate::exit::bad_input_from(format!("cannot read {shown}"), e))?;
    let meta = file.metadata().map_err(|e| crate::exit::bad_input_from(format!("cannot read {shown}"), e))?;
    if !meta.is_file() {
        return Err(crate::exit::bad_input(format!("{shown} is {}, not a regular file", describe_type(&meta))));
    }
    if meta.len() > limit {
        return Err(crate::exit::bad_input(format!(
            "{shown} is {} bytes, more than the {} MiB lsauth reads",
            meta.len(),
            limit >> 20
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take` keeps a file that grows while it is read within the limit too.
    (&mut file)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::exit::bad_input_from(format!("cannot read {shown}"), e))?;
    if bytes.len() as u64 > limit {
        return Err(crate::exit::bad_input(format!("{shown} grew past the {} MiB lsauth reads", limit >> 20)));
    }
    Ok(bytes)
}

/// The most of a `.env` file lsauth reads: far beyond any real one, small enough that a
/// wrong path (a log, `/dev/zero`) is refused at once.
pub const ENV_FILE_LIMIT: u64 = 16 << 20;
/// The most of a backup file lsauth reads (far above the largest measured backup, in
/// docs/performance.md).
pub const BACKUP_LIMIT: u64 = 1 << 30;

/// What kind of thing a non-regular file is, in words.
pub fn describe_type(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

/// Whether `real` (symlinks resolved) is a mount point, as the mount table says (a bind
/// mount of a file of the same file system has its directory's device, and on overlayfs an
/// ordinary file may have another device than its directory: neither tells).
fn is_mount_point(real: &Path) -> bool {
    let Ok(table) = fs::read_to_string("/proc/self/mountinfo") else { return false };
    let wanted = real.as_os_str().as_encoded_bytes();
    // Field 5 is the mount point, with space, tab, newline and backslash written in octal.
    table.lines().filter_map(|l| l.split(' ').nth(4)).any(|m| unescape_mountinfo(m) == wanted)
}

fn unescape_mountinfo(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// Check, before anything is written, that `path` can be replaced keeping what must be
/// kept: the file behind a symlink is replaced in its own directory (the link stays a
/// link), that directory must take new files (exit 2), and the new file must be able to
/// get the old one's owner and group (refused otherwise: a service reading the file as
/// its owner would lose it). A mount point cannot be renamed over: it must be writable in
/// place instead (exit 2 when it is not).
pub fn prepare_replace(path: &Path) -> anyhow::Result<ReplaceTarget> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let shown = path.display();
    let link =
        fs::symlink_metadata(path).map_err(|e| crate::exit::bad_input_from(format!("cannot read {shown}"), e))?;
    let real = fs::canonicalize(path).map_err(|e| crate::exit::bad_input_from(format!("cannot resolve {shown}"), e))?;
    let meta = fs::metadata(&real).map_err(|e| crate::exit::bad_input_from(format!("cannot read {shown}"), e))?;
    if !meta.is_file() {
        return Err(crate::exit::bad_input(format!("{shown} is {}, not a regular file", describe_type(&meta))));
    }
    let in_place = is_mount_point(&real);
    if in_place {
        fs::OpenOptions::new().write(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(&real).map_err(
            |e| {
                crate::exit::bad_input(format!(
                    "{shown} is a mount point (a bind-mounted file) and cannot be written ({e}): change it where it \
                     is mounted from"
                ))
            },
        )?;
    } else {
        let dir = real.parent().unwrap_or(Path::new("/"));
        let probe = tempfile::Builder::new().prefix(".lsauth-probe-").tempfile_in(dir).map_err(|e| {
            crate::exit::bad_input(format!(
                "cannot create files in {} ({e}): {shown} cannot be replaced safely",
                dir.display()
            ))
        })?;
        if std::os::unix::fs::fchown(probe.as_file(), Some(meta.uid()), Some(meta.gid())).is_err() {
            return Err(crate::exit::problem(format!(
                "{shown} belongs to uid {} gid {}, which this user cannot give a new file: run lsauth as that user \
                 or as root (a file with another owner could lock out the service that reads it)",
                meta.uid(),
                meta.gid()
            )));
        }
    }
    Ok(ReplaceTarget {
        path: path.to_path_buf(),
        real,
        is_symlink: link.file_type().is_symlink(),
        mode: meta.permissions().mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        dev: meta.dev(),
        ino: meta.ino(),
        in_place,
    })
}

/// The device and inode of an open file.
fn identity(file: &fs::File) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    file.metadata().map(|m| (m.dev(), m.ino()))
}

/// Whether `path` itself (not what a symlink there points to) is the file `id` names.
fn is_same_file(path: &Path, id: (u64, u64)) -> bool {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file() && (m.dev(), m.ino()) == id)
}

/// A name in a directory that someone else changed between lsauth's write and its rename:
/// reported, never success.
fn swapped(what: &Path, target: &Path) -> anyhow::Error {
    crate::exit::problem(format!(
        "{} was replaced by someone else while lsauth wrote it; {} may not hold what lsauth wrote: check it and \
         who can write to {}",
        what.display(),
        target.display(),
        target.parent().unwrap_or(Path::new("/")).display()
    ))
}

/// Replace the file behind `target` with `bytes`: a temporary file in the real file's
/// directory (created exclusively, never through a symlink) gets the content, the owner,
/// group and mode (`mode`, else the old file's exact mode) on its open descriptor, is
/// synced, checked to still be the file at its name, and renamed over the real file; then
/// the directory is synced and the name checked to be the file written. A reader sees the
/// old file or the new one, never a mix; a symlink stays a symlink. A mount point is
/// rewritten in place instead (`Replaced::InPlace`).
/// `before` is what the file holds now: an in-place write that fails midway puts it back.
pub fn replace_file(
    target: &ReplaceTarget,
    before: &[u8],
    bytes: &[u8],
    mode: Option<u32>,
) -> Result<Replaced, ReplaceError> {
    let mode = mode.unwrap_or(target.mode);
    if target.in_place {
        rewrite_in_place(target, before, bytes, mode)?;
        return Ok(Replaced::InPlace);
    }
    replace_atomically(target, bytes, mode)
}

/// A replace that failed: `touched` once the file may no longer be what it was (renamed
/// over, or written in place and not put back), so its backup must stay and be named.
#[derive(Debug)]
pub struct ReplaceError {
    pub error: anyhow::Error,
    pub touched: bool,
}

impl From<ReplaceError> for anyhow::Error {
    fn from(e: ReplaceError) -> Self {
        e.error
    }
}

/// The atomic replace: a temporary file made whole, then renamed over the real one. An
/// error before the rename left the file untouched; one after it is `touched`.
fn replace_atomically(target: &ReplaceTarget, bytes: &[u8], mode: u32) -> Result<Replaced, ReplaceError> {
    let dir = target.real.parent().unwrap_or(Path::new("/"));
    let (tmp, written) =
        temporary_copy(dir, target, bytes, mode).map_err(|error| ReplaceError { error, touched: false })?;
    let touched = |error| ReplaceError { error, touched: true };
    tmp.persist(&target.real)
        .map_err(|e| e.error)
        .with_context(|| format!("replacing {}", target.path.display()))
        .map_err(|error| ReplaceError { error, touched: false })?;
    sync_dir(dir).map_err(touched)?;
    if is_same_file(&target.real, written) {
        Ok(Replaced::Atomically)
    } else {
        Err(touched(swapped(&target.real, &target.path)))
    }
}

/// The new content in a temporary file beside the real one, with its owner, group and
/// mode, synced and checked to be still the file at its name: ready to be renamed.
fn temporary_copy(
    dir: &Path,
    target: &ReplaceTarget,
    bytes: &[u8],
    mode: u32,
) -> anyhow::Result<(tempfile::NamedTempFile, (u64, u64))> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix())
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing a temporary file in {}", dir.display()))?;
    std::os::unix::fs::fchown(tmp.as_file(), Some(target.uid), Some(target.gid))
        .with_context(|| format!("giving the new {} its owner back", target.path.display()))?;
    // fchown may clear set-id bits; set the mode last, on the descriptor (never by path).
    tmp.as_file().set_permissions(Permissions::from_mode(mode))?;
    tmp.as_file().sync_all().context("syncing the temporary file")?;
    let written = identity(tmp.as_file()).context("reading the temporary file back")?;
    #[cfg(test)]
    hooks::before_rename(tmp.path());
    if !is_same_file(tmp.path(), written) {
        let at = tmp.path().to_path_buf();
        // Not ours any more: never delete or rename what now stands at that name.
        let _ = tmp.into_temp_path().keep();
        return Err(swapped(&at, &target.path));
    }
    Ok((tmp, written))
}

/// Write the very file that was checked (same device and inode, no symlink followed at
/// the last step) in place, never leaving part of it: the blocks the new content needs
/// are reserved first (a full disk is refused while the file is still whole); the new
/// bytes are written over the old from the start and the file is then cut to their
/// length and synced. If any of that fails, the old bytes are written back at once (before
/// the cut they need no block the file does not hold; on a copy-on-write file system they
/// may, and that failure is said); only if that fails too is the file `touched`.
fn rewrite_in_place(target: &ReplaceTarget, before: &[u8], bytes: &[u8], mode: u32) -> Result<(), ReplaceError> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = target.path.display();
    let before_err = |error| ReplaceError { error, touched: false };
    let mut file = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&target.real)
        .with_context(|| format!("opening {shown} to write it in place"))
        .map_err(before_err)?;
    if identity(&file).ok() != Some((target.dev, target.ino)) {
        return Err(before_err(swapped(&target.real, &target.path)));
    }
    reserve(&file, bytes.len() as u64)
        .with_context(|| format!("reserving {} bytes for {shown} (nothing of it was written)", bytes.len()))
        .map_err(before_err)?;
    // The mode first: the likeliest failure (a file this user may write but not chmod)
    // comes before anything of the content is gone.
    if target.mode != mode {
        file.set_permissions(Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {shown}"))
            .map_err(before_err)?;
    }
    let written = write_whole(&mut file, bytes).with_context(|| format!("writing {shown} in place"));
    let Err(error) = written else { return Ok(()) };
    // Put the old content (and mode) back, now.
    let restored = write_whole(&mut file, before).and_then(|()| {
        if target.mode != mode {
            file.set_permissions(Permissions::from_mode(target.mode))?;
        }
        Ok(())
    });
    match restored {
        Ok(()) => Err(before_err(error.context(format!("{shown} was put back as it was")))),
        Err(again) => Err(ReplaceError {
            error: error.context(format!("putting {shown} back failed too ({again})")),
            touched: true,
        }),
    }
}

/// `bytes` from the start of the file and synced, then the file cut to their length and
/// synced: until the cut no block of the old content is given up, so putting the old
/// bytes back after a failure before it needs no block the file does not hold.
fn write_whole(file: &mut fs::File, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    #[cfg(test)]
    hooks::fail_in_place_write(bytes)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    file.set_len(bytes.len() as u64)?;
    file.sync_all()
}

/// Reserve `len` bytes of blocks for `file` without changing its size. A file system that
/// cannot reserve (no fallocate) is written without it: `check_room` has measured it.
fn reserve(file: &fs::File, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    if len == 0 {
        return Ok(());
    }
    // SAFETY: fallocate on an open descriptor; KEEP_SIZE leaves the content as it is.
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, len as libc::off_t) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL) => Ok(()),
        _ => Err(err),
    }
}

/// A deterministic stand-in for another local user racing lsauth: tests set what happens
/// between the write of the temporary file and its rename.
#[cfg(test)]
mod hooks {
    use std::cell::RefCell;
    use std::path::Path;

    type Hook = Box<dyn Fn(&Path)>;

    thread_local! {
        pub static BEFORE_RENAME: RefCell<Option<Hook>> = const { RefCell::new(None) };
        /// Fail the in-place writes of these contents (a disk that fills midway).
        pub static FAIL_WRITING: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    }

    pub fn fail_in_place_write(bytes: &[u8]) -> std::io::Result<()> {
        let fail = FAIL_WRITING.with(|f| f.borrow().iter().any(|b| b == bytes));
        if fail {
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        Ok(())
    }

    pub fn before_rename(tmp: &Path) {
        BEFORE_RENAME.with(|h| {
            if let Some(hook) = h.borrow().as_ref() {
                hook(tmp)
            }
        })
    }
}

#[cfg(test)]
mod replace_tests {
    use super::*;

    /// Another user of a shared directory swaps lsauth's temporary file for a symlink to a
    /// file of root's: nothing is chmod-ed through the link, the `.env` does not become the
    /// link, and the write is reported as failed.
    #[test]
    fn a_swapped_temporary_file_is_refused_and_nothing_is_chmoded_through_it() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "secret\n").unwrap();
        fs::set_permissions(&victim, Permissions::from_mode(0o600)).unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, "A=1\n").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let target = prepare_replace(&path).unwrap();
        let victim_for_hook = victim.clone();
        hooks::BEFORE_RENAME.with(|h| {
            *h.borrow_mut() = Some(Box::new(move |tmp: &Path| {
                fs::remove_file(tmp).unwrap();
                symlink(&victim_for_hook, tmp).unwrap();
            }))
        });
        let err = replace_file(&target, b"A=1\n", b"A=2\n", None).unwrap_err();
        hooks::BEFORE_RENAME.with(|h| *h.borrow_mut() = None);
        assert!(!err.touched, "refused before the rename: the .env was not touched");
        let err = err.error;
        assert_eq!(crate::exit::status_of(&err), crate::exit::ExitStatus::Problem);
        assert!(err.to_string().contains("replaced by someone else"), "{err}");
        assert_eq!(fs::metadata(&victim).unwrap().permissions().mode() & 0o7777, 0o600, "victim not chmod-ed");
        assert_eq!(fs::read(&victim).unwrap(), b"secret\n");
        assert!(!fs::symlink_metadata(&path).unwrap().file_type().is_symlink(), "the .env is not the attacker's link");
        assert_eq!(fs::read(&path).unwrap(), b"A=1\n", "the .env is as it was");
    }

    #[test]
    fn fifos_devices_directories_and_oversized_files_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_regular_file(&fifo, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("a named pipe (FIFO), not a regular file"), "{err}");
        let err = read_regular_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("a device"), "{err}");
        assert!(read_regular_file(dir.path(), 1 << 20).unwrap_err().to_string().contains("a directory"));
        let big = dir.path().join("big");
        fs::write(&big, vec![b'a'; (1 << 20) + 1]).unwrap();
        assert!(read_regular_file(&big, 1 << 20).unwrap_err().to_string().contains("more than the 1 MiB"));
        fs::write(&big, b"A=1\n").unwrap();
        assert_eq!(read_regular_file(&big, 1 << 20).unwrap(), b"A=1\n");
    }

    /// A target written in place, as a bind-mounted file is.
    fn in_place_target(path: &Path) -> ReplaceTarget {
        ReplaceTarget { in_place: true, ..prepare_replace(path).unwrap() }
    }

    #[test]
    fn an_in_place_write_that_fails_midway_puts_the_old_bytes_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, "A=1\n").unwrap();
        let target = in_place_target(&path);
        hooks::FAIL_WRITING.with(|f| *f.borrow_mut() = vec![b"A=2\n".to_vec()]);
        let err = replace_file(&target, b"A=1\n", b"A=2\n", None).unwrap_err();
        assert!(!err.touched, "put back: the file is as it was");
        assert!(format!("{:#}", err.error).contains("was put back as it was"), "{:#}", err.error);
        assert_eq!(fs::read(&path).unwrap(), b"A=1\n");
        // The old bytes cannot be written back either: the file is `touched`, and says so.
        hooks::FAIL_WRITING.with(|f| f.borrow_mut().push(b"A=1\n".to_vec()));
        let err = replace_file(&target, b"A=1\n", b"A=2\n", None).unwrap_err();
        hooks::FAIL_WRITING.with(|f| f.borrow_mut().clear());
        assert!(err.touched);
        assert!(format!("{:#}", err.error).contains("putting"), "{:#}", err.error);
        replace_file(&target, b"A=1\n", b"A=2\n", None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"A=2\n");
    }

    #[test]
    fn only_old_temporary_files_of_dead_processes_are_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let old = std::time::SystemTime::now() - STALE_AFTER - std::time::Duration::from_secs(60);
        let make = |name: &str, when: std::time::SystemTime| {
            let path = dir.path().join(name);
            fs::write(&path, "x").unwrap();
            fs::File::options().write(true).open(&path).unwrap().set_modified(when).unwrap();
        };
        // pid 0 is never a process of ours; this test's own pid is alive.
        make(".lsauth-tmp-0-abc", old);
        make(".lsauth-tmp-AbC123", old); // as named before the pid was in it
        make(&format!(".lsauth-tmp-{}-abc", std::process::id()), old);
        make(".lsauth-tmp-0-young", std::time::SystemTime::now());
        make("20260101T000000000000Z-enable-legacy.json", old);
        assert_eq!(clear_stale_temp_files(dir.path()), 2);
        let mut left: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        let mut expected = vec![
            format!(".lsauth-tmp-{}-abc", std::process::id()),
            ".lsauth-tmp-0-young".to_string(),
            "20260101T000000000000Z-enable-legacy.json".to_string(),
        ];
        expected.sort();
        assert_eq!(left, expected);
    }

    #[test]
    fn room_is_measured_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let small = NewFile { on: dir.path().to_path_buf(), bytes: 100, what: "a record".into() };
        check_room(&[small]).unwrap();
        let huge = NewFile { on: dir.path().to_path_buf(), bytes: u64::MAX / 4, what: "the new file".into() };
        let err = check_room(&[huge]).unwrap_err();
        assert_eq!(crate::exit::status_of(&err), crate::exit::ExitStatus::BadInput);
        assert!(err.to_string().contains("the new file need"), "{err}");
        let err = probe_takes_files(Path::new("/proc/self"), "backups go there").unwrap_err();
        assert!(err.to_string().contains("/proc/self takes no new files"), "{err}");
    }

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape_mountinfo("/srv/my\\040app/.env"), b"/srv/my app/.env".to_vec());
        assert_eq!(unescape_mountinfo("/srv/a\\b"), b"/srv/a\\b".to_vec());
    }

    #[test]
    fn replace_keeps_the_exact_mode_and_warns_about_exposure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, "A=1\n").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        let target = prepare_replace(&path).unwrap();
        assert!(target.exposure_warning().unwrap().contains("its group"));
        replace_file(&target, b"A=1\n", b"A=2\n", None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"A=2\n");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o7777, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        assert_eq!(prepare_replace(&path).unwrap().exposure_warning(), None);
    }

    #[test]
    fn a_symlink_stays_a_symlink_and_its_target_changes() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("config");
        fs::create_dir(&real_dir).unwrap();
        let real = real_dir.join("ml.env");
        fs::write(&real, "A=1\n").unwrap();
        let link = dir.path().join(".env");
        std::os::unix::fs::symlink("config/ml.env", &link).unwrap();
        let target = prepare_replace(&link).unwrap();
        assert!(target.is_symlink);
        replace_file(&target, b"A=1\n", b"A=2\n", None).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_link(&link).unwrap(), PathBuf::from("config/ml.env"));
        assert_eq!(fs::read(&real).unwrap(), b"A=2\n");
    }
}
