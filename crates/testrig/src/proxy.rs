//! A fault-injecting TCP proxy for one link: listens on a free loopback port
//! and forwards every connection to a target, with a [`Mode`] that can be
//! switched while connections are open (pass, drop both ways, drop one way,
//! delay, reset). Plain std threads, no root, no randomness.
//!
//! Semantics, per chunk of bytes read from one side:
//! * the mode in force when the chunk is due for delivery decides its fate
//!   (so a chunk already delayed is dropped if a drop mode starts meanwhile);
//! * a dropped chunk is read and discarded (blackhole: the sender's writes
//!   succeed, nothing arrives, the connection stays open and stalls);
//! * a connection that lost bytes in one direction can never deliver later
//!   bytes in that direction — TCP never delivers a stream with a hole — so
//!   when that direction heals the connection is closed instead;
//! * `Reset` closes every open connection at once and closes new ones right
//!   after accepting them, until the mode changes.
//!
//! Does not own which links exist (see `cluster`).

use crate::{Error, Result};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the proxy waits to connect to its target.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward everything unchanged.
    Pass,
    /// Swallow bytes in both directions (a partition).
    DropBoth,
    /// Swallow bytes from the connecting side to the target only.
    DropForward,
    /// Swallow bytes from the target back to the connecting side only.
    DropBackward,
    /// Deliver every chunk this long after it was read (both directions).
    Delay(Duration),
    /// Close open connections now and new ones as soon as they arrive.
    Reset,
}

/// A direction of a proxied connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the side that connected to the proxy, towards the target.
    Forward,
    /// From the target back to the connecting side.
    Backward,
}

impl Direction {
    fn idx(self) -> usize {
        match self {
            Direction::Forward => 0,
            Direction::Backward => 1,
        }
    }
}

impl Mode {
    /// Whether bytes travelling in `dir` are swallowed.
    pub fn drops(self, dir: Direction) -> bool {
        matches!(
            (self, dir),
            (Mode::DropBoth, _)
                | (Mode::DropForward, Direction::Forward)
                | (Mode::DropBackward, Direction::Backward)
        )
    }

    fn delay(self) -> Duration {
        match self {
            Mode::Delay(d) => d,
            _ => Duration::ZERO,
        }
    }
}

/// Counters since the proxy started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Connections accepted and forwarded.
    pub accepted: u64,
    /// Connections closed right after accept (mode `Reset`) or because the
    /// target refused them.
    pub refused: u64,
    /// Connections open now.
    pub live: usize,
    /// Bytes delivered: `[forward, backward]`.
    pub forwarded: [u64; 2],
    /// Bytes swallowed: `[forward, backward]`.
    pub dropped: [u64; 2],
}

/// A running proxy. Dropping it closes the listener and every connection.
#[derive(Debug)]
pub struct Proxy {
    shared: Arc<Shared>,
    listen: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    target: SocketAddr,
    state: Mutex<State>,
    accepted: AtomicU64,
    refused: AtomicU64,
    forwarded: [AtomicU64; 2],
    dropped: [AtomicU64; 2],
}

#[derive(Debug)]
struct State {
    mode: Mode,
    conns: HashMap<u64, Arc<Conn>>,
    next_id: u64,
    shutdown: bool,
}

#[derive(Debug)]
struct Conn {
    client: TcpStream,
    upstream: TcpStream,
    tainted: [AtomicBool; 2],
    closed: AtomicBool,
    halves_done: AtomicU8,
}

impl Conn {
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.upstream.shutdown(Shutdown::Both);
    }
}

enum Msg {
    Data(Instant, Vec<u8>),
    Eof,
}

impl Proxy {
    /// Starts a proxy on a free 127.0.0.1 port forwarding to `target`, in
    /// mode `Pass`.
    pub fn start(target: SocketAddr) -> Result<Proxy> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("bind proxy listener", e))?;
        let listen = listener
            .local_addr()
            .map_err(|e| Error::io("proxy local_addr", e))?;
        let shared = Arc::new(Shared {
            target,
            state: Mutex::new(State {
                mode: Mode::Pass,
                conns: HashMap::new(),
                next_id: 0,
                shutdown: false,
            }),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            forwarded: [AtomicU64::new(0), AtomicU64::new(0)],
            dropped: [AtomicU64::new(0), AtomicU64::new(0)],
        });
        let s = shared.clone();
        let acceptor = std::thread::Builder::new()
            .name(format!("proxy-accept-{}", listen.port()))
            .spawn(move || accept_loop(s, listener))
            .map_err(|e| Error::io("spawn proxy thread", e))?;
        Ok(Proxy {
            shared,
            listen,
            acceptor: Some(acceptor),
        })
    }

    /// Where clients connect.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen
    }

    /// Where traffic goes.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.shared.lock().mode
    }

    /// Switches the mode. Chunks delivered after this returns obey the new
    /// mode; `Reset` has closed every open connection when this returns.
    pub fn set_mode(&self, mode: Mode) {
        let mut st = self.shared.lock();
        st.mode = mode;
        let mut closed = Vec::new();
        for (id, c) in &st.conns {
            let heal_tainted = [Direction::Forward, Direction::Backward]
                .iter()
                .any(|d| c.tainted[d.idx()].load(Ordering::SeqCst) && !mode.drops(*d));
            if mode == Mode::Reset || heal_tainted {
                c.close();
                closed.push(*id);
            }
        }
        for id in closed {
            st.conns.remove(&id);
        }
    }

    /// Shorthand for `set_mode(Mode::Pass)`.
    pub fn heal(&self) {
        self.set_mode(Mode::Pass);
    }

    /// Counters so far.
    pub fn stats(&self) -> ProxyStats {
        let s = &self.shared;
        ProxyStats {
            accepted: s.accepted.load(Ordering::SeqCst),
            refused: s.refused.load(Ordering::SeqCst),
            live: s.lock().conns.len(),
            forwarded: [
                s.forwarded[0].load(Ordering::SeqCst),
                s.forwarded[1].load(Ordering::SeqCst),
            ],
            dropped: [
                s.dropped[0].load(Ordering::SeqCst),
                s.dropped[1].load(Ordering::SeqCst),
            ],
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        {
            let mut st = self.shared.lock();
            st.shutdown = true;
            for c in st.conns.values() {
                c.close();
            }
            st.conns.clear();
        }
        // Wake the blocking accept so the thread sees `shutdown`.
        let _ = TcpStream::connect_timeout(&self.listen, Duration::from_secs(1));
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking proxy thread must not wedge the test: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    for incoming in listener.incoming() {
        let (shutdown, mode) = {
            let st = shared.lock();
            (st.shutdown, st.mode)
        };
        if shutdown {
            return;
        }
        let Ok(client) = incoming else { continue };
        if mode == Mode::Reset {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("proxy-conn".into())
            .spawn(move || open_connection(s, client));
        if spawned.is_err() {
            shared.refused.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn open_connection(shared: Arc<Shared>, client: TcpStream) {
    let upstream = match TcpStream::connect_timeout(&shared.target, CONNECT_TIMEOUT) {
        Ok(u) => u,
        Err(_) => {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let clones = (|| -> std::io::Result<_> {
        Ok((
            client.try_clone()?,
            client.try_clone()?,
            upstream.try_clone()?,
            upstream.try_clone()?,
        ))
    })();
    let Ok((c_read, c_write, u_read, u_write)) = clones else {
        shared.refused.fetch_add(1, Ordering::SeqCst);
        let _ = client.shutdown(Shutdown::Both);
        let _ = upstream.shutdown(Shutdown::Both);
        return;
    };
    let conn = Arc::new(Conn {
        client,
        upstream,
        tainted: [AtomicBool::new(false), AtomicBool::new(false)],
        closed: AtomicBool::new(false),
        halves_done: AtomicU8::new(0),
    });
    let id = {
        let mut st = shared.lock();
        if st.shutdown || st.mode == Mode::Reset {
            shared.refused.fetch_add(1, Ordering::SeqCst);
            conn.close();
            return;
        }
        st.next_id += 1;
        let id = st.next_id;
        st.conns.insert(id, conn.clone());
        id
    };
    shared.accepted.fetch_add(1, Ordering::SeqCst);
    for (dir, src, dst) in [
        (Direction::Forward, c_read, u_write),
        (Direction::Backward, u_read, c_write),
    ] {
        let (tx, rx) = mpsc::channel();
        let s1 = shared.clone();
        let s2 = shared.clone();
        let c = conn.clone();
        let reader = std::thread::Builder::new()
            .name("proxy-read".into())
            .spawn(move || read_half(s1, src, tx));
        let writer = std::thread::Builder::new()
            .name("proxy-write".into())
            .spawn(move || write_half(s2, id, c, dir, rx, dst));
        if reader.is_err() || writer.is_err() {
            conn.close();
        }
    }
}

fn read_half(shared: Arc<Shared>, mut src: TcpStream, tx: mpsc::Sender<Msg>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match src.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = tx.send(Msg::Eof);
                return;
            }
            Ok(n) => {
                let due = Instant::now() + shared.lock().mode.delay();
                if tx.send(Msg::Data(due, buf[..n].to_vec())).is_err() {
                    return;
                }
            }
        }
    }
}

fn write_half(
    shared: Arc<Shared>,
    id: u64,
    conn: Arc<Conn>,
    dir: Direction,
    rx: mpsc::Receiver<Msg>,
    mut dst: TcpStream,
) {
    let d = dir.idx();
    for msg in rx {
        if conn.closed.load(Ordering::SeqCst) {
            break;
        }
        match msg {
            Msg::Data(due, data) => {
                let now = Instant::now();
                if due > now {
                    // This sleep *is* the injected latency.
                    std::thread::sleep(due - now);
                }
                let mode = shared.lock().mode;
                if mode.drops(dir) {
                    conn.tainted[d].store(true, Ordering::SeqCst);
                    shared.dropped[d].fetch_add(data.len() as u64, Ordering::SeqCst);
                    continue;
                }
                if conn.tainted[d].load(Ordering::SeqCst) || dst.write_all(&data).is_err() {
                    conn.close();
                    break;
                }
                shared.forwarded[d].fetch_add(data.len() as u64, Ordering::SeqCst);
            }
            Msg::Eof => {
                if shared.lock().mode.drops(dir) {
                    // The FIN is swallowed too; the connection stalls.
                    conn.tainted[d].store(true, Ordering::SeqCst);
                    continue;
                }
                let _ = dst.shutdown(Shutdown::Write);
                break;
            }
        }
    }
    let done = conn.halves_done.fetch_add(1, Ordering::SeqCst) + 1;
    if done >= 2 {
        conn.close();
    }
    if conn.closed.load(Ordering::SeqCst) {
        shared.lock().conns.remove(&id);
    }
}
