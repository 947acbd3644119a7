//! The zero-copy parse of one line into a [`Line`]: measurement, tags and
//! field keys stay escaped slices of the input, numbers are parsed. Follows
//! InfluxDB 1.6's scanner state machine (`scanKey`, `scanFields`,
//! `scanTime`) so that accepted input and error reasons match. Does not split
//! bodies into lines, scale timestamps or allocate owned points.

use smallvec::SmallVec;

use crate::error::ErrorKind;
use crate::number::{scan_boolean, scan_number, starts_number};

/// Largest escaped series key InfluxDB 1.x accepts.
pub const MAX_KEY_LENGTH: usize = 65535;

/// A field value borrowing from the input. Strings are the raw content
/// between the quotes, still escaped (see [`crate::unescape_string`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValueRef<'a> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    String(&'a str),
}

/// Inline capacity of the tag and field buffers (TSBS cpu has 10 of each).
pub const INLINE: usize = 12;

/// One parsed line, borrowing the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    /// The whole line (without leading whitespace and line break).
    pub raw: &'a str,
    /// Escaped measurement name.
    pub measurement: &'a str,
    /// Escaped `(key, value)` tag pairs, sorted by escaped key, no duplicates.
    pub tags: SmallVec<[(&'a str, &'a str); INLINE]>,
    /// Escaped field keys with their values, in input order (duplicates kept).
    pub fields: SmallVec<[(&'a str, FieldValueRef<'a>); INLINE]>,
    /// The timestamp as written, before precision scaling.
    pub timestamp: Option<i64>,
    /// `measurement[,tags]` exactly as written (tags in input order).
    pub raw_key: &'a str,
    /// Whether the tags were already sorted in the input.
    pub tags_were_sorted: bool,
}

impl<'a> Line<'a> {
    /// Whether `raw_key` contains a backslash (then escaped and unescaped
    /// forms may differ and the series key must be rebuilt).
    pub fn key_has_escapes(&self) -> bool {
        memchr::memchr(b'\\', self.raw_key.as_bytes()).is_some()
    }
}

/// Skips spaces, tabs and NUL bytes like InfluxDB's `skipWhitespace`.
#[inline]
pub(crate) fn skip_whitespace(buf: &[u8], mut i: usize) -> usize {
    while i < buf.len() && matches!(buf[i], b' ' | b'\t' | 0) {
        i += 1;
    }
    i
}

/// Byte classes for the key scanner: 1 = `,`, 2 = space, 3 = `=`, 4 = `\`.
static KEY_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b',' as usize] = 1;
    t[b' ' as usize] = 2;
    t[b'=' as usize] = 3;
    t[b'\\' as usize] = 4;
    t
};

/// From `i` (whose byte is already accepted as part of the token), finds the
/// next unescaped `,`, space or (unless `allow_equals`) `=`. Like InfluxDB,
/// a byte is escaped when the byte before it is a backslash. Returns its
/// offset and class, or `(len, 0)` at the end of the line.
#[inline]
fn next_key_delim(buf: &[u8], i: usize, allow_equals: bool) -> (usize, u8) {
    let mut prev_backslash = buf[i] == b'\\';
    let mut i = i + 1;
    while i < buf.len() {
        let class = KEY_CLASS[buf[i] as usize];
        if class == 0 {
            prev_backslash = false;
        } else if class == 4 {
            prev_backslash = true;
        } else if prev_backslash || (class == 3 && allow_equals) {
            prev_backslash = false;
        } else {
            return (i, class);
        }
        i += 1;
    }
    (buf.len(), 0)
}

/// Parses one line (no leading whitespace, no line break).
pub fn parse_line(s: &str) -> Result<Line<'_>, ErrorKind> {
    let buf = s.as_bytes();
    // Measurement: ends at the first unescaped ',' or ' '; '=' is plain.
    if buf.is_empty() || buf[0] == b',' {
        return Err(ErrorKind::MissingMeasurement);
    }
    let (meas_end, class) = next_key_delim(buf, 0, true);
    if class == 0 {
        return Err(ErrorKind::MissingFields);
    }
    let mut in_tags = class == 1;
    let mut i = if in_tags { meas_end + 1 } else { meas_end };
    let measurement = &s[..meas_end];
    // Tags: (key start, key end, value end); value starts at key end + 1.
    let mut tag_pos: SmallVec<[(usize, usize, usize); INLINE]> = SmallVec::new();
    while in_tags {
        let ks = i;
        match buf.get(i) {
            None | Some(b' ' | b',' | b'=') => return Err(ErrorKind::MissingTagKey),
            _ => {}
        }
        let (ke, class) = next_key_delim(buf, i, false);
        if class != 3 {
            return Err(ErrorKind::MissingTagValue);
        }
        let vs = ke + 1;
        match buf.get(vs) {
            None | Some(b' ' | b',') => return Err(ErrorKind::MissingTagValue),
            _ => {}
        }
        let (ve, class) = next_key_delim(buf, vs, false);
        match class {
            0 => return Err(ErrorKind::MissingFields),
            3 => return Err(ErrorKind::InvalidTagFormat),
            1 => i = ve + 1,
            _ => {
                i = ve;
                in_tags = false;
            }
        }
        tag_pos.push((ks, ke, ve));
    }
    let key_end = i;
    let raw_key = &s[..key_end];
    // Sort tags by escaped key and reject duplicates.
    let tkey = |p: &(usize, usize, usize)| &buf[p.0..p.1];
    let mut sorted = true;
    for w in tag_pos.windows(2) {
        match tkey(&w[0]).cmp(tkey(&w[1])) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => return Err(ErrorKind::DuplicateTags),
            std::cmp::Ordering::Greater => {
                sorted = false;
                break;
            }
        }
    }
    if !sorted {
        tag_pos.sort_unstable_by(|a, b| tkey(a).cmp(tkey(b)));
        if tag_pos.windows(2).any(|w| tkey(&w[0]) == tkey(&w[1])) {
            return Err(ErrorKind::DuplicateTags);
        }
    }
    if key_end > MAX_KEY_LENGTH {
        return Err(ErrorKind::MaxKeyLength(key_end));
    }
    let tags = tag_pos
        .iter()
        .map(|&(ks, ke, ve)| (&s[ks..ke], &s[ke + 1..ve]))
        .collect();

    // Fields.
    let fields_start = skip_whitespace(buf, i);
    let (fields, mut i) = scan_fields(s, i)?;
    let block = &buf[fields_start..i];
    if memchr::memchr2(b'"', b'\\', block).is_some() {
        // Quotes or escapes: InfluxDB re-splits the section with slightly
        // different rules, which can fail on its own.
        walk_fields(block, key_end)?;
    } else {
        for (k, _) in &fields {
            check_field_key_size(key_end, k.len())?;
        }
    }

    // Timestamp.
    i = skip_whitespace(buf, i);
    let ts_start = i;
    while i < buf.len() && buf[i] != b' ' && buf[i] != b'\n' {
        if !(buf[i].is_ascii_digit() || (i == ts_start && buf[i] == b'-')) {
            return Err(ErrorKind::BadTimestamp);
        }
        i += 1;
    }
    let timestamp = if i == ts_start {
        None
    } else {
        let text = &s[ts_start..i];
        let ts = match text.parse::<i64>() {
            Ok(v) => v,
            Err(_) if text == "-" => return Err(ErrorKind::TimestampSyntax(text.to_string())),
            Err(_) => return Err(ErrorKind::TimestampOutOfRange(text.to_string())),
        };
        if buf[i..].iter().any(|&b| b != b' ') {
            return Err(ErrorKind::InvalidPoint);
        }
        Some(ts)
    };
    Ok(Line {
        raw: s,
        measurement,
        tags,
        fields,
        timestamp,
        raw_key,
        tags_were_sorted: sorted,
    })
}

#[inline]
fn check_field_key_size(key_len: usize, field_key_len: usize) -> Result<(), ErrorKind> {
    // The storage key is `series key` + `#!~#` + `field key`.
    let size = key_len + 4 + field_key_len;
    if size > MAX_KEY_LENGTH {
        return Err(ErrorKind::MaxKeyLength(size));
    }
    Ok(())
}

/// InfluxDB's second pass over a field section (`walkFields`): keys end at
/// an `=` not preceded by a backslash, values at a `,` outside quotes (only
/// `\"` and `\\` are escapes there). Checks the per-field key size and
/// fails where that pass cannot find a value.
fn walk_fields(mut block: &[u8], key_len: usize) -> Result<(), ErrorKind> {
    while !block.is_empty() {
        let mut i = 0;
        while i < block.len() && !(block[i] == b'=' && (i == 0 || block[i - 1] != b'\\')) {
            i += 1;
        }
        if i + 2 > block.len() {
            let key = String::from_utf8_lossy(&block[..i]).into_owned();
            return Err(ErrorKind::InvalidFieldValue(key));
        }
        check_field_key_size(key_len, i)?;
        block = &block[i + 1..];
        let mut j = 0;
        let mut quoted = false;
        while j < block.len() {
            let c = block[j];
            if c == b'\\' && matches!(block.get(j + 1), Some(b'"' | b'\\')) {
                j += 2;
                continue;
            }
            if c == b'"' {
                quoted = !quoted;
            } else if c == b',' && !quoted {
                break;
            }
            j += 1;
        }
        block = block.get(j + 1..).unwrap_or(&[]);
    }
    Ok(())
}

type Fields<'a> = SmallVec<[(&'a str, FieldValueRef<'a>); INLINE]>;

/// Scans the field section starting at `i` (just after the key). Returns the
/// fields and the offset where the section ended.
/// Pushes a pending string field whose value token ends at `end`. Like
/// InfluxDB, the content is the token without its first and last byte (the
/// quotes, in well-formed input).
fn finish_string<'a>(
    s: &'a str,
    fields: &mut Fields<'a>,
    pending: &mut Option<(&'a str, usize)>,
    end: usize,
) {
    if let Some((key, open)) = pending.take() {
        let content = if end >= open + 2 {
            s.get(open + 1..end - 1).unwrap_or("")
        } else {
            ""
        };
        fields.push((key, FieldValueRef::String(content)));
    }
}

/// Bytes the field scanner must look at; everything else is skipped.
static FIELD_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'\\' as usize] = true;
    t[b'"' as usize] = true;
    t[b'=' as usize] = true;
    t[b',' as usize] = true;
    t[b' ' as usize] = true;
    t
};

fn scan_fields(s: &str, i: usize) -> Result<(Fields<'_>, usize), ErrorKind> {
    let buf = s.as_bytes();
    let mut i = skip_whitespace(buf, i);
    let mut fields = Fields::new();
    let mut quoted = false;
    let (mut equals, mut commas) = (0usize, 0usize);
    let mut key_start = i;
    // Pending string value: (key, offset of its opening quote).
    let mut string_start: Option<(&str, usize)> = None;
    while i < buf.len() {
        let c = buf[i];
        if !FIELD_SPECIAL[c as usize] {
            i += 1;
            continue;
        }
        if c == b'\\' && i + 1 < buf.len() {
            i += 2;
            continue;
        }
        if c == b'"' && equals > commas {
            quoted = !quoted;
            i += 1;
            continue;
        }
        if quoted {
            i += 1;
            continue;
        }
        if c == b'=' {
            equals += 1;
            let prev = buf[i - 1];
            let prev2 = if i >= 2 { buf[i - 2] } else { 0 };
            if (prev == b' ' || prev == b',') && prev2 != b'\\' {
                return Err(ErrorKind::MissingFieldKey);
            }
            let Some(&next) = buf.get(i + 1) else {
                return Err(ErrorKind::MissingFieldValue);
            };
            if next == b',' || next == b' ' {
                return Err(ErrorKind::MissingFieldValue);
            }
            let key = s.get(key_start..i).unwrap_or("");
            if starts_number(next) {
                let (end, v) = scan_number(s, i + 1)?;
                fields.push((key, v));
                i = end;
                continue;
            }
            if next != b'"' {
                let (end, v) = scan_boolean(buf, i + 1)?;
                fields.push((key, FieldValueRef::Boolean(v)));
                i = end;
                continue;
            }
            string_start = Some((key, i + 1));
            i += 1;
            continue;
        }
        if c == b',' {
            finish_string(s, &mut fields, &mut string_start, i);
            commas += 1;
            key_start = i + 1;
        } else if c == b' ' {
            break;
        }
        i += 1;
    }
    if quoted {
        return Err(ErrorKind::UnbalancedQuotes);
    }
    finish_string(s, &mut fields, &mut string_start, i);
    if equals == 0 || commas + 1 != equals {
        return Err(ErrorKind::InvalidFieldFormat);
    }
    Ok((fields, i))
}
