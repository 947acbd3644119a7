//! The record that a data node joined a meta cluster through
//! `influxd-ctl add-data <TCP address>`: `<[meta] dir>/client.json`, the
//! meta nodes' HTTP addresses (and whether the node joined as passive),
//! written by the node when a meta node's `JoinCluster` request is
//! accepted, read at every start. A node with this file and no
//! `[meta] meta-servers` in its configuration opens as a member of that
//! cluster (its metadata comes from the meta nodes, none is kept locally);
//! `[meta] meta-servers`, when set, wins.
//!
//! This module owns the file (format and durable writes); it must not
//! decide whether a join is allowed (the cluster RPC handler does) or talk
//! to the meta nodes.
//!
//! # File format
//!
//! JSON, written to `client.json.tmp`, fsynced, renamed over `client.json`,
//! then the directory is fsynced:
//!
//! ```text
//! {"meta_servers": ["m1:8091", "m2:8091"], "passive": false}
//! ```

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The file's name inside `[meta] dir`.
pub const FILE_NAME: &str = "client.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Joined {
    /// The meta nodes' HTTP addresses.
    pub meta_servers: Vec<String>,
    /// Joined with `add-data -p`: the node owns no shards.
    #[serde(default)]
    pub passive: bool,
}

#[derive(Debug, Error)]
pub enum JoinedError {
    #[error("read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged ({source}); remove it to start the node standalone")]
    Damaged {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub fn path(meta_dir: &Path) -> PathBuf {
    meta_dir.join(FILE_NAME)
}

/// Reads the record, `None` when the node never joined a cluster this way.
pub fn load(meta_dir: &Path) -> Result<Option<Joined>, JoinedError> {
    let p = path(meta_dir);
    let bytes = match crate::durable_file::read_if_exists(&p) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(None),
        Err(source) => return Err(JoinedError::Read { path: p, source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| JoinedError::Damaged { path: p, source })
}

/// Writes the record durably (temp file, fsync, rename, directory fsync).
pub fn save(meta_dir: &Path, joined: &Joined) -> Result<(), JoinedError> {
    let werr = |source| JoinedError::Write {
        path: path(meta_dir),
        source,
    };
    let json = serde_json::to_vec(joined).map_err(|e| werr(std::io::Error::other(e)))?;
    crate::durable_file::replace(meta_dir, FILE_NAME, &json).map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn a_saved_record_loads_back_and_a_missing_one_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let j = Joined {
            meta_servers: vec!["m1:8091".into(), "m2:8091".into()],
            passive: true,
        };
        save(dir.path(), &j).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(j));
        fs::write(path(dir.path()), b"{not json").unwrap();
        assert!(matches!(load(dir.path()), Err(JoinedError::Damaged { .. })));
    }
}
