//! Errors of the crate. `ParseError`'s `Display` is InfluxDB's exact text
//! without the `error parsing query: ` prefix (the HTTP layer adds it).
//!
//! Owns: error types only. Must not: format anything else.

use std::fmt;

/// Zero-based line/char position of a token, as InfluxDB's scanner counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub char: u32,
}

/// A parse error, printed exactly like InfluxDB 1.x prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// `found X, expected A, B at line L, char C`
    Unexpected {
        found: String,
        expected: Vec<String>,
        pos: Pos,
    },
    /// `<message> at line L, char C`
    Message { message: String, pos: Pos },
    /// A message InfluxDB returns without a position (e.g. `fill must be a function call`).
    Plain(String),
}

impl ParseError {
    pub(crate) fn unexpected(found: String, expected: &[&str], pos: Pos) -> ParseError {
        ParseError::Unexpected {
            found,
            expected: expected.iter().map(|s| s.to_string()).collect(),
            pos,
        }
    }

    pub(crate) fn msg(message: impl Into<String>, pos: Pos) -> ParseError {
        ParseError::Message {
            message: message.into(),
            pos,
        }
    }

    pub(crate) fn plain(message: impl Into<String>) -> ParseError {
        ParseError::Plain(message.into())
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Unexpected {
                found,
                expected,
                pos,
            } => write!(
                f,
                "found {}, expected {} at line {}, char {}",
                found,
                expected.join(", "),
                pos.line + 1,
                pos.char + 1
            ),
            ParseError::Message { message, pos } => {
                write!(
                    f,
                    "{} at line {}, char {}",
                    message,
                    pos.line + 1,
                    pos.char + 1
                )
            }
            ParseError::Plain(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ParseError {}

/// Crate error for the non-parsing helpers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A semantic error raised by a helper (e.g. an invalid time condition).
    #[error("{0}")]
    Invalid(String),
}

/// Crate result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
