//! The envelope every backup file shares: `{"body": ..., "checksum": "sha256:..."}`,
//! written streamed and hashed, synced, mode 0600 in a private directory; read back only
//! once its checksum matches.

use super::*;
use crate::exit::bad_input_from;

/// The file: `{"body": {...}, "checksum": "sha256:..."}`. The checksum comes last so the
/// body can be streamed to disk while it is hashed.
#[derive(Deserialize)]
pub(super) struct BackupFile<'a> {
    pub(super) checksum: String,
    #[serde(borrow)]
    pub(super) body: &'a RawValue,
}

/// A writer that hashes what passes through it (behind a buffer: serde writes a few
/// bytes at a time, and the hash is fastest over large blocks).
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha256,
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn hex_checksum(digest: &[u8]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

pub(super) fn checksum(bytes: &[u8]) -> String {
    hex_checksum(&Sha256::digest(bytes))
}

/// Write and sync `{"body": BODY, "checksum": "sha256:..."}` as the new file `ID.json`
/// (mode 0600, in a private directory), the body streamed and hashed on the way.
pub(crate) fn write_checked<T: Serialize>(dir: &Path, id: &str, body: &T) -> anyhow::Result<(String, PathBuf)> {
    fsutil::ensure_private_dir(dir)?;
    let path = fsutil::write_new_file_with(dir, id, ".json", 0o600, |out| {
        out.write_all(b"{\"body\":")?;
        let mut hashing = Hashing { inner: out, hasher: Sha256::new() };
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut hashing);
        serde_json::to_writer(&mut buffered, body)?;
        buffered.flush()?;
        drop(buffered);
        let sum = hex_checksum(&hashing.hasher.finalize());
        out.write_all(format!(",\"checksum\":\"{sum}\"}}\n").as_bytes())?;
        Ok(())
    })?;
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok((id, path))
}

/// Parse a checked file's body with `parse`, once its checksum matched. The body is
/// parsed where it lies in the file's bytes (a 100,000-row backup is not copied).
pub(crate) fn read_checked<T>(path: &Path, parse: impl FnOnce(&str) -> serde_json::Result<T>) -> anyhow::Result<T> {
    let shown = path.display();
    let bytes =
        crate::fsutil::read_backup_file(path, crate::fsutil::BACKUP_LIMIT).map_err(|e| bad_input_from("backup", e))?;
    let (body, sum) = match split_as_written(&bytes) {
        Some(found) => found,
        None => {
            let file: BackupFile = serde_json::from_slice(&bytes)
                .map_err(|e| bad_input(format!("backup {shown} is corrupt (not a backup document: {e})")))?;
            (file.body.get(), file.checksum)
        }
    };
    // Hashed on a second thread while this one parses (both take time on a large backup:
    // docs/performance.md); what was parsed is used only once the checksum matched.
    let (matches, parsed) = std::thread::scope(|s| {
        let hashing = s.spawn(|| checksum(body.as_bytes()) == sum);
        let parsed = parse(body);
        (hashing.join().unwrap_or(false), parsed)
    });
    if !matches {
        return Err(bad_input(format!("backup {shown} is corrupt or was edited: its checksum does not match")));
    }
    parsed.map_err(|e| bad_input_from(format!("backup {shown} is corrupt"), e))
}

/// The body and checksum of a file laid out exactly as `write_checked` writes it, found
/// by position instead of by parsing the whole file first: the body of a 100,000-row
/// backup is then parsed once (after its checksum matched), not twice. Any other
/// layout of the same document is read by parsing it.
fn split_as_written(bytes: &[u8]) -> Option<(&str, String)> {
    const SUM_LEN: usize = "sha256:".len() + 64;
    let inner = bytes.strip_prefix(b"{\"body\":")?.strip_suffix(b"\"}\n")?;
    let (body, tail) = inner.split_at(inner.len().checked_sub(b",\"checksum\":\"".len() + SUM_LEN)?);
    let sum = tail.strip_prefix(b",\"checksum\":\"")?;
    Some((std::str::from_utf8(body).ok()?, String::from_utf8(sum.to_vec()).ok()?))
}
