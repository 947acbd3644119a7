//! InfluxQL duration literals: parsing (`1h30m`, `10u`, `5µ`, `2w`) and the
//! canonical formatting InfluxQL prints (`1h`, `90m`, `1500ms`).
//!
//! Owns: the text <-> nanoseconds conversion only. Must not: know about tokens.

/// Nanoseconds per unit.
pub const NANOSECOND: i64 = 1;
pub const MICROSECOND: i64 = 1_000;
pub const MILLISECOND: i64 = 1_000_000;
pub const SECOND: i64 = 1_000_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;

/// Parse an InfluxQL duration (`1h`, `1h30m`, `-5m`, `10ns`, `3u`, `3µ`, `2d`, `1w`)
/// into nanoseconds. The error text is InfluxDB's (`invalid duration` or the
/// overflow message).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    const INVALID: &str = "invalid duration";
    let a: Vec<char> = s.chars().collect();
    if s.len() < 2 {
        return Err(INVALID.into());
    }
    let mut i = 0;
    let negative = a[0] == '-';
    if negative {
        i += 1;
    }
    let mut d: i64 = 0;
    let mut measure: i64 = 0;
    let mut unit = String::new();
    while i < a.len() {
        let start = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        if i >= a.len() || i == start {
            return Err(INVALID.into());
        }
        let digits: String = a[start..i].iter().collect();
        let n: i64 = digits.parse().map_err(|_| INVALID.to_string())?;
        measure = n;
        unit = a[i].to_string();
        let next_is_s = i + 1 < a.len() && a[i + 1] == 's';
        let mul = match a[i] {
            'n' if next_is_s => {
                unit.push('s');
                i += 1;
                NANOSECOND
            }
            'n' => return Err(INVALID.into()),
            'u' | 'µ' => MICROSECOND,
            'm' if next_is_s => {
                unit.push('s');
                i += 1;
                MILLISECOND
            }
            'm' => MINUTE,
            's' => SECOND,
            'h' => HOUR,
            'd' => DAY,
            'w' => WEEK,
            _ => return Err(INVALID.into()),
        };
        d = d.wrapping_add(n.wrapping_mul(mul));
        i += 1;
    }
    if d < 0 && !negative {
        return Err(format!(
            "overflowed duration {measure}{unit}: choose a smaller duration or INF"
        ));
    }
    Ok(if negative { d.wrapping_neg() } else { d })
}

/// Format nanoseconds the way InfluxQL prints durations: the largest unit that
/// divides the value exactly (`0s`, `2w`, `3d`, `1h`, `90m`, `1500ms`, `7u`, `5ns`).
pub fn format_duration(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    for (unit, suffix) in [
        (WEEK, "w"),
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
        (MILLISECOND, "ms"),
        (MICROSECOND, "u"),
    ] {
        if d % unit == 0 {
            return format!("{}{}", d / unit, suffix);
        }
    }
    format!("{d}ns")
}

/// Format nanoseconds like Go's `time.Duration.String()` (`1h0m0s`, `1.5s`,
/// `100ms`, `0s`), which InfluxDB uses in several error messages and in
/// SHOW RETENTION POLICIES output.
pub fn format_go_duration(d: i64) -> String {
    models::go_duration::format_nanos(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse_duration("1ns"), Ok(1));
        assert_eq!(parse_duration("1u"), Ok(MICROSECOND));
        assert_eq!(parse_duration("1µ"), Ok(MICROSECOND));
        assert_eq!(parse_duration("1ms"), Ok(MILLISECOND));
        assert_eq!(parse_duration("1s"), Ok(SECOND));
        assert_eq!(parse_duration("1m"), Ok(MINUTE));
        assert_eq!(parse_duration("1h"), Ok(HOUR));
        assert_eq!(parse_duration("1d"), Ok(DAY));
        assert_eq!(parse_duration("1w"), Ok(WEEK));
        assert_eq!(parse_duration("1h30m"), Ok(HOUR + 30 * MINUTE));
        assert_eq!(parse_duration("-5m"), Ok(-5 * MINUTE));
        assert_eq!(parse_duration("xyz"), Err("invalid duration".into()));
        assert_eq!(parse_duration("1"), Err("invalid duration".into()));
        assert_eq!(parse_duration("1x"), Err("invalid duration".into()));
        assert_eq!(parse_duration("1n"), Err("invalid duration".into()));
        assert_eq!(
            parse_duration("99999999999999w"),
            Err("overflowed duration 99999999999999w: choose a smaller duration or INF".into())
        );
    }

    #[test]
    fn formats_like_influxql() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(WEEK), "1w");
        assert_eq!(format_duration(DAY), "1d");
        assert_eq!(format_duration(HOUR + 30 * MINUTE), "90m");
        assert_eq!(format_duration(1500 * MILLISECOND), "1500ms");
        assert_eq!(format_duration(7 * MICROSECOND), "7u");
        assert_eq!(format_duration(5), "5ns");
        assert_eq!(format_duration(-HOUR), "-1h");
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(HOUR), "1h0m0s");
        assert_eq!(format_go_duration(168 * HOUR), "168h0m0s");
        assert_eq!(format_go_duration(90 * SECOND), "1m30s");
        assert_eq!(format_go_duration(1500 * MILLISECOND), "1.5s");
        assert_eq!(format_go_duration(100 * MILLISECOND), "100ms");
        assert_eq!(format_go_duration(0), "0s");
        assert_eq!(format_go_duration(1), "1ns");
    }
}
