//! A small blocking HTTP client for the InfluxDB 1.x API (`/ping`, `/write`,
//! `/query`) used by nodes, the history writer and tests. Non-2xx statuses
//! are replies, not errors; only transport failures are errors.

use crate::{Error, Result};
use std::io::Read;
use std::time::Duration;

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.body).map_err(|e| Error::BadResponse {
            url: String::new(),
            message: format!("not JSON ({e}): {}", self.body),
        })
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Talks to one server (`http://host:port`) with keep-alive connections.
#[derive(Debug, Clone)]
pub struct HttpClient {
    base: String,
    agent: ureq::Agent,
}

impl HttpClient {
    /// A client for `base` (no trailing slash) with an overall per-request timeout.
    pub fn new(base: impl Into<String>, timeout: Duration) -> HttpClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        HttpClient {
            base: base.into().trim_end_matches('/').to_string(),
            agent,
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Reply> {
        let url = format!("{}{}", self.base, path);
        let r = self.agent.get(&url).call();
        finish("GET", &url, r)
    }

    /// `POST path` with extra headers and a body.
    pub fn post(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Reply> {
        let url = format!("{}{}", self.base, path);
        let mut req = self.agent.post(&url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        finish("POST", &url, req.send(body))
    }

    /// `GET /ping`.
    pub fn ping(&self) -> Result<Reply> {
        self.get("/ping")
    }

    /// `POST /write?db=DB&<extra>` with a line-protocol body.
    pub fn write(&self, db: &str, extra_params: &str, body: &str) -> Result<Reply> {
        let mut path = format!("/write?db={}", encode(db));
        if !extra_params.is_empty() {
            path.push('&');
            path.push_str(extra_params);
        }
        self.post(&path, &[], body.as_bytes())
    }

    /// `POST /query?q=Q[&db=DB]&<extra>`.
    pub fn query(&self, db: Option<&str>, q: &str, extra_params: &str) -> Result<Reply> {
        let mut path = format!("/query?q={}", encode(q));
        if let Some(db) = db {
            path.push_str("&db=");
            path.push_str(&encode(db));
        }
        if !extra_params.is_empty() {
            path.push('&');
            path.push_str(extra_params);
        }
        self.post(&path, &[], b"")
    }
}

fn finish(
    method: &str,
    url: &str,
    r: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Reply> {
    let mut resp = r.map_err(|e| {
        let connect_failed = match &e {
            ureq::Error::ConnectionFailed => true,
            ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
            _ => false,
        };
        Error::Http {
            method: method.to_string(),
            url: url.to_string(),
            message: e.to_string(),
            connect_failed,
        }
    })?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    resp.body_mut()
        .as_reader()
        .read_to_end(&mut body)
        .map_err(|e| Error::Http {
            method: method.to_string(),
            url: url.to_string(),
            message: format!("reading body: {e}"),
            connect_failed: false,
        })?;
    Ok(Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Form-encodes a query-string value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_bytes() {
        assert_eq!(
            encode("SELECT * FROM \"a b\" WHERE x='&'"),
            "SELECT+*+FROM+%22a+b%22+WHERE+x%3D%27%26%27"
        );
        assert_eq!(encode("é"), "%C3%A9");
    }
}
