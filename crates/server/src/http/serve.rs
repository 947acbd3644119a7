//! Serving the HTTP API on a TCP listener: the accept loop with
//! `[http] max-connection-limit`, the per-connection deadlines
//! (`read-header-timeout`, `idle-timeout`, `write-timeout`) and shutdown
//! that drains for at most [`SHUTDOWN_DRAIN_TIMEOUT`] and then closes what
//! is left.
//!
//! Owns: sockets and connection lifetimes. Must not: look inside requests —
//! routing, authentication and bodies belong to the handlers (the body
//! deadline `read-timeout` is applied where bodies are read, `body.rs`).
//!
//! The deadlines live in [`TimedIo`], a wrapper around the socket, because
//! hyper's own header timer also runs while a keep-alive connection waits
//! for its next request, which would make the idle and the header timeout
//! one and the same. The wrapper knows whether a request is in flight
//! (the service marks it) and so tells an idle connection (no request
//! byte yet: `idle-timeout`) from one sending a request head
//! (`read-header-timeout` from its first byte). A write that makes no
//! progress for `write-timeout` — a client that stopped reading — fails the
//! connection, which drops the response body and so stops a streamed query.

use crate::config::HttpSection;
use axum::body::{Body, HttpBody};
use axum::extract::ConnectInfo;
use axum::Router;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower_service::Service;

/// How long shutdown waits for in-flight requests before it closes their
/// connections anyway (a client holding a half-sent request cannot keep
/// the node from stopping).
pub const SHUTDOWN_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed `accept` (out of file descriptors, typically), so
/// the loop does not spin while the condition lasts.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// The connection-level limits, from `[http]`.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// Open connections at most; 0: unlimited. Beyond it a new connection
    /// is closed at once, as InfluxDB does.
    pub max_connections: usize,
    /// From a request's first byte to its complete head.
    pub read_header_timeout: Option<Duration>,
    /// A keep-alive connection with no request in flight and no byte of a
    /// new one is closed after this.
    pub idle_timeout: Option<Duration>,
    /// A response write that makes no progress for this long fails the
    /// connection.
    pub write_timeout: Option<Duration>,
    /// How long shutdown lets in-flight requests finish.
    pub drain_timeout: Duration,
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

impl ServeOptions {
    pub fn from_config(http: &HttpSection) -> ServeOptions {
        ServeOptions {
            max_connections: usize::try_from(http.max_connection_limit).unwrap_or(usize::MAX),
            read_header_timeout: nonzero(http.read_header_timeout.0),
            idle_timeout: nonzero(http.idle_timeout.0),
            write_timeout: nonzero(http.write_timeout.0),
            drain_timeout: SHUTDOWN_DRAIN_TIMEOUT,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; then stops
/// accepting, lets in-flight requests finish for at most
/// `opts.drain_timeout`, and closes the connections still open.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limit = (opts.max_connections > 0).then(|| Arc::new(Semaphore::new(opts.max_connections)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("accept on the HTTP listener: {e}");
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                    continue;
                }
            },
        };
        let permit = match &limit {
            None => None,
            Some(sem) => match sem.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    tracing::debug!(%peer, "max-connection-limit reached: connection closed");
                    drop(stream);
                    continue;
                }
            },
        };
        let router = router.clone();
        let stop = stop_rx.clone();
        conns.spawn(async move {
            serve_connection(stream, peer, router, opts, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(opts.drain_timeout, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            connections = conns.len(),
            "closing HTTP connections still busy {:?} after shutdown began",
            opts.drain_timeout
        );
        // Dropping the set aborts the tasks; none is awaited, so a task
        // that does not yield cannot hold shutdown up.
        conns.abort_all();
        conns.detach_all();
    }
    Ok(())
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    opts: ServeOptions,
    mut stop: watch::Receiver<bool>,
) {
    // Responses go out as soon as they are written: with Nagle's algorithm
    // a small answer can wait for the client's delayed ACK.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!("TCP_NODELAY on an accepted connection: {e}");
    }
    let state = Arc::new(Mutex::new(ConnState::new()));
    let io = TokioIo::new(TimedIo::new(stream, state.clone(), opts));
    let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let guard = InFlight::begin(&state);
        let fut = router.clone().call(req);
        async move {
            let resp = fut.await?;
            Ok::<_, Infallible>(resp.map(|body| {
                Body::new(Tracked {
                    inner: body,
                    _guard: guard,
                })
            }))
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        // Head and idle deadlines are TimedIo's (see the module doc).
        .header_read_timeout(None)
        .keep_alive(true)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = async { drop(stop.wait_for(|s| *s).await) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, "HTTP connection ended: {e}");
    }
}

/// What the socket wrapper needs to know about the connection's requests.
struct ConnState {
    /// Requests whose response has not been fully handed to hyper.
    in_flight: usize,
    /// Last byte read or written, or last response finished.
    last_activity: Instant,
    /// First byte of a request head read while no request was in flight.
    head_started: Option<Instant>,
}

impl ConnState {
    fn new() -> ConnState {
        ConnState {
            in_flight: 0,
            last_activity: Instant::now(),
            head_started: None,
        }
    }
}

/// Marks a request in flight from its head until its response body is
/// dropped (sent, or abandoned).
struct InFlight(Arc<Mutex<ConnState>>);

impl InFlight {
    fn begin(state: &Arc<Mutex<ConnState>>) -> InFlight {
        let mut s = state.lock();
        s.in_flight += 1;
        s.head_started = None;
        InFlight(state.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        s.last_activity = Instant::now();
    }
}

/// A response body that keeps its request marked in flight.
struct Tracked {
    inner: Body,
    _guard: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The socket with the connection's read and write deadlines.
struct TimedIo {
    inner: TcpStream,
    state: Arc<Mutex<ConnState>>,
    opts: ServeOptions,
    read_timer: Pin<Box<Sleep>>,
    /// Armed while a write is pending.
    write_timer: Option<Pin<Box<Sleep>>>,
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, what.to_string())
}

impl TimedIo {
    fn new(inner: TcpStream, state: Arc<Mutex<ConnState>>, opts: ServeOptions) -> TimedIo {
        TimedIo {
            inner,
            state,
            opts,
            read_timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            write_timer: None,
        }
    }

    /// The deadline for the next byte while reading is pending, and what
    /// it guards; None while a request is in flight (its body deadline is
    /// the handler's) or when the deadline is disabled.
    fn read_deadline(&self) -> Option<(Instant, &'static str)> {
        let s = self.state.lock();
        if s.in_flight > 0 {
            return None;
        }
        match s.head_started {
            Some(t) => self
                .opts
                .read_header_timeout
                .map(|d| (t + d, "request header read timeout")),
            None => self
                .opts
                .idle_timeout
                .map(|d| (s.last_activity + d, "idle connection timeout")),
        }
    }

    /// Checks the read deadline while a read is pending: Err when it has
    /// passed; otherwise the timer is armed to wake the reader at it (or,
    /// with a request in flight, a while later to look again).
    fn poll_read_deadline(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        loop {
            let (deadline, what) = match self.read_deadline() {
                Some(d) => d,
                None => {
                    // Look again later: the request may finish meanwhile
                    // without hyper polling the read side.
                    let recheck = self
                        .opts
                        .idle_timeout
                        .or(self.opts.read_header_timeout)
                        .unwrap_or(Duration::from_secs(60));
                    (Instant::now() + recheck, "")
                }
            };
            if !what.is_empty() && Instant::now() >= deadline {
                return Err(timed_out(what));
            }
            if self.read_timer.deadline() != deadline {
                self.read_timer.as_mut().reset(deadline);
            }
            if self.read_timer.as_mut().poll(cx).is_pending() {
                return Ok(());
            }
            // The timer fired: re-evaluate (the deadline may have moved).
        }
    }

    fn on_write_progress(&mut self) {
        self.write_timer = None;
        self.state.lock().last_activity = Instant::now();
    }

    fn poll_write_deadline(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let Some(limit) = self.opts.write_timeout else {
            return Ok(());
        };
        let timer = self
            .write_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if timer.as_mut().poll(cx).is_ready() {
            return Err(timed_out(
                "response write timeout: the client stopped reading",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    let now = Instant::now();
                    let mut s = this.state.lock();
                    s.last_activity = now;
                    if s.in_flight == 0 && s.head_started.is_none() {
                        s.head_started = Some(now);
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.poll_read_deadline(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, data) {
            Poll::Ready(r) => {
                this.on_write_progress();
                Poll::Ready(r)
            }
            Poll::Pending => match this.poll_write_deadline(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.on_write_progress();
                Poll::Ready(r)
            }
            Poll::Pending => match this.poll_write_deadline(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                this.write_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => match this.poll_write_deadline(cx) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            },
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
