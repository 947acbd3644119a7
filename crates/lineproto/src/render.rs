//! Rendering a [`models::Point`] back to one line of line protocol (with
//! escaping and a nanosecond timestamp): [`to_line`] / [`write_line`]. Used
//! by the CLI import, SELECT INTO and subscriptions. Never parses.

use std::fmt::Write as _;

use models::{FieldValue, Point};

use crate::escape::{escape_measurement_into, escape_string_into, escape_tag_into};

/// Renders `point` as `measurement,tags fields time` (no trailing newline).
///
/// Not every name survives a round trip through InfluxDB 1.x line protocol:
/// a backslash at the end of a name, or right before `,`, `=`, space or
/// another backslash, is read differently by InfluxDB's scanners; and a
/// measurement starting with `#`, a tab or NUL, or names holding `\n`, are
/// unrepresentable. Such points render as InfluxDB itself would render them.
pub fn to_line(point: &Point) -> String {
    let mut out = String::with_capacity(point.key.len() + 32 * point.fields.len() + 24);
    write_line(&mut out, point);
    out
}

/// Appends the line of `point` to `out` (no trailing newline).
pub fn write_line(out: &mut String, point: &Point) {
    escape_measurement_into(out, &point.measurement);
    for (k, v) in &point.tags {
        out.push(',');
        escape_tag_into(out, k);
        out.push('=');
        escape_tag_into(out, v);
    }
    for (i, (k, v)) in point.fields.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        escape_tag_into(out, k);
        out.push('=');
        match v {
            // Debug prints the shortest round-tripping form, with an
            // exponent for very large or small magnitudes.
            FieldValue::Float(f) => {
                let _ = write!(out, "{f:?}");
            }
            FieldValue::Integer(n) => {
                let _ = write!(out, "{n}i");
            }
            FieldValue::Unsigned(n) => {
                let _ = write!(out, "{n}u");
            }
            FieldValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            FieldValue::String(s) => {
                out.push('"');
                escape_string_into(out, s);
                out.push('"');
            }
        }
    }
    let _ = write!(out, " {}", point.time);
}
