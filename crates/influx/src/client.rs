//! HTTP client for the InfluxDB 1.x API (`/ping`, `/query`, `/write`).
//!
//! Owns request construction exactly as the 1.x Go client sends it (POST
//! `/query` with sorted form-encoded parameters, basic auth, user agent),
//! streaming decode of chunked query responses, and the Go-style texts of
//! transport errors. It must not print anything or know about CLI state.

use std::io::Read;
use std::net::ToSocketAddrs;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::response::{self, Response};

/// How to reach the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub host: String,
    pub port: i64,
    pub ssl: bool,
    pub unsafe_ssl: bool,
    pub username: String,
    pub password: String,
    pub user_agent: String,
}

/// One `/query` request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub command: String,
    pub database: String,
    pub retention_policy: String,
    pub chunked: bool,
    pub chunk_size: i64,
    /// `epoch` parameter; empty means RFC3339 timestamps.
    pub epoch: String,
    pub node_id: i64,
}

/// One `/write` request's parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteParams<'a> {
    pub database: &'a str,
    pub retention_policy: &'a str,
    pub precision: &'a str,
    pub consistency: &'a str,
}

/// A connection to one server (cheap to clone: the agent is shared).
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    base: String,
    host: String,
    port: i64,
    username: String,
    password: String,
}

/// `net.JoinHostPort`: brackets IPv6 literals.
pub fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Form-encodes like Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn encode_params(params: &mut [(&str, String)]) -> String {
    params.sort_by(|a, b| a.0.cmp(b.0));
    params
        .iter()
        .map(|(k, v)| format!("{}={}", query_escape(k), query_escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn base64(input: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(input)
}

impl Client {
    /// Builds a client; fails early when `-ssl` is asked for without TLS
    /// support compiled in.
    pub fn new(cfg: &ClientConfig) -> Result<Client> {
        let scheme = if cfg.ssl { "https" } else { "http" };
        if cfg.ssl && !cfg!(feature = "tls") {
            return Err(Error::Usage(
                "this influx binary was built without TLS support; rebuild it with \
                 `cargo build -p influx --features tls` to use -ssl"
                    .to_string(),
            ));
        }
        let builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(cfg.user_agent.as_str())
            .timeout_connect(Some(Duration::from_secs(30)))
            .max_redirects(0);
        #[cfg(feature = "tls")]
        let builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .disable_verification(cfg.unsafe_ssl)
                .build(),
        );
        let agent: ureq::Agent = builder.build().into();
        Ok(Client {
            agent,
            base: format!("{scheme}://{}", join_host_port(&cfg.host, cfg.port)),
            host: cfg.host.clone(),
            port: cfg.port,
            username: cfg.username.clone(),
            password: cfg.password.clone(),
        })
    }

    /// The server address, e.g. `http://localhost:8086`.
    pub fn addr(&self) -> &str {
        &self.base
    }

    /// Replaces the credentials.
    pub fn set_auth(&mut self, username: &str, password: &str) {
        self.username = username.to_string();
        self.password = password.to_string();
    }

    fn auth_header(&self) -> Option<String> {
        if self.username.is_empty() {
            None
        } else {
            Some(format!(
                "Basic {}",
                base64(format!("{}:{}", self.username, self.password).as_bytes())
            ))
        }
    }

    /// Go-style description of a transport error for `METHOD url`.
    fn transport_error(&self, method: &str, url: &str, err: ureq::Error) -> Error {
        let detail = match &err {
            ureq::Error::HostNotFound => format!("dial tcp: lookup {}: no such host", self.host),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                let addr = join_host_port(&self.host, self.port)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| join_host_port(&self.host, self.port));
                format!("dial tcp {addr}: connect: connection refused")
            }
            other => other.to_string(),
        };
        Error::Transport(format!("{method} \"{url}\": {detail}"))
    }

    fn check_port(&self, method: &str, url: &str) -> Result<()> {
        if !(0..=65535).contains(&self.port) {
            return Err(Error::Transport(format!(
                "{method} \"{url}\": dial tcp: address {}: invalid port",
                self.port
            )));
        }
        Ok(())
    }

    /// `GET /ping`: returns the server version header (may be empty).
    pub fn ping(&self) -> Result<String> {
        let url = format!("{}/ping", self.base);
        self.check_port("Get", &url)?;
        let mut req = self.agent.get(&url);
        if let Some(a) = self.auth_header() {
            req = req.header("Authorization", a);
        }
        let mut resp = req
            .call()
            .map_err(|e| self.transport_error("Get", &url, e))?;
        let version = resp
            .headers()
            .get("X-Influxdb-Version")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if resp.status().as_u16() != 204 {
            let mut body = String::new();
            let _ = resp.body_mut().as_reader().read_to_string(&mut body);
            let body = body.trim_end();
            return Err(Error::Server(if body.is_empty() {
                format!(
                    "received status code {} from server",
                    resp.status().as_u16()
                )
            } else {
                body.to_string()
            }));
        }
        Ok(version)
    }

    /// `POST /query`. Chunked responses are decoded as they stream in and
    /// each chunk is passed to `on_chunk` before being appended.
    pub fn query(&self, q: &Query, mut on_chunk: impl FnMut(&Response)) -> Result<Response> {
        let mut params: Vec<(&str, String)> =
            vec![("q", q.command.clone()), ("db", q.database.clone())];
        if !q.retention_policy.is_empty() {
            params.push(("rp", q.retention_policy.clone()));
        }
        if q.chunked {
            params.push(("chunked", "true".to_string()));
            if q.chunk_size > 0 {
                params.push(("chunk_size", q.chunk_size.to_string()));
            }
        }
        if !q.epoch.is_empty() {
            params.push(("epoch", q.epoch.clone()));
        }
        if q.node_id > 0 {
            params.push(("node_id", q.node_id.to_string()));
        }
        let url = format!("{}/query?{}", self.base, encode_params(&mut params));
        self.check_port("Post", &url)?;
        let mut req = self.agent.post(&url);
        if let Some(a) = self.auth_header() {
            req = req.header("Authorization", a);
        }
        let resp = req
            .send_empty()
            .map_err(|e| self.transport_error("Post", &url, e))?;
        let status = resp.status().as_u16();
        let reader = resp.into_body().into_reader();
        let mut response = Response::default();
        if q.chunked {
            response::decode_stream(reader, |chunk| {
                on_chunk(&chunk);
                let stop = chunk.error.is_some();
                response.absorb(chunk);
                if stop {
                    return Err(Error::Protocol(String::new()));
                }
                Ok(())
            })
            .or_else(|e| match e {
                Error::Protocol(m) if m.is_empty() => Ok(()),
                other => Err(other),
            })?;
        } else {
            let mut body = String::new();
            let mut reader = reader;
            reader
                .read_to_string(&mut body)
                .map_err(|e| Error::Transport(e.to_string()))?;
            if !(body.trim().is_empty() && status != 200) {
                response = response::decode(&body)?;
                on_chunk(&response);
            }
        }
        if status != 200 && response.first_error().is_none() {
            return Err(Error::Server(format!(
                "received status code {status} from server"
            )));
        }
        Ok(response)
    }

    /// `POST /write` with line-protocol `body`. A non-2xx answer becomes an
    /// error carrying the raw response body, like the 1.x client.
    pub fn write(&self, body: &str, p: &WriteParams<'_>) -> Result<()> {
        self.write_bytes(body.as_bytes(), p)
    }

    /// [`Client::write`] for a body that may not be UTF-8.
    pub fn write_bytes(&self, body: &[u8], p: &WriteParams<'_>) -> Result<()> {
        let mut params: Vec<(&str, String)> = vec![
            ("db", p.database.to_string()),
            ("rp", p.retention_policy.to_string()),
            ("precision", p.precision.to_string()),
            ("consistency", p.consistency.to_string()),
        ];
        let url = format!("{}/write?{}", self.base, encode_params(&mut params));
        self.check_port("Post", &url)?;
        let mut req = self.agent.post(&url).header("Content-Type", "");
        if let Some(a) = self.auth_header() {
            req = req.header("Authorization", a);
        }
        let mut resp = req
            .send(body)
            .map_err(|e| self.transport_error("Post", &url, e))?;
        let status = resp.status().as_u16();
        if status == 204 || status == 200 {
            return Ok(());
        }
        let mut text = String::new();
        resp.body_mut()
            .as_reader()
            .read_to_string(&mut text)
            .map_err(|e| Error::Transport(e.to_string()))?;
        Err(Error::Server(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go_query_escape() {
        assert_eq!(query_escape("select * from cpu"), "select+%2A+from+cpu");
        assert_eq!(query_escape("a'b\"c;\n"), "a%27b%22c%3B%0A");
        assert_eq!(query_escape("é"), "%C3%A9");
    }

    #[test]
    fn params_are_sorted() {
        let mut p = vec![
            ("q", "x".to_string()),
            ("db", "".to_string()),
            ("chunked", "true".to_string()),
        ];
        assert_eq!(encode_params(&mut p), "chunked=true&db=&q=x");
    }

    #[test]
    fn basic_auth_encoding() {
        assert_eq!(base64(b"bob:pw"), "Ym9iOnB3");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn ssl_without_tls_feature_is_a_clear_error() {
        let cfg = ClientConfig {
            host: "localhost".into(),
            port: 8086,
            ssl: true,
            unsafe_ssl: false,
            username: String::new(),
            password: String::new(),
            user_agent: "t".into(),
        };
        let err = Client::new(&cfg).err().unwrap().to_string();
        assert!(err.contains("--features tls"), "{err}");
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        assert_eq!(join_host_port("::1", 8086), "[::1]:8086");
        assert_eq!(join_host_port("localhost", 8086), "localhost:8086");
    }
}
