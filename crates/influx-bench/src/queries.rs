//! The TSBS devops query types, with InfluxQL text exactly as TSBS's influx
//! query generator writes it (random host sets and time windows drawn from
//! a per-type deterministic stream). Owns query text only, not execution.

use crate::rng::Rng;
use crate::timefmt::{format_rfc3339, NS_PER_SEC};
use crate::workload::{Spec, CPU_FIELDS};

const HOUR_NS: i64 = 3600 * NS_PER_SEC;

/// One TSBS devops query type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryType {
    pub name: &'static str,
    /// Hours of data the window needs (the dataset must be longer).
    pub hours: i64,
    /// Hosts the query needs.
    pub hosts: u64,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SingleGroupby {
        metrics: usize,
        hosts: usize,
        hours: i64,
    },
    MaxAll {
        hosts: usize,
    },
    DoubleGroupby {
        metrics: usize,
    },
    HighCpu {
        hosts: usize,
    },
    Lastpoint,
    GroupbyOrderbyLimit,
}

const fn qt(name: &'static str, hours: i64, hosts: u64, kind: Kind) -> QueryType {
    QueryType {
        name,
        hours,
        hosts,
        kind,
    }
}

/// All 15 types in TSBS's order.
pub const ALL: [QueryType; 15] = [
    qt(
        "single-groupby-1-1-1",
        1,
        1,
        Kind::SingleGroupby {
            metrics: 1,
            hosts: 1,
            hours: 1,
        },
    ),
    qt(
        "single-groupby-1-1-12",
        12,
        1,
        Kind::SingleGroupby {
            metrics: 1,
            hosts: 1,
            hours: 12,
        },
    ),
    qt(
        "single-groupby-1-8-1",
        1,
        8,
        Kind::SingleGroupby {
            metrics: 1,
            hosts: 8,
            hours: 1,
        },
    ),
    qt(
        "single-groupby-5-1-1",
        1,
        1,
        Kind::SingleGroupby {
            metrics: 5,
            hosts: 1,
            hours: 1,
        },
    ),
    qt(
        "single-groupby-5-1-12",
        12,
        1,
        Kind::SingleGroupby {
            metrics: 5,
            hosts: 1,
            hours: 12,
        },
    ),
    qt(
        "single-groupby-5-8-1",
        1,
        8,
        Kind::SingleGroupby {
            metrics: 5,
            hosts: 8,
            hours: 1,
        },
    ),
    qt("cpu-max-all-1", 8, 1, Kind::MaxAll { hosts: 1 }),
    qt("cpu-max-all-8", 8, 8, Kind::MaxAll { hosts: 8 }),
    qt(
        "double-groupby-1",
        12,
        1,
        Kind::DoubleGroupby { metrics: 1 },
    ),
    qt(
        "double-groupby-5",
        12,
        1,
        Kind::DoubleGroupby { metrics: 5 },
    ),
    qt(
        "double-groupby-all",
        12,
        1,
        Kind::DoubleGroupby { metrics: 10 },
    ),
    qt("high-cpu-1", 12, 1, Kind::HighCpu { hosts: 1 }),
    qt("high-cpu-all", 12, 1, Kind::HighCpu { hosts: 0 }),
    qt("lastpoint", 0, 1, Kind::Lastpoint),
    qt("groupby-orderby-limit", 1, 1, Kind::GroupbyOrderbyLimit),
];

/// Looks a type up by name.
pub fn by_name(name: &str) -> Option<QueryType> {
    ALL.iter().copied().find(|q| q.name == name)
}

impl QueryType {
    /// Whether the dataset is big enough for this type (as TSBS requires:
    /// strictly more data than the window, enough hosts).
    pub fn fits(&self, spec: &Spec) -> bool {
        spec.duration_s > self.hours * 3600 && spec.scale >= self.hosts
    }

    /// `count` queries of this type for `spec`, from a stream seeded by
    /// `seed` and the type's name (so choosing a subset of types changes
    /// nothing).
    pub fn generate(&self, spec: &Spec, seed: u64, count: usize) -> Vec<String> {
        let mut g = Gen {
            rng: Rng::with_label(seed, self.name),
            spec,
        };
        (0..count).map(|_| g.build(self.kind)).collect()
    }
}

struct Gen<'a> {
    rng: Rng,
    spec: &'a Spec,
}

impl Gen<'_> {
    /// A random window of `dur_ns` inside the dataset, as RFC 3339 bounds.
    fn window(&mut self, dur_ns: i64) -> (String, String) {
        let lower = self.spec.start_ns;
        let upper = self.spec.end_ns() - dur_ns;
        let span = (upper - lower).max(1) as u64;
        let s = lower + self.rng.below(span) as i64;
        (format_rfc3339(s), format_rfc3339(s + dur_ns))
    }

    /// `(hostname = 'host_3' or hostname = 'host_9')` with distinct hosts.
    fn hosts_where(&mut self, n: usize) -> String {
        let n = n.min(self.spec.scale as usize);
        let mut picked: Vec<u64> = Vec::with_capacity(n);
        while picked.len() < n {
            let k = self.rng.below(self.spec.scale);
            if !picked.contains(&k) {
                picked.push(k);
            }
        }
        let parts: Vec<String> = picked
            .iter()
            .map(|k| format!("hostname = 'host_{k}'"))
            .collect();
        format!("({})", parts.join(" or "))
    }

    fn select(agg: &str, metrics: usize, sep: &str) -> String {
        CPU_FIELDS[..metrics]
            .iter()
            .map(|m| format!("{agg}({m})"))
            .collect::<Vec<_>>()
            .join(sep)
    }

    fn build(&mut self, kind: Kind) -> String {
        match kind {
            Kind::SingleGroupby {
                metrics,
                hosts,
                hours,
            } => {
                let (s, e) = self.window(hours * HOUR_NS);
                let w = self.hosts_where(hosts);
                format!(
                    "SELECT {} from cpu where {w} and time >= '{s}' and time < '{e}' group by time(1m)",
                    Self::select("max", metrics, ", ")
                )
            }
            Kind::MaxAll { hosts } => {
                let (s, e) = self.window(8 * HOUR_NS);
                let w = self.hosts_where(hosts);
                format!(
                    "SELECT {} from cpu where {w} and time >= '{s}' and time < '{e}' group by time(1h)",
                    Self::select("max", CPU_FIELDS.len(), ",")
                )
            }
            Kind::DoubleGroupby { metrics } => {
                let (s, e) = self.window(12 * HOUR_NS);
                format!(
                    "SELECT {} from cpu where time >= '{s}' and time < '{e}' group by time(1h),hostname",
                    Self::select("mean", metrics, ", ")
                )
            }
            Kind::HighCpu { hosts } => {
                let (s, e) = self.window(12 * HOUR_NS);
                let w = if hosts == 0 {
                    String::new()
                } else {
                    format!("and {}", self.hosts_where(hosts))
                };
                format!("SELECT * from cpu where usage_user > 90.0 {w} and time >= '{s}' and time < '{e}'")
            }
            Kind::Lastpoint => {
                "SELECT * from cpu group by \"hostname\" order by time desc limit 1".to_string()
            }
            Kind::GroupbyOrderbyLimit => {
                let (_, e) = self.window(HOUR_NS);
                format!(
                    "SELECT max(usage_user) from cpu WHERE time < '{e}' group by time(1m) limit 5"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec {
            scale: 100,
            duration_s: 86_400,
            start_ns: 1_451_606_400 * NS_PER_SEC,
            interval_s: 10,
            seed: 1,
        }
    }

    fn one(name: &str) -> String {
        by_name(name).unwrap().generate(&spec(), 7, 1).remove(0)
    }

    fn strip_times(q: &str) -> String {
        let mut out = String::new();
        let mut rest = q;
        while let Some(i) = rest.find("'2016-") {
            out.push_str(&rest[..i]);
            out.push_str("'T'");
            rest = &rest[i + 22..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn text_matches_tsbs() {
        let q = one("single-groupby-5-8-1");
        assert!(q.starts_with("SELECT max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait) from cpu where (hostname = 'host_"), "{q}");
        assert_eq!(q.matches(" or ").count(), 7);
        assert!(q.ends_with("' group by time(1m)"), "{q}");
        let q = one("cpu-max-all-1");
        assert!(strip_times(&q).starts_with("SELECT max(usage_user),max(usage_system),max(usage_idle),max(usage_nice),max(usage_iowait),max(usage_irq),max(usage_softirq),max(usage_steal),max(usage_guest),max(usage_guest_nice) from cpu where (hostname = 'host_"), "{q}");
        assert!(q.ends_with("' group by time(1h)"));
        assert_eq!(
            strip_times(&one("double-groupby-1")),
            "SELECT mean(usage_user) from cpu where time >= 'T' and time < 'T' group by time(1h),hostname"
        );
        assert_eq!(
            strip_times(&one("high-cpu-all")),
            "SELECT * from cpu where usage_user > 90.0  and time >= 'T' and time < 'T'"
        );
        assert!(one("high-cpu-1")
            .starts_with("SELECT * from cpu where usage_user > 90.0 and (hostname = 'host_"));
        assert_eq!(
            one("lastpoint"),
            "SELECT * from cpu group by \"hostname\" order by time desc limit 1"
        );
        assert_eq!(
            strip_times(&one("groupby-orderby-limit")),
            "SELECT max(usage_user) from cpu WHERE time < 'T' group by time(1m) limit 5"
        );
    }

    #[test]
    fn windows_have_the_right_length_and_stay_inside() {
        for q in by_name("single-groupby-1-1-12")
            .unwrap()
            .generate(&spec(), 3, 50)
        {
            let times: Vec<i64> = q
                .split('\'')
                .filter(|p| p.starts_with("2016-"))
                .map(|p| crate::timefmt::parse_rfc3339(p).unwrap())
                .collect();
            assert_eq!(times.len(), 2, "{q}");
            assert_eq!(times[1] - times[0], 12 * HOUR_NS);
            assert!(times[0] >= spec().start_ns && times[1] <= spec().end_ns());
        }
    }

    #[test]
    fn deterministic_per_type_and_hosts_distinct() {
        let t = by_name("single-groupby-1-8-1").unwrap();
        assert_eq!(t.generate(&spec(), 9, 5), t.generate(&spec(), 9, 5));
        assert_ne!(t.generate(&spec(), 9, 5), t.generate(&spec(), 10, 5));
        for q in t.generate(&spec(), 9, 20) {
            let mut hosts: Vec<&str> = q.split('\'').filter(|p| p.starts_with("host_")).collect();
            hosts.sort();
            hosts.dedup();
            assert_eq!(hosts.len(), 8, "{q}");
        }
    }

    #[test]
    fn fits_needs_enough_data_and_hosts() {
        let mut s = spec();
        s.duration_s = 12 * 3600;
        assert!(
            !by_name("double-groupby-1").unwrap().fits(&s),
            "needs more than 12h"
        );
        assert!(by_name("cpu-max-all-8").unwrap().fits(&s));
        s.scale = 4;
        assert!(!by_name("cpu-max-all-8").unwrap().fits(&s));
        assert_eq!(ALL.len(), 15);
    }
}
