//! The load phase: the dataset cut into batches (pre-built before the clock
//! starts, or generated while loading with `stream`), posted to `/write` by
//! N concurrent keep-alive writers as fast as the server acknowledges them.
//! Retries what TSBS's loader retries (its backoff messages, 5xx, transport
//! errors); a 4xx is an error and is not retried.

use crate::client::Server;
use crate::error::Result;
use crate::progress::Progress;
use crate::stats::Summary;
use crate::workload::{Generator, Spec, CPU_FIELDS};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Messages that mean "slow down and retry" (as TSBS's influx loader).
const BACKOFF_WORDS: [&str; 4] = [
    "cache maximum memory size exceeded",
    "hinted handoff queue not empty",
    "timeout",
    "max connections",
];

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub db: String,
    pub workers: usize,
    pub batch_size: usize,
    pub gzip: bool,
    pub consistency: Option<String>,
    pub max_retries: u32,
    /// Generate while loading instead of before.
    pub stream: bool,
}

/// What the load achieved.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub workers: usize,
    pub batch_size: usize,
    pub gzip: bool,
    pub consistency: Option<String>,
    pub points: u64,
    pub values: u64,
    pub batches: u64,
    pub raw_bytes: u64,
    pub sent_bytes: u64,
    /// Seconds spent building bodies before the clock started (0 when streaming).
    pub prepare_s: f64,
    pub wall_s: f64,
    pub points_per_s: f64,
    pub values_per_s: f64,
    /// Per-batch `/write` latency (successful attempts).
    pub batch_latency: Summary,
    /// Batches that failed for good.
    pub errors: u64,
    pub retries: u64,
    pub first_error: Option<String>,
    /// `count(usage_user)` after the load, if it could be read.
    pub visible_points: Option<u64>,
}

struct Body {
    lines: u64,
    raw_len: u64,
    data: Vec<u8>,
}

fn build(raw: String, lines: usize, gzip: bool) -> Body {
    let raw_len = raw.len() as u64;
    let data = if gzip {
        let mut enc = GzEncoder::new(Vec::with_capacity(raw.len() / 6), Compression::default());
        // Writing into a Vec cannot fail.
        let _ = enc.write_all(raw.as_bytes());
        enc.finish().unwrap_or_default()
    } else {
        raw.into_bytes()
    };
    Body {
        lines: lines as u64,
        raw_len,
        data,
    }
}

/// Builds every batch body up front: generation is sequential (one random
/// stream), compression runs on all cores.
fn prebuild(spec: &Spec, opts: &LoadOptions) -> Vec<Body> {
    let mut gen = Generator::new(spec.clone());
    let mut raws = Vec::new();
    loop {
        let mut s = String::with_capacity(opts.batch_size * 260);
        let n = gen.next_batch(opts.batch_size, &mut s);
        if n == 0 {
            break;
        }
        raws.push((s, n));
    }
    if !opts.gzip {
        return raws.into_iter().map(|(s, n)| build(s, n, false)).collect();
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let slots: Vec<Mutex<Option<(String, usize)>>> =
        raws.into_iter().map(|r| Mutex::new(Some(r))).collect();
    let next = AtomicUsize::new(0);
    let out: Vec<Mutex<Option<Body>>> = (0..slots.len()).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = slots.get(i) else { return };
                let taken = slot.lock().map(|mut g| g.take()).ok().flatten();
                if let Some((raw, n)) = taken {
                    if let Ok(mut o) = out[i].lock() {
                        *o = Some(build(raw, n, true));
                    }
                }
            });
        }
    });
    out.into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

#[derive(Default)]
struct Shared {
    latencies: Mutex<Vec<Duration>>,
    errors: AtomicU64,
    retries: AtomicU64,
    points_done: Arc<AtomicU64>,
    sent_bytes: AtomicU64,
    raw_bytes: AtomicU64,
    batches: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Shared {
    fn error(&self, e: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut f) = self.first_error.lock() {
            f.get_or_insert(e);
        }
    }
}

/// Sends one body, retrying as TSBS does.
fn send(server: &Server, opts: &LoadOptions, params: &str, body: &Body, shared: &Shared) {
    let mut attempt = 0;
    loop {
        let t = Instant::now();
        let r = server.write(&opts.db, params, &body.data, opts.gzip);
        let elapsed = t.elapsed();
        let retry_reason = match r {
            Ok(rep) if (200..300).contains(&rep.status) => {
                if let Ok(mut l) = shared.latencies.lock() {
                    l.push(elapsed);
                }
                shared.points_done.fetch_add(body.lines, Ordering::Relaxed);
                shared
                    .sent_bytes
                    .fetch_add(body.data.len() as u64, Ordering::Relaxed);
                shared.raw_bytes.fetch_add(body.raw_len, Ordering::Relaxed);
                shared.batches.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(rep) if rep.status >= 500 || BACKOFF_WORDS.iter().any(|w| rep.body.contains(w)) => {
                format!("{} {}", rep.status, rep.body.trim())
            }
            Ok(rep) => {
                shared.error(format!("{} {}", rep.status, rep.body.trim()));
                return;
            }
            Err(e) => e.to_string(),
        };
        attempt += 1;
        if attempt > opts.max_retries {
            shared.error(retry_reason);
            return;
        }
        shared.retries.fetch_add(1, Ordering::Relaxed);
        // Backing off is the point here: the server asked us to slow down.
        std::thread::sleep(Duration::from_millis(100 * u64::from(attempt.min(10))));
    }
}

/// Loads the dataset of `spec` into `opts.db` (which must exist).
pub fn run(
    server: &Server,
    spec: &Spec,
    opts: &LoadOptions,
    progress: &Progress,
) -> Result<LoadResult> {
    let mut params = String::from("&precision=ns");
    if let Some(c) = &opts.consistency {
        params.push_str("&consistency=");
        params.push_str(&crate::client::encode(c));
    }
    let shared = Shared::default();
    let prep = Instant::now();
    let (prebuilt, prepare_s) = if opts.stream {
        (None, 0.0)
    } else {
        let b = prebuild(spec, opts);
        (Some(b), prep.elapsed().as_secs_f64())
    };
    let ticker = progress.track(
        "load".into(),
        "points",
        spec.points(),
        shared.points_done.clone(),
    );
    let start = Instant::now();
    match prebuilt {
        Some(bodies) => {
            let next = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for _ in 0..opts.workers {
                    let server = server.fresh();
                    let (next, bodies, shared, params) = (&next, &bodies, &shared, &params);
                    s.spawn(move || loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(b) = bodies.get(i) else { return };
                        send(&server, opts, params, b, shared);
                    });
                }
            });
        }
        None => {
            let (tx, rx) = mpsc::sync_channel::<(String, usize)>(opts.workers * 2);
            let rx = Mutex::new(rx);
            std::thread::scope(|s| {
                let spec = spec.clone();
                let batch = opts.batch_size;
                s.spawn(move || {
                    let mut gen = Generator::new(spec);
                    loop {
                        let mut raw = String::with_capacity(batch * 260);
                        let n = gen.next_batch(batch, &mut raw);
                        if n == 0 || tx.send((raw, n)).is_err() {
                            return;
                        }
                    }
                });
                for _ in 0..opts.workers {
                    let server = server.fresh();
                    let (rx, shared, params) = (&rx, &shared, &params);
                    s.spawn(move || loop {
                        let msg = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        let Ok((raw, n)) = msg else { return };
                        send(&server, opts, params, &build(raw, n, opts.gzip), shared);
                    });
                }
            });
        }
    }
    let wall_s = start.elapsed().as_secs_f64();
    drop(ticker);
    let points = shared.points_done.load(Ordering::Relaxed);
    let latencies = shared.latencies.into_inner().unwrap_or_default();
    Ok(LoadResult {
        workers: opts.workers,
        batch_size: opts.batch_size,
        gzip: opts.gzip,
        consistency: opts.consistency.clone(),
        points,
        values: points * CPU_FIELDS.len() as u64,
        batches: shared.batches.load(Ordering::Relaxed),
        raw_bytes: shared.raw_bytes.load(Ordering::Relaxed),
        sent_bytes: shared.sent_bytes.load(Ordering::Relaxed),
        prepare_s,
        wall_s,
        points_per_s: points as f64 / wall_s.max(1e-9),
        values_per_s: (points * CPU_FIELDS.len() as u64) as f64 / wall_s.max(1e-9),
        batch_latency: Summary::of(&latencies),
        errors: shared.errors.load(Ordering::Relaxed),
        retries: shared.retries.load(Ordering::Relaxed),
        first_error: shared.first_error.into_inner().unwrap_or_default(),
        visible_points: count_points(server, &opts.db),
    })
}

/// `SELECT count(usage_user) FROM cpu`, if the server answers it.
pub fn count_points(server: &Server, db: &str) -> Option<u64> {
    let r = server
        .query(Some(db), "SELECT count(usage_user) FROM cpu")
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&r.body).ok()?;
    v["results"][0]["series"][0]["values"][0][1].as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn prebuilt_bodies_cover_the_dataset_and_decompress() {
        let spec = Spec {
            scale: 7,
            duration_s: 600,
            start_ns: 0,
            interval_s: 10,
            seed: 3,
        };
        let opts = LoadOptions {
            db: "db".into(),
            workers: 2,
            batch_size: 50,
            gzip: true,
            consistency: None,
            max_retries: 0,
            stream: false,
        };
        let bodies = prebuild(&spec, &opts);
        assert_eq!(bodies.len(), 9); // 420 points / 50
        assert_eq!(bodies.iter().map(|b| b.lines).sum::<u64>(), spec.points());
        let mut text = String::new();
        for b in &bodies {
            flate2::read::GzDecoder::new(&b.data[..])
                .read_to_string(&mut text)
                .unwrap();
        }
        let mut expected = String::new();
        let mut g = Generator::new(spec.clone());
        while g.next_batch(1000, &mut expected) > 0 {}
        assert_eq!(text, expected);
        assert!(bodies.iter().all(|b| (b.data.len() as u64) < b.raw_len));
    }
}
