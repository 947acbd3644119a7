//! Civil-date arithmetic (proleptic Gregorian, days since 1970-01-01, the
//! algorithms of H. Hinnant's "chrono-compatible low-level date algorithms")
//! and the RFC3339 rendering InfluxDB uses for timestamps: Go's
//! `time.RFC3339Nano` — seconds always, fractional digits only as needed,
//! trailing zeros trimmed, `Z`. One implementation for every crate; the
//! formatter is on the hot path of every query answer, so it writes digits
//! directly instead of going through `format!`.

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn push_2(out: &mut String, v: u32) {
    out.push(char::from(b'0' + (v / 10) as u8));
    out.push(char::from(b'0' + (v % 10) as u8));
}

/// Appends `ns` (nanoseconds since the epoch) as RFC3339 with trimmed
/// nanoseconds, e.g. `2016-01-01T00:00:00.5Z`.
pub fn write_rfc3339_nano(out: &mut String, ns: i64) {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        let y = y as u32;
        push_2(out, y / 100);
        push_2(out, y % 100);
    } else {
        out.push_str(&format!("{y:04}"));
    }
    out.push('-');
    push_2(out, m);
    out.push('-');
    push_2(out, d);
    out.push('T');
    push_2(out, sod / 3600);
    out.push(':');
    push_2(out, (sod / 60) % 60);
    out.push(':');
    push_2(out, sod % 60);
    if nanos != 0 {
        let mut digits = [0u8; 9];
        let mut n = nanos;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let len = 9 - digits.iter().rev().take_while(|&&c| c == b'0').count();
        out.push('.');
        for &c in &digits[..len] {
            out.push(char::from(c));
        }
    }
    out.push('Z');
}

/// `ns` as RFC3339 with trimmed nanoseconds (Go's `time.RFC3339Nano`).
pub fn format_rfc3339_nano(ns: i64) -> String {
    let mut s = String::with_capacity(30);
    write_rfc3339_nano(&mut s, ns);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        assert_eq!(format_rfc3339_nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339_nano(1_500_000_000), "1970-01-01T00:00:01.5Z");
        assert_eq!(
            format_rfc3339_nano(946_684_800_000_000_001),
            "2000-01-01T00:00:00.000000001Z"
        );
        assert_eq!(format_rfc3339_nano(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            format_rfc3339_nano(1_451_606_400_000_000_000),
            "2016-01-01T00:00:00Z"
        );
        assert_eq!(
            format_rfc3339_nano(crate::MAX_NANOS),
            "2262-04-11T23:47:16.854775806Z"
        );
        assert_eq!(
            format_rfc3339_nano(crate::MIN_NANOS),
            "1677-09-21T00:12:43.145224194Z"
        );
    }

    #[test]
    fn civil_round_trip() {
        for z in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
