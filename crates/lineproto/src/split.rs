//! Splitting a request body into lines and driving the per-line parser:
//! [`lines`] and [`LineIter`]. A newline inside a quoted string field belongs
//! to the line (InfluxDB's `scanLine`); blank lines and `#` comments are
//! skipped; a trailing `\r` is tolerated. Owns no parsing of line contents.

use crate::error::{ErrorKind, LineError};
use crate::line::{parse_line, skip_whitespace, Line};

/// Iterates over the lines of a line-protocol body; see [`lines`].
#[derive(Debug, Clone)]
pub struct LineIter<'a> {
    body: &'a [u8],
    /// `Some` when the whole body is valid UTF-8 (the common case).
    text: Option<&'a str>,
    pos: usize,
}

/// Parses `body` lazily, yielding one result per non-blank, non-comment line.
pub fn lines(body: &[u8]) -> LineIter<'_> {
    LineIter {
        body,
        text: std::str::from_utf8(body).ok(),
        pos: 0,
    }
}

/// Finds the end of the line starting at `start` (offset of its `\n`, or the
/// body length). Fast path: the next `\n` when the line holds no `"` and the
/// newline is not escaped; otherwise InfluxDB's quote-aware scan.
fn line_end(buf: &[u8], start: usize) -> usize {
    let nl = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |p| start + p);
    let line = &buf[start..nl];
    if memchr::memchr(b'"', line).is_none() {
        let trailing = line.iter().rev().take_while(|&&b| b == b'\\').count();
        if trailing % 2 == 0 {
            return nl;
        }
    }
    slow_line_end(buf, start)
}

/// InfluxDB's `scanLine`: backslash skips the next byte; after the first
/// space, a `"` that follows more `=` than `,` toggles quoting, and a
/// quoted `\n` does not end the line.
fn slow_line_end(buf: &[u8], start: usize) -> usize {
    let mut i = start;
    let (mut quoted, mut fields) = (false, false);
    let (mut equals, mut commas) = (0usize, 0usize);
    while i < buf.len() {
        let c = buf[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == b' ' {
            fields = true;
        }
        if fields {
            if !quoted && c == b'=' {
                equals += 1;
                i += 1;
                continue;
            } else if !quoted && c == b',' {
                commas += 1;
                i += 1;
                continue;
            } else if c == b'"' && equals > commas {
                quoted = !quoted;
                i += 1;
                continue;
            }
        }
        if c == b'\n' && !quoted {
            return i;
        }
        i += 1;
    }
    buf.len()
}

impl<'a> Iterator for LineIter<'a> {
    type Item = Result<Line<'a>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let buf = self.body;
        while self.pos < buf.len() {
            let start = self.pos;
            let end = line_end(buf, start);
            self.pos = end + 1;
            let mut stop = end;
            if stop > start && buf[stop - 1] == b'\r' {
                stop -= 1;
            }
            let first = skip_whitespace(buf, start);
            if first >= stop || buf[first] == b'#' {
                continue;
            }
            let text = match self.text {
                // Both ends sit at ASCII bytes or the body's end, so they
                // are char boundaries.
                Some(t) => t.get(first..stop),
                None => std::str::from_utf8(&buf[first..stop]).ok(),
            };
            let Some(text) = text else {
                let line = String::from_utf8_lossy(&buf[first..stop]).into_owned();
                return Some(Err(LineError::new(line, ErrorKind::InvalidUtf8)));
            };
            return Some(parse_line(text).map_err(|kind| LineError::new(text, kind)));
        }
        None
    }
}
