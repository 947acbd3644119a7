//! The owned layer used by the HTTP write path: [`parse_points`] turns a
//! body into [`models::Point`]s (unescaped names, tags sorted by key, series
//! key, time scaled to nanoseconds) plus InfluxDB-formatted error strings.
//! Storage-side rules (e.g. the `time` key) live in [`crate::reserved`].

use std::collections::HashMap;

use models::{FieldValue, Point, Precision, MAX_NANOS, MIN_NANOS};

use crate::error::{ErrorKind, LineError};
use crate::escape::{unescape_field_key, unescape_measurement, unescape_string, unescape_tag};
use crate::line::{FieldValueRef, Line};
use crate::split::lines;

/// Bytes of the shortest line that yields a point: `m f=1` and its newline.
const MIN_POINT_LINE_BYTES: usize = 6;

/// Rejected lines reported one by one; the rest are counted in one last
/// message. InfluxDB reports every line, but a 25 MB body of two-byte bad
/// lines made ~900 MB of error strings (and as much response text).
pub const MAX_REPORTED_LINE_ERRORS: usize = 1_000;

/// Result of [`parse_points`]: the valid points and one
/// `unable to parse '<line>': <reason>` string per rejected line (at most
/// [`MAX_REPORTED_LINE_ERRORS`], then `N more lines could not be parsed`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedPoints {
    pub points: Vec<Point>,
    pub errors: Vec<String>,
    /// Rejected lines past [`MAX_REPORTED_LINE_ERRORS`] (counted in the
    /// last entry of `errors`).
    pub unreported: usize,
}

impl ParsedPoints {
    /// Lines rejected, reported or not.
    pub fn rejected(&self) -> usize {
        self.errors.len() - usize::from(self.unreported > 0) + self.unreported
    }

    /// The errors joined by `\n`, as InfluxDB 1.6 reports them in one error
    /// (`None` when every line parsed).
    pub fn error_text(&self) -> Option<String> {
        (!self.errors.is_empty()).then(|| self.errors.join("\n"))
    }
}

/// Scales a raw timestamp to nanoseconds, checking InfluxDB's time range.
pub fn scale_timestamp(ts: i64, precision: Precision) -> Result<i64, ErrorKind> {
    match ts.checked_mul(precision.nanos()) {
        Some(t) if (MIN_NANOS..=MAX_NANOS).contains(&t) => Ok(t),
        _ => Err(ErrorKind::TimeOutsideRange),
    }
}

/// Parses a whole body. Lines without a timestamp get `now_nanos` (already
/// nanoseconds, not scaled) truncated down to a multiple of the precision,
/// as InfluxDB 1.6 does (`SetPrecision`).
pub fn parse_points(body: &[u8], precision: Precision, now_nanos: i64) -> ParsedPoints {
    // One point per line at most, and no more than the body's bytes can
    // hold: blank lines and comments must not reserve points.
    let line_count = memchr::memchr_iter(b'\n', body).count() + 1;
    let mut out = ParsedPoints {
        points: Vec::with_capacity(line_count.min(body.len() / MIN_POINT_LINE_BYTES + 1)),
        errors: Vec::new(),
        unreported: 0,
    };
    for line in lines(body) {
        match line.and_then(|l| to_point(&l, precision, now_nanos)) {
            Ok(p) => out.points.push(p),
            Err(_) if out.errors.len() >= MAX_REPORTED_LINE_ERRORS => out.unreported += 1,
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    if out.unreported > 0 {
        out.errors
            .push(format!("{} more lines could not be parsed", out.unreported));
    }
    out
}

/// Converts a zero-copy line into an owned point (see [`parse_points`] for
/// how the time is resolved).
pub fn to_point(line: &Line<'_>, precision: Precision, now_nanos: i64) -> Result<Point, LineError> {
    let time = match line.timestamp {
        None => now_nanos - now_nanos.rem_euclid(precision.nanos()),
        Some(ts) => scale_timestamp(ts, precision).map_err(|k| LineError::new(line.raw, k))?,
    };
    let measurement = unescape_measurement(line.measurement).into_owned();
    // A tag value may start with an unescaped '=' (InfluxDB accepts it);
    // series keys escape it, so such keys are rebuilt too.
    let canonical = !line.key_has_escapes() && !line.tags.iter().any(|(_, v)| v.starts_with('='));
    let (tags, key) = if !canonical {
        let mut tags: Vec<(String, String)> = line
            .tags
            .iter()
            .map(|(k, v)| (unescape_tag(k).into_owned(), unescape_tag(v).into_owned()))
            .collect();
        tags.sort_by(|a, b| a.0.cmp(&b.0));
        let key = models::series_key(&measurement, &tags);
        (tags, key)
    } else {
        // No escapes: escaped == unescaped, and the sorted raw tags are
        // already in unescaped-key order.
        let key = if line.tags_were_sorted {
            line.raw_key.to_string()
        } else {
            let mut key = String::with_capacity(line.raw_key.len());
            key.push_str(line.measurement);
            for (k, v) in &line.tags {
                key.push(',');
                key.push_str(k);
                key.push('=');
                key.push_str(v);
            }
            key
        };
        let tags = line
            .tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (tags, key)
    };
    let fields = owned_fields(line);
    Ok(Point {
        measurement,
        tags,
        fields,
        time,
        key,
    })
}

/// Few fields: a linear scan finds repeats fastest; beyond that a map keeps
/// hostile lines with thousands of fields linear.
const LINEAR_DEDUP_MAX: usize = 16;

/// Unescapes the fields of `line`; a repeated key keeps its first position
/// and takes the later value, like InfluxDB's field map.
fn owned_fields(line: &Line<'_>) -> Vec<(String, FieldValue)> {
    let mut fields: Vec<(String, FieldValue)> = Vec::with_capacity(line.fields.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for (k, v) in &line.fields {
        let value = match *v {
            FieldValueRef::Float(f) => FieldValue::Float(f),
            FieldValueRef::Integer(i) => FieldValue::Integer(i),
            FieldValueRef::Unsigned(u) => FieldValue::Unsigned(u),
            FieldValueRef::Boolean(b) => FieldValue::Boolean(b),
            FieldValueRef::String(s) => FieldValue::String(unescape_string(s).into_owned()),
        };
        let key = unescape_field_key(k);
        let existing = if line.fields.len() <= LINEAR_DEDUP_MAX {
            fields.iter().position(|(e, _)| *e == *key)
        } else {
            index.get(key.as_ref()).copied()
        };
        match existing {
            Some(pos) => fields[pos].1 = value,
            None => {
                if line.fields.len() > LINEAR_DEDUP_MAX {
                    index.insert(key.to_string(), fields.len());
                }
                fields.push((key.into_owned(), value));
            }
        }
    }
    fields
}
