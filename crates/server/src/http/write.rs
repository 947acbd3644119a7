//! `POST /write`: line protocol in, points into the points writer, with
//! InfluxDB 1.x's parameters (db, rp, precision, consistency, u, p), status
//! codes and error texts, including `partial write: ... dropped=N` when some
//! lines or points were refused and the rest stored.
//!
//! Admission, in InfluxDB's order: the write throttle
//! (`max-concurrent-write-limit` and friends), authentication, the write
//! privilege (before telling whether the database exists, so unauthorised
//! users cannot enumerate database names), the body (`max-body-size`,
//! `read-timeout`), then a slot on the blocking pool
//! ([`super::limits::MAX_BLOCKING_WRITES`]) for decompressing, parsing and
//! storing.

use super::auth;
use super::body::{body_limit, gunzip, is_gzip, read_raw};
use super::limits::HttpLimits;
use super::{HttpError, Peer};
use crate::node::Node;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cluster::{Consistency, WriteError};
use models::Precision;
use std::collections::HashMap;
use std::sync::Arc;

pub async fn write(
    State(node): State<Arc<Node>>,
    Extension(limits): Extension<Arc<HttpLimits>>,
    Peer(peer): Peer,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    let _turn = match &limits.write_throttle {
        Some(t) => Some(t.admit().await?),
        None => None,
    };
    let caller = auth::authenticate(&node, &limits, peer, &params, &headers).await?;
    let db = params.get("db").cloned().unwrap_or_default();
    if db.is_empty() {
        return Err(HttpError::bad_request("database is required"));
    }
    let rp = params.get("rp").cloned().unwrap_or_default();
    let precision_text = params.get("precision").map(String::as_str).unwrap_or("");
    let precision = Precision::parse(precision_text).ok_or_else(|| {
        HttpError::bad_request(format!(
            "invalid precision {precision_text:?} (use n, u, ms, s, m or h)"
        ))
    })?;
    let consistency = match params.get("consistency").map(String::as_str) {
        None | Some("") => Consistency::default(),
        Some(c) => Consistency::parse(c)
            .ok_or_else(|| HttpError::bad_request("invalid consistency level"))?,
    };
    auth::check_write(&node, &caller, &db)?;
    if node.meta.data().database(&db).is_none() {
        return Err(HttpError::new(
            StatusCode::NOT_FOUND,
            format!("database not found: {db:?}"),
        ));
    }
    let raw = read_raw(
        body,
        node.config.http.max_body_size,
        node.config.http.read_timeout.0,
    )
    .await?;
    let gzipped = is_gzip(&headers);
    let limit = body_limit(node.config.http.max_body_size);

    // Decompression, parsing and storing share one bounded slot.
    let slot = limits
        .blocking_writes
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| HttpError::internal(e.to_string()))?;
    let node2 = node.clone();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let body = if gzipped { gunzip(&raw, limit)? } else { raw };
        node2.http_stats.write_bytes(body.len());
        let now = models::now_nanos();
        let parsed = lineproto::parse_points(&body, precision, now);
        let parse_error = if parsed.errors.is_empty() {
            None
        } else {
            Some(parsed.errors.join("\n"))
        };
        if parsed.points.is_empty() {
            return match parse_error {
                Some(e) => Err(HttpError::bad_request(e)),
                None => Ok(()),
            };
        }
        let result = node2
            .writer
            .write(&db, &rp, parsed.points, consistency, now);
        match (result, parse_error) {
            (Ok(()), None) => Ok(()),
            (Ok(()), Some(e)) => Err(HttpError::bad_request(format!(
                "partial write: {e} dropped=0"
            ))),
            (Err(WriteError::Partial { reason, dropped }), parse) => {
                let reason = match parse {
                    Some(p) => format!("{p}\n{reason}"),
                    None => reason,
                };
                Err(HttpError::bad_request(format!(
                    "partial write: {reason} dropped={dropped}"
                )))
            }
            (Err(e @ WriteError::DatabaseNotFound(_)), _) => {
                Err(HttpError::new(StatusCode::NOT_FOUND, e.to_string()))
            }
            (Err(e), _) => Err(HttpError::internal(e.to_string())),
        }
    })
    .await
    .map_err(|e| HttpError::internal(e.to_string()))??;
    Ok((
        StatusCode::NO_CONTENT,
        [("content-type", "application/json")],
    )
        .into_response())
}
