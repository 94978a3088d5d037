//! File writes that cannot leave a half-written file: temp file in the same directory,
//! fsync, rename (or link, when an existing file must never be replaced), fsync of the
//! directory. Nothing here ever overwrites a file it was not asked to replace.

use std::fs::{self, DirBuilder, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Create `dir` (and parents) as private (0700) when missing, and make the leaf 0700.
pub fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating backup directory {}", dir.display()))?;
    let meta = fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private (0700)", dir.display()))?;
    }
    Ok(())
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
    fn private_dir_is_0700() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("state/lsauth/backups");
        ensure_private_dir(&nested).unwrap();
        assert_eq!(fs::metadata(&nested).unwrap().permissions().mode() & 0o777, 0o700);
        fs::set_permissions(&nested, Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&nested).unwrap();
        assert_eq!(fs::metadata(&nested).unwrap().permissions().mode() & 0o777, 0o700);
    }
}

/// What an atomic replace did to the file's permissions and owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub old_mode: u32,
    pub new_mode: u32,
    /// False when the original owner could not be kept (not root, another owner).
    pub owner_kept: bool,
}

/// Replace `path` with `bytes` atomically: a temporary file in the same directory gets
/// the content, the owner and `mode_for(old mode)`, is synced, and renamed over the
/// original; then the directory is synced. A reader sees the old file or the new one,
/// never a mix.
pub fn replace_file(path: &Path, bytes: &[u8], mode_for: impl Fn(u32) -> u32) -> anyhow::Result<Replaced> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let old_mode = meta.permissions().mode() & 0o7777;
    let new_mode = mode_for(old_mode);
    let mut tmp = tempfile::Builder::new()
        .prefix(".lsauth-tmp-")
        .permissions(Permissions::from_mode(new_mode))
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("writing a temporary file in {}", dir.display()))?;
    let owner_kept = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).is_ok();
    // fchown may clear set-id bits; set the mode last.
    fs::set_permissions(tmp.path(), Permissions::from_mode(new_mode))?;
    tmp.as_file().sync_all().context("syncing the temporary file")?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("replacing {}", path.display()))?;
    sync_dir(dir)?;
    Ok(Replaced { old_mode, new_mode, owner_kept })
}

/// Whether a new file can be created in `dir` (checked before any work that would be
/// wasted on a read-only directory).
pub fn check_writable_dir(dir: &Path) -> anyhow::Result<()> {
    tempfile::Builder::new()
        .prefix(".lsauth-probe-")
        .tempfile_in(dir)
        .map(drop)
        .with_context(|| format!("cannot create files in {}", dir.display()))
}

#[cfg(test)]
mod replace_tests {
    use super::*;

    #[test]
    fn replace_keeps_owner_and_applies_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        fs::write(&path, "A=1\n").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        let r = replace_file(&path, b"A=2\n", |m| (m & 0o700) | 0o600).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"A=2\n");
        assert_eq!((r.old_mode, r.new_mode), (0o640, 0o600));
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(r.owner_kept);
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file left");
    }
}
