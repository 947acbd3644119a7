//! Bound parameters (`$name`) and their values, as sent in the `params` JSON of
//! `/query`.
//!
//! Owns: the `Param` value type, its conversion from JSON (InfluxDB's rules) and
//! the token a parameter stands for. Must not: parse statements.

use crate::duration::{format_duration, parse_duration};
use crate::token::Token;

/// The value bound to a `$name` parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Integer(i64),
    Float(f64),
    String(String),
    Bool(bool),
    /// `{"identifier": "name"}`: substituted as an identifier.
    Identifier(String),
    /// `{"regex": "pattern"}`
    Regex(String),
    /// `{"duration": "1h"}` or `{"duration": <ns>}`; nanoseconds.
    Duration(i64),
    /// A value InfluxDB could not bind; using it in an expression yields this message.
    Error(String),
}

impl Param {
    /// Convert a JSON value of the `params` object the way InfluxDB 1.x binds it
    /// (numbers that fit an int64 are integers, objects with one key name a type).
    pub fn from_json(v: &serde_json::Value) -> Param {
        use serde_json::Value as J;
        match v {
            J::Bool(b) => Param::Bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Param::Integer(i)
                } else {
                    Param::Float(n.as_f64().unwrap_or(0.0))
                }
            }
            J::String(s) => Param::String(s.clone()),
            J::Object(m) => {
                if m.len() != 1 {
                    return Param::Error(
                        "bound object parameter value must have exactly one entry".into(),
                    );
                }
                let Some((k, v)) = m.iter().next() else {
                    return Param::Error(
                        "bound object parameter value must have exactly one entry".into(),
                    );
                };
                match (k.to_ascii_lowercase().as_str(), v) {
                    ("ident" | "identifier", J::String(s)) => Param::Identifier(s.clone()),
                    ("ident" | "identifier", _) => {
                        Param::Error("identifier must be a string value".into())
                    }
                    ("regex", J::String(s)) => Param::Regex(s.clone()),
                    ("regex", _) => Param::Error("regex literal must be a string value".into()),
                    ("string", J::String(s)) => Param::String(s.clone()),
                    ("string", _) => Param::Error("string literal must be a string value".into()),
                    ("float" | "number", J::Number(n)) => Param::Float(n.as_f64().unwrap_or(0.0)),
                    ("float" | "number", J::String(s)) => match s.parse::<f64>() {
                        Ok(f) => Param::Float(f),
                        Err(_) => Param::Error(format!("unable to parse float: {s}")),
                    },
                    ("float" | "number", _) => {
                        Param::Error("number literal must be a float value".into())
                    }
                    ("integer", J::Number(n)) => match n.as_i64() {
                        Some(i) => Param::Integer(i),
                        None => Param::Integer(n.as_f64().unwrap_or(0.0) as i64),
                    },
                    ("integer", J::String(s)) => match s.parse::<i64>() {
                        Ok(i) => Param::Integer(i),
                        Err(_) => Param::Error(format!("unable to parse integer: {s}")),
                    },
                    ("integer", _) => {
                        Param::Error("integer literal must be an integer value".into())
                    }
                    ("duration", J::String(s)) => match parse_duration(s) {
                        Ok(d) => Param::Duration(d),
                        Err(e) => Param::Error(e),
                    },
                    ("duration", J::Number(n)) => {
                        Param::Duration(n.as_i64().unwrap_or(n.as_f64().unwrap_or(0.0) as i64))
                    }
                    ("duration", _) => {
                        Param::Error("duration literal must be a string value".into())
                    }
                    ("bool" | "boolean", J::Bool(b)) => Param::Bool(*b),
                    ("bool" | "boolean", _) => {
                        Param::Error("boolean literal must be a boolean value".into())
                    }
                    (other, _) => Param::Error(format!("unknown bound parameter type: {other}")),
                }
            }
            J::Null => Param::Error("unable to bind parameter with type <nil>".into()),
            J::Array(_) => Param::Error("unable to bind parameter with type []interface {}".into()),
        }
    }

    /// Bind every entry of a JSON `params` object.
    pub fn map_from_json(
        obj: &serde_json::Map<String, serde_json::Value>,
    ) -> std::collections::HashMap<String, Param> {
        obj.iter()
            .map(|(k, v)| (k.clone(), Param::from_json(v)))
            .collect()
    }

    /// The token and literal text this value replaces `$name` with (`None` for
    /// an error value: the `$name` token stays and the parser reports it).
    pub(crate) fn token(&self) -> Option<(Token, String)> {
        Some(match self {
            Param::Integer(i) => (Token::Integer, i.to_string()),
            Param::Float(f) => (Token::Number, format!("{f:?}")),
            Param::String(s) => (Token::Str, s.clone()),
            Param::Bool(true) => (Token::True, String::new()),
            Param::Bool(false) => (Token::False, String::new()),
            Param::Identifier(s) => (Token::Ident, s.clone()),
            Param::Regex(s) => (Token::Regex, s.clone()),
            Param::Duration(d) => (Token::DurationVal, format_duration(*d)),
            Param::Error(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_json_like_influxdb() {
        let j: serde_json::Value = serde_json::from_str(
            r#"{"a":1,"b":1.5,"c":"s","d":true,"e":{"identifier":"x"},"f":{"duration":"1h"},"g":{"x":1,"y":2}}"#,
        )
        .unwrap();
        assert_eq!(Param::from_json(&j["a"]), Param::Integer(1));
        assert_eq!(Param::from_json(&j["b"]), Param::Float(1.5));
        assert_eq!(Param::from_json(&j["c"]), Param::String("s".into()));
        assert_eq!(Param::from_json(&j["d"]), Param::Bool(true));
        assert_eq!(Param::from_json(&j["e"]), Param::Identifier("x".into()));
        assert_eq!(
            Param::from_json(&j["f"]),
            Param::Duration(3_600_000_000_000)
        );
        assert!(matches!(Param::from_json(&j["g"]), Param::Error(_)));
    }
}
