//! Escaping and unescaping of line-protocol tokens. Measurements escape `,`
//! and space; tag keys, tag values and field keys escape `,`, `=` and space;
//! string field values escape `"` and `\`. A backslash before any other
//! character is literal. Pure string functions; no scanning of whole lines.

use std::borrow::Cow;

const MEASUREMENT: &[u8] = b", ";
const TAG: &[u8] = b",= ";
const STRING: &[u8] = b"\"\\";
const FIELD_KEY: &[u8] = b",= \"";

fn unescape<'a>(s: &'a str, specials: &[u8]) -> Cow<'a, str> {
    if memchr::memchr(b'\\', s.as_bytes()).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        match after.as_bytes().first() {
            Some(&c) if specials.contains(&c) => {
                out.push(char::from(c));
                rest = &after[1..];
            }
            _ => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Unescapes a raw measurement name (`\,` and `\ `).
pub fn unescape_measurement(s: &str) -> Cow<'_, str> {
    unescape(s, MEASUREMENT)
}

/// Unescapes a raw tag key, tag value or field key (`\,`, `\=`, `\ `).
pub fn unescape_tag(s: &str) -> Cow<'_, str> {
    unescape(s, TAG)
}

/// Unescapes a raw field key: like [`unescape_tag`] plus `\"` (InfluxDB
/// unescapes field keys with its generic escape table).
pub fn unescape_field_key(s: &str) -> Cow<'_, str> {
    unescape(s, FIELD_KEY)
}

/// Unescapes the raw content of a string field value (`\"` and `\\`).
pub fn unescape_string(s: &str) -> Cow<'_, str> {
    unescape(s, STRING)
}

fn escape_into(out: &mut String, s: &str, specials: &[u8]) {
    let mut rest = s;
    while let Some(p) = rest.bytes().position(|b| specials.contains(&b)) {
        out.push_str(&rest[..p]);
        out.push('\\');
        out.push(char::from(rest.as_bytes()[p]));
        rest = &rest[p + 1..];
    }
    out.push_str(rest);
}

/// Appends `s` escaped as a measurement name.
pub fn escape_measurement_into(out: &mut String, s: &str) {
    escape_into(out, s, MEASUREMENT)
}

/// Appends `s` escaped as a tag key, tag value or field key.
pub fn escape_tag_into(out: &mut String, s: &str) {
    escape_into(out, s, TAG)
}

/// Appends `s` escaped as string field content (without the quotes).
pub fn escape_string_into(out: &mut String, s: &str) {
    escape_into(out, s, STRING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_table() {
        type Unescaper = fn(&str) -> Cow<'_, str>;
        let cases: &[(Unescaper, &str, &str)] = &[
            (unescape_measurement, "cpu", "cpu"),
            (unescape_measurement, r"my\ cpu\,x", "my cpu,x"),
            (unescape_measurement, r"a\=b", r"a\=b"),
            (unescape_measurement, r"a\b", r"a\b"),
            (unescape_tag, r"a\=b\ c\,d", "a=b c,d"),
            (unescape_tag, r"a\\,b", r"a\,b"),
            (unescape_tag, r"tail\", r"tail\"),
            (unescape_field_key, r#"a\"b\=c\d"#, r#"a"b=c\d"#),
            (unescape_string, r#"say \"hi\" \\ \n"#, r#"say "hi" \ \n"#),
            (unescape_string, r"\\\\", r"\\"),
        ];
        for (f, input, want) in cases {
            assert_eq!(f(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn unescape_borrows_when_clean() {
        assert!(matches!(unescape_tag("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn escape_table() {
        let mut s = String::new();
        escape_measurement_into(&mut s, "a b,c=d");
        assert_eq!(s, r"a\ b\,c=d");
        s.clear();
        escape_tag_into(&mut s, "a b,c=d");
        assert_eq!(s, r"a\ b\,c\=d");
        s.clear();
        escape_string_into(&mut s, r#"x"y\z"#);
        assert_eq!(s, r#"x\"y\\z"#);
    }
}
