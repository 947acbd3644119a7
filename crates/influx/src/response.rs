//! The query response model as the 1.x Go client sees it.
//!
//! Owns decoding `/query` JSON (one document, or a stream of chunk documents)
//! into [`Response`], keeping number literals verbatim (the Go client decodes
//! with `UseNumber`, so numbers are echoed exactly as the server sent them).
//! It must not format output (see `format`) nor do HTTP (see `client`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// One cell of a series' values.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A JSON number, as the literal text the server sent.
    Number(String),
    String(String),
    /// Anything else (arrays/objects), kept as parsed JSON.
    Other(serde_json::Value),
}

/// An informational message attached to a statement result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub text: String,
}

/// One series (`models.Row`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<Value>>,
    pub partial: bool,
}

/// The result of one statement (or one chunk of it).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatementResult {
    pub series: Vec<Row>,
    pub messages: Vec<Message>,
    pub error: Option<String>,
}

/// A whole response: every chunk's results appended, like the Go client.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    pub results: Vec<StatementResult>,
    pub error: Option<String>,
}

impl Response {
    /// The first error: the top-level one, else the first statement's.
    pub fn first_error(&self) -> Option<&str> {
        if let Some(e) = &self.error {
            return Some(e);
        }
        self.results.iter().find_map(|r| r.error.as_deref())
    }

    /// Appends a decoded chunk (or whole document).
    pub fn absorb(&mut self, chunk: Response) {
        self.results.extend(chunk.results);
        if chunk.error.is_some() {
            self.error = chunk.error;
        }
    }
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    results: Option<Vec<WireResult>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct WireResult {
    #[serde(default)]
    series: Option<Vec<WireRow>>,
    #[serde(default)]
    messages: Option<Vec<Message>>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct WireRow {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    tags: Option<BTreeMap<String, String>>,
    #[serde(default)]
    columns: Option<Vec<String>>,
    #[serde(default)]
    values: Option<Vec<Vec<Box<RawValue>>>>,
    #[serde(default)]
    partial: Option<bool>,
}

fn convert_value(raw: &RawValue) -> Result<Value> {
    let text = raw.get().trim();
    match text.as_bytes().first() {
        Some(b'n') => Ok(Value::Null),
        Some(b't') => Ok(Value::Bool(true)),
        Some(b'f') => Ok(Value::Bool(false)),
        Some(b'"') => serde_json::from_str::<String>(text)
            .map(Value::String)
            .map_err(|e| Error::Protocol(e.to_string())),
        Some(b'-' | b'0'..=b'9') => Ok(Value::Number(text.to_string())),
        _ => serde_json::from_str::<serde_json::Value>(text)
            .map(Value::Other)
            .map_err(|e| Error::Protocol(e.to_string())),
    }
}

impl TryFrom<WireResponse> for Response {
    type Error = Error;

    fn try_from(w: WireResponse) -> Result<Self> {
        let mut results = Vec::new();
        for r in w.results.unwrap_or_default() {
            let mut series = Vec::new();
            for s in r.series.unwrap_or_default() {
                let mut values = Vec::new();
                for row in s.values.unwrap_or_default() {
                    values.push(
                        row.iter()
                            .map(|v| convert_value(v))
                            .collect::<Result<Vec<_>>>()?,
                    );
                }
                series.push(Row {
                    name: s.name.unwrap_or_default(),
                    tags: s.tags.unwrap_or_default(),
                    columns: s.columns.unwrap_or_default(),
                    values,
                    partial: s.partial.unwrap_or(false),
                });
            }
            results.push(StatementResult {
                series,
                messages: r.messages.unwrap_or_default(),
                error: r.error,
            });
        }
        Ok(Response {
            results,
            error: w.error,
        })
    }
}

/// Decodes one JSON response document.
pub fn decode(body: &str) -> Result<Response> {
    let wire: WireResponse =
        serde_json::from_str(body).map_err(|e| Error::Protocol(e.to_string()))?;
    Response::try_from(wire)
}

/// Decodes a stream of concatenated JSON documents (a chunked response),
/// calling `on_chunk` for each as soon as it is complete.
pub fn decode_stream<R: std::io::Read>(
    reader: R,
    mut on_chunk: impl FnMut(Response) -> Result<()>,
) -> Result<()> {
    let stream = serde_json::Deserializer::from_reader(reader).into_iter::<WireResponse>();
    for item in stream {
        let wire = item.map_err(|e| {
            if e.is_io() {
                Error::Transport(e.to_string())
            } else {
                Error::Protocol(e.to_string())
            }
        })?;
        on_chunk(Response::try_from(wire)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_number_literals_and_types() {
        let r = decode(
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","v","s","b","n"],"values":[[10,1.50,"x",true,null],[1e+21,-2,"",false,null]]}]}]}"#,
        )
        .unwrap();
        let row = &r.results[0].series[0];
        assert_eq!(row.name, "cpu");
        assert_eq!(row.tags["host"], "a");
        assert_eq!(row.values[0][1], Value::Number("1.50".into()));
        assert_eq!(row.values[1][0], Value::Number("1e+21".into()));
        assert_eq!(row.values[0][3], Value::Bool(true));
        assert_eq!(row.values[0][4], Value::Null);
        assert_eq!(row.values[1][2], Value::String(String::new()));
    }

    #[test]
    fn stream_of_chunks_is_appended_in_order() {
        let body = "{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"a\",\"columns\":[\"x\"],\"values\":[[1]],\"partial\":true}]}]}\n{\"results\":[{\"statement_id\":0,\"series\":[{\"name\":\"a\",\"columns\":[\"x\"],\"values\":[[2]]}]}]}\n";
        let mut all = Response::default();
        decode_stream(body.as_bytes(), |c| {
            all.absorb(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(all.results.len(), 2);
        assert!(all.results[0].series[0].partial);
        assert_eq!(
            all.results[1].series[0].values[0][0],
            Value::Number("2".into())
        );
    }

    #[test]
    fn first_error_prefers_top_level() {
        let r = decode(r#"{"results":[{"error":"a"}],"error":"top"}"#).unwrap();
        assert_eq!(r.first_error(), Some("top"));
        let r = decode(r#"{"results":[{},{"error":"b"},{"error":"c"}]}"#).unwrap();
        assert_eq!(r.first_error(), Some("b"));
    }
}
