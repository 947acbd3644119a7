//! `json` output: the response re-encoded like the Go client's
//! `json.Marshal`/`MarshalIndent` (field order, omitted empty fields, no
//! `statement_id`). Pure text rendering.

use super::gojson::{to_compact, to_pretty, Json};
use crate::response::{Response, Row, StatementResult, Value};

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => Json::Number(n.clone()),
        Value::String(s) => Json::String(s.clone()),
        Value::Other(o) => Json::from(o),
    }
}

fn row_json(r: &Row) -> Json {
    let mut kv = Vec::new();
    if !r.name.is_empty() {
        kv.push(("name".to_string(), Json::String(r.name.clone())));
    }
    if !r.tags.is_empty() {
        kv.push((
            "tags".to_string(),
            Json::Object(
                r.tags
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect(),
            ),
        ));
    }
    if !r.columns.is_empty() {
        kv.push((
            "columns".to_string(),
            Json::Array(r.columns.iter().map(|c| Json::String(c.clone())).collect()),
        ));
    }
    if !r.values.is_empty() {
        kv.push((
            "values".to_string(),
            Json::Array(
                r.values
                    .iter()
                    .map(|row| Json::Array(row.iter().map(value_json).collect()))
                    .collect(),
            ),
        ));
    }
    if r.partial {
        kv.push(("partial".to_string(), Json::Bool(true)));
    }
    Json::Object(kv)
}

fn result_json(r: &StatementResult) -> Json {
    let mut kv = Vec::new();
    if !r.series.is_empty() {
        kv.push((
            "series".to_string(),
            Json::Array(r.series.iter().map(row_json).collect()),
        ));
    }
    if !r.messages.is_empty() {
        kv.push((
            "messages".to_string(),
            Json::Array(
                r.messages
                    .iter()
                    .map(|m| {
                        Json::Object(vec![
                            ("level".to_string(), Json::String(m.level.clone())),
                            ("text".to_string(), Json::String(m.text.clone())),
                        ])
                    })
                    .collect(),
            ),
        ));
    }
    if let Some(e) = &r.error {
        if !e.is_empty() {
            kv.push(("error".to_string(), Json::String(e.clone())));
        }
    }
    Json::Object(kv)
}

/// The response as a JSON tree in Go's field order.
pub fn response_json(resp: &Response) -> Json {
    let mut kv = Vec::new();
    if !resp.results.is_empty() {
        kv.push((
            "results".to_string(),
            Json::Array(resp.results.iter().map(result_json).collect()),
        ));
    }
    if let Some(e) = &resp.error {
        if !e.is_empty() {
            kv.push(("error".to_string(), Json::String(e.clone())));
        }
    }
    Json::Object(kv)
}

/// Renders a response the way `format json` (optionally `pretty`) does.
pub fn render(resp: &Response, pretty: bool) -> String {
    let j = response_json(resp);
    let mut s = if pretty {
        to_pretty(&j)
    } else {
        to_compact(&j)
    };
    s.push('\n');
    s
}
