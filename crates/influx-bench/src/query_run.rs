//! The query phase: for each chosen TSBS type, a few warm-up queries and
//! then `repeats` timed ones (by `workers` threads), with latency summaries,
//! row counts and errors. Owns execution only; the text comes from `queries`.

use crate::client::{count_rows, Server};
use crate::progress::Progress;
use crate::queries::QueryType;
use crate::stats::Summary;
use crate::workload::Spec;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How to run queries.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    pub db: String,
    pub repeats: usize,
    pub warmup: usize,
    pub workers: usize,
    pub seed: u64,
}

/// Figures for one query type.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    pub query_type: String,
    pub queries: usize,
    pub errors: usize,
    /// Rows returned by all timed queries together.
    pub rows: u64,
    pub latency: Summary,
    pub first_error: Option<String>,
    /// One example of the InfluxQL sent.
    pub example: String,
}

/// Runs every type in `types` that fits the dataset; returns the results
/// and the names of skipped types.
pub fn run(
    server: &Server,
    spec: &Spec,
    types: &[QueryType],
    opts: &QueryOptions,
    progress: &Progress,
) -> (Vec<QueryResult>, Vec<&'static str>) {
    let mut results = Vec::new();
    let mut skipped = Vec::new();
    for t in types {
        if !t.fits(spec) {
            skipped.push(t.name);
            continue;
        }
        let all = t.generate(spec, opts.seed, opts.warmup + opts.repeats);
        let (warm, timed) = all.split_at(opts.warmup);
        for q in warm {
            let _ = server.query(Some(&opts.db), q);
        }
        let done = Arc::new(AtomicU64::new(0));
        let ticker = progress.track(
            format!("{:<22}", t.name),
            "queries",
            timed.len() as u64,
            done.clone(),
        );
        let samples = Mutex::new(Vec::new());
        let rows = AtomicU64::new(0);
        let errors = Mutex::new(Vec::new());
        let workers = opts.workers.max(1);
        std::thread::scope(|s| {
            for w in 0..workers {
                let server = server.fresh();
                let (samples, rows, errors, done) = (&samples, &rows, &errors, &done);
                s.spawn(move || {
                    for q in timed.iter().skip(w).step_by(workers) {
                        let start = Instant::now();
                        let r = server.query(Some(&opts.db), q);
                        let elapsed = start.elapsed();
                        let outcome = match r {
                            Ok(rep) if rep.status == 200 => count_rows(&rep.body),
                            Ok(rep) => Err(format!("{} {}", rep.status, rep.body.trim())),
                            Err(e) => Err(e.to_string()),
                        };
                        match outcome {
                            Ok(n) => {
                                rows.fetch_add(n, Ordering::Relaxed);
                                if let Ok(mut v) = samples.lock() {
                                    v.push(elapsed);
                                }
                            }
                            Err(e) => {
                                if let Ok(mut v) = errors.lock() {
                                    v.push(e);
                                }
                            }
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        drop(ticker);
        let errors = errors.into_inner().unwrap_or_default();
        let samples = samples.into_inner().unwrap_or_default();
        results.push(QueryResult {
            query_type: t.name.to_string(),
            queries: timed.len(),
            errors: errors.len(),
            rows: rows.load(Ordering::Relaxed),
            latency: Summary::of(&samples),
            first_error: errors.into_iter().next(),
            example: timed.first().cloned().unwrap_or_default(),
        });
    }
    (results, skipped)
}
