//! One blocking HTTP request with ureq: the transport under the Raft RPC
//! client, the follower-to-leader forwarding and [`crate::client`]. Call it
//! from a blocking thread (`spawn_blocking` inside the runtime). Non-2xx
//! answers are returned, not turned into errors.

use std::time::Duration;

/// An agent that reports every HTTP status instead of failing on 4xx/5xx.
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(2)))
            .max_redirects(0)
            .build(),
    )
}

/// Largest reply body read (a whole `/data` document fits many times).
const MAX_REPLY_BYTES: u64 = 1 << 30;

/// A reply: status and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A request that got no answer.
#[derive(Debug, Clone)]
pub struct RequestError {
    pub message: String,
    /// False only when the request certainly never reached the server (no
    /// connection could be made); true when it may have been received and
    /// acted on, so a non-idempotent request must not be resent blindly.
    pub maybe_sent: bool,
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn maybe_sent(e: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    use ureq::Timeout as T;
    match e {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => false,
        ureq::Error::Timeout(T::Resolve | T::Connect) => false,
        ureq::Error::Io(io) => !matches!(
            io.kind(),
            K::ConnectionRefused | K::AddrNotAvailable | K::NotFound
        ),
        _ => true,
    }
}

/// Sends `method url` with an optional JSON body and extra headers; fails
/// only when the server could not be reached or the transfer broke.
pub fn request(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&[u8]>,
    headers: &[(String, String)],
    timeout: Duration,
) -> Result<Reply, RequestError> {
    let resp = if method.eq_ignore_ascii_case("GET") {
        let mut rb = agent.get(url);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb.config().timeout_global(Some(timeout)).build().call()
    } else {
        let mut rb = agent.post(url).header("Content-Type", "application/json");
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb.config()
            .timeout_global(Some(timeout))
            .build()
            .send(body.unwrap_or_default())
    };
    let mut resp = resp.map_err(|e| RequestError {
        message: e.to_string(),
        maybe_sent: maybe_sent(&e),
    })?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_to_vec()
        .map_err(|e| RequestError {
            message: e.to_string(),
            maybe_sent: true,
        })?;
    Ok(Reply { status, body })
}
