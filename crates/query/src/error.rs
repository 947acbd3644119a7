//! The crate's error type. Display texts are InfluxDB 1.x's own because they
//! reach users verbatim in `/query` results.

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum Error {
    /// Any error whose text is already InfluxDB's.
    #[error("{0}")]
    Msg(String),
    #[error("database not found: {0}")]
    DatabaseNotFound(String),
    #[error("query interrupted")]
    Interrupted,
    #[error("query-timeout limit exceeded")]
    Timeout,
    #[error("no such query id: {0}")]
    NoSuchQuery(u64),
    #[error("{0}")]
    Meta(#[from] meta::Error),
}

impl Error {
    pub fn msg(s: impl Into<String>) -> Error {
        Error::Msg(s.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
