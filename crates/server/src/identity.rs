//! The data node's persisted identity: the node id the metadata gave it and
//! the cluster it belongs to, kept in `<[meta] dir>/node.json` so that a
//! restart with a changed `bind-address` or `hostname`, or against a
//! different (rebuilt, restored, wrong) meta cluster, is recognised instead
//! of silently registering the node as someone new.
//!
//! This module owns the file and the decision "same node or not"
//! ([`check`]); it does not talk to the meta store — the caller brings the
//! metadata it sees and acts on the verdict.
//!
//! # File format
//!
//! JSON, written to `node.json.tmp`, fsynced, renamed over `node.json`, then
//! the directory is fsynced:
//!
//! ```text
//! {"id": 1, "cluster_id": 1733356800123456789, "tcp_host": "host:8088", "http_host": "host:8086"}
//! ```
//!
//! Unknown fields are ignored so a later version can add some.

use meta::data::{Data, NodeInfo};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The file's name inside `[meta] dir`.
pub const FILE_NAME: &str = "node.json";

/// Who this data node is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: u64,
    pub cluster_id: u64,
    /// The TCP address the node registered with (informational: shown in
    /// the refusal message when it changed).
    #[serde(default)]
    pub tcp_host: String,
    #[serde(default)]
    pub http_host: String,
}

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged ({source}); it records which node this is: restore it, or move it away only if this node's data should join as a new node")]
    Damaged {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("this data node belongs to cluster {recorded} (recorded in {path}) but the metadata it was given is cluster {found}; refusing to start so that no shard is mistaken for a stranger's. Point [meta] meta-servers at this node's own meta nodes, or restore them")]
    OtherCluster {
        recorded: u64,
        found: u64,
        path: PathBuf,
    },
    #[error("this data node is node {id} (recorded in {path}) but the metadata has no data node {id} (removed with remove-data, or the meta store was rebuilt); refusing to start. To join as a new, empty member move this node's data and {path} away")]
    Removed { id: u64, path: PathBuf },
    #[error("this data node is node {id}, registered with TCP address {registered:?}, but it now advertises {now:?} (hostname or bind-address changed); refusing to start under a new identity. Restore the old address, or run `influxd-ctl update-data {registered} {now}` first")]
    AddressChanged {
        id: u64,
        registered: String,
        now: String,
    },
    #[error("this data node is node {recorded} (recorded in {path}) but the meta nodes registered it as node {given}; refusing to start")]
    OtherNode {
        recorded: u64,
        given: u64,
        path: PathBuf,
    },
}

/// The path of the identity file in `meta_dir`.
pub fn path(meta_dir: &Path) -> PathBuf {
    meta_dir.join(FILE_NAME)
}

/// Reads the identity, `None` when the node has never recorded one.
pub fn load(meta_dir: &Path) -> Result<Option<Identity>, IdentityError> {
    let p = path(meta_dir);
    let bytes = match crate::durable_file::read_if_exists(&p) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(None),
        Err(source) => return Err(IdentityError::Read { path: p, source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| IdentityError::Damaged { path: p, source })
}

/// Writes the record durably (temp file, fsync, rename, directory fsync).
pub fn save(meta_dir: &Path, id: &Identity) -> Result<(), IdentityError> {
    let werr = |source| IdentityError::Write {
        path: path(meta_dir),
        source,
    };
    let json = serde_json::to_vec(id).map_err(|e| werr(std::io::Error::other(e)))?;
    crate::durable_file::replace(meta_dir, FILE_NAME, &json).map_err(werr)
}

/// What the node should do, given what it recorded and what the metadata
/// says.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The recorded node exists with the same TCP address: carry on as it.
    Same(NodeInfo),
    /// The recorded node exists but its addresses differ; a standalone node
    /// owns its metadata and may update them (`UpdateDataNode`), a clustered
    /// one must not change identity silently.
    Moved(NodeInfo),
    /// Nothing recorded: register (or, for an upgraded standalone node that
    /// already has a node in its metadata, adopt that one).
    Unrecorded,
}

/// Decides whether the metadata `data` describes the node recorded in
/// `recorded` (which was read from `meta_dir`).
pub fn check(
    meta_dir: &Path,
    recorded: Option<&Identity>,
    data: &Data,
    tcp_host: &str,
) -> Result<Verdict, IdentityError> {
    let Some(me) = recorded else {
        return Ok(Verdict::Unrecorded);
    };
    if me.cluster_id != 0 && data.cluster_id != 0 && me.cluster_id != data.cluster_id {
        return Err(IdentityError::OtherCluster {
            recorded: me.cluster_id,
            found: data.cluster_id,
            path: path(meta_dir),
        });
    }
    let Some(node) = data.data_node(me.id) else {
        return Err(IdentityError::Removed {
            id: me.id,
            path: path(meta_dir),
        });
    };
    if node.tcp_host == tcp_host {
        Ok(Verdict::Same(node.clone()))
    } else {
        Ok(Verdict::Moved(node.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn data_with(nodes: &[(u64, &str)], cluster_id: u64) -> Data {
        Data {
            cluster_id,
            data_nodes: nodes
                .iter()
                .map(|(id, tcp)| NodeInfo {
                    id: *id,
                    host: "h:8086".into(),
                    tcp_host: (*tcp).into(),
                    passive: false,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn saves_and_loads_durably() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let id = Identity {
            id: 3,
            cluster_id: 77,
            tcp_host: "a:8088".into(),
            http_host: "a:8086".into(),
        };
        save(dir.path(), &id).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(id));
        assert!(!dir.path().join("node.json.tmp").exists());
    }

    #[test]
    fn damaged_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(path(dir.path()), b"{\"id\": 3, \"clus").unwrap();
        let e = load(dir.path()).unwrap_err();
        assert!(matches!(e, IdentityError::Damaged { .. }), "{e}");
    }

    #[test]
    fn verdicts() {
        let dir = Path::new("/m");
        let rec = Identity {
            id: 1,
            cluster_id: 9,
            tcp_host: ":8088".into(),
            http_host: String::new(),
        };
        let data = data_with(&[(1, ":8088")], 9);
        assert!(matches!(
            check(dir, Some(&rec), &data, ":8088").unwrap(),
            Verdict::Same(n) if n.id == 1
        ));
        assert!(matches!(
            check(dir, Some(&rec), &data, "127.0.0.1:8088").unwrap(),
            Verdict::Moved(n) if n.id == 1
        ));
        assert_eq!(
            check(dir, None, &data, ":8088").unwrap(),
            Verdict::Unrecorded
        );
        let other = data_with(&[(1, ":8088")], 10);
        assert!(matches!(
            check(dir, Some(&rec), &other, ":8088").unwrap_err(),
            IdentityError::OtherCluster {
                recorded: 9,
                found: 10,
                ..
            }
        ));
        let gone = data_with(&[(2, ":8088")], 9);
        assert!(matches!(
            check(dir, Some(&rec), &gone, ":8088").unwrap_err(),
            IdentityError::Removed { id: 1, .. }
        ));
    }
}
