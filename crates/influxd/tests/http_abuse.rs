//! HTTP abuse against the real `influxd` (issue 10, H6 and M1): idle and
//! half-sent connections are closed by their deadlines, a trickled body is
//! cut off, a chunked reader that never reads does not pin a query thread,
//! `max-connection-limit` refuses the connection past the limit, SIGTERM
//! exits in bounded time with a stalled request open, and a flood of wrong
//! passwords leaves `/ping` and small queries working (their latency is
//! measured and printed, not asserted). Timeouts are configured short so
//! the tests stay fast.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Influxd;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How long a test waits for something the server should do within about
/// a second (generous: the machine is shared).
const PATIENCE: Duration = Duration::from_secs(20);

fn connect(n: &Influxd) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", n.port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Reads until the server closes the connection (EOF or reset); Err when
/// it is still open after `PATIENCE`.
fn read_until_closed(s: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(got),
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!(
                    "connection still open after {PATIENCE:?}; got {:?}",
                    String::from_utf8_lossy(&got)
                ))
            }
            Err(_) => return Ok(got),
        }
    }
}

fn ok_query(n: &Influxd, q: &str, params: &str) -> serde_json::Value {
    let r = n.query(q, params);
    assert_eq!(r.status, 200, "{q}: {}", r.body);
    r.json()
}

#[test]
fn h6_idle_connections_are_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), "  idle-timeout = \"1s\"\n");
    // A connection that never sends anything.
    let mut silent = connect(&n);
    // A keep-alive connection idle after one request.
    let mut used = connect(&n);
    used.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let start = Instant::now();
    let answer = read_until_closed(&mut used).unwrap();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 204"),
        "{answer:?}"
    );
    assert_eq!(read_until_closed(&mut silent).unwrap(), b"");
    println!("idle connections closed after {:?}", start.elapsed());
    // The server itself is fine.
    assert_eq!(n.request("GET", "/ping", &[], b"").status, 204);
}

#[test]
fn h6_a_request_head_trickled_byte_by_byte_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(
        dir.path(),
        "  read-header-timeout = \"1s\"\n  idle-timeout = \"1m\"\n",
    );
    let mut s = connect(&n);
    let mut w = s.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        let head = b"GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        for b in head {
            if w.write_all(&[*b]).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    });
    let got = read_until_closed(&mut s).unwrap();
    assert!(
        !String::from_utf8_lossy(&got).contains("204"),
        "the trickled request was served: {got:?}"
    );
    drop(s);
    let _ = trickle.join();
}

#[test]
fn h6_a_body_trickled_byte_by_byte_is_cut_off_by_the_body_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), "  read-timeout = \"1s\"\n");
    ok_query(&n, "CREATE DATABASE db", "");
    let mut s = connect(&n);
    s.write_all(b"POST /write?db=db HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\ncpu v=1")
        .unwrap();
    let mut w = s.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..200 {
            if w.write_all(b"0").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let got = read_until_closed(&mut s).unwrap();
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("request body read timeout"), "{text}");
    println!("trickled body cut off after {:?}", start.elapsed());
    drop(s);
    trickle.join().unwrap();
    // Nothing of it was stored; normal writes work.
    assert_eq!(n.write("db=db", "cpu v=2 1").status, 204);
    let r = ok_query(&n, "SELECT count(v) FROM cpu", "db=db");
    assert_eq!(r["results"][0]["series"][0]["values"][0][1], 1);
}

#[test]
fn h6_chunked_readers_that_never_read_do_not_pin_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), "  write-timeout = \"1s\"\n");
    ok_query(&n, "CREATE DATABASE db", "");
    // About 4 MB of points; the query reads them 16 times over, far more
    // than the socket buffers between a non-reading client and the server.
    let pad = "x".repeat(1000);
    for batch in 0..4 {
        let body: String = (0..1000)
            .map(|i| format!("big s=\"{pad}\" {}\n", batch * 1000 + i + 1))
            .collect();
        assert_eq!(n.write("db=db&precision=s", &body).status, 204);
    }
    let q = ["SELECT s FROM big"; 16].join("; ");
    let path = format!(
        "/query?db=db&chunked=true&chunk_size=100&pretty=true&q={}",
        common::encode(&q)
    );
    let clients = 8;
    let mut stalled = Vec::new();
    for _ in 0..clients {
        let mut s = connect(&n);
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .unwrap();
        stalled.push(s);
    }
    // While they stall, writes and queries work.
    assert_eq!(n.write("db=db", "cpu v=1 1").status, 204);
    ok_query(&n, "SELECT v FROM cpu", "db=db");
    // Their queries are stopped once they have read nothing for the write
    // timeout: SHOW QUERIES no longer lists them.
    let start = Instant::now();
    loop {
        let r = ok_query(&n, "SHOW QUERIES", "");
        let running = r["results"][0]["series"][0]["values"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter(|row| row[1].as_str().is_some_and(|t| t.contains("big")))
                    .count()
            })
            .unwrap_or(0);
        if running == 0 {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{running} chunked queries still running after {:?}: {r}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "{clients} stalled chunked queries stopped after {:?}",
        start.elapsed()
    );
    // Their connections were closed by the server.
    for mut s in stalled {
        read_until_closed(&mut s).unwrap();
    }
    assert_eq!(n.write("db=db", "cpu v=2 2").status, 204);
    let r = ok_query(&n, "SELECT count(v) FROM cpu", "db=db");
    assert_eq!(r["results"][0]["series"][0]["values"][0][1], 2);

    // A whole (non-chunked) answer the client does not read is abandoned
    // too: after the write timeout, reading finds it cut short.
    let q = ["SELECT s FROM big"; 8].join("; ");
    let mut s = connect(&n);
    s.write_all(
        format!(
            "GET /query?db=db&q={} HTTP/1.1\r\nHost: x\r\n\r\n",
            common::encode(&q)
        )
        .as_bytes(),
    )
    .unwrap();
    // Read the first bytes (the answer is being written), then stop.
    let mut got = vec![0u8; 64 << 10];
    s.read_exact(&mut got).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    got.extend(read_until_closed(&mut s).unwrap());
    let text = String::from_utf8_lossy(&got);
    let head_end = text.find("\r\n\r\n").expect("answer head") + 4;
    let length: usize = text[..head_end]
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_string)
        })
        .expect("content-length")
        .trim()
        .parse()
        .unwrap();
    println!(
        "unread answer of {length} bytes abandoned after {} bytes",
        got.len() - head_end
    );
    assert!(
        got.len() - head_end < length,
        "the whole answer was kept for the client"
    );
}

#[test]
fn h6_max_connection_limit_refuses_the_connection_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limit = 3;
    let n = Influxd::start_in(dir.path(), &format!("  max-connection-limit = {limit}\n"));
    // The test harness keeps a pooled keep-alive connection of its own, so
    // open served connections until one is refused: that must happen, and
    // after at most `limit` of them.
    let mut held = Vec::new();
    let refused = loop {
        let mut s = connect(&n);
        let _ = s.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = [0u8; 512];
        match s.read(&mut buf) {
            Ok(k) if buf[..k].starts_with(b"HTTP/1.1 204") => held.push(s),
            // Closed without an answer.
            Ok(_) | Err(_) => break s,
        }
        assert!(
            held.len() <= limit,
            "{} connections served with max-connection-limit = {limit}",
            held.len()
        );
    };
    drop(refused);
    println!("refused after {} held connections", held.len());
    // A freed slot serves again.
    drop(held);
    let start = Instant::now();
    loop {
        let mut s = connect(&n);
        let _ = s.write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let got = read_until_closed(&mut s).unwrap_or_default();
        if got.starts_with(b"HTTP/1.1 204") {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "slot not freed");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn h6_sigterm_with_a_stalled_half_sent_request_exits_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    // Long request deadlines: only the shutdown bound can end these.
    let mut n = Influxd::start_in(
        dir.path(),
        "  read-timeout = \"10m\"\n  read-header-timeout = \"10m\"\n  idle-timeout = \"10m\"\n",
    );
    ok_query(&n, "CREATE DATABASE db", "");
    assert_eq!(n.write("db=db", "cpu v=1 1").status, 204);
    let mut body = connect(&n);
    body.write_all(b"POST /write?db=db HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\ncpu v=")
        .unwrap();
    let mut head = connect(&n);
    head.write_all(b"GET /query?q=SHOW").unwrap();
    // Let the server start on both.
    std::thread::sleep(Duration::from_millis(300));
    let took = n.sigterm_and_wait(Duration::from_secs(30));
    let took = took.expect("influxd still running 30 s after SIGTERM");
    println!("influxd exited {took:?} after SIGTERM with two stalled requests");
    assert!(
        took < server::http::SHUTDOWN_DRAIN_TIMEOUT + Duration::from_secs(10),
        "exit took {took:?}"
    );
    assert!(
        n.log().contains("shutting down"),
        "no clean shutdown: {}",
        n.log()
    );
    drop((body, head));
    // The engine was closed cleanly: the write is there after a restart.
    n.restart();
    let r = ok_query(&n, "SELECT v FROM cpu", "db=db");
    assert_eq!(r["results"][0]["series"][0]["values"][0][1], 1);
}

fn latency_stats(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (pick(0.5), pick(0.9), pick(1.0))
}

/// `/ping` and a small authenticated query, `rounds` times each; their
/// latencies in milliseconds.
fn probe(n: &Influxd, rounds: usize) -> (Vec<f64>, Vec<f64>) {
    let mut ping = Vec::new();
    let mut query = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        assert_eq!(n.request("GET", "/ping", &[], b"").status, 204);
        ping.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let r = n.query("SELECT v FROM cpu", "db=db&u=admin&p=right");
        assert_eq!(r.status, 200, "{}", r.body);
        query.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(20));
    }
    (ping, query)
}

#[test]
fn m1_wrong_password_flood_leaves_ping_and_small_queries_working() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), "  auth-enabled = true\n");
    ok_query(
        &n,
        "CREATE USER admin WITH PASSWORD 'right' WITH ALL PRIVILEGES",
        "",
    );
    ok_query(&n, "CREATE DATABASE db", "u=admin&p=right");
    assert_eq!(n.write("db=db&u=admin&p=right", "cpu v=1 1").status, 204);

    let (ping0, query0) = probe(&n, 40);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooders: Vec<_> = (0..16)
        .map(|i| {
            let stop = stop.clone();
            let url = format!("{}/query", n.url());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .build()
                    .into();
                let (mut unauthorized, mut limited, mut other) = (0u32, 0u32, 0u32);
                let mut limited_body = None;
                let mut k = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    k += 1;
                    let user = if k.is_multiple_of(2) {
                        "admin"
                    } else {
                        "nobody"
                    };
                    let r = agent
                        .get(format!("{url}?q=SHOW+DATABASES&u={user}&p=wrong{i}x{k}"))
                        .call();
                    match r {
                        Ok(r) if r.status().as_u16() == 401 => unauthorized += 1,
                        Ok(mut r) if r.status().as_u16() == 429 => {
                            limited += 1;
                            if limited_body.is_none() {
                                limited_body = r.body_mut().read_to_string().ok();
                            }
                        }
                        _ => other += 1,
                    }
                }
                (unauthorized, limited, other, limited_body)
            })
        })
        .collect();
    let flood_started = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    let (ping1, query1) = probe(&n, 40);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut unauthorized, mut limited, mut other) = (0, 0, 0);
    let mut limited_body = None;
    for f in flooders {
        let (u, l, o, b) = f.join().unwrap();
        unauthorized += u;
        limited += l;
        other += o;
        limited_body = limited_body.or(b);
    }
    let show = |name: &str, v: &[f64]| {
        let (p50, p90, max) = latency_stats(v.to_vec());
        println!("  {name}: p50 {p50:.2} ms, p90 {p90:.2} ms, max {max:.2} ms");
    };
    println!("before the flood:");
    show("/ping", &ping0);
    show("SELECT v FROM cpu", &query0);
    println!(
        "during the flood ({unauthorized} x 401, {limited} x 429, {other} other from 16 clients):"
    );
    show("/ping", &ping1);
    show("SELECT v FROM cpu", &query1);
    assert_eq!(other, 0, "flood requests must get 401 or 429");
    assert!(limited > 0, "failed logins were not rate-limited");
    // All flooders share one address: beyond its burst, about one attempt
    // per second reaches a password check, however many run concurrently.
    let allowed = server::http::FAILED_AUTH_BURST as u64 + flood_started.elapsed().as_secs() + 2;
    assert!(
        u64::from(unauthorized) <= allowed,
        "{unauthorized} password checks failed in {:?} (at most {allowed} expected)",
        flood_started.elapsed()
    );
    // The rate-limited answer has InfluxDB's error shape.
    let body: serde_json::Value = serde_json::from_str(&limited_body.unwrap()).unwrap();
    assert_eq!(
        body["error"],
        "too many failed authentication attempts, retry later"
    );
    // The limit is on failures: the right password still works.
    ok_query(&n, "SHOW DATABASES", "u=admin&p=right");
    // The access log names the requests but not the passwords.
    let log = n.log();
    assert!(log.contains("GET /query?q=SHOW+DATABASES&u=admin&p=%5BREDACTED%5D"));
    assert!(!log.contains("wrong0x") && !log.contains("p=right"));
}
