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
