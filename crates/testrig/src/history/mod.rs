//! Jepsen-style write histories for fault tests. Clients record every point
//! they sent with the outcome of its request ([`History`]); after the faults
//! heal, everything is read back ([`read_back`]) and [`check`]ed: points
//! that were acknowledged but are missing, points nobody sent, points read
//! twice, and points whose write definitely failed but which exist anyway.
//!
//! Values are integers (`v=17i`) so that what is read back compares exactly.
//! Owns no HTTP beyond what the writer and the read-back need.

mod check;
mod clients;
mod readback;
mod writer;

pub use check::{check, Report};
pub use clients::{Clients, ClientsConfig};
pub use readback::{read_back, Observed};
pub use writer::{classify, RecordingWriter};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Reads back every measurement in `history` from `db` and checks it.
pub fn check_server(
    client: &crate::http::HttpClient,
    db: &str,
    history: &History,
) -> crate::Result<Report> {
    let observed = read_back(client, db, &history.measurements())?;
    Ok(check(&history.entries(), &observed))
}

/// One point as written: series key (`cpu,host=a`, tags sorted, escaped as
/// in line protocol), one integer field, a nanosecond timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Point {
    pub series: String,
    pub field: String,
    pub time: i64,
    pub value: i64,
}

impl Point {
    /// Builds a point; `tags` need not be sorted.
    pub fn new(
        measurement: &str,
        tags: &[(&str, &str)],
        field: &str,
        time: i64,
        value: i64,
    ) -> Point {
        let mut t = tags.to_vec();
        t.sort();
        Point {
            series: models::series_key(measurement, &t),
            field: field.into(),
            time,
            value,
        }
    }

    /// The point as one line of line protocol (nanosecond precision).
    pub fn to_line(&self) -> String {
        let mut field = String::with_capacity(self.field.len());
        for c in self.field.chars() {
            if matches!(c, ',' | '=' | ' ') {
                field.push('\\');
            }
            field.push(c);
        }
        format!("{} {}={}i {}", self.series, field, self.value, self.time)
    }

    /// The measurement part of the series key (unescaped).
    pub fn measurement(&self) -> String {
        models::parse_series_key(&self.series)
            .map(|(m, _)| m)
            .unwrap_or_else(|_| self.series.clone())
    }

    /// Identity of a point in storage: series, field, time.
    pub fn key(&self) -> (String, String, i64) {
        (self.series.clone(), self.field.clone(), self.time)
    }
}

/// What the client learnt about a write request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// 2xx: the server promised the points are stored.
    Acknowledged,
    /// Definitely not applied (connection refused, request rejected whole).
    Failed,
    /// May or may not have been applied (timeout, reset, 5xx, partial write).
    Unknown,
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Request number (order of recording).
    pub request: u64,
    pub points: Vec<Point>,
    pub outcome: Outcome,
    /// Status or error text, for reports.
    pub detail: String,
}

/// A thread-safe, cloneable log of write requests and their outcomes.
#[derive(Debug, Clone, Default)]
pub struct History {
    entries: Arc<Mutex<Vec<Entry>>>,
    next_value: Arc<AtomicU64>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// Records a request's points and outcome; returns its request number.
    pub fn record(&self, points: Vec<Point>, outcome: Outcome, detail: impl Into<String>) -> u64 {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let request = e.len() as u64;
        e.push(Entry {
            request,
            points,
            outcome,
            detail: detail.into(),
        });
        request
    }

    /// A value no other caller of this history gets (1, 2, 3, ...), so each
    /// point written is distinguishable.
    pub fn unique_value(&self) -> i64 {
        self.next_value.fetch_add(1, Ordering::SeqCst) as i64 + 1
    }

    /// A copy of every entry so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Measurements written so far (sorted, unique).
    pub fn measurements(&self) -> Vec<String> {
        let mut m: Vec<String> = self
            .entries()
            .iter()
            .flat_map(|e| e.points.iter().map(Point::measurement))
            .collect();
        m.sort();
        m.dedup();
        m
    }

    /// Points recorded with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.entries()
            .iter()
            .filter(|e| e.outcome == outcome)
            .map(|e| e.points.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_line_and_measurement() {
        let p = Point::new("c p", &[("z", "1"), ("a", "x y")], "f=1", 5, 7);
        assert_eq!(p.series, "c\\ p,a=x\\ y,z=1");
        assert_eq!(p.to_line(), "c\\ p,a=x\\ y,z=1 f\\=1=7i 5");
        assert_eq!(p.measurement(), "c p");
    }

    #[test]
    fn history_counts_and_unique_values() {
        let h = History::new();
        let a = h.unique_value();
        let b = h.clone().unique_value();
        assert_ne!(a, b);
        h.record(
            vec![Point::new("m", &[], "v", 1, a)],
            Outcome::Acknowledged,
            "204",
        );
        h.record(
            vec![Point::new("n", &[], "v", 2, b)],
            Outcome::Unknown,
            "timeout",
        );
        assert_eq!(h.count(Outcome::Acknowledged), 1);
        assert_eq!(h.count(Outcome::Unknown), 1);
        assert_eq!(h.measurements(), vec!["m".to_string(), "n".to_string()]);
    }
}
