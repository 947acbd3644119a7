//! Time literal strings used in WHERE clauses (`'2016-01-01T00:00:00Z'`,
//! `'2016-01-01 00:00:00.5'`, `'2016-01-01'`) <-> nanoseconds since the epoch.
//!
//! Owns: hand-written civil-date arithmetic (Howard Hinnant's days-from-civil),
//! chosen over `chrono` to keep the crate small. Must not: do time zones other
//! than the `Z`/`±hh:mm` offsets written in the literal (tz() is applied by the
//! caller).

/// InfluxDB's error text for a string that is not a valid time.
pub const INVALID_TIME: &str = "invalid timestamp string";

pub use models::time::{civil_from_days, days_from_civil};

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// True when the string looks like a date or date-time literal (`^\d{4}-\d{2}-\d{2}`),
/// i.e. InfluxDB would try to read it as a time when compared with `time`.
pub fn is_time_string(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.i..self.i + n)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.i += n;
        Some(s.iter().fold(0u32, |a, c| a * 10 + (c - b'0') as u32))
    }
    fn byte(&mut self, c: u8) -> Option<()> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Parse a time literal to nanoseconds since the epoch (UTC unless the text
/// carries an offset). Accepts `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS[.f{1,9}]` and
/// RFC3339 with nanoseconds (`YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±hh:mm)`).
pub fn parse_time_literal(s: &str) -> Result<i64, String> {
    parse_inner(s)
        .map(|(t, _)| t)
        .ok_or_else(|| INVALID_TIME.to_string())
}

/// Like [`parse_time_literal`], also telling whether the text carried an
/// explicit UTC offset (RFC3339 form) or is wall-clock time (read as UTC here).
pub fn parse_time_literal_parts(s: &str) -> Result<(i64, bool), String> {
    parse_inner(s).ok_or_else(|| INVALID_TIME.to_string())
}

fn parse_inner(s: &str) -> Option<(i64, bool)> {
    if !is_time_string(s) {
        return None;
    }
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
    };
    let y = c.digits(4)? as i64;
    c.byte(b'-')?;
    let mo = c.digits(2)?;
    c.byte(b'-')?;
    let d = c.digits(2)?;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if c.done() {
        return days.checked_mul(86_400_000_000_000).map(|t| (t, false));
    }
    let rfc = match c.peek()? {
        b' ' => false,
        b'T' => true,
        _ => return None,
    };
    c.i += 1;
    let h = c.digits(2)?;
    c.byte(b':')?;
    let mi = c.digits(2)?;
    c.byte(b':')?;
    let sec = c.digits(2)?;
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut nanos: i64 = 0;
    if c.peek() == Some(b'.') {
        c.i += 1;
        let start = c.i;
        while c.peek().is_some_and(|b| b.is_ascii_digit()) {
            c.i += 1;
        }
        let n = c.i - start;
        if n == 0 || n > 9 {
            return None;
        }
        let frac = std::str::from_utf8(&c.b[start..c.i]).ok()?;
        nanos = frac.parse::<i64>().ok()? * 10i64.pow((9 - n) as u32);
    }
    let mut offset_secs: i64 = 0;
    if rfc {
        match c.peek()? {
            b'Z' => c.i += 1,
            sign @ (b'+' | b'-') => {
                c.i += 1;
                let oh = c.digits(2)? as i64;
                c.byte(b':')?;
                let om = c.digits(2)? as i64;
                offset_secs = (oh * 3600 + om * 60) * if sign == b'-' { -1 } else { 1 };
            }
            _ => return None,
        }
    }
    if !c.done() {
        return None;
    }
    let secs = days * 86_400 + (h as i64) * 3600 + (mi as i64) * 60 + sec as i64 - offset_secs;
    Some((secs.checked_mul(1_000_000_000)?.checked_add(nanos)?, rfc))
}

/// Format nanoseconds since the epoch as RFC3339 with trimmed nanoseconds
/// (`2016-01-01T00:00:00.5Z`), like Go's `time.RFC3339Nano` in UTC.
pub fn format_rfc3339_nano(t: i64) -> String {
    models::time::format_rfc3339_nano(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-800_000i64, -1, 0, 1, 10_957, 16_801, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2000, 1, 1), 10_957);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn parses_forms() {
        let jan1 = 1_451_606_400_000_000_000i64;
        assert_eq!(parse_time_literal("2016-01-01T00:00:00Z"), Ok(jan1));
        assert_eq!(parse_time_literal("2016-01-01"), Ok(jan1));
        assert_eq!(parse_time_literal("2016-01-01 00:00:00"), Ok(jan1));
        assert_eq!(
            parse_time_literal("2016-01-01 00:00:00.5"),
            Ok(jan1 + 500_000_000)
        );
        assert_eq!(
            parse_time_literal("2016-01-01T00:00:00.000000001Z"),
            Ok(jan1 + 1)
        );
        assert_eq!(parse_time_literal("2016-01-01T01:00:00+01:00"), Ok(jan1));
        assert_eq!(
            parse_time_literal("1969-12-31T23:59:59Z"),
            Ok(-1_000_000_000)
        );
        assert!(parse_time_literal("2016-02-30T00:00:00Z").is_err());
        assert!(parse_time_literal("2016-01-01T00:00:00").is_err());
        assert!(parse_time_literal("cpu").is_err());
    }

    #[test]
    fn formats_rfc3339_nano() {
        assert_eq!(format_rfc3339_nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339_nano(1_451_606_400_500_000_000),
            "2016-01-01T00:00:00.5Z"
        );
        assert_eq!(format_rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");
    }
}
