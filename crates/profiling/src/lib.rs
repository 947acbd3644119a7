//! `/debug/pprof` for every Tidemark server: CPU profiles in Go's pprof
//! format (gzipped protobuf, readable by `go tool pprof` and `pprof`),
//! sampled for `?seconds=N` (default 30, at most 300), plus the `cmdline`
//! and an index page. One CPU profile runs at a time per process.
//!
//! Heap profiles (`/debug/pprof/heap`, `allocs`) come from jemalloc's
//! sampled allocation records, converted to pprof: a binary opts in with
//! [`jemalloc_allocator!`] (jemalloc as the global allocator, one sample per
//! 2 MiB allocated — cheap enough to leave on: each sample unwinds the
//! stack with libgcc, and at 512 KiB that cost 4–5% of a small query's CPU).
//! A binary that does not gets 501 with the reason rather than an empty
//! profile.
//!
//! Owns only the HTTP surface and the sampling; it knows nothing of the
//! server it is mounted in.

#[doc(hidden)]
pub use tikv_jemallocator;

/// Installs jemalloc as the global allocator with heap profiling active.
/// Use once, in a binary's `main.rs`.
#[macro_export]
macro_rules! jemalloc_allocator {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::tikv_jemallocator::Jemalloc = $crate::tikv_jemallocator::Jemalloc;

        /// jemalloc reads its options from this symbol at start: heap
        /// profiling on, one sample per 2^21 bytes allocated.
        #[allow(unsafe_code, non_upper_case_globals)]
        #[export_name = "malloc_conf"]
        pub static malloc_conf: &[u8] = b"prof:true,prof_active:true,lg_prof_sample:21\0";
    };
}

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Sampling frequency of CPU profiles (Go's default rate).
const SAMPLE_HZ: i32 = 100;
/// Longest CPU profile accepted.
const MAX_SECONDS: u64 = 300;
const DEFAULT_SECONDS: u64 = 30;

static PROFILING: AtomicBool = AtomicBool::new(false);

/// Routes to merge into a server's router (stateless, so any state type).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/debug/pprof", get(index))
        .route("/debug/pprof/", get(index))
        .route("/debug/pprof/{name}", get(named))
}

fn error(status: StatusCode, msg: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        format!("{}\n", serde_json::json!({ "error": msg })),
    )
        .into_response()
}

async fn index() -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/plain; charset=utf-8")],
        "/debug/pprof/\n\nprofile  CPU profile (pprof protobuf, gzip); ?seconds=N (default 30)\ncmdline  the command line of this process\nheap     heap profile (pprof protobuf, gzip) of sampled live allocations\n",
    )
        .into_response()
}

async fn named(Path(name): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    match name.as_str() {
        "profile" => {
            let seconds = match q.get("seconds").map(|s| s.parse::<u64>()) {
                None => DEFAULT_SECONDS,
                Some(Ok(s)) if (1..=MAX_SECONDS).contains(&s) => s,
                Some(_) => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        &format!("seconds must be an integer from 1 to {MAX_SECONDS}"),
                    )
                }
            };
            cpu_profile(Duration::from_secs(seconds)).await
        }
        "cmdline" => (
            StatusCode::OK,
            [("content-type", "text/plain; charset=utf-8")],
            std::env::args().collect::<Vec<_>>().join("\x00"),
        )
            .into_response(),
        "heap" | "allocs" => heap_profile().await,
        other => error(StatusCode::NOT_FOUND, &format!("unknown profile: {other}")),
    }
}

async fn heap_profile() -> Response {
    let Some(ctl) = jemalloc_pprof::PROF_CTL.as_ref() else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "heap profiles need jemalloc with profiling (this binary does not use profiling::jemalloc_allocator!)",
        );
    };
    let mut ctl = ctl.lock().await;
    if !ctl.activated() {
        return error(StatusCode::NOT_IMPLEMENTED, "heap profiling is not active");
    }
    match ctl.dump_pprof() {
        Ok(body) => (
            StatusCode::OK,
            [
                ("content-type", "application/octet-stream"),
                ("content-disposition", "attachment; filename=\"heap\""),
            ],
            body,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("heap profile: {e}"),
        ),
    }
}

/// Releases the one-profile-at-a-time flag when dropped.
struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        PROFILING.store(false, Ordering::SeqCst);
    }
}

async fn cpu_profile(duration: Duration) -> Response {
    if PROFILING.swap(true, Ordering::SeqCst) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Could not enable CPU profiling: cpu profiling already in use",
        );
    }
    let running = Running;
    let guard = match pprof::ProfilerGuardBuilder::default()
        .frequency(SAMPLE_HZ)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
    {
        Ok(g) => g,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("Could not enable CPU profiling: {e}"),
            )
        }
    };
    tokio::time::sleep(duration).await;
    let encoded = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let _running = running;
        let report = guard.report().build().map_err(|e| e.to_string())?;
        let profile = report.pprof().map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        pprof::protos::Message::encode(&profile, &mut raw).map_err(|e| e.to_string())?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&raw).map_err(|e| e.to_string())?;
        gz.finish().map_err(|e| e.to_string())
    })
    .await;
    match encoded {
        Ok(Ok(body)) => (
            StatusCode::OK,
            [
                ("content-type", "application/octet-stream"),
                ("content-disposition", "attachment; filename=\"profile\""),
            ],
            body,
        )
            .into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, &e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn burn(ms: u64) {
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(ms) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cpu_profile_is_a_gzipped_pprof_protobuf() {
        // On a machine loaded by other tests the burner may get too little
        // CPU in one second to be sampled: up to three tries.
        let mut profile = pprof::protos::Profile::default();
        for _ in 0..3 {
            let burner = std::thread::spawn(|| burn(1500));
            let resp = cpu_profile(Duration::from_secs(1)).await;
            burner.join().unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(&body[..2], &[0x1f, 0x8b], "gzip magic");
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut raw)
                .unwrap();
            profile = pprof::protos::Message::decode(&raw[..]).unwrap();
            if !profile.sample.is_empty() {
                break;
            }
        }
        assert!(
            !profile.sample.is_empty(),
            "no samples while a thread was busy"
        );
        assert!(!profile.string_table.is_empty());
        // The flag is released: a second profile may start.
        assert!(!PROFILING.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn bad_seconds_and_heap_without_jemalloc_are_refused_clearly() {
        let r = named(
            Path("profile".into()),
            Query([("seconds".to_string(), "x".to_string())].into()),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        // The test binary does not install jemalloc: a clear 501.
        let r = named(Path("heap".into()), Query(HashMap::new())).await;
        assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED);
        let r = named(Path("nope".into()), Query(HashMap::new())).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
