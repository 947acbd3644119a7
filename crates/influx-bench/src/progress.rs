//! Progress display on stderr, only when stderr is a terminal (or never,
//! when disabled): one line redrawn a few times a second. Display only —
//! nothing waits on it.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Whether progress is shown.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Enabled iff `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
        }
    }

    /// Shows `label: done/total (pct) rate/s` from `done` until the returned
    /// ticker is dropped.
    pub fn track(
        &self,
        label: String,
        unit: &'static str,
        total: u64,
        done: Arc<AtomicU64>,
    ) -> Ticker {
        if !self.enabled {
            return Ticker {
                stop: None,
                thread: None,
            };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            loop {
                let stop = !matches!(
                    rx.recv_timeout(Duration::from_millis(250)),
                    Err(mpsc::RecvTimeoutError::Timeout)
                );
                let d = done.load(Ordering::Relaxed);
                let secs = start.elapsed().as_secs_f64().max(1e-9);
                let pct = if total > 0 {
                    d as f64 * 100.0 / total as f64
                } else {
                    100.0
                };
                let bar_len = 30usize;
                let filled = ((pct / 100.0) * bar_len as f64)
                    .round()
                    .clamp(0.0, bar_len as f64) as usize;
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r{label} [{}{}] {d}/{total} {unit} ({pct:.0}%) {:.0} {unit}/s   ",
                    "#".repeat(filled),
                    " ".repeat(bar_len - filled),
                    d as f64 / secs
                );
                if stop {
                    let _ = writeln!(err);
                    return;
                }
                let _ = err.flush();
            }
        });
        Ticker {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

/// Stops its progress line when dropped.
#[derive(Debug)]
pub struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
