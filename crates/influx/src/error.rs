//! Error type of the `influx` client crate.
//!
//! Owns the crate-wide [`Error`] enum. Display texts are the ones the 1.x Go
//! CLI prints (they reach the user verbatim), so keep them unchanged.

use std::io;

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A transport-level failure (connection refused, DNS, TLS, timeouts).
    #[error("{0}")]
    Transport(String),
    /// The server answered with something that is not a valid response.
    #[error("{0}")]
    Protocol(String),
    /// The server (or a statement) reported an error.
    #[error("{0}")]
    Server(String),
    /// Local I/O (files, terminal).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A user mistake detected locally (bad command, missing argument).
    #[error("{0}")]
    Usage(String),
}

/// Crate-wide result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
