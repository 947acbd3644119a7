//! Concurrent writer clients for fault tests: N threads, each writing
//! batches of unique points (`MEASUREMENT,client=I v=<unique>i <time>`) to
//! the given servers in turn, recording every request in one [`History`],
//! until stopped or a request budget is spent. Every request has a timeout,
//! so stopping is bounded.

use super::{History, Point, RecordingWriter};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What the clients do.
#[derive(Debug, Clone)]
pub struct ClientsConfig {
    /// Base URLs; client `i`'s `k`-th request goes to `urls[(i + k) % len]`.
    pub urls: Vec<String>,
    pub db: String,
    pub measurement: String,
    pub clients: usize,
    /// Points per request.
    pub batch: usize,
    /// `consistency=` parameter, if any.
    pub consistency: Option<String>,
    /// Per-request timeout (expiry = outcome unknown).
    pub timeout: Duration,
    /// Pause between two requests of one client (rate limit, not a wait).
    pub pause: Duration,
    /// Requests per client at most.
    pub max_requests: u64,
    /// Timestamp of the first point (ns); point `n` of client `i` is at
    /// `start + n` ms, so keys never repeat.
    pub start_ns: i64,
}

impl ClientsConfig {
    /// Defaults: 2 clients, 10 points per request, 5 s timeout, 10 ms
    /// pause, 1000 requests, measurement `jepsen`, time 2020-01-01.
    pub fn new(urls: Vec<String>, db: &str) -> ClientsConfig {
        ClientsConfig {
            urls,
            db: db.into(),
            measurement: "jepsen".into(),
            clients: 2,
            batch: 10,
            consistency: None,
            timeout: Duration::from_secs(5),
            pause: Duration::from_millis(10),
            max_requests: 1000,
            start_ns: 1_577_836_800_000_000_000,
        }
    }
}

/// Running clients; [`Clients::stop`] returns their history.
#[derive(Debug)]
pub struct Clients {
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
    threads: Vec<JoinHandle<()>>,
    history: History,
}

impl Clients {
    /// Starts the clients, recording into `history`.
    pub fn start(cfg: ClientsConfig, history: History) -> Clients {
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU64::new(0));
        let mut threads = Vec::new();
        for i in 0..cfg.clients {
            let (cfg, h, stop, requests) =
                (cfg.clone(), history.clone(), stop.clone(), requests.clone());
            threads.push(std::thread::spawn(move || {
                client(i, cfg, h, stop, requests)
            }));
        }
        Clients {
            stop,
            requests,
            threads,
            history,
        }
    }

    /// Requests completed so far (all clients).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Stops every client after its current request and returns the history.
    pub fn stop(mut self) -> History {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.history.clone()
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn client(
    i: usize,
    cfg: ClientsConfig,
    h: History,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
) {
    if cfg.urls.is_empty() {
        return;
    }
    let writers: Vec<RecordingWriter> = cfg
        .urls
        .iter()
        .map(|u| {
            let w = RecordingWriter::new(u, &cfg.db, h.clone()).timeout(cfg.timeout);
            match &cfg.consistency {
                Some(c) => w.consistency(c),
                None => w,
            }
        })
        .collect();
    let client_tag = i.to_string();
    let mut n: i64 = 0;
    for k in 0..cfg.max_requests {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let points = (0..cfg.batch)
            .map(|_| {
                n += 1;
                Point::new(
                    &cfg.measurement,
                    &[("client", client_tag.as_str())],
                    "v",
                    cfg.start_ns + n * 1_000_000,
                    h.unique_value(),
                )
            })
            .collect();
        writers[(i + k as usize) % writers.len()].write(points);
        requests.fetch_add(1, Ordering::SeqCst);
        if !cfg.pause.is_zero() {
            std::thread::sleep(cfg.pause);
        }
    }
}
