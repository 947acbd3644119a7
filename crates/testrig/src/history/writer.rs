//! A `/write` client that records every request and its outcome in a
//! [`History`]. Owns the mapping from HTTP results to outcomes.

use super::{History, Outcome, Point};
use crate::http::{HttpClient, Reply};
use crate::{Error, Result};
use std::time::Duration;

/// Writes points to one server and records each request in a history.
#[derive(Debug, Clone)]
pub struct RecordingWriter {
    client: HttpClient,
    db: String,
    params: String,
    history: History,
}

impl RecordingWriter {
    /// Writes to `base_url` (`http://127.0.0.1:8086`), database `db`, with a
    /// 10 s request timeout.
    pub fn new(base_url: &str, db: &str, history: History) -> RecordingWriter {
        RecordingWriter {
            client: HttpClient::new(base_url, Duration::from_secs(10)),
            db: db.into(),
            params: "precision=ns".into(),
            history,
        }
    }

    /// Overall timeout per request (expiring means outcome `Unknown`).
    pub fn timeout(mut self, timeout: Duration) -> RecordingWriter {
        self.client = HttpClient::new(self.client.base().to_string(), timeout);
        self
    }

    /// Adds `consistency=LEVEL` (any, one, quorum, all) to every write.
    pub fn consistency(mut self, level: &str) -> RecordingWriter {
        self.params.push_str("&consistency=");
        self.params.push_str(&crate::http::encode(level));
        self
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// Sends `points` in one request, records them with the outcome, and
    /// returns the outcome.
    pub fn write(&self, points: Vec<Point>) -> Outcome {
        let body: String = points.iter().map(|p| p.to_line() + "\n").collect();
        let result = self.client.write(&self.db, &self.params, &body);
        let (outcome, detail) = classify(&result);
        self.history.record(points, outcome, detail);
        outcome
    }
}

/// Maps the result of a write request to an outcome and a short detail:
/// 2xx acknowledged; no connection, or a 4xx other than a partial write,
/// failed; everything else (timeouts, resets, 5xx, partial writes) unknown.
pub fn classify(result: &Result<Reply>) -> (Outcome, String) {
    match result {
        Ok(r) if r.is_success() => (Outcome::Acknowledged, r.status.to_string()),
        Ok(r) if (400..500).contains(&r.status) && !r.body.contains("partial write") => {
            (Outcome::Failed, format!("{} {}", r.status, r.body.trim()))
        }
        Ok(r) => (Outcome::Unknown, format!("{} {}", r.status, r.body.trim())),
        Err(Error::Http {
            connect_failed: true,
            message,
            ..
        }) => (Outcome::Failed, message.clone()),
        Err(e) => (Outcome::Unknown, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Result<Reply> {
        Ok(Reply {
            status,
            headers: vec![],
            body: body.into(),
        })
    }

    #[test]
    fn classification() {
        assert_eq!(classify(&reply(204, "")).0, Outcome::Acknowledged);
        assert_eq!(
            classify(&reply(400, r#"{"error":"unable to parse"}"#)).0,
            Outcome::Failed
        );
        assert_eq!(
            classify(&reply(404, r#"{"error":"database not found"}"#)).0,
            Outcome::Failed
        );
        assert_eq!(
            classify(&reply(
                400,
                r#"{"error":"partial write: points beyond retention policy dropped=1"}"#
            ))
            .0,
            Outcome::Unknown
        );
        assert_eq!(
            classify(&reply(500, r#"{"error":"timeout"}"#)).0,
            Outcome::Unknown
        );
        let refused = Err(Error::Http {
            method: "POST".into(),
            url: "u".into(),
            message: "refused".into(),
            connect_failed: true,
        });
        assert_eq!(classify(&refused).0, Outcome::Failed);
        let reset = Err(Error::Http {
            method: "POST".into(),
            url: "u".into(),
            message: "reset".into(),
            connect_failed: false,
        });
        assert_eq!(classify(&reset).0, Outcome::Unknown);
    }

    #[test]
    fn unreachable_server_records_failed() {
        let port = crate::ports::free_port().unwrap();
        let h = History::new();
        let w = RecordingWriter::new(&format!("http://127.0.0.1:{port}"), "db", h.clone());
        let v = h.unique_value();
        assert_eq!(
            w.write(vec![Point::new("m", &[], "v", 1, v)]),
            Outcome::Failed
        );
        assert_eq!(h.count(Outcome::Failed), 1);
    }
}
