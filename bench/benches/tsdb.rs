//! Storage-engine write path: `Shard::write_points` throughput for TSBS
//! devops `cpu` points (10 tags, 10 float fields, 10 s interval, 1000 hosts)
//! in batches of 5000 with `wal_fsync_delay = 0` (every batch is fsynced),
//! plus a one-off report of process CPU time per point and of bytes on disk
//! per value after a full compaction.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use models::{FieldValue, Point};
use tsdb::{EngineConfig, Shard, Store};

const HOSTS: usize = 1000;
const BATCH: usize = 5000;
const FIELDS: [&str; 10] = [
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
const START: i64 = 1_451_606_400_000_000_000;
const STEP: i64 = 10_000_000_000;

/// Generates consecutive TSBS-shaped batches: hosts round-robin, a random
/// walk in [0, 100] per host and field.
struct Gen {
    seed: u64,
    next: usize,
    tags: Vec<Vec<(String, String)>>,
    walk: Vec<[f64; 10]>,
}

impl Gen {
    fn new(hosts: usize) -> Gen {
        const REGIONS: [&str; 3] = ["us-east-1", "eu-central-1", "ap-northeast-1"];
        let tags = (0..hosts)
            .map(|h| {
                let region = REGIONS[h % 3];
                vec![
                    ("arch".into(), "x64".into()),
                    ("datacenter".into(), format!("{region}a")),
                    ("hostname".into(), format!("host_{h}")),
                    ("os".into(), "Ubuntu16.04LTS".into()),
                    ("rack".into(), format!("{}", h % 100)),
                    ("region".into(), region.into()),
                    ("service".into(), format!("{}", h % 20)),
                    ("service_environment".into(), "production".into()),
                    ("service_version".into(), "1".into()),
                    ("team".into(), "NYC".into()),
                ]
            })
            .collect();
        Gen {
            seed: 0x9e37_79b9_7f4a_7c15,
            next: 0,
            tags,
            walk: vec![[50.0; 10]; hosts],
        }
    }

    fn rnd(&mut self) -> f64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn batch(&mut self, n: usize) -> Vec<Point> {
        let hosts = self.tags.len();
        (0..n)
            .map(|_| {
                let i = self.next;
                self.next += 1;
                let h = i % hosts;
                let t = START + (i / hosts) as i64 * STEP;
                let mut fields = Vec::with_capacity(10);
                for (j, f) in FIELDS.iter().enumerate() {
                    let step = self.rnd() * 2.0 - 1.0;
                    let v = (self.walk[h][j] + step).clamp(0.0, 100.0);
                    self.walk[h][j] = v;
                    fields.push((f.to_string(), FieldValue::Float(v)));
                }
                Point::new("cpu".into(), self.tags[h].clone(), fields, t)
            })
            .collect()
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tidemark-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn config(dir: &std::path::Path) -> EngineConfig {
    EngineConfig {
        dir: dir.join("data"),
        wal_dir: dir.join("wal"),
        wal_fsync_delay: Duration::ZERO,
        ..EngineConfig::default()
    }
}

/// User + system CPU time of this process (Linux `/proc/self/stat`, 100 Hz ticks).
fn cpu_time() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// User + system CPU time of the calling thread.
fn thread_cpu_time() -> Duration {
    stat_cpu("/proc/thread-self/stat")
}

fn stat_cpu(path: &str) -> Duration {
    let Ok(s) = std::fs::read_to_string(path) else {
        return Duration::ZERO;
    };
    let after = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn tsm_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            total += tsm_bytes(&p);
        } else if p.extension().is_some_and(|x| x == "tsm") {
            total += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    total
}

/// Writes 1000 hosts × 864 intervals (2.4 h) single-threaded and reports
/// wall/CPU cost per point, then fully compacts and reports bytes per value.
fn report() {
    let dir = temp_dir("report");
    let store = Store::open(config(&dir)).expect("open store");
    let shard: Arc<Shard> = store.create_shard("bench", "autogen", 1).expect("shard");
    let mut g = Gen::new(HOSTS);
    let batches: Vec<Vec<Point>> = (0..HOSTS * 864 / BATCH).map(|_| g.batch(BATCH)).collect();
    let points = (batches.len() * BATCH) as f64;
    let (c0, t0, w0) = (cpu_time(), thread_cpu_time(), Instant::now());
    for b in &batches {
        shard.write_points(b).expect("write");
    }
    let (wall, cpu, tcpu) = (
        w0.elapsed(),
        cpu_time().saturating_sub(c0),
        thread_cpu_time().saturating_sub(t0),
    );
    println!(
        "tsdb report: {} points in {:.2?} = {:.0} points/s, {:.0} values/s (1 writer); CPU {:.2} µs/point in write_points, {:.2} µs/point incl. background snapshots/compactions",
        points,
        wall,
        points / wall.as_secs_f64(),
        points * 10.0 / wall.as_secs_f64(),
        tcpu.as_secs_f64() * 1e6 / points,
        cpu.as_secs_f64() * 1e6 / points
    );
    // concurrent writers share fsyncs
    let per_thread: Vec<Vec<Vec<Point>>> = (0..4).map(|_| (0..20).map(|_| g.batch(BATCH)).collect()).collect();
    let (c0, w0) = (cpu_time(), Instant::now());
    std::thread::scope(|s| {
        for batches in &per_thread {
            let shard = shard.clone();
            s.spawn(move || {
                for b in batches {
                    shard.write_points(b).expect("write");
                }
            });
        }
    });
    let (wall, cpu) = (w0.elapsed(), cpu_time().saturating_sub(c0));
    let n = (4 * 20 * BATCH) as f64;
    println!(
        "tsdb report: 4 writers: {:.0} points/s, {:.0} values/s; CPU {:.2} µs/point",
        n / wall.as_secs_f64(),
        n * 10.0 / wall.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / n
    );
    let t0 = Instant::now();
    shard.flush().expect("flush");
    while shard.compact(true).expect("compact") {}
    let values = (points + n) * 10.0;
    let bytes = tsm_bytes(&dir.join("data"));
    println!(
        "tsdb report: flush + full compaction {:.2?}; {} bytes in data files = {:.2} bytes/value",
        t0.elapsed(),
        bytes,
        bytes as f64 / values
    );
    // read back every series' usage_user from the compacted file
    let series = shard.series("cpu", &tsdb::TagPredicate::True);
    let t0 = Instant::now();
    let mut read = 0usize;
    for s in &series {
        for b in shard.read(s.id, "usage_user", models::TimeRange::ALL).expect("read") {
            read += b.expect("block").times.len();
        }
    }
    let el = t0.elapsed();
    println!(
        "tsdb report: read {} series x 1 field = {} values in {:.2?} = {:.1} M values/s",
        series.len(),
        read,
        el,
        read as f64 / el.as_secs_f64() / 1e6
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

fn bench_write(c: &mut Criterion) {
    let dir = temp_dir("criterion");
    let store = Store::open(config(&dir)).expect("open store");
    let shard = store.create_shard("bench", "autogen", 1).expect("shard");
    let mut g = Gen::new(HOSTS);
    let mut group = c.benchmark_group("tsdb");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(30);
    group.bench_function("write_points/tsbs_cpu_batch5000_fsync", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let batch = g.batch(BATCH);
                let t = Instant::now();
                shard.write_points(&batch).expect("write");
                total += t.elapsed();
            }
            total
        })
    });
    group.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    report();
    let mut c = Criterion::default().configure_from_args();
    bench_write(&mut c);
    c.final_summary();
}
