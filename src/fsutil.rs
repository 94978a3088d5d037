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
        .prefix(".lsauth-tmp-")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    {
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        fill(&mut buffered).context("writing the temporary file")?;
        buffered.flush().context("writing the temporary file")?;
    }
    tmp.as_file().sync_all().context("syncing the temporary file")?;
    let mut attempt = 1;
    loop {
        let name = if attempt == 1 { format!("{stem}{suffix}") } else { format!("{stem}-{attempt}{suffix}") };
        let path = dir.join(name);
        // persist_noclobber links the temp file into place: it fails instead of replacing.
        match tmp.persist_noclobber(&path) {
            Ok(_) => {
                sync_dir(dir)?;
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

/// Check, before anything is written, that `path` can be replaced keeping what must be
/// kept: the file behind a symlink is replaced in its own directory (the link stays a
/// link), that directory must take new files (exit 2), and the new file must be able to
/// get the old one's owner and group (refused otherwise: a service reading the file as
/// its owner would lose it).
pub fn prepare_replace(path: &Path) -> anyhow::Result<ReplaceTarget> {
    use std::os::unix::fs::MetadataExt;
    let shown = path.display();
    let link = fs::symlink_metadata(path).map_err(|e| crate::exit::bad_input(format!("cannot read {shown}: {e}")))?;
    let real = fs::canonicalize(path).map_err(|e| crate::exit::bad_input(format!("cannot resolve {shown}: {e}")))?;
    let meta = fs::metadata(&real).map_err(|e| crate::exit::bad_input(format!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(crate::exit::bad_input(format!("{shown} is not a regular file")));
    }
    let dir = real.parent().unwrap_or(Path::new("/"));
    let probe = tempfile::Builder::new().prefix(".lsauth-probe-").tempfile_in(dir).map_err(|e| {
        crate::exit::bad_input(format!(
            "cannot create files in {} ({e}): {shown} cannot be replaced safely",
            dir.display()
        ))
    })?;
    if std::os::unix::fs::fchown(probe.as_file(), Some(meta.uid()), Some(meta.gid())).is_err() {
        return Err(crate::exit::refused(format!(
            "{shown} belongs to uid {} gid {}, which this user cannot give a new file: run lsauth as that user or \
             as root (a file with another owner could lock out the service that reads it)",
            meta.uid(),
            meta.gid()
        )));
    }
    Ok(ReplaceTarget {
        path: path.to_path_buf(),
        real,
        is_symlink: link.file_type().is_symlink(),
        mode: meta.permissions().mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    })
}

/// Replace the file behind `target` with `bytes` atomically: a temporary file in the real
/// file's directory gets the content, the owner, group and mode (`mode`, else the old
/// file's exact mode), is synced, and renamed over the real file; then the directory is
/// synced. A reader sees the old file or the new one, never a mix; a symlink stays a
/// symlink.
pub fn replace_file(target: &ReplaceTarget, bytes: &[u8], mode: Option<u32>) -> anyhow::Result<()> {
    let dir = target.real.parent().unwrap_or(Path::new("/"));
    let mode = mode.unwrap_or(target.mode);
    let mut tmp = tempfile::Builder::new()
        .prefix(".lsauth-tmp-")
        .permissions(Permissions::from_mode(0o600))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing a temporary file in {}", dir.display()))?;
    std::os::unix::fs::fchown(tmp.as_file(), Some(target.uid), Some(target.gid))
        .with_context(|| format!("giving the new {} its owner back", target.path.display()))?;
    // fchown may clear set-id bits; set the mode last.
    fs::set_permissions(tmp.path(), Permissions::from_mode(mode))?;
    tmp.as_file().sync_all().context("syncing the temporary file")?;
    tmp.persist(&target.real).map_err(|e| e.error).with_context(|| format!("replacing {}", target.path.display()))?;
    sync_dir(dir)
}

#[cfg(test)]
mod replace_tests {
    use super::*;

    #[test]
    fn replace_keeps_the_exact_mode_and_warns_about_exposure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, "A=1\n").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        let target = prepare_replace(&path).unwrap();
        assert!(target.exposure_warning().unwrap().contains("its group"));
        replace_file(&target, b"A=2\n", None).unwrap();
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
        replace_file(&target, b"A=2\n", None).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_link(&link).unwrap(), PathBuf::from("config/ml.env"));
        assert_eq!(fs::read(&real).unwrap(), b"A=2\n");
    }
}
