//! Scanning of unquoted field values: numbers (`1`, `-1.5e10`, `.5`, `1i`,
//! `1u`) and booleans, with InfluxDB 1.6's acceptance rules and error texts.
//! Works on one line's bytes from a given offset; knows nothing of keys.

use crate::error::ErrorKind;
use crate::line::FieldValueRef;

#[inline]
fn is_numeric(b: u8) -> bool {
    b.is_ascii_digit() || b == b'.'
}

/// Whether a field value starting with `b` is scanned as a number.
#[inline]
pub(crate) fn starts_number(b: u8) -> bool {
    is_numeric(b) || b == b'-' || b == b'N' || b == b'n'
}

/// Exact powers of ten representable in an f64 (10^0 ..= 10^22).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Fast path for the common shapes `-?digits[.digits]`, `-?digits i` and
/// `digits u` with at most 15 (floats) / 18 (integers) digits. Returns
/// `None` when the slow, fully general scanner must decide. Floats use the
/// exact Clinger path: an integer mantissa below 2^53 divided by an exact
/// power of ten is correctly rounded, so the result equals `str::parse`.
#[inline]
fn fast_number(buf: &[u8], start: usize) -> Option<(usize, FieldValueRef<'static>)> {
    let mut i = start;
    let negative = buf.get(i) == Some(&b'-');
    if negative {
        i += 1;
    }
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut frac = 0usize;
    let mut dot = false;
    while i < buf.len() {
        let c = buf[i];
        if c.is_ascii_digit() {
            if digits == 18 {
                return None;
            }
            mantissa = mantissa * 10 + u64::from(c - b'0');
            digits += 1;
            frac += usize::from(dot);
        } else if c == b'.' && !dot {
            dot = true;
        } else if c == b',' || c == b' ' {
            break;
        } else if (c == b'i' || c == b'u') && !dot && digits > 0 {
            if !matches!(buf.get(i + 1), None | Some(b',' | b' ')) {
                return None;
            }
            // mantissa < 10^18 fits an i64.
            let m = mantissa as i64;
            return if c == b'i' {
                Some((i + 1, FieldValueRef::Integer(if negative { -m } else { m })))
            } else if negative {
                None
            } else {
                Some((i + 1, FieldValueRef::Unsigned(mantissa)))
            };
        } else {
            return None;
        }
        i += 1;
    }
    if digits == 0 || digits > 15 {
        return None;
    }
    let v = mantissa as f64 / POW10[frac];
    Some((i, FieldValueRef::Float(if negative { -v } else { v })))
}

/// Scans a number starting at `start`; returns the end offset (at `,`, space
/// or end of line) and the parsed value.
pub(crate) fn scan_number<'a>(
    s: &'a str,
    start: usize,
) -> Result<(usize, FieldValueRef<'a>), ErrorKind> {
    let buf = s.as_bytes();
    if let Some(found) = fast_number(buf, start) {
        return Ok(found);
    }
    let mut i = start;
    if buf.get(i) == Some(&b'-') {
        i += 1;
        if i == buf.len() {
            return Err(ErrorKind::InvalidNumber);
        }
    }
    let (mut is_int, mut is_uint, mut decimal, mut scientific) = (false, false, false, false);
    while i < buf.len() {
        let c = buf[i];
        if is_numeric(c) {
            if c == b'.' {
                if decimal {
                    return Err(ErrorKind::InvalidNumber);
                }
                decimal = true;
            }
            i += 1;
            continue;
        }
        if c == b',' || c == b' ' {
            break;
        }
        if i > start && !(is_int || is_uint) && (c == b'i' || c == b'u') {
            if c == b'i' {
                is_int = true;
            } else {
                is_uint = true;
            }
            i += 1;
            continue;
        }
        if i > start && (c == b'e' || c == b'E') {
            scientific = true;
            i += 1;
            continue;
        }
        if (c == b'+' || c == b'-') && matches!(buf[i - 1], b'e' | b'E') {
            i += 1;
            continue;
        }
        return Err(ErrorKind::InvalidNumber);
    }
    if (is_int || is_uint) && (decimal || scientific) {
        return Err(ErrorKind::InvalidNumber);
    }
    let negative = buf[start] == b'-';
    let digits = (i - start) - usize::from(is_int) - usize::from(decimal) - usize::from(negative);
    if digits == 0 {
        return Err(ErrorKind::InvalidNumber);
    }
    if is_int || is_uint {
        if buf[i - 1] != if is_int { b'i' } else { b'u' } {
            return Err(ErrorKind::InvalidNumber);
        }
        let text = &s[start..i - 1];
        if is_int {
            return match text.parse::<i64>() {
                Ok(v) => Ok((i, FieldValueRef::Integer(v))),
                Err(_) => Err(ErrorKind::IntegerOutOfRange(text.to_string())),
            };
        }
        if negative {
            return Err(ErrorKind::InvalidNumber);
        }
        return match text.parse::<u64>() {
            Ok(v) => Ok((i, FieldValueRef::Unsigned(v))),
            Err(_) => Err(ErrorKind::UnsignedOutOfRange(text.to_string())),
        };
    }
    match s[start..i].parse::<f64>() {
        Ok(v) if v.is_finite() => Ok((i, FieldValueRef::Float(v))),
        _ => Err(ErrorKind::InvalidFloat),
    }
}

/// Scans a boolean starting at `start` (`t T true True TRUE f F false
/// False FALSE`).
pub(crate) fn scan_boolean(buf: &[u8], start: usize) -> Result<(usize, bool), ErrorKind> {
    let first = buf.get(start).copied().unwrap_or(0);
    if !matches!(first, b't' | b'T' | b'f' | b'F') {
        return Err(ErrorKind::InvalidBoolean);
    }
    let mut i = start + 1;
    while i < buf.len() && buf[i] != b',' && buf[i] != b' ' {
        i += 1;
    }
    let value = match &buf[start..i] {
        b"t" | b"T" | b"true" | b"True" | b"TRUE" => true,
        b"f" | b"F" | b"false" | b"False" | b"FALSE" => false,
        _ => return Err(ErrorKind::InvalidBoolean),
    };
    Ok((i, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<FieldValueRef<'_>, ErrorKind> {
        scan_number(s, 0).map(|(end, v)| {
            assert_eq!(end, s.find([',', ' ']).unwrap_or(s.len()));
            v
        })
    }

    #[test]
    fn numbers_table() {
        use FieldValueRef::*;
        let ok: &[(&str, FieldValueRef<'static>)] = &[
            ("1", Float(1.0)),
            ("1.0", Float(1.0)),
            ("-1.5e10", Float(-1.5e10)),
            (".5", Float(0.5)),
            ("5.", Float(5.0)),
            ("-.5", Float(-0.5)),
            ("1E+3", Float(1000.0)),
            ("1e-3", Float(0.001)),
            ("58.1317132304976,", Float(58.1317132304976)),
            ("1i", Integer(1)),
            ("-9223372036854775808i", Integer(i64::MIN)),
            ("9223372036854775807i ", Integer(i64::MAX)),
            ("0u", Unsigned(0)),
            ("18446744073709551615u", Unsigned(u64::MAX)),
        ];
        for (s, want) in ok {
            assert_eq!(num(s), Ok(*want), "{s}");
        }
        let bad: &[(&str, ErrorKind)] = &[
            ("-", ErrorKind::InvalidNumber),
            ("-,", ErrorKind::InvalidNumber),
            (".", ErrorKind::InvalidNumber),
            ("1.1.1", ErrorKind::InvalidNumber),
            ("NaN", ErrorKind::InvalidNumber),
            ("nan", ErrorKind::InvalidNumber),
            ("-Inf", ErrorKind::InvalidNumber),
            ("1.5i", ErrorKind::InvalidNumber),
            ("1e5i", ErrorKind::InvalidNumber),
            ("1i5", ErrorKind::InvalidNumber),
            ("1ii", ErrorKind::InvalidNumber),
            ("-i", ErrorKind::InvalidNumber),
            ("-1u", ErrorKind::InvalidNumber),
            ("12a", ErrorKind::InvalidNumber),
            ("1-2", ErrorKind::InvalidNumber),
            ("1e", ErrorKind::InvalidFloat),
            ("-e5", ErrorKind::InvalidFloat),
            ("1e400", ErrorKind::InvalidFloat),
            (
                "9223372036854775808i",
                ErrorKind::IntegerOutOfRange("9223372036854775808".into()),
            ),
            (
                "18446744073709551616u",
                ErrorKind::UnsignedOutOfRange("18446744073709551616".into()),
            ),
        ];
        for (s, want) in bad {
            assert_eq!(num(s), Err(want.clone()), "{s}");
        }
    }

    #[test]
    fn booleans_table() {
        for s in ["t", "T", "true", "True", "TRUE"] {
            assert_eq!(scan_boolean(s.as_bytes(), 0), Ok((s.len(), true)));
        }
        for s in ["f", "F", "false", "False", "FALSE"] {
            assert_eq!(scan_boolean(s.as_bytes(), 0), Ok((s.len(), false)));
        }
        for s in ["tRUE", "truE", "yes", "Inf", "fals", "trues"] {
            assert_eq!(
                scan_boolean(s.as_bytes(), 0),
                Err(ErrorKind::InvalidBoolean),
                "{s}"
            );
        }
        assert_eq!(scan_boolean(b"t,x", 0), Ok((1, true)));
    }

    proptest::proptest! {
        #[test]
        fn fast_path_matches_std(s in "-?[0-9]{0,20}(\\.[0-9]{0,20})?") {
            match s.parse::<f64>() {
                Ok(want) if s != "-" && s != "." && s != "-." && !s.is_empty() => {
                    proptest::prop_assert_eq!(num(&s), Ok(FieldValueRef::Float(want)));
                }
                _ => {}
            }
        }

        #[test]
        fn integers_match_std(n in proptest::prelude::any::<i64>(), u in proptest::prelude::any::<u64>()) {
            let si = format!("{n}i");
            let su = format!("{u}u");
            proptest::prop_assert_eq!(num(&si), Ok(FieldValueRef::Integer(n)));
            proptest::prop_assert_eq!(num(&su), Ok(FieldValueRef::Unsigned(u)));
        }
    }
}
