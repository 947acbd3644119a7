//! The result model of `/query`: statement results holding series of rows,
//! exactly the JSON shape InfluxDB 1.x returns, plus the time formatting the
//! `epoch` parameter selects. Encoders for JSON, CSV and chunked output live
//! in the HTTP layer; this module only defines what they encode.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

/// One cell of a result row (also the executor's value type; serde derives
/// are for shipping partial states, not for the JSON output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    String(String),
    /// A timestamp in nanoseconds; rendered per [`TimeFormat`].
    Time(i64),
    /// A timestamp shown in a time zone (`tz()`): nanoseconds and the UTC
    /// offset in seconds; RFC3339 output carries the offset.
    TimeTz(i64, i32),
}

/// How `Value::Time` is rendered: RFC3339 with nanoseconds (no `epoch`
/// parameter), or an integer count of the given unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    #[default]
    Rfc3339,
    Epoch(models::Precision),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Omitted from JSON when empty.
    pub name: String,
    /// Omitted from JSON when empty.
    pub tags: BTreeMap<String, String>,
    pub columns: Vec<String>,
    /// Omitted from JSON when empty.
    pub values: Vec<Vec<Value>>,
    /// Set on a series that continues in the next chunk.
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub level: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatementResult {
    pub statement_id: usize,
    pub series: Vec<Series>,
    pub messages: Vec<Message>,
    pub error: Option<String>,
    /// Set on a result that continues in the next chunk.
    pub partial: bool,
}

impl StatementResult {
    pub fn error(statement_id: usize, msg: impl Into<String>) -> StatementResult {
        StatementResult {
            statement_id,
            error: Some(msg.into()),
            ..Default::default()
        }
    }
}

/// Formats nanoseconds since the epoch as RFC3339 with the fractional
/// seconds trimmed of trailing zeros, as Go's `time.RFC3339Nano` does.
pub fn format_rfc3339_nano(ns: i64) -> String {
    models::time::format_rfc3339_nano(ns)
}

/// RFC3339 with nanoseconds in a zone `offset` seconds east of UTC, as Go
/// prints it (`Z` for a zero offset).
pub fn format_rfc3339_offset(ns: i64, offset: i32) -> String {
    if offset == 0 {
        return format_rfc3339_nano(ns);
    }
    let local = format_rfc3339_nano(ns.saturating_add(offset as i64 * 1_000_000_000));
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    format!(
        "{}{}{:02}:{:02}",
        local.trim_end_matches('Z'),
        sign,
        a / 3600,
        (a % 3600) / 60
    )
}

pub use models::time::civil_from_days;

/// Serialises a value with the chosen time format.
pub struct ValueSer<'a>(pub &'a Value, pub TimeFormat);

impl Serialize for ValueSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_none(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Integer(i) => s.serialize_i64(*i),
            Value::Unsigned(u) => s.serialize_u64(*u),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_none(),
            Value::String(v) => s.serialize_str(v),
            Value::Time(ns) => match self.1 {
                TimeFormat::Rfc3339 => s.serialize_str(&format_rfc3339_nano(*ns)),
                TimeFormat::Epoch(p) => s.serialize_i64(ns.div_euclid(p.nanos())),
            },
            Value::TimeTz(ns, off) => match self.1 {
                TimeFormat::Rfc3339 => s.serialize_str(&format_rfc3339_offset(*ns, *off)),
                TimeFormat::Epoch(p) => s.serialize_i64(ns.div_euclid(p.nanos())),
            },
        }
    }
}

struct RowSer<'a>(&'a [Value], TimeFormat);

impl Serialize for RowSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            seq.serialize_element(&ValueSer(v, self.1))?;
        }
        seq.end()
    }
}

struct RowsSer<'a>(&'a [Vec<Value>], TimeFormat);

impl Serialize for RowsSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&RowSer(r, self.1))?;
        }
        seq.end()
    }
}

/// Serialises a series in InfluxDB's field order: name, tags, columns,
/// values, partial.
pub struct SeriesSer<'a>(pub &'a Series, pub TimeFormat);

impl Serialize for SeriesSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        if !r.name.is_empty() {
            m.serialize_entry("name", &r.name)?;
        }
        if !r.tags.is_empty() {
            m.serialize_entry("tags", &r.tags)?;
        }
        m.serialize_entry("columns", &r.columns)?;
        if !r.values.is_empty() {
            m.serialize_entry("values", &RowsSer(&r.values, self.1))?;
        }
        if r.partial {
            m.serialize_entry("partial", &true)?;
        }
        m.end()
    }
}

struct SeriesListSer<'a>(&'a [Series], TimeFormat);

impl Serialize for SeriesListSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for r in self.0 {
            seq.serialize_element(&SeriesSer(r, self.1))?;
        }
        seq.end()
    }
}

/// Serialises a statement result as InfluxDB does: statement_id, series,
/// messages, partial, error — empty parts omitted.
pub struct StatementResultSer<'a>(pub &'a StatementResult, pub TimeFormat);

impl Serialize for StatementResultSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("statement_id", &r.statement_id)?;
        if !r.series.is_empty() {
            m.serialize_entry("series", &SeriesListSer(&r.series, self.1))?;
        }
        if !r.messages.is_empty() {
            m.serialize_entry("messages", &r.messages)?;
        }
        if r.partial {
            m.serialize_entry("partial", &true)?;
        }
        if let Some(e) = &r.error {
            m.serialize_entry("error", e)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offset() {
        assert_eq!(
            format_rfc3339_offset(954_662_400_000_000_000, -8 * 3600),
            "2000-04-02T00:00:00-08:00"
        );
        assert_eq!(format_rfc3339_offset(0, 0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn statement_result_json_shape() {
        let r = StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "cpu".into(),
                tags: [("host".to_string(), "a".to_string())].into(),
                columns: vec!["time".into(), "value".into()],
                values: vec![vec![Value::Time(0), Value::Float(1.5)]],
                partial: false,
            }],
            ..Default::default()
        };
        let j = serde_json::to_string(&StatementResultSer(&r, TimeFormat::Rfc3339)).unwrap();
        assert_eq!(
            j,
            r#"{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","value"],"values":[["1970-01-01T00:00:00Z",1.5]]}]}"#
        );
        let j = serde_json::to_string(&StatementResultSer(
            &r,
            TimeFormat::Epoch(models::Precision::Second),
        ))
        .unwrap();
        assert!(j.contains("[[0,1.5]]"));
        let e = StatementResult::error(1, "database not found: x");
        let j = serde_json::to_string(&StatementResultSer(&e, TimeFormat::Rfc3339)).unwrap();
        assert_eq!(j, r#"{"statement_id":1,"error":"database not found: x"}"#);
    }
}
