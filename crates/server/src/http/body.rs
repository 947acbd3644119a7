//! Reading request bodies: the `max-body-size` limit (413 past it, also
//! after gzip decompression so a small bomb cannot expand unbounded), the
//! `read-timeout` deadline (408 and the connection closed when a body
//! trickles in too slowly) and `Content-Encoding: gzip`.

use super::HttpError;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use std::io::Read;
use std::time::Duration;

const TOO_LARGE: &str = "http: request body too large";
const TOO_SLOW: &str = "request body read timeout";

/// The byte limit for `max-body-size` (0: no limit).
pub fn body_limit(max_bytes: u64) -> usize {
    if max_bytes == 0 {
        usize::MAX
    } else {
        usize::try_from(max_bytes).unwrap_or(usize::MAX)
    }
}

/// Whether the body is `Content-Encoding: gzip`.
pub fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
}

/// Reads the whole body as sent (still compressed), refusing more than
/// `max_bytes` (0: no limit) and giving up after `deadline` (zero: no
/// limit).
pub async fn read_raw(body: Body, max_bytes: u64, deadline: Duration) -> Result<Bytes, HttpError> {
    let read = axum::body::to_bytes(body, body_limit(max_bytes));
    let read = if deadline.is_zero() {
        read.await
    } else {
        match tokio::time::timeout(deadline, read).await {
            Ok(r) => r,
            // The rest of the body is never read: hyper closes the
            // connection after the answer.
            Err(_) => return Err(HttpError::new(StatusCode::REQUEST_TIMEOUT, TOO_SLOW)),
        }
    };
    read.map_err(|e| {
        if is_length_limit(&e) {
            HttpError::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE)
        } else {
            HttpError::bad_request(e.to_string())
        }
    })
}

/// [`read_raw`], then decompressed if gzipped (on the blocking pool).
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    max_bytes: u64,
    deadline: Duration,
) -> Result<Bytes, HttpError> {
    let raw = read_raw(body, max_bytes, deadline).await?;
    if !is_gzip(headers) {
        return Ok(raw);
    }
    let limit = body_limit(max_bytes);
    tokio::task::spawn_blocking(move || gunzip(&raw, limit))
        .await
        .map_err(|e| HttpError::internal(e.to_string()))?
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if s.to_string().contains("length limit exceeded") {
            return true;
        }
        src = s.source();
    }
    false
}

/// Decompresses a gzipped body, refusing more than `limit` bytes out.
pub fn gunzip(raw: &[u8], limit: usize) -> Result<Bytes, HttpError> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4).min(limit.min(64 << 20)));
    let decoder = flate2::read::MultiGzDecoder::new(raw);
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| HttpError::bad_request(gzip_error_text(&e)))?;
    if out.len() > limit {
        return Err(HttpError::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE));
    }
    Ok(Bytes::from(out))
}

/// Go's gzip reader reports a truncated stream as `unexpected EOF` and a bad
/// header as `gzip: invalid header`; clients match on these.
fn gzip_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "unexpected EOF".to_string(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            "gzip: invalid header".to_string()
        }
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gunzip_round_trip_and_limit() {
        let data = vec![b'x'; 10_000];
        assert_eq!(gunzip(&gz(&data), 10_000).unwrap().len(), 10_000);
        let err = gunzip(&gz(&data), 9_999).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn broken_gzip_is_a_bad_request() {
        let err = gunzip(b"cpu v=1", 1000).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        let mut truncated = gz(b"cpu v=1 1");
        truncated.truncate(truncated.len() - 6);
        let err = gunzip(&truncated, 1000).unwrap_err();
        assert_eq!(err.message, "unexpected EOF");
    }
}
