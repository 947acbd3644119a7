//! InfluxDB 1.6's storage-side rule for the reserved key `time`, which the
//! parser itself accepts: a point with a tag key `time` is dropped; fields
//! named `time` are silently removed, and a point left without fields is
//! dropped. The reason texts are those of the `partial write:` error. This
//! module only inspects/edits points; the caller counts drops.

use models::Point;

/// Applies the `time` rule to `point`. Returns `Some(reason)` when the point
/// must be dropped; otherwise removes any `time` fields and returns `None`.
pub fn apply_time_key_rule(point: &mut Point) -> Option<String> {
    if point.tags.iter().any(|(k, _)| k == "time") {
        return Some(format!(
            "invalid tag key: input tag \"time\" on measurement \"{}\" is invalid",
            point.measurement
        ));
    }
    point.fields.retain(|(k, _)| k != "time");
    if point.fields.is_empty() {
        return Some(format!(
            "invalid field name: input field \"time\" on measurement \"{}\" is invalid",
            point.measurement
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::FieldValue;

    #[test]
    fn time_tag_drops_point() {
        let mut p = Point::new(
            "cpu".into(),
            vec![("time".into(), "x".into())],
            vec![("v".into(), FieldValue::Float(1.0))],
            0,
        );
        assert_eq!(
            apply_time_key_rule(&mut p).as_deref(),
            Some("invalid tag key: input tag \"time\" on measurement \"cpu\" is invalid")
        );
    }

    #[test]
    fn time_field_is_removed_or_drops() {
        let mut p = Point::new(
            "cpu".into(),
            vec![],
            vec![
                ("time".into(), FieldValue::Integer(1)),
                ("v".into(), FieldValue::Float(1.0)),
            ],
            0,
        );
        assert_eq!(apply_time_key_rule(&mut p), None);
        assert_eq!(p.fields, vec![("v".to_string(), FieldValue::Float(1.0))]);
        let mut only = Point::new(
            "m".into(),
            vec![],
            vec![("time".into(), FieldValue::Integer(1))],
            0,
        );
        assert_eq!(
            apply_time_key_rule(&mut only).as_deref(),
            Some("invalid field name: input field \"time\" on measurement \"m\" is invalid")
        );
    }
}
