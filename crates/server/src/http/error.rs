//! Errors as InfluxDB 1.x returns them over HTTP: a status, a JSON body
//! `{"error":"..."}` and the same text in the `X-Influxdb-Error` header.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    pub status: StatusCode,
    pub message: String,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`).
    headers: Vec<(&'static str, String)>,
}

impl HttpError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header (a lowercase name).
    pub fn with_header(mut self, name: &'static str, value: String) -> HttpError {
        self.headers.push((name, value));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn internal(message: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = super::query::encode_json(&serde_json::json!({ "error": self.message }), false);
        let mut resp = (self.status, [("content-type", "application/json")], body).into_response();
        // Header values cannot hold newlines; InfluxDB sends the first line.
        let first_line = self.message.lines().next().unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(first_line) {
            resp.headers_mut().insert("x-influxdb-error", v);
        }
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut()
                    .insert(axum::http::HeaderName::from_static(name), v);
            }
        }
        resp
    }
}
