//! Error types of the line-protocol parser. The `Display` of [`LineError`]
//! is byte-for-byte the text InfluxDB 1.6 `models.ParsePoints` produces
//! (`unable to parse '<line>': <reason>`). This module only describes
//! failures; it never parses.

use thiserror::Error;

/// Why one line was rejected. The `Display` texts are InfluxDB 1.6's.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    #[error("missing measurement")]
    MissingMeasurement,
    #[error("missing fields")]
    MissingFields,
    #[error("missing tag key")]
    MissingTagKey,
    #[error("missing tag value")]
    MissingTagValue,
    #[error("invalid tag format")]
    InvalidTagFormat,
    #[error("duplicate tags")]
    DuplicateTags,
    /// The escaped series key (or series key + `#!~#` + field key) is too long.
    #[error("max key length exceeded: {0} > 65535")]
    MaxKeyLength(usize),
    #[error("missing field key")]
    MissingFieldKey,
    #[error("missing field value")]
    MissingFieldValue,
    /// A field section InfluxDB's second field walk cannot split (e.g.
    /// `f="blah"=123,r`); holds the raw field key.
    #[error("invalid value: field-key={0}")]
    InvalidFieldValue(String),
    #[error("invalid field format")]
    InvalidFieldFormat,
    #[error("unbalanced quotes")]
    UnbalancedQuotes,
    #[error("invalid number")]
    InvalidNumber,
    #[error("invalid float")]
    InvalidFloat,
    #[error("invalid boolean")]
    InvalidBoolean,
    /// Integer field value outside i64; holds the digits (without `i`).
    #[error("unable to parse integer {0}: strconv.ParseInt: parsing \"{0}\": value out of range")]
    IntegerOutOfRange(String),
    /// Unsigned field value outside u64; holds the digits (without `u`).
    #[error(
        "unable to parse unsigned {0}: strconv.ParseUint: parsing \"{0}\": value out of range"
    )]
    UnsignedOutOfRange(String),
    #[error("bad timestamp")]
    BadTimestamp,
    /// Timestamp digits outside i64.
    #[error("strconv.ParseInt: parsing \"{0}\": value out of range")]
    TimestampOutOfRange(String),
    /// Timestamp that is a lone `-`.
    #[error("strconv.ParseInt: parsing \"{0}\": invalid syntax")]
    TimestampSyntax(String),
    /// Timestamp (after precision scaling) outside `MIN_NANOS..=MAX_NANOS`.
    #[error("time outside range -9223372036854775806 - 9223372036854775806")]
    TimeOutsideRange,
    /// Non-blank characters after the timestamp.
    #[error("point is invalid")]
    InvalidPoint,
    /// Tidemark-specific: InfluxDB stores raw bytes, Tidemark needs UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
}

/// One rejected line: the whole line (leading whitespace and the line break
/// removed) and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unable to parse '{line}': {kind}")]
pub struct LineError {
    pub line: String,
    pub kind: ErrorKind,
}

impl LineError {
    pub fn new(line: impl Into<String>, kind: ErrorKind) -> LineError {
        LineError {
            line: line.into(),
            kind,
        }
    }
}

pub type Result<T, E = LineError> = std::result::Result<T, E>;
