//! The series key: `measurement,tagkey1=v1,tagkey2=v2` with tags sorted by
//! key, and the same escaping as line protocol (measurement: `,` and space;
//! tag keys and values: `,`, `=` and space; a backslash escapes). This is the
//! string InfluxDB 1.x shows in `SHOW SERIES` and the identity of a series in
//! every Tidemark crate, and the cluster hashes it (fnv64a) to pick a shard.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SeriesKeyError {
    #[error("series key is empty")]
    Empty,
    #[error("tag without '=' in series key")]
    MissingEquals,
}

fn push_escaped(out: &mut String, s: &str, specials: &[char]) {
    for c in s.chars() {
        if specials.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
}

const MEASUREMENT_SPECIALS: &[char] = &[',', ' '];
const TAG_SPECIALS: &[char] = &[',', '=', ' '];

/// Builds a series key from an unescaped measurement name and unescaped tags.
/// `tags` must be sorted by key (the caller's invariant; debug-asserted).
pub fn series_key<K: AsRef<str>, V: AsRef<str>>(measurement: &str, tags: &[(K, V)]) -> String {
    debug_assert!(tags.windows(2).all(|w| w[0].0.as_ref() <= w[1].0.as_ref()));
    let mut out = String::with_capacity(
        measurement.len()
            + tags
                .iter()
                .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
                .sum::<usize>(),
    );
    push_escaped(&mut out, measurement, MEASUREMENT_SPECIALS);
    for (k, v) in tags {
        out.push(',');
        push_escaped(&mut out, k.as_ref(), TAG_SPECIALS);
        out.push('=');
        push_escaped(&mut out, v.as_ref(), TAG_SPECIALS);
    }
    out
}

/// Splits `s` at unescaped occurrences of `sep`, unescaping each part.
fn split_unescape(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&n) if n == ',' || n == '=' || n == ' ' || n == '\\' => {
                    cur.push(n);
                    chars.next();
                }
                _ => cur.push(c),
            }
        } else if c == sep {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

/// Finds the byte offsets of unescaped `sep` in `s`.
fn unescaped_positions(s: &str, sep: u8) -> Vec<usize> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == sep {
            out.push(i);
        }
        i += 1;
    }
    out
}

/// Parses a series key back into its unescaped measurement and tags.
pub fn parse_series_key(key: &str) -> Result<(String, Vec<(String, String)>), SeriesKeyError> {
    if key.is_empty() {
        return Err(SeriesKeyError::Empty);
    }
    let commas = unescaped_positions(key, b',');
    let mut start = 0;
    let mut segments = Vec::with_capacity(commas.len() + 1);
    for &c in &commas {
        segments.push(&key[start..c]);
        start = c + 1;
    }
    segments.push(&key[start..]);
    let measurement = split_unescape(segments[0], '\u{0}').remove(0);
    let mut tags = Vec::with_capacity(segments.len() - 1);
    for seg in &segments[1..] {
        let eq = unescaped_positions(seg, b'=');
        let Some(&pos) = eq.first() else {
            return Err(SeriesKeyError::MissingEquals);
        };
        let k = split_unescape(&seg[..pos], '\u{0}').remove(0);
        let v = split_unescape(&seg[pos + 1..], '\u{0}').remove(0);
        tags.push((k, v));
    }
    Ok((measurement, tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_plain_keys() {
        let k = series_key("cpu", &[("host", "a"), ("region", "west")]);
        assert_eq!(k, "cpu,host=a,region=west");
        let (m, tags) = parse_series_key(&k).unwrap();
        assert_eq!(m, "cpu");
        assert_eq!(
            tags,
            vec![
                ("host".to_string(), "a".to_string()),
                ("region".to_string(), "west".to_string())
            ]
        );
    }

    #[test]
    fn escapes_round_trip() {
        let tags = [("a b", "c,d"), ("e=f", "g h=i")];
        let k = series_key("my meas,x", &tags);
        assert_eq!(k, r"my\ meas\,x,a\ b=c\,d,e\=f=g\ h\=i");
        let (m, parsed) = parse_series_key(&k).unwrap();
        assert_eq!(m, "my meas,x");
        assert_eq!(parsed[0], ("a b".to_string(), "c,d".to_string()));
        assert_eq!(parsed[1], ("e=f".to_string(), "g h=i".to_string()));
    }

    #[test]
    fn measurement_without_tags() {
        assert_eq!(series_key::<&str, &str>("m", &[]), "m");
        assert_eq!(parse_series_key("m").unwrap(), ("m".to_string(), vec![]));
    }

    #[test]
    fn rejects_tag_without_equals() {
        assert_eq!(
            parse_series_key("m,novalue"),
            Err(SeriesKeyError::MissingEquals)
        );
    }
}
