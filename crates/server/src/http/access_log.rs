//! `[http] log-enabled`: one access-log line per request, in the spirit of
//! InfluxDB 1.x's `[httpd]` lines (client, user, request line, status,
//! size, referer, user agent, request id, duration in microseconds), as an
//! `info` event of target `httpd`. Secrets never reach the log: the `p`
//! parameter is printed as `[REDACTED]`, and so is a `q` that mentions a
//! password (CREATE USER, SET PASSWORD).
//!
//! Owns: the line. Must not: change the request or the response.

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use base64::Engine;
use std::net::SocketAddr;
use std::time::Instant;

const REDACTED: &str = "[REDACTED]";

/// What is known of a request before it runs.
pub struct AccessEntry {
    started: Instant,
    client: String,
    user: String,
    request_line: String,
    referer: String,
    agent: String,
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("-")
        .to_string()
}

/// The user a request names (parameter `u` or Basic auth), never its
/// password.
fn user_of(query: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(q) = query {
        if let Some((_, u)) = ::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "u") {
            return u.into_owned();
        }
    }
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|d| String::from_utf8(d).ok())
        .and_then(|t| t.split_once(':').map(|(u, _)| u.to_string()))
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "-".to_string())
}

/// The query string with its secrets replaced.
pub fn redact_query(query: &str) -> String {
    let mut out = ::form_urlencoded::Serializer::new(String::new());
    for (k, v) in ::form_urlencoded::parse(query.as_bytes()) {
        let secret = k == "p" || (k == "q" && v.to_ascii_lowercase().contains("password"));
        out.append_pair(&k, if secret { REDACTED } else { &v });
    }
    out.finish()
}

impl AccessEntry {
    pub fn start(req: &Request) -> AccessEntry {
        let client = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "-".to_string(), |c| c.0.ip().to_string());
        let uri = req.uri();
        let target = match uri.query() {
            Some(q) => format!("{}?{}", uri.path(), redact_query(q)),
            None => uri.path().to_string(),
        };
        AccessEntry {
            started: Instant::now(),
            client,
            user: user_of(uri.query(), req.headers()),
            request_line: format!("{} {} {:?}", req.method(), target, req.version()),
            referer: header(req.headers(), "referer"),
            agent: header(req.headers(), "user-agent"),
        }
    }

    pub fn finish(self, status: u16, response_headers: &HeaderMap, request_id: &str) {
        let size = header(response_headers, "content-length");
        tracing::info!(
            target: "httpd",
            "{} - {} \"{}\" {} {} \"{}\" \"{}\" {} {}",
            self.client,
            self.user,
            self.request_line,
            status,
            size,
            self.referer,
            self.agent,
            request_id,
            self.started.elapsed().as_micros()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn h4_passwords_never_reach_the_access_log() {
        let q = "u=bob&p=s3cret&q=SELECT+1&db=x";
        let r = redact_query(q);
        assert!(!r.contains("s3cret"), "{r}");
        assert!(r.contains("u=bob") && r.contains("q=SELECT+1"), "{r}");
        let r = redact_query("q=CREATE+USER+a+WITH+PASSWORD+%27hunter2%27");
        assert!(!r.contains("hunter2"), "{r}");
        let mut h = HeaderMap::new();
        h.insert("authorization", "Basic Ym9iOnMzY3JldA==".parse().unwrap());
        assert_eq!(user_of(None, &h), "bob");
    }
}
