//! Errors of the meta service runtime, its HTTP client and its config.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    Config(String),
    #[error("meta store: {0}")]
    Storage(String),
    #[error("raft: {0}")]
    Raft(String),
    /// No leader is known (election in progress, or quorum lost).
    #[error("no leader")]
    NoLeader,
    /// The metadata layer refused the change; `status` is its HTTP status.
    #[error("{message}")]
    Meta {
        message: String,
        status: u16,
        /// The typed error when the metadata layer produced it.
        error: Option<meta::Error>,
    },
    /// Talking to a meta node failed.
    #[error("{0}")]
    Http(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// A refusal with an HTTP status and no typed metadata error.
    pub fn refused(status: u16, message: impl Into<String>) -> Error {
        Error::Meta {
            message: message.into(),
            status,
            error: None,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Config(_) => 400,
            Error::NoLeader => 503,
            Error::Meta { status, .. } => *status,
            Error::Raft(_) | Error::Http(_) => 503,
            Error::Storage(_) | Error::Io(_) => 500,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
