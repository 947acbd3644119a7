//! The proxy against a local echo server: it passes, drops (both ways and
//! each way alone), delays, and resets — observed from both ends.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use testrig::{Mode, Proxy};

/// Greets every connection with `hi\n`, then echoes; every byte it receives
/// is also sent to the returned channel.
fn echo_server() -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                if s.write_all(b"hi\n").is_err() {
                    return;
                }
                let mut buf = [0u8; 4096];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let _ = tx.send(buf[..n].to_vec());
                            if s.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    (addr, rx)
}

fn connect(p: &Proxy) -> TcpStream {
    let s = TcpStream::connect(p.listen_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Reads exactly `n` bytes (bounded by the socket's read timeout).
fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

/// Asserts nothing arrives within `window`.
fn assert_silent(s: &mut TcpStream, window: Duration) {
    s.set_read_timeout(Some(window)).unwrap();
    let mut b = [0u8; 16];
    match s.read(&mut b) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected silence, got {other:?} {:?}", &b[..]),
    }
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
}

/// Asserts the connection is closed by the proxy (EOF or reset), promptly.
fn assert_closed(s: &mut TcpStream) {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 16];
    let start = Instant::now();
    loop {
        match s.read(&mut b) {
            Ok(0) => return,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("connection still open after {:?}", start.elapsed())
            }
            Err(_) => return,
            Ok(_) => continue, // data already in flight before the close
        }
    }
}

#[test]
fn passes_both_ways() {
    let (addr, received) = echo_server();
    let p = Proxy::start(addr).unwrap();
    let mut s = connect(&p);
    assert_eq!(read_n(&mut s, 3), b"hi\n");
    s.write_all(b"ping").unwrap();
    assert_eq!(read_n(&mut s, 4), b"ping");
    assert_eq!(
        received.recv_timeout(Duration::from_secs(5)).unwrap(),
        b"ping"
    );
    // Counters are bumped just after each write: wait for them (bounded).
    let st = testrig::wait::poll_until(Duration::from_secs(5), "counters settle", || {
        let st = p.stats();
        (st.forwarded == [4, 7]).then_some(st)
    })
    .unwrap();
    assert_eq!(st.accepted, 1);
    assert_eq!(st.dropped, [0, 0]);
}

#[test]
fn drop_both_blackholes_and_healing_closes_the_torn_connection() {
    let (addr, received) = echo_server();
    let p = Proxy::start(addr).unwrap();
    let mut s = connect(&p);
    assert_eq!(read_n(&mut s, 3), b"hi\n");
    p.set_mode(Mode::DropBoth);
    s.write_all(b"lost").unwrap(); // the write itself succeeds: a blackhole
    assert_silent(&mut s, Duration::from_millis(300));
    assert!(
        received.try_recv().is_err(),
        "server must not see dropped bytes"
    );
    testrig::wait::poll_until(Duration::from_secs(5), "bytes counted as dropped", || {
        (p.stats().dropped[0] == 4).then_some(())
    })
    .unwrap();
    // A new connection during the partition hears nothing either.
    let mut s2 = connect(&p);
    assert_silent(&mut s2, Duration::from_millis(200));
    // Its greeting was swallowed (so it is torn too) before we heal.
    testrig::wait::poll_until(Duration::from_secs(5), "greeting dropped", || {
        (p.stats().dropped[1] == 3).then_some(())
    })
    .unwrap();
    p.heal();
    // Connections that lost bytes cannot resume with a hole in the stream.
    assert_closed(&mut s);
    assert_closed(&mut s2);
    let mut s3 = connect(&p);
    assert_eq!(read_n(&mut s3, 3), b"hi\n");
    s3.write_all(b"back").unwrap();
    assert_eq!(read_n(&mut s3, 4), b"back");
}

#[test]
fn drop_forward_only() {
    let (addr, received) = echo_server();
    let p = Proxy::start(addr).unwrap();
    p.set_mode(Mode::DropForward);
    let mut s = connect(&p);
    // Target -> client still flows.
    assert_eq!(read_n(&mut s, 3), b"hi\n");
    s.write_all(b"x").unwrap();
    assert_silent(&mut s, Duration::from_millis(300));
    assert!(received.try_recv().is_err());
}

#[test]
fn drop_backward_only() {
    let (addr, received) = echo_server();
    let p = Proxy::start(addr).unwrap();
    p.set_mode(Mode::DropBackward);
    let mut s = connect(&p);
    s.write_all(b"one-way").unwrap();
    // Client -> target still flows ...
    assert_eq!(
        received.recv_timeout(Duration::from_secs(5)).unwrap(),
        b"one-way"
    );
    // ... but neither the greeting nor the echo come back.
    assert_silent(&mut s, Duration::from_millis(300));
    testrig::wait::poll_until(Duration::from_secs(5), "greeting and echo dropped", || {
        (p.stats().dropped[1] == 3 + 7).then_some(())
    })
    .unwrap();
}

#[test]
fn delay_adds_latency_per_direction() {
    let (addr, _received) = echo_server();
    let p = Proxy::start(addr).unwrap();
    let mut s = connect(&p);
    assert_eq!(read_n(&mut s, 3), b"hi\n");
    p.set_mode(Mode::Delay(Duration::from_millis(150)));
    let t = Instant::now();
    s.write_all(b"b").unwrap();
    assert_eq!(read_n(&mut s, 1), b"b");
    let slow = t.elapsed();
    // A lower bound is deterministic: each of the two hops waits 150 ms.
    assert!(
        slow >= Duration::from_millis(300),
        "two delayed hops: {slow:?}"
    );
    assert!(slow < Duration::from_secs(5), "{slow:?}");
    p.heal();
    s.write_all(b"c").unwrap();
    assert_eq!(read_n(&mut s, 1), b"c", "the stream survives a delay");
}

#[test]
fn reset_closes_open_and_new_connections() {
    let (addr, _received) = echo_server();
    let p = Proxy::start(addr).unwrap();
    let mut s = connect(&p);
    assert_eq!(read_n(&mut s, 3), b"hi\n");
    p.set_mode(Mode::Reset);
    assert_closed(&mut s);
    let mut s2 = connect(&p);
    assert_closed(&mut s2);
    assert!(p.stats().refused >= 1);
    assert_eq!(p.stats().live, 0);
    p.heal();
    let mut s3 = connect(&p);
    assert_eq!(read_n(&mut s3, 3), b"hi\n");
}

#[test]
fn dropping_the_proxy_closes_everything() {
    let (addr, _received) = echo_server();
    let p = Proxy::start(addr).unwrap();
    let listen = p.listen_addr();
    let mut s = connect(&p);
    assert_eq!(read_n(&mut s, 3), b"hi\n");
    drop(p);
    assert_closed(&mut s);
    let e = TcpStream::connect(listen).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
}

#[test]
fn unreachable_target_closes_the_client() {
    let port = testrig::ports::free_port().unwrap();
    let p = Proxy::start(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
    let mut s = connect(&p);
    assert_closed(&mut s);
    testrig::wait::poll_until(Duration::from_secs(5), "refusal counted", || {
        (p.stats().refused == 1).then_some(())
    })
    .unwrap();
}
