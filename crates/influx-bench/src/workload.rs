//! The TSBS "devops cpu-only" dataset: measurement `cpu`, one point per host
//! every interval, tags drawn like TSBS's devops `host.go`, ten float fields
//! that are random walks clamped to [0, 100] (TSBS's
//! `CWD(ND(0,1), 0, 100, U(0,100))`). Points go out epoch by epoch, hosts in
//! id order, as in TSBS's simulator; batches may cross epochs. Deterministic
//! for a given seed. Owns only the data, not how it is sent.

use crate::rng::Rng;
use crate::timefmt::NS_PER_SEC;
use std::fmt::Write as _;

/// The ten `cpu` fields, in TSBS's order.
pub const CPU_FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

const REGIONS: [(&str, &[&str]); 9] = [
    (
        "us-east-1",
        &["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"],
    ),
    ("us-west-1", &["us-west-1a", "us-west-1b"]),
    ("us-west-2", &["us-west-2a", "us-west-2b", "us-west-2c"]),
    ("eu-west-1", &["eu-west-1a", "eu-west-1b", "eu-west-1c"]),
    ("eu-central-1", &["eu-central-1a", "eu-central-1b"]),
    ("ap-southeast-1", &["ap-southeast-1a", "ap-southeast-1b"]),
    ("ap-southeast-2", &["ap-southeast-2a", "ap-southeast-2b"]),
    ("ap-northeast-1", &["ap-northeast-1a", "ap-northeast-1c"]),
    ("sa-east-1", &["sa-east-1a", "sa-east-1b", "sa-east-1c"]),
];
const TEAMS: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
const OSES: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
const ARCHS: [&str; 2] = ["x64", "x86"];
const ENVS: [&str; 3] = ["production", "staging", "test"];
const RACKS: u64 = 100;
const SERVICES: u64 = 20;
const SERVICE_VERSIONS: u64 = 2;

/// Dataset parameters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Spec {
    /// Number of hosts.
    pub scale: u64,
    pub duration_s: i64,
    pub start_ns: i64,
    pub interval_s: i64,
    pub seed: u64,
}

impl Spec {
    /// Number of time steps.
    pub fn epochs(&self) -> u64 {
        (self.duration_s / self.interval_s).max(0) as u64
    }

    pub fn points(&self) -> u64 {
        self.epochs() * self.scale
    }

    pub fn values(&self) -> u64 {
        self.points() * CPU_FIELDS.len() as u64
    }

    pub fn end_ns(&self) -> i64 {
        self.start_ns + self.duration_s * NS_PER_SEC
    }
}

/// Produces the dataset's line protocol in batches.
#[derive(Debug)]
pub struct Generator {
    spec: Spec,
    rng: Rng,
    prefixes: Vec<String>,
    states: Vec<[f64; 10]>,
    epoch: u64,
    host: usize,
}

impl Generator {
    pub fn new(spec: Spec) -> Generator {
        let mut rng = Rng::new(spec.seed);
        let mut prefixes = Vec::with_capacity(spec.scale as usize);
        let mut states = Vec::with_capacity(spec.scale as usize);
        for i in 0..spec.scale {
            let (region, dcs) = *rng.choose(&REGIONS);
            let dc = *rng.choose(dcs);
            let rack = rng.below(RACKS);
            let arch = *rng.choose(&ARCHS);
            let os = *rng.choose(&OSES);
            let service = rng.below(SERVICES);
            let service_version = rng.below(SERVICE_VERSIONS);
            let env = *rng.choose(&ENVS);
            let team = *rng.choose(&TEAMS);
            prefixes.push(format!(
                "cpu,hostname=host_{i},region={region},datacenter={dc},rack={rack},os={os},arch={arch},team={team},service={service},service_version={service_version},service_environment={env} "
            ));
            let mut s = [0.0; 10];
            for v in &mut s {
                *v = rng.unit() * 100.0;
            }
            states.push(s);
        }
        Generator {
            spec,
            rng,
            prefixes,
            states,
            epoch: 0,
            host: 0,
        }
    }

    /// Appends up to `batch_size` lines to `out`; returns how many (0 when
    /// the dataset is exhausted).
    pub fn next_batch(&mut self, batch_size: usize, out: &mut String) -> usize {
        let epochs = self.spec.epochs();
        let mut n = 0;
        while n < batch_size && self.epoch < epochs && !self.prefixes.is_empty() {
            let ts = self.spec.start_ns + self.epoch as i64 * self.spec.interval_s * NS_PER_SEC;
            let h = self.host;
            out.push_str(&self.prefixes[h]);
            for (k, field) in CPU_FIELDS.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                // f64 Display is the shortest round-trip form, never an
                // exponent: the same text as Go's FormatFloat(v, 'f', -1, 64).
                let _ = write!(out, "{field}={}", self.states[h][k]);
            }
            let _ = writeln!(out, " {ts}");
            for v in &mut self.states[h] {
                *v = (*v + self.rng.normal()).clamp(0.0, 100.0);
            }
            n += 1;
            self.host += 1;
            if self.host == self.prefixes.len() {
                self.host = 0;
                self.epoch += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(scale: u64, duration_s: i64) -> Spec {
        Spec {
            scale,
            duration_s,
            start_ns: 1_451_606_400 * NS_PER_SEC,
            interval_s: 10,
            seed: 42,
        }
    }

    fn all(spec: Spec, batch: usize) -> (Vec<usize>, String) {
        let mut g = Generator::new(spec);
        let (mut sizes, mut text) = (Vec::new(), String::new());
        loop {
            let n = g.next_batch(batch, &mut text);
            if n == 0 {
                return (sizes, text);
            }
            sizes.push(n);
        }
    }

    #[test]
    fn shape_and_schema() {
        let s = spec(3, 60);
        assert_eq!((s.epochs(), s.points(), s.values()), (6, 18, 180));
        let (sizes, text) = all(s, 4);
        assert_eq!(sizes, vec![4, 4, 4, 4, 2], "batches cross epochs");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 18);
        // Epoch by epoch, hosts in id order.
        assert!(lines[0].starts_with("cpu,hostname=host_0,region="));
        assert!(lines[1].starts_with("cpu,hostname=host_1,"));
        assert!(lines[3].starts_with("cpu,hostname=host_0,"));
        assert!(lines[0].ends_with(" 1451606400000000000"));
        assert!(lines[3].ends_with(" 1451606410000000000"));
        let tags: Vec<&str> = lines[0]
            .split(' ')
            .next()
            .unwrap()
            .split(',')
            .skip(1)
            .map(|t| t.split('=').next().unwrap())
            .collect();
        assert_eq!(
            tags,
            [
                "hostname",
                "region",
                "datacenter",
                "rack",
                "os",
                "arch",
                "team",
                "service",
                "service_version",
                "service_environment"
            ]
        );
        let fields: Vec<(&str, f64)> = lines[0]
            .split(' ')
            .nth(1)
            .unwrap()
            .split(',')
            .map(|f| {
                let (k, v) = f.split_once('=').unwrap();
                (k, v.parse().unwrap())
            })
            .collect();
        assert_eq!(fields.iter().map(|f| f.0).collect::<Vec<_>>(), CPU_FIELDS);
        assert!(fields.iter().all(|f| (0.0..=100.0).contains(&f.1)));
        assert!(!text.contains("e-") && !text.contains("e+"), "no exponents");
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = all(spec(5, 100), 7).1;
        let b = all(spec(5, 100), 3).1;
        assert_eq!(a, b, "batch size does not change the data");
        let mut other = spec(5, 100);
        other.seed = 43;
        assert_ne!(a, all(other, 7).1);
    }

    #[test]
    fn walks_stay_in_range_and_move_by_small_steps() {
        let text = all(spec(1, 10 * 2000), 1000).1;
        let mut prev: Option<f64> = None;
        for line in text.lines() {
            let v: f64 = line.split(' ').nth(1).unwrap().split(',').next().unwrap()
                ["usage_user=".len()..]
                .parse()
                .unwrap();
            assert!((0.0..=100.0).contains(&v));
            if let Some(p) = prev {
                assert!((v - p).abs() < 6.0, "N(0,1) steps: {p} -> {v}");
            }
            prev = Some(v);
        }
    }

    #[test]
    fn tags_follow_the_tsbs_choices() {
        let text = all(spec(200, 10), 1000).1;
        for line in text.lines() {
            let tags: std::collections::HashMap<&str, &str> = line
                .split(' ')
                .next()
                .unwrap()
                .split(',')
                .skip(1)
                .map(|t| t.split_once('=').unwrap())
                .collect();
            let (region, dcs) = REGIONS.iter().find(|r| r.0 == tags["region"]).unwrap();
            assert_eq!(*region, tags["region"]);
            assert!(dcs.contains(&tags["datacenter"]));
            assert!(tags["rack"].parse::<u64>().unwrap() < 100);
            assert!(tags["service"].parse::<u64>().unwrap() < 20);
            assert!(["0", "1"].contains(&tags["service_version"]));
            assert!(TEAMS.contains(&tags["team"]) && OSES.contains(&tags["os"]));
            assert!(ARCHS.contains(&tags["arch"]) && ENVS.contains(&tags["service_environment"]));
        }
    }
}
