//! Small files a data node keeps in `[meta] dir` (`node.json`,
//! `client.json`): read whole if present, replaced durably (temp file,
//! fsync, rename, directory fsync). Owns the I/O only; the modules that own
//! each file keep its format and its error texts.

use std::fs;
use std::io::Write;
use std::path::Path;

/// The file's bytes, `None` when it does not exist.
pub fn read_if_exists(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces `dir/name` with `bytes` so that after a crash the file holds
/// either the old or the new bytes, and the new ones once this returns.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))?;
    fs::File::open(dir)?.sync_all()
}
