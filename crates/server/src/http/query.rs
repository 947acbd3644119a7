//! `GET|POST /query`: InfluxQL in, results out — JSON (optionally pretty),
//! CSV with `Accept: application/csv`, or chunked JSON lines with
//! `chunked=true` — with InfluxDB 1.x's parameters (q, db, rp, epoch,
//! chunked, chunk_size, pretty, params, u, p) and error shapes. Parsing and
//! execution belong to the influxql and query crates; this module is the
//! HTTP framing around them.

use super::body::read_body;
use super::limits::HttpLimits;
use super::{auth, authorize};
use super::{HttpError, Peer};
use crate::node::Node;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use query::result::{StatementResult, StatementResultSer, TimeFormat, Value, ValueSer};
use query::ExecutionContext;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Rows an answer may have to be encoded on the async worker.
const INLINE_ENCODE_ROWS: usize = 5_000;

/// Runs the executor's long statements off the async worker: the worker's
/// other tasks move to another thread and this one may block.
struct LeaveWorker;

impl query::Offload for LeaveWorker {
    fn run(&self, work: &mut dyn FnMut()) {
        tokio::task::block_in_place(work)
    }
}

fn row_count(results: &[StatementResult]) -> usize {
    results
        .iter()
        .flat_map(|r| &r.series)
        .map(|s| s.values.len())
        .sum()
}

/// Default rows per chunk when `chunked=true` without `chunk_size`.
const DEFAULT_CHUNK_SIZE: usize = 10_000;
/// Largest `chunk_size` honoured: a larger one would hold a whole answer in
/// memory, which is what chunking avoids; it is cut to this.
pub const MAX_CHUNK_SIZE_ROWS: usize = 100_000;
/// Lines of a streamed answer buffered between the query and the socket.
const CHUNK_CHANNEL_LINES: usize = 4;

pub async fn query_get(
    State(node): State<Arc<Node>>,
    Extension(limits): Extension<Arc<HttpLimits>>,
    Peer(peer): Peer,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    handle(node, &limits, peer, params, headers, true).await
}

pub async fn query_post(
    State(node): State<Arc<Node>>,
    Extension(limits): Extension<Arc<HttpLimits>>,
    Peer(peer): Peer,
    Query(mut params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        let body = read_body(
            body,
            &headers,
            node.config.http.max_body_size,
            node.config.http.read_timeout.0,
        )
        .await?;
        for (k, v) in form_urlencoded(&body) {
            params.entry(k).or_insert(v);
        }
    }
    handle(node, &limits, peer, params, headers, false).await
}

/// Decodes `application/x-www-form-urlencoded` pairs.
fn form_urlencoded(body: &[u8]) -> Vec<(String, String)> {
    ::form_urlencoded::parse(body).into_owned().collect()
}

enum Format {
    Json { pretty: bool },
    Csv,
}

async fn handle(
    node: Arc<Node>,
    limits: &HttpLimits,
    peer: Option<std::net::IpAddr>,
    params: HashMap<String, String>,
    headers: HeaderMap,
    read_only: bool,
) -> Result<Response, HttpError> {
    let caller = auth::authenticate(&node, limits, peer, &params, &headers).await?;
    let Some(text) = params.get("q").filter(|q| !q.is_empty()).cloned() else {
        return Err(HttpError::bad_request("missing required parameter \"q\""));
    };
    let bound = match params.get("params") {
        Some(p) if !p.is_empty() => parse_bound_params(p)?,
        _ => HashMap::new(),
    };
    let parsed = influxql::parse_query_with_params(&text, &bound)
        .map_err(|e| HttpError::bad_request(format!("error parsing query: {e}")))?;
    let db_param = params.get("db").cloned().unwrap_or_default();
    let denied = match &caller {
        auth::Caller::Anonymous => Ok(()),
        auth::Caller::Bootstrap => authorize::authorize_bootstrap(&parsed),
        auth::Caller::User(u) => {
            authorize::authorize_query(&node.meta.data(), u, &parsed, &db_param)
        }
    };
    if let Err(e) = denied {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            format!("error authorizing query: {e}"),
        ));
    }

    let time_format = match params.get("epoch").map(String::as_str) {
        None | Some("") => TimeFormat::Rfc3339,
        Some(e) => TimeFormat::Epoch(models::Precision::parse(e).unwrap_or_default()),
    };
    let format = if accepts_csv(&headers) {
        Format::Csv
    } else {
        Format::Json {
            pretty: params.get("pretty").is_some_and(|p| p == "true"),
        }
    };
    let chunked = params.get("chunked").is_some_and(|c| c == "true");
    let chunk_size = params
        .get("chunk_size")
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 0)
        .unwrap_or(DEFAULT_CHUNK_SIZE)
        .min(MAX_CHUNK_SIZE_ROWS);

    let ctx = ExecutionContext {
        database: db_param,
        retention_policy: params.get("rp").cloned().unwrap_or_default(),
        now: models::now_nanos(),
        user: caller.user(),
        read_only,
        host: node.host_name(),
    };
    if let (true, Format::Json { pretty }) = (chunked, &format) {
        node.http_stats.query();
        let slot = limits
            .streaming_queries
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HttpError::internal(e.to_string()))?;
        return Ok(stream_chunked(
            &node,
            parsed,
            ctx,
            time_format,
            chunk_size,
            *pretty,
            slot,
        ));
    }
    // Small SELECTs run right here on the async worker: handing the worker's
    // queue to another thread costs more than they do. The executor moves
    // everything else off the worker through `LeaveWorker`, and a large
    // answer is encoded off it too.
    let mut results = node.executor.execute_with(&parsed, &ctx, &LeaveWorker);
    if !chunked {
        mark_merged_chunks(&mut results);
        let max_rows = usize::try_from(node.config.http.max_row_limit).unwrap_or(usize::MAX);
        limit_rows(&mut results, max_rows);
    }
    let large = row_count(&results) > INLINE_ENCODE_ROWS;
    let encode = move || match format {
        Format::Csv => ("application/csv", encode_csv(&results, time_format)),
        Format::Json { pretty } => (
            "application/json",
            encode_json(&Results(&results, time_format), pretty),
        ),
    };
    let (content_type, body) = if large {
        tokio::task::block_in_place(encode)
    } else {
        encode()
    };
    node.http_stats.query();
    Ok((StatusCode::OK, [("content-type", content_type)], body).into_response())
}

/// InfluxDB 1.x builds a non-chunked answer by merging internal chunks of
/// 10,000 rows, and a series that spanned several chunks keeps the
/// `"partial": true` of its first chunk. Clients see (and compare) that flag,
/// so Tidemark reproduces it.
fn mark_merged_chunks(results: &mut [StatementResult]) {
    for r in results {
        for s in &mut r.series {
            if s.values.len() > DEFAULT_CHUNK_SIZE {
                s.partial = true;
            }
        }
    }
}

/// `[http] max-row-limit` on a non-chunked answer, as InfluxDB 1.x applies
/// it: rows are counted across series and statements; the series reaching
/// the limit is cut and marked `"partial": true`, the series and statements
/// after it are dropped. 0: no limit.
fn limit_rows(results: &mut Vec<StatementResult>, max_rows: usize) {
    if max_rows == 0 {
        return;
    }
    let mut rows = 0usize;
    for (i, r) in results.iter_mut().enumerate() {
        for (k, s) in r.series.iter_mut().enumerate() {
            let room = max_rows - rows;
            if room < s.values.len() {
                s.values.truncate(room);
                s.partial = true;
            }
            rows += s.values.len();
            if rows >= max_rows {
                r.series.truncate(k + 1);
                // Nothing more comes for this statement.
                r.partial = false;
                results.truncate(i + 1);
                return;
            }
        }
    }
}

fn accepts_csv(headers: &HeaderMap) -> bool {
    headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/csv") || v.contains("text/csv"))
}

/// `params={"name": value}`: numbers, strings and booleans bound to `$name`.
fn parse_bound_params(text: &str) -> Result<HashMap<String, influxql::Param>, HttpError> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| HttpError::bad_request(format!("error parsing query parameters: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| HttpError::bad_request("error parsing query parameters: not an object"))?;
    let mut out = HashMap::new();
    for (k, v) in obj {
        out.insert(k.clone(), influxql::Param::from_json(v));
    }
    Ok(out)
}

pub(crate) struct Results<'a>(pub(crate) &'a [StatementResult], pub(crate) TimeFormat);

impl Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct List<'a>(&'a [StatementResult], TimeFormat);
        impl Serialize for List<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for r in self.0 {
                    seq.serialize_element(&StatementResultSer(r, self.1))?;
                }
                seq.end()
            }
        }
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("results", &List(self.0, self.1))?;
        m.end()
    }
}

pub(crate) fn encode_json<T: Serialize>(value: &T, pretty: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let ok = if pretty {
        let fmt = GoJson(serde_json::ser::PrettyFormatter::with_indent(b"    "));
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        value.serialize(&mut ser).is_ok()
    } else {
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            GoJson(serde_json::ser::CompactFormatter),
        );
        value.serialize(&mut ser).is_ok()
    };
    if !ok {
        out.clear();
        out.extend_from_slice(br#"{"error":"cannot encode results"}"#);
    }
    out.push(b'\n');
    out
}

/// Splits each statement's series into chunks of at most `chunk_size` rows,
/// marking every chunk but a result's last as partial, one JSON document per
/// line — what InfluxDB streams for `chunked=true`.
/// A finished answer in chunks (the same cuts a streamed one gets).
#[cfg(test)]
pub(crate) fn encode_chunked(
    results: &[StatementResult],
    tf: TimeFormat,
    chunk_size: usize,
    pretty: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut chunker = super::chunked::Chunker::new(chunk_size, tf, pretty, |line| {
            out.extend(line);
            true
        });
        for r in results {
            chunker.push(query::Fragment {
                result: r.clone(),
                done: true,
            });
        }
    }
    out
}

/// `chunked=true` with JSON: the statements run on the blocking pool and
/// every line goes out as soon as it is cut; a bounded channel makes a slow
/// client slow the query down instead of buffering. A client that leaves,
/// or stops reading for `[http] write-timeout`, stops the query and frees
/// its thread. `slot` is the query's place among
/// [`super::limits::MAX_STREAMING_QUERIES`].
fn stream_chunked(
    node: &Arc<Node>,
    parsed: influxql::Query,
    ctx: ExecutionContext,
    tf: TimeFormat,
    chunk_size: usize,
    pretty: bool,
    slot: tokio::sync::OwnedSemaphorePermit,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(CHUNK_CHANNEL_LINES);
    let executor = node.executor.clone();
    let stall = node.config.http.write_timeout.0;
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let mut chunker = super::chunked::Chunker::new(chunk_size, tf, pretty, |line| {
            send_line(&runtime, &tx, line, stall)
        });
        executor.execute_streaming(&parsed, &ctx, &mut |f| chunker.push(f));
    });
    let lines = futures_util::stream::unfold(rx, |mut rx| async move {
        let line = rx.recv().await?;
        Some((
            Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line)),
            rx,
        ))
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        Body::from_stream(lines),
    )
        .into_response()
}

/// Hands a line to the response from the query's blocking thread: false
/// (stop the query) when the client is gone or has not taken a line for
/// `stall` (zero: waits as long as the connection lives).
fn send_line(
    runtime: &tokio::runtime::Handle,
    tx: &tokio::sync::mpsc::Sender<Vec<u8>>,
    line: Vec<u8>,
    stall: std::time::Duration,
) -> bool {
    use tokio::sync::mpsc::error::TrySendError;
    let line = match tx.try_send(line) {
        Ok(()) => return true,
        Err(TrySendError::Closed(_)) => return false,
        Err(TrySendError::Full(line)) => line,
    };
    if stall.is_zero() {
        return tx.blocking_send(line).is_ok();
    }
    // A blocking-pool thread, not an async worker: waiting here is allowed.
    let sent = runtime.block_on(tokio::time::timeout(stall, tx.send(line)));
    if sent.is_err() {
        tracing::info!("chunked query stopped: the client read nothing for {stall:?}");
    }
    matches!(sent, Ok(Ok(())))
}

/// CSV as InfluxDB writes it: a header `name,tags,<columns>` whenever the
/// columns change, one row per value, a blank line between statements.
fn encode_csv(results: &[StatementResult], tf: TimeFormat) -> Vec<u8> {
    let tf = match tf {
        TimeFormat::Rfc3339 => TimeFormat::Epoch(models::Precision::Nanosecond),
        other => other,
    };
    let mut out = String::new();
    for (i, r) in results.iter().enumerate() {
        if i > 0 && !out.is_empty() {
            out.push('\n');
        }
        if let Some(e) = &r.error {
            out.push_str("error\n");
            out.push_str(&csv_field(e));
            out.push('\n');
            continue;
        }
        let mut last_columns: Option<&Vec<String>> = None;
        for s in &r.series {
            if last_columns != Some(&s.columns) {
                out.push_str("name,tags");
                for c in &s.columns {
                    out.push(',');
                    out.push_str(&csv_field(c));
                }
                out.push('\n');
                last_columns = Some(&s.columns);
            }
            let tags = s
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            for row in &s.values {
                out.push_str(&csv_field(&s.name));
                out.push(',');
                out.push_str(&csv_field(&tags));
                for v in row {
                    out.push(',');
                    let cell = match v {
                        Value::Float(f) => go_float(*f),
                        _ => match serde_json::to_value(ValueSer(v, tf)) {
                            Ok(serde_json::Value::String(s)) => s,
                            Ok(serde_json::Value::Null) => String::new(),
                            Ok(other) => other.to_string(),
                            Err(_) => String::new(),
                        },
                    };
                    out.push_str(&csv_field(&cell));
                }
                out.push('\n');
            }
        }
    }
    out.into_bytes()
}

/// Formats a float as Go's encoding/json does: shortest round-trip digits,
/// plain notation unless the magnitude is below 1e-6 or at least 1e21, where
/// it switches to exponents (`1e-7`, `1e+21`).
pub fn go_float(f: f64) -> String {
    let mut out = Vec::with_capacity(24);
    // Writing to a Vec cannot fail.
    let _ = write_go_float(&mut out, f);
    String::from_utf8(out).unwrap_or_default()
}

/// [`go_float`] written to `w`, without the formatting machinery or an
/// allocation: the shortest digits come from `ryu`, laid out in Go's
/// notation in a stack buffer.
pub fn write_go_float<W: std::io::Write + ?Sized>(w: &mut W, f: f64) -> std::io::Result<()> {
    let abs = f.abs();
    if !f.is_finite() || (abs != 0.0 && !(1e-6..1e21).contains(&abs)) {
        return w.write_all(go_float_exponent(f).as_bytes());
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(f);
    let Some(e) = s.find('e') else {
        // ryu writes whole numbers as `3.0`; Go as `3`.
        return w.write_all(s.strip_suffix(".0").unwrap_or(s).as_bytes());
    };
    // ryu chose an exponent (`1.5e-5`, `1e20`) where Go writes plain digits:
    // at most 17 significant digits, the point at most 21 digits away.
    let (mant, exp) = (&s[..e], &s[e + 1..]);
    let Ok(exp) = exp.parse::<i32>() else {
        return w.write_all(go_float_exponent(f).as_bytes());
    };
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let mut digits = [0u8; 24];
    let n = int.len() + frac.len();
    if n > digits.len() {
        return w.write_all(go_float_exponent(f).as_bytes());
    }
    digits[..int.len()].copy_from_slice(int.as_bytes());
    digits[int.len()..n].copy_from_slice(frac.as_bytes());
    let digits = &digits[..n];
    // The decimal point sits `point` digits after the first one.
    let point = int.len() as i32 + exp;
    let mut out = [0u8; 64];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        out[len..len + bytes.len()].copy_from_slice(bytes);
        len += bytes.len();
    };
    if neg {
        put(b"-");
    }
    if point <= 0 {
        put(b"0.");
        for _ in 0..-point {
            put(b"0");
        }
        put(digits);
    } else if point as usize >= n {
        put(digits);
        for _ in 0..point as usize - n {
            put(b"0");
        }
    } else {
        put(&digits[..point as usize]);
        put(b".");
        put(&digits[point as usize..]);
    }
    w.write_all(&out[..len])
}

/// Go's exponent notation (and Rust's text for NaN and infinities, which
/// JSON cannot carry anyway).
fn go_float_exponent(f: f64) -> String {
    if !f.is_finite() {
        return format!("{f}");
    }
    let s = format!("{f:e}");
    match s.split_once('e') {
        // Rust prints `1e-7` / `1e21`; Go prints `1e-07` and json trims it
        // back to `1e-7`, and writes `1e+21`.
        Some((mant, exp)) if !exp.starts_with('-') => format!("{mant}e+{exp}"),
        _ => s,
    }
}

/// A serde_json formatter that writes what Go's encoding/json writes, so
/// that clients comparing bytes with InfluxDB's output see the same text:
/// floats in Go's notation, `<`, `>`, `&`, U+2028 and U+2029 escaped as
/// `\u003c`-style sequences, and `\b`/`\f` as `\u0008`/`\u000c`.
struct GoJson<F>(F);

/// Whether `fragment` holds something Go escapes and serde_json does not.
fn needs_go_escape(fragment: &str) -> bool {
    fragment
        .bytes()
        .any(|b| matches!(b, b'<' | b'>' | b'&' | 0xE2))
}

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for GoJson<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        if !needs_go_escape(fragment) {
            return w.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc: &[u8] = match c {
                '<' => b"\\u003c",
                '>' => b"\\u003e",
                '&' => b"\\u0026",
                '\u{2028}' => b"\\u2028",
                '\u{2029}' => b"\\u2029",
                _ => continue,
            };
            w.write_all(&fragment.as_bytes()[start..i])?;
            w.write_all(esc)?;
            start = i + c.len_utf8();
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        use serde_json::ser::CharEscape;
        match escape {
            CharEscape::Backspace => w.write_all(b"\\u0008"),
            CharEscape::FormFeed => w.write_all(b"\\u000c"),
            other => self.0.write_char_escape(w, other),
        }
    }
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, v: f64) -> std::io::Result<()> {
        write_go_float(w, v)
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use query::result::{Series, Value};

    fn cpu_result() -> StatementResult {
        StatementResult {
            statement_id: 0,
            series: vec![Series {
                name: "cpu".into(),
                columns: vec!["time".into(), "v".into()],
                values: vec![
                    vec![Value::Time(1), Value::Float(1.0)],
                    vec![Value::Time(2), Value::Float(2.5)],
                ],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn csv_matches_influxdb_layout() {
        let csv = encode_csv(&[cpu_result()], TimeFormat::Rfc3339);
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "name,tags,time,v\ncpu,,1,1\ncpu,,2,2.5\n"
        );
    }

    #[test]
    fn chunks_mark_partial_results() {
        let out = encode_chunked(
            &[cpu_result()],
            TimeFormat::Epoch(models::Precision::Nanosecond),
            1,
            false,
        );
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[1,1]],"partial":true}],"partial":true}]}"#
        );
        assert_eq!(
            lines[1],
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[[2,2.5]]}]}]}"#
        );
    }

    /// Bytes Go's encoding/json (InfluxDB 1.6.7) writes for these strings.
    #[test]
    fn strings_escape_like_go() {
        let v = serde_json::json!({ "error": "found &, expected <x> \u{8}\u{c}\n\u{2028}é\"" });
        assert_eq!(
            String::from_utf8(encode_json(&v, false)).unwrap(),
            "{\"error\":\"found \\u0026, expected \\u003cx\\u003e \\u0008\\u000c\\n\\u2028é\\\"\"}\n"
        );
    }

    #[test]
    fn floats_print_like_go() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(2.5), "2.5");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(1e-7), "1e-7");
        assert_eq!(go_float(-0.000001), "-0.000001");
        assert_eq!(go_float(123456789.125), "123456789.125");
        assert_eq!(go_float(1e20), "100000000000000000000");
        assert_eq!(go_float(1.5e-5), "0.000015");
        assert_eq!(go_float(-0.0), "-0");
        assert_eq!(go_float(0.1 + 0.2), "0.30000000000000004");
    }

    /// Over the whole plain range the text reads back as the same float and
    /// is as short as Rust's `{}` (shortest digits). The two differ only on
    /// exact ties, where Go (and ryu) round half to even:
    /// 13037290494569.3125 is `13037290494569.312` in InfluxDB 1.6.7's JSON.
    #[test]
    fn fast_float_text_matches_the_formatter() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut checked = 0;
        for i in 0..200_000 {
            let f = match i % 3 {
                // Any bit pattern.
                0 => f64::from_bits(next()),
                // Every decade of the plain range, full precision.
                1 => {
                    let e = (next() % 28) as i32 - 6;
                    (next() as f64 / u64::MAX as f64) * 10f64.powi(e)
                }
                // Few decimals, as sensors write them.
                _ => (next() % 2_000_000) as f64 / 100.0 - 10_000.0,
            };
            let abs = f.abs();
            if !f.is_finite() || (abs != 0.0 && !(1e-6..1e21).contains(&abs)) {
                continue;
            }
            let ours = go_float(f);
            assert_eq!(ours.parse::<f64>().ok(), Some(f), "{f:e} printed {ours}");
            assert_eq!(ours.len(), format!("{f}").len(), "{f:e} printed {ours}");
            assert!(!ours.contains('e'), "{f:e} printed {ours}");
            checked += 1;
        }
        assert!(checked > 100_000);
        // 13037290494569.3125 exactly, halfway between ...312 and ...313.
        assert_eq!(
            go_float(f64::from_bits(0x42A7_B6F6_2334_D2A0)),
            "13037290494569.312"
        );
    }

    fn rows(name: &str, n: i64) -> Series {
        Series {
            name: name.into(),
            columns: vec!["time".into(), "v".into()],
            values: (0..n)
                .map(|t| vec![Value::Time(t), Value::Float(t as f64)])
                .collect(),
            ..Default::default()
        }
    }

    fn stmt(id: usize, series: Vec<Series>) -> StatementResult {
        StatementResult {
            statement_id: id,
            series,
            ..Default::default()
        }
    }

    /// InfluxDB 1.x's `max-row-limit`: counted across series and
    /// statements, the series reaching it cut and partial, the rest dropped.
    #[test]
    fn m6_max_row_limit_truncates_like_influxdb() {
        let mut r = vec![
            stmt(0, vec![rows("a", 3), rows("b", 4), rows("c", 1)]),
            stmt(1, vec![rows("d", 2)]),
        ];
        limit_rows(&mut r, 5);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].series.len(), 2);
        assert_eq!(r[0].series[0].values.len(), 3);
        assert!(!r[0].series[0].partial);
        assert_eq!(r[0].series[1].values.len(), 2);
        assert!(r[0].series[1].partial);
        assert!(!r[0].partial);

        // Exactly at the limit: not partial, but nothing after it.
        let mut r = vec![stmt(0, vec![rows("a", 2)]), stmt(1, vec![rows("d", 2)])];
        limit_rows(&mut r, 2);
        assert_eq!(r.len(), 1);
        assert!(!r[0].series[0].partial);

        // Under the limit, or no limit: unchanged.
        let mut r = vec![stmt(0, vec![rows("a", 2)]), stmt(1, vec![rows("d", 2)])];
        let before = r.clone();
        limit_rows(&mut r, 10);
        assert_eq!(r, before);
        limit_rows(&mut r, 0);
        assert_eq!(r, before);
    }

    #[test]
    fn form_bodies_decode() {
        let pairs = form_urlencoded(b"q=SELECT+*+FROM+%22cpu%22&db=db0&x");
        assert_eq!(pairs[0], ("q".into(), "SELECT * FROM \"cpu\"".into()));
        assert_eq!(pairs[1], ("db".into(), "db0".into()));
        assert_eq!(pairs[2], ("x".into(), String::new()));
    }
}
