//! Rendering of query responses in the three 1.x CLI output formats.
//!
//! Owns the byte-exact layouts of `column`, `csv` and `json` output. Pure
//! functions from a [`Response`] to text: no I/O, no HTTP.

pub mod column;
pub mod csv;
pub mod gojson;
pub mod json;
pub mod tabwriter;

use crate::response::{Response, Row, StatementResult, Value};

/// An output format name as accepted by `-format` / `format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Column,
    Csv,
    Json,
}

impl Format {
    /// Parses `json`, `csv` or `column` (already lower-cased).
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "column" => Some(Format::Column),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Renders a response; `format` is the raw setting (an unknown name renders
/// the 1.x "Unknown output format" line).
pub fn render(resp: &Response, format: &str, pretty: bool) -> String {
    match Format::parse(format) {
        Some(Format::Column) => column::render(resp),
        Some(Format::Csv) => csv::render(resp),
        Some(Format::Json) => json::render(resp, pretty),
        None => format!(
            "Unknown output format {}.\n",
            crate::flags::go_quote(format)
        ),
    }
}

/// The text of one cell as the Go CLI prints it in column/csv output.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.clone(),
        Value::String(s) => s.clone(),
        Value::Other(v) => go_fmt_v(v),
    }
}

/// Go's `%v` of a decoded `interface{}` holding an array or object.
fn go_fmt_v(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "<nil>".to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(go_fmt_v).collect();
            format!("[{}]", parts.join(" "))
        }
        serde_json::Value::Object(m) => {
            let mut kv: Vec<(&String, &serde_json::Value)> = m.iter().collect();
            kv.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = kv
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_fmt_v(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Whether two series share name, tags and columns (headers get suppressed).
fn same_headers(a: &Row, b: &Row) -> bool {
    a.name == b.name && a.tags == b.tags && a.columns == b.columns
}

/// Tracks the previous result's headers across a response, as the Go CLI
/// does, to decide when to suppress repeated headers.
#[derive(Default)]
struct HeaderTracker {
    previous: Option<Row>,
}

impl HeaderTracker {
    /// Returns whether `result`'s headers repeat the previous ones, and
    /// remembers the new headers otherwise.
    fn suppress(&mut self, result: &StatementResult) -> bool {
        let Some(first) = result.series.first() else {
            return false;
        };
        let prev = self.previous.get_or_insert_with(Row::default);
        if same_headers(prev, first) {
            return true;
        }
        *prev = Row {
            name: first.name.clone(),
            tags: first.tags.clone(),
            columns: first.columns.clone(),
            ..Row::default()
        };
        false
    }
}

/// Tab-separated lines of one result in `column` or `csv` flavour.
fn result_lines(result: &StatementResult, csv: bool, suppress: bool) -> Vec<String> {
    let mut rows = Vec::new();
    for (i, row) in result.series.iter().enumerate() {
        let tags: Vec<String> = row.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut names: Vec<String> = Vec::new();
        if csv {
            if !row.name.is_empty() {
                names.push("name".to_string());
            }
            if !tags.is_empty() {
                names.push("tags".to_string());
            }
        }
        names.extend(row.columns.iter().cloned());
        if !csv && !suppress {
            if i > 0 {
                rows.push(String::new());
            }
            if !row.name.is_empty() {
                rows.push(format!("name: {}", row.name));
            }
            if !tags.is_empty() {
                rows.push(format!("tags: {}", tags.join(", ")));
            }
        }
        if !suppress {
            rows.push(names.join("\t"));
            if !csv {
                let dashes: Vec<String> = names.iter().map(|n| "-".repeat(n.len())).collect();
                rows.push(dashes.join("\t"));
            }
        }
        for values in &row.values {
            let mut cells: Vec<String> = Vec::new();
            if csv {
                if !row.name.is_empty() {
                    cells.push(row.name.clone());
                }
                if !tags.is_empty() {
                    cells.push(tags.join(","));
                }
            }
            cells.extend(values.iter().map(cell_text));
            rows.push(cells.join("\t"));
        }
    }
    rows
}
