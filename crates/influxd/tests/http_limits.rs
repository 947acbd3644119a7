//! `[http]` options enforced end to end against `influxd` (issue 10, M6,
//! L6, L8): `max-row-limit`, Bearer JWT with `shared-secret`, the realm on
//! 401, `pprof-auth-enabled` and `ping-auth-enabled`, `/write` refusing
//! before it tells whether a database exists, and options Tidemark does
//! not implement refused at start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Influxd;

fn admin_node(dir: &std::path::Path, extra: &str) -> Influxd {
    let n = Influxd::start_in(dir, &format!("  auth-enabled = true\n{extra}"));
    let r = n.query(
        "CREATE USER admin WITH PASSWORD 'a' WITH ALL PRIVILEGES",
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    n
}

#[test]
fn m6_max_row_limit_truncates_non_chunked_answers() {
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(dir.path(), "  max-row-limit = 3\n");
    assert_eq!(n.query("CREATE DATABASE db", "").status, 200);
    let body: String = (1..=5).map(|t| format!("cpu v={t} {t}\n")).collect();
    assert_eq!(n.write("db=db", &body).status, 204);
    let r = n.query("SELECT v FROM cpu; SELECT v FROM cpu", "db=db&epoch=ns");
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let results = j["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{j}");
    let s = &results[0]["series"][0];
    assert_eq!(s["values"], serde_json::json!([[1, 1], [2, 2], [3, 3]]));
    assert_eq!(s["partial"], true);
    // Chunked answers are not limited.
    let r = n.request(
        "GET",
        &format!(
            "/query?db=db&chunked=true&q={}",
            common::encode("SELECT v FROM cpu")
        ),
        &[],
        b"",
    );
    let rows: usize = r
        .body
        .lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            j["results"][0]["series"][0]["values"]
                .as_array()
                .map_or(0, |v| v.len())
        })
        .sum();
    assert_eq!(rows, 5);
}

#[test]
fn m6_shared_secret_enables_bearer_jwt_auth() {
    let dir = tempfile::tempdir().unwrap();
    let n = admin_node(dir.path(), "  shared-secret = \"s3cret\"\n");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let bearer = |token: String| format!("Bearer {token}");
    let q = format!("/query?q={}", common::encode("SHOW DATABASES"));

    let good = bearer(meta_service::jwt::sign("s3cret", "admin", now + 60));
    let r = n.request("GET", &q, &[("Authorization", &good)], b"");
    assert_eq!(r.status, 200, "{}", r.body);

    let cases = [
        (
            meta_service::jwt::sign("guess", "admin", now + 60),
            "signature is invalid",
        ),
        (
            meta_service::jwt::sign("s3cret", "admin", now - 1),
            "token is expired",
        ),
        (
            meta_service::jwt::sign("s3cret", "nobody", now + 60),
            "user not found",
        ),
    ];
    for (token, text) in cases {
        let r = n.request("GET", &q, &[("Authorization", &bearer(token))], b"");
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.json()["error"], text);
    }
    // Writes take the token too.
    assert_eq!(n.query("CREATE DATABASE db", "u=admin&p=a").status, 200);
    let r = n.request(
        "POST",
        "/write?db=db",
        &[("Authorization", &good)],
        b"cpu v=1 1",
    );
    assert_eq!(r.status, 204, "{}", r.body);
}

#[test]
fn m6_bearer_tokens_are_refused_without_a_shared_secret() {
    let dir = tempfile::tempdir().unwrap();
    let n = admin_node(dir.path(), "");
    let token = meta_service::jwt::sign("", "admin", i64::MAX / 2);
    let r = n.request(
        "GET",
        "/query?q=SHOW+DATABASES",
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "bearer auth disabled");
    // A 401 names the realm, as InfluxDB's does.
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"InfluxDB\"")
    );
}

#[test]
fn l6_debug_endpoints_need_an_admin_when_auth_is_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let n = admin_node(dir.path(), "");
    assert_eq!(
        n.query("CREATE USER bob WITH PASSWORD 'b'", "u=admin&p=a")
            .status,
        200
    );
    for path in ["/debug/vars", "/debug/pprof/cmdline", "/debug/pprof/"] {
        let r = n.request("GET", path, &[], b"");
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        let r = n.request("GET", &format!("{path}?u=bob&p=b"), &[], b"");
        assert_eq!(r.status, 403, "{path}: {}", r.body);
        assert_eq!(r.json()["error"], "error authorizing admin access");
        let r = n.request("GET", &format!("{path}?u=admin&p=a"), &[], b"");
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    // /ping stays open unless ping-auth-enabled.
    assert_eq!(n.request("GET", "/ping", &[], b"").status, 204);
}

#[test]
fn l6_pprof_auth_and_ping_auth_follow_their_options() {
    let dir = tempfile::tempdir().unwrap();
    let n = admin_node(
        dir.path(),
        "  pprof-auth-enabled = false\n  ping-auth-enabled = true\n",
    );
    assert_eq!(n.request("GET", "/debug/vars", &[], b"").status, 200);
    assert_eq!(n.request("GET", "/ping", &[], b"").status, 401);
    assert_eq!(n.request("GET", "/ping?u=admin&p=a", &[], b"").status, 204);
}

#[test]
fn l8_write_refuses_unauthorised_users_before_naming_missing_databases() {
    let dir = tempfile::tempdir().unwrap();
    let n = admin_node(dir.path(), "");
    let r = n.query(
        "CREATE DATABASE secret; CREATE USER bob WITH PASSWORD 'b'",
        "u=admin&p=a",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Whether the database exists or not, bob hears the same 403.
    for db in ["secret", "nothere"] {
        let r = n.write(&format!("db={db}&u=bob&p=b"), "cpu v=1");
        assert_eq!(r.status, 403, "{db}: {}", r.body);
        assert_eq!(
            r.json()["error"],
            format!("\"bob\" user is not authorized to write to database \"{db}\"")
        );
    }
    // An admin still learns that a database does not exist.
    let r = n.write("db=nothere&u=admin&p=a", "cpu v=1");
    assert_eq!(r.status, 404, "{}", r.body);
}

#[test]
fn m6_unimplemented_http_options_are_refused_at_start() {
    for (option, text) in [
        ("unix-socket-enabled = true", "unix-socket-enabled"),
        ("write-tracing = true", "write-tracing"),
        ("debug-pprof-enabled = true", "debug-pprof-enabled"),
        ("enabled = false", "enabled = false"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("influxdb.conf");
        std::fs::write(
            &config,
            format!(
                "[meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n[http]\n  bind-address = \"127.0.0.1:0\"\n  {option}\n",
                d = dir.path().display()
            ),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_influxd"))
            .args(["run", "-config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{option} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(text), "{option}: {err}");
    }
}

/// Sends a raw request and returns the answer's status line and body.
fn raw_exchange(port: u16, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    s.write_all(request).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn m6_write_throttle_queues_then_refuses_like_influxdb() {
    use std::io::Write;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let n = Influxd::start_in(
        dir.path(),
        "  max-concurrent-write-limit = 1\n  max-enqueued-write-limit = 1\n  enqueued-write-timeout = \"1s\"\n",
    );
    assert_eq!(n.query("CREATE DATABASE db", "").status, 200);
    // A write whose body is still arriving holds the one running slot.
    let mut slow = std::net::TcpStream::connect(("127.0.0.1", n.port)).unwrap();
    slow.write_all(
        b"POST /write?db=db HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nConnection: close\r\n\r\ncpu v",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let port = n.port;
    let request = b"POST /write?db=db HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nConnection: close\r\n\r\ncpu v=2 2";
    // The second waits in the queue, and gives up after the timeout.
    let queued = std::thread::spawn(move || raw_exchange(port, request));
    std::thread::sleep(Duration::from_millis(300));
    // With the queue full, a third is refused at once.
    let full = raw_exchange(port, request);
    assert!(full.starts_with("HTTP/1.1 503"), "{full}");
    assert!(full.contains("request throttled, queue full"), "{full}");
    let queued = queued.join().unwrap();
    assert!(queued.starts_with("HTTP/1.1 503"), "{queued}");
    assert!(
        queued.contains("request throttled, exceeds timeout"),
        "{queued}"
    );
    // The slow write completes normally.
    slow.write_all(b"=1 1").unwrap();
    let mut got = String::new();
    use std::io::Read;
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = slow.read_to_string(&mut got);
    assert!(got.starts_with("HTTP/1.1 204"), "{got}");
    // And the throttle lets the next one in.
    assert_eq!(n.write("db=db", "cpu v=3 3").status, 204);
}
