//! The checker: compares a recorded history with what a server returned.
//! Pure (no I/O), so it is tested on planted histories directly.

use super::{Entry, Observed, Outcome, Point};
use std::collections::HashMap;
use std::fmt;

/// How many examples of each anomaly [`Report`]'s Display prints.
const EXAMPLES: usize = 10;

/// Result of [`check`]. Valid iff every anomaly list is empty.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Points recorded per outcome.
    pub acknowledged: usize,
    pub failed: usize,
    pub unknown: usize,
    /// Points read back.
    pub observed: usize,
    /// Acknowledged but not read back (must be empty).
    pub lost: Vec<Point>,
    /// Read back, but no write of that series/field/time was ever recorded.
    pub unexpected: Vec<Observed>,
    /// Read back with a value that no recorded write of that key had.
    pub wrong_value: Vec<Observed>,
    /// Read back more than once (the observation and how often).
    pub duplicates: Vec<(Observed, usize)>,
    /// Read back although only definitely-failed writes carried that value.
    pub failed_present: Vec<Point>,
    /// Unknown-outcome points found / not found (information, not errors).
    pub unknown_present: usize,
    pub unknown_absent: usize,
}

impl Report {
    /// No anomaly at all.
    pub fn is_valid(&self) -> bool {
        self.lost.is_empty()
            && self.unexpected.is_empty()
            && self.wrong_value.is_empty()
            && self.duplicates.is_empty()
            && self.failed_present.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: recorded {} acknowledged, {} failed, {} unknown points; read back {}",
            if self.is_valid() { "valid" } else { "INVALID" },
            self.acknowledged,
            self.failed,
            self.unknown,
            self.observed
        )?;
        writeln!(
            f,
            "  lost {}, unexpected {}, wrong value {}, duplicates {}, failed-but-present {}; unknown present {} / absent {}",
            self.lost.len(),
            self.unexpected.len(),
            self.wrong_value.len(),
            self.duplicates.len(),
            self.failed_present.len(),
            self.unknown_present,
            self.unknown_absent
        )?;
        for p in self.lost.iter().take(EXAMPLES) {
            writeln!(f, "  lost: {}", p.to_line())?;
        }
        for o in self.unexpected.iter().take(EXAMPLES) {
            writeln!(f, "  unexpected: {o}")?;
        }
        for o in self.wrong_value.iter().take(EXAMPLES) {
            writeln!(f, "  wrong value: {o}")?;
        }
        for (o, n) in self.duplicates.iter().take(EXAMPLES) {
            writeln!(f, "  duplicate x{n}: {o}")?;
        }
        for p in self.failed_present.iter().take(EXAMPLES) {
            writeln!(f, "  failed but present: {}", p.to_line())?;
        }
        Ok(())
    }
}

type Key = (String, String, i64);

/// Checks `observed` (everything read back) against the recorded `entries`.
pub fn check(entries: &[Entry], observed: &[Observed]) -> Report {
    let mut r = Report {
        observed: observed.len(),
        ..Report::default()
    };
    // Every recorded write of each key: (value, outcome).
    let mut written: HashMap<Key, Vec<(i64, Outcome)>> = HashMap::new();
    for e in entries {
        for p in &e.points {
            match e.outcome {
                Outcome::Acknowledged => r.acknowledged += 1,
                Outcome::Failed => r.failed += 1,
                Outcome::Unknown => r.unknown += 1,
            }
            written
                .entry(p.key())
                .or_default()
                .push((p.value, e.outcome));
        }
    }
    let mut seen: HashMap<Key, Vec<&Observed>> = HashMap::new();
    for o in observed {
        seen.entry(o.key()).or_default().push(o);
    }
    for (key, obs) in &seen {
        if obs.len() > 1 {
            r.duplicates.push((obs[0].clone(), obs.len()));
        }
        let Some(writes) = written.get(key) else {
            r.unexpected.extend(obs.iter().map(|o| (*o).clone()));
            continue;
        };
        for o in obs {
            let matching: Vec<Outcome> = writes
                .iter()
                .filter(|(v, _)| Some(*v) == o.value.as_i64())
                .map(|(_, oc)| *oc)
                .collect();
            if matching.is_empty() {
                r.wrong_value.push((*o).clone());
            } else if matching.iter().all(|oc| *oc == Outcome::Failed) {
                r.failed_present.push(Point {
                    series: o.series.clone(),
                    field: o.field.clone(),
                    time: o.time,
                    value: o.value.as_i64().unwrap_or_default(),
                });
            }
        }
    }
    for e in entries {
        for p in &e.points {
            let present = seen.contains_key(&p.key());
            match (e.outcome, present) {
                (Outcome::Acknowledged, false) => r.lost.push(p.clone()),
                (Outcome::Unknown, true) => r.unknown_present += 1,
                (Outcome::Unknown, false) => r.unknown_absent += 1,
                _ => {}
            }
        }
    }
    r.lost.sort();
    r.unexpected.sort_by_key(Observed::key);
    r.wrong_value.sort_by_key(Observed::key);
    r.duplicates.sort_by_key(|d| d.0.key());
    r.failed_present.sort();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(t: i64, v: i64) -> Point {
        Point::new("m", &[("host", "a")], "v", t, v)
    }

    fn obs(t: i64, v: i64) -> Observed {
        Observed {
            series: "m,host=a".into(),
            field: "v".into(),
            time: t,
            value: json!(v),
        }
    }

    fn entry(points: Vec<Point>, outcome: Outcome) -> Entry {
        Entry {
            request: 0,
            points,
            outcome,
            detail: String::new(),
        }
    }

    #[test]
    fn clean_history_is_valid() {
        let e = vec![
            entry(vec![p(1, 1), p(2, 2)], Outcome::Acknowledged),
            entry(vec![p(3, 3)], Outcome::Unknown),
            entry(vec![p(4, 4)], Outcome::Failed),
        ];
        let r = check(&e, &[obs(1, 1), obs(2, 2), obs(3, 3)]);
        assert!(r.is_valid(), "{r}");
        assert_eq!(
            (r.acknowledged, r.failed, r.unknown, r.observed),
            (2, 1, 1, 3)
        );
        assert_eq!((r.unknown_present, r.unknown_absent), (1, 0));
    }

    #[test]
    fn flags_every_anomaly() {
        let e = vec![
            entry(vec![p(1, 1), p(2, 2)], Outcome::Acknowledged),
            entry(vec![p(4, 4)], Outcome::Failed),
        ];
        let r = check(
            &e,
            &[obs(1, 1), obs(1, 1), obs(9, 9), obs(4, 4), obs(2, 77)],
        );
        assert!(!r.is_valid());
        assert!(r.lost.is_empty(), "t=2 is there, with a wrong value");
        assert_eq!(r.duplicates.len(), 1);
        assert_eq!(r.duplicates[0].1, 2);
        assert_eq!(r.unexpected, vec![obs(9, 9)]);
        assert_eq!(r.wrong_value, vec![obs(2, 77)]);
        assert_eq!(r.failed_present, vec![p(4, 4)]);
        let text = r.to_string();
        assert!(
            text.contains("INVALID") && text.contains("duplicate x2"),
            "{text}"
        );
    }

    #[test]
    fn planted_lost_write_is_reported() {
        let e = vec![entry(vec![p(1, 1), p(2, 2)], Outcome::Acknowledged)];
        let r = check(&e, &[obs(1, 1)]);
        assert_eq!(r.lost, vec![p(2, 2)]);
        assert!(r.to_string().contains("lost: m,host=a v=2i 2"), "{r}");
    }

    #[test]
    fn overwrite_by_a_later_write_of_the_same_key_is_fine() {
        let e = vec![
            entry(vec![p(1, 1)], Outcome::Acknowledged),
            entry(vec![p(1, 2)], Outcome::Unknown),
        ];
        assert!(check(&e, &[obs(1, 2)]).is_valid());
    }
}
