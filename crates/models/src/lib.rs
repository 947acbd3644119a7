//! Shared vocabulary of Tidemark: the value and type model of InfluxDB 1.x
//! (field values and types, timestamp precision, time bounds) and the series
//! key format that every other crate agrees on.
//!
//! This crate owns *types only*. It does no I/O, parses no wire formats and
//! knows nothing of storage or the network; it sits at the bottom of the crate
//! graph so that the line-protocol parser, the storage engine, the query engine
//! and the cluster layer can exchange points without converting them.

use std::fmt;

/// Smallest timestamp InfluxDB 1.x accepts (nanoseconds since the epoch):
/// `1677-09-21T00:12:43.145224194Z`.
pub const MIN_NANOS: i64 = i64::MIN + 2;
/// Largest timestamp InfluxDB 1.x accepts: `2262-04-11T23:47:16.854775806Z`.
pub const MAX_NANOS: i64 = i64::MAX - 1;

/// The type of a field. Fixed per measurement and shard once the first value
/// is stored (`field type conflict` otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FieldType {
    Float = 1,
    Integer = 2,
    Boolean = 3,
    String = 4,
    Unsigned = 5,
}

impl FieldType {
    /// The name InfluxDB uses in `SHOW FIELD KEYS` and in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
            FieldType::Unsigned => "unsigned",
        }
    }

    /// Decodes the on-disk tag byte written by `FieldType as u8`.
    pub fn from_u8(b: u8) -> Option<FieldType> {
        Some(match b {
            1 => FieldType::Float,
            2 => FieldType::Integer,
            3 => FieldType::Boolean,
            4 => FieldType::String,
            5 => FieldType::Unsigned,
            _ => return None,
        })
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An owned field value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(String),
}

impl FieldValue {
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            FieldValue::Boolean(_) => FieldType::Boolean,
            FieldValue::String(_) => FieldType::String,
        }
    }
}

/// Timestamp precision of the `/write` endpoint and of `epoch=` in `/query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
}

impl Precision {
    /// Parses the `precision=` / `epoch=` spellings InfluxDB 1.x accepts
    /// (`n`/`ns`, `u`/`us`/`µ`, `ms`, `s`, `m`, `h`). The empty string means
    /// nanoseconds.
    pub fn parse(s: &str) -> Option<Precision> {
        Some(match s {
            "" | "n" | "ns" => Precision::Nanosecond,
            "u" | "us" | "µ" => Precision::Microsecond,
            "ms" => Precision::Millisecond,
            "s" => Precision::Second,
            "m" => Precision::Minute,
            "h" => Precision::Hour,
            _ => return None,
        })
    }

    /// Nanoseconds in one unit of this precision.
    pub fn nanos(self) -> i64 {
        match self {
            Precision::Nanosecond => 1,
            Precision::Microsecond => 1_000,
            Precision::Millisecond => 1_000_000,
            Precision::Second => 1_000_000_000,
            Precision::Minute => 60_000_000_000,
            Precision::Hour => 3_600_000_000_000,
        }
    }
}

/// A closed time interval `[min, max]` in nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub min: i64,
    pub max: i64,
}

impl TimeRange {
    pub const ALL: TimeRange = TimeRange {
        min: i64::MIN,
        max: i64::MAX,
    };

    pub fn new(min: i64, max: i64) -> TimeRange {
        TimeRange { min, max }
    }

    pub fn contains(&self, t: i64) -> bool {
        t >= self.min && t <= self.max
    }

    pub fn overlaps(&self, min: i64, max: i64) -> bool {
        self.min <= max && min <= self.max
    }

    pub fn is_empty(&self) -> bool {
        self.min > self.max
    }
}

pub mod go_duration;
pub mod series_key;
pub mod time;
pub use series_key::{parse_series_key, series_key, SeriesKeyError};

/// Current wall-clock time in nanoseconds since the epoch.
pub fn now_nanos() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// A parsed, validated point ready for storage: names unescaped, tags sorted
/// by key with duplicates removed, time resolved to nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub measurement: String,
    pub tags: Vec<(String, String)>,
    pub fields: Vec<(String, FieldValue)>,
    pub time: i64,
    /// `series_key(measurement, tags)`, computed once by whoever builds the point.
    pub key: String,
}

impl Point {
    /// Builds a point, sorting tags and computing its series key.
    pub fn new(
        measurement: String,
        mut tags: Vec<(String, String)>,
        fields: Vec<(String, FieldValue)>,
        time: i64,
    ) -> Point {
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        tags.dedup_by(|later, earlier| later.0 == earlier.0);
        let key = series_key(&measurement, &tags);
        Point {
            measurement,
            tags,
            fields,
            time,
            key,
        }
    }
}

/// A column of values of one field type, as read back from storage.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    Boolean(Vec<bool>),
    String(Vec<String>),
}

impl Column {
    pub fn len(&self) -> usize {
        match self {
            Column::Float(v) => v.len(),
            Column::Integer(v) => v.len(),
            Column::Unsigned(v) => v.len(),
            Column::Boolean(v) => v.len(),
            Column::String(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn field_type(&self) -> FieldType {
        match self {
            Column::Float(_) => FieldType::Float,
            Column::Integer(_) => FieldType::Integer,
            Column::Unsigned(_) => FieldType::Unsigned,
            Column::Boolean(_) => FieldType::Boolean,
            Column::String(_) => FieldType::String,
        }
    }

    /// The value at `i` as an owned [`FieldValue`]. Panics if out of bounds
    /// (an internal invariant: callers index within `len()`).
    pub fn value(&self, i: usize) -> FieldValue {
        match self {
            Column::Float(v) => FieldValue::Float(v[i]),
            Column::Integer(v) => FieldValue::Integer(v[i]),
            Column::Unsigned(v) => FieldValue::Unsigned(v[i]),
            Column::Boolean(v) => FieldValue::Boolean(v[i]),
            Column::String(v) => FieldValue::String(v[i].clone()),
        }
    }
}

/// A run of values of one field of one series in ascending, unique time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub times: Vec<i64>,
    pub values: Column,
}
