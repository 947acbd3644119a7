//! Time parsing and formatting without a date library: RFC 3339 UTC
//! timestamps at second precision (`2016-01-01T00:00:00Z`, as TSBS prints
//! query bounds) and durations like `1d12h`, `90m`, `10s`.

use crate::error::{Error, Result};

pub const NS_PER_SEC: i64 = 1_000_000_000;

use models::time::{civil_from_days, days_from_civil};

/// Parses `YYYY-MM-DDTHH:MM:SSZ` into nanoseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Result<i64> {
    let bad = || Error::Invalid {
        what: "timestamp",
        value: s.to_string(),
        hint: "use RFC 3339 UTC, e.g. 2016-01-01T00:00:00Z",
    };
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        s.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or_else(bad)
    };
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return Err(bad());
    }
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se;
    Ok(secs * NS_PER_SEC)
}

/// Formats nanoseconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`
/// (sub-second part dropped, like Go's `time.RFC3339`).
pub fn format_rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(NS_PER_SEC);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses `1d`, `12h`, `90m`, `45s`, `1d12h` into seconds (> 0).
pub fn parse_duration_s(s: &str) -> Result<i64> {
    let bad = || Error::Invalid {
        what: "duration",
        value: s.to_string(),
        hint: "use e.g. 1d, 12h, 90m, 30s or 1d12h",
    };
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let ns = parse_rfc3339("2016-01-01T00:00:00Z").unwrap();
        assert_eq!(ns, 1_451_606_400 * NS_PER_SEC);
        assert_eq!(format_rfc3339(ns), "2016-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(ns + 86_399 * NS_PER_SEC + 5),
            "2016-01-01T23:59:59Z"
        );
        assert_eq!(
            format_rfc3339(parse_rfc3339("2024-02-29T12:34:56Z").unwrap()),
            "2024-02-29T12:34:56Z"
        );
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert!(parse_rfc3339("2016-01-01").is_err());
        assert!(parse_rfc3339("2016-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_s("1d").unwrap(), 86_400);
        assert_eq!(parse_duration_s("1d12h").unwrap(), 129_600);
        assert_eq!(parse_duration_s("90m").unwrap(), 5_400);
        assert_eq!(parse_duration_s("10s").unwrap(), 10);
        for bad in ["", "1", "h", "1x", "0s", "-1h"] {
            assert!(parse_duration_s(bad).is_err(), "{bad}");
        }
    }
}
