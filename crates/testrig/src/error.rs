//! The crate's error type. Owns nothing else: every fallible function of the
//! rig returns [`Result`]. Errors about a node carry the tail of its log so a
//! test that unwraps one shows why the node failed.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while driving processes, proxies or checks.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("binary {name:?} not found (looked in {searched:?}); build it first, e.g. `cargo build -p {name}`")]
    BinaryNotFound {
        name: String,
        searched: Vec<PathBuf>,
    },
    #[error("node {node}: exited before it was ready ({status})\n--- log tail ---\n{log}")]
    Exited {
        node: String,
        status: String,
        log: String,
    },
    #[error("node {node}: not ready within {waited:?} ({last})\n--- log tail ---\n{log}")]
    NotReady {
        node: String,
        waited: Duration,
        last: String,
        log: String,
    },
    #[error("node {node}: did not exit within {waited:?} after SIGTERM (killed)\n--- log tail ---\n{log}")]
    StopTimeout {
        node: String,
        waited: Duration,
        log: String,
    },
    #[error("node {0} is not running")]
    NotRunning(String),
    #[error("no node named {0:?}")]
    UnknownNode(String),
    #[error("config template: {0}")]
    Template(String),
    /// A transport failure. `connect_failed` is true when no connection
    /// could be made, so the request certainly never reached the server.
    #[error("HTTP {method} {url}: {message}")]
    Http {
        method: String,
        url: String,
        message: String,
        connect_failed: bool,
    },
    #[error("bad response from {url}: {message}")]
    BadResponse { url: String, message: String },
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
}

/// The rig's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with what the rig was doing.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
