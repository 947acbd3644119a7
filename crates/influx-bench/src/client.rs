//! HTTP to an InfluxDB 1.x-compatible server: `/ping`, `/write` (optionally
//! gzip'd bodies) and `/query`. Keep-alive connections via `ureq`; one
//! [`Server`] per thread keeps one connection per worker. Non-2xx answers
//! are returned, not errors; only transport failures are errors.

use crate::error::{Error, Result};
use std::io::Read;
use std::time::Duration;

/// A connection pool to one server.
#[derive(Debug, Clone)]
pub struct Server {
    base: String,
    agent: ureq::Agent,
    auth: String,
    timeout: Duration,
}

/// Status and body of a response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub version: Option<String>,
}

impl Server {
    /// `url` is `http://host:port`; `auth` is (username, password).
    pub fn new(url: &str, timeout: Duration, auth: Option<(&str, &str)>) -> Result<Server> {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(Error::Invalid {
                what: "URL",
                value: url.into(),
                hint: "use http://host:port",
            });
        }
        let auth = auth
            .map(|(u, p)| format!("&u={}&p={}", encode(u), encode(p)))
            .unwrap_or_default();
        Ok(Server {
            base: url.trim_end_matches('/').to_string(),
            agent: Server::agent(timeout),
            auth,
            timeout,
        })
    }

    fn agent(timeout: Duration) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into()
    }

    /// A copy with its own connection pool (one per worker thread).
    pub fn fresh(&self) -> Server {
        Server {
            agent: Server::agent(self.timeout),
            ..self.clone()
        }
    }

    /// `GET /ping`; the reply carries `X-Influxdb-Version`.
    pub fn ping(&self) -> Result<Reply> {
        let url = format!("{}/ping", self.base);
        let r = self.agent.get(&url).call();
        finish("GET", url, r)
    }

    /// `POST /write?db=..&<params>` with a line-protocol body.
    pub fn write(&self, db: &str, params: &str, body: &[u8], gzip: bool) -> Result<Reply> {
        let url = format!(
            "{}/write?db={}{}{}",
            self.base,
            encode(db),
            params,
            self.auth
        );
        let mut req = self
            .agent
            .post(&url)
            .header("Content-Type", "text/plain; charset=utf-8");
        if gzip {
            req = req.header("Content-Encoding", "gzip");
        }
        finish("POST", url, req.send(body))
    }

    /// `POST /query?q=..[&db=..]`.
    pub fn query(&self, db: Option<&str>, q: &str) -> Result<Reply> {
        let mut url = format!("{}/query?q={}", self.base, encode(q));
        if let Some(db) = db {
            url.push_str("&db=");
            url.push_str(&encode(db));
        }
        url.push_str(&self.auth);
        let r = self.agent.post(&url).send(&[][..]);
        finish("POST", url, r)
    }

    /// Runs an administrative statement; any error (status or in the JSON) fails.
    pub fn admin(&self, q: &str) -> Result<()> {
        let r = self.query(None, q)?;
        if r.status != 200 || r.body.contains("\"error\"") {
            return Err(Error::Server {
                what: q.to_string(),
                status: r.status,
                body: r.body,
            });
        }
        Ok(())
    }
}

fn finish(
    method: &'static str,
    url: String,
    r: std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Reply> {
    let mut resp = r.map_err(|e| Error::Http {
        method,
        url: url.clone(),
        message: e.to_string(),
    })?;
    let status = resp.status().as_u16();
    let version = resp
        .headers()
        .get("X-Influxdb-Version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    resp.body_mut()
        .as_reader()
        .read_to_end(&mut body)
        .map_err(|e| Error::Http {
            method,
            url,
            message: format!("reading body: {e}"),
        })?;
    Ok(Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
        version,
    })
}

/// Form-encodes a query-string value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Number of rows in a `/query` JSON body, or the first error in it.
pub fn count_rows(body: &str) -> std::result::Result<u64, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("bad JSON ({e})"))?;
    if let Some(e) = v.get("error") {
        return Err(e.to_string());
    }
    let mut rows = 0;
    for r in v["results"].as_array().into_iter().flatten() {
        if let Some(e) = r.get("error") {
            return Err(e.to_string());
        }
        for s in r["series"].as_array().into_iter().flatten() {
            rows += s["values"].as_array().map_or(0, |a| a.len() as u64);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_errors() {
        assert_eq!(
            count_rows(
                r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","x"],"values":[[1,2],[3,4]]},{"name":"cpu","values":[[5,6]]}]}]}"#
            ),
            Ok(3)
        );
        assert_eq!(count_rows(r#"{"results":[{"statement_id":0}]}"#), Ok(0));
        assert!(
            count_rows(r#"{"results":[{"statement_id":0,"error":"boom"}]}"#)
                .unwrap_err()
                .contains("boom")
        );
        assert!(count_rows("nope").is_err());
    }

    #[test]
    fn rejects_non_http_urls() {
        assert!(Server::new("127.0.0.1:8086", Duration::from_secs(1), None).is_err());
        assert!(Server::new("http://127.0.0.1:8086/", Duration::from_secs(1), None).is_ok());
    }
}
