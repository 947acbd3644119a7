//! JSON encoding byte-compatible with Go's `encoding/json` as the 1.x CLI
//! uses it (`Marshal` and `MarshalIndent(v, "", "    ")`).
//!
//! Owns string escaping (HTML-safe `\u003c` etc., `\u2028`), key order and
//! indentation. Number literals are written verbatim. Knows nothing about
//! the response model beyond the small [`Json`] tree it encodes.

/// A JSON tree with Go's ordering already applied by the builder.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// Verbatim number literal.
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Keys in output order.
    Object(Vec<(String, Json)>),
}

impl From<&serde_json::Value> for Json {
    fn from(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Number(n.to_string()),
            serde_json::Value::String(s) => Json::String(s.clone()),
            serde_json::Value::Array(a) => Json::Array(a.iter().map(Json::from).collect()),
            serde_json::Value::Object(m) => {
                let mut kv: Vec<(String, Json)> =
                    m.iter().map(|(k, v)| (k.clone(), Json::from(v))).collect();
                kv.sort_by(|a, b| a.0.cmp(&b.0));
                Json::Object(kv)
            }
        }
    }
}

/// Writes `s` as a Go-escaped JSON string.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Compact encoding (`json.Marshal`).
pub fn to_compact(v: &Json) -> String {
    let mut out = String::new();
    write(&mut out, v, None, 0);
    out
}

/// Indented encoding (`json.MarshalIndent(v, "", "    ")`).
pub fn to_pretty(v: &Json) -> String {
    let mut out = String::new();
    write(&mut out, v, Some("    "), 0);
    out
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(ind);
        }
    }
}

fn write(out: &mut String, v: &Json, indent: Option<&str>, depth: usize) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(n),
        Json::String(s) => write_string(out, s),
        Json::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push(']');
        }
        Json::Object(kv) => {
            if kv.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in kv.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(out, item, indent, depth + 1);
            }
            newline(out, indent, depth);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        let mut s = String::new();
        write_string(&mut s, "x<y&z>\"\\\n\u{1}\u{8}\u{2028}é");
        assert_eq!(s, r#""x\u003cy\u0026z\u003e\"\\\n\u0001\u0008\u2028é""#);
    }

    #[test]
    fn pretty_and_compact() {
        let v = Json::Object(vec![
            (
                "a".into(),
                Json::Array(vec![Json::Number("1.0".into()), Json::Null]),
            ),
            ("b".into(), Json::Object(vec![])),
        ]);
        assert_eq!(to_compact(&v), r#"{"a":[1.0,null],"b":{}}"#);
        assert_eq!(
            to_pretty(&v),
            "{\n    \"a\": [\n        1.0,\n        null\n    ],\n    \"b\": {}\n}"
        );
    }
}
