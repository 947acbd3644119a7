//! The tool's error type; every fallible function returns [`Result`].

/// Everything that can stop a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid {what}: {value:?} ({hint})")]
    Invalid {
        what: &'static str,
        value: String,
        hint: &'static str,
    },
    #[error("{method} {url}: {message}")]
    Http {
        method: &'static str,
        url: String,
        message: String,
    },
    #[error("server answered {status} to {what}: {body}")]
    Server {
        what: String,
        status: u16,
        body: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The tool's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
