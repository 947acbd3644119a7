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

/// A reply: status and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
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
) -> Result<Reply, String> {
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
    let mut resp = resp.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    Ok(Reply { status, body })
}
