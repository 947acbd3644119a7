//! `-import` of generated `influx_inspect export`-style files against a real
//! InfluxDB 1.x: batching across the 5000-line boundary, context switches,
//! gzip input, bad lines reported with their line numbers while the rest is
//! written, and the 1.x summary (compared with the Go CLI for a clean file).

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;

use common::{go_influx, ours, run, strip_log_times, RefServer};

/// An export with `n` good points in `imp.autogen`, 2 in `imp.short`, and
/// the given bad lines inserted after good line numbers `bad_after`.
fn export(db: &str, n: usize, bad_after: &[usize]) -> (String, Vec<usize>) {
    let mut s = format!(
        "# INFLUXDB EXPORT: 1677-09-21T00:12:43Z - 2262-04-11T23:47:16Z\n# DDL\nCREATE DATABASE {db} WITH NAME autogen\nCREATE RETENTION POLICY short ON {db} DURATION INF REPLICATION 1\n# DML\n# CONTEXT-DATABASE:{db}\n# CONTEXT-RETENTION-POLICY:autogen\n# writing tsm data\n",
    );
    let mut line_no = s.lines().count();
    let mut bad_lines = Vec::new();
    for i in 0..n {
        s.push_str(&format!(
            "m,k=t{} v={}i {}\n",
            i % 7,
            i,
            1_000_000_000 + i as u64
        ));
        line_no += 1;
        if bad_after.contains(&i) {
            s.push_str(&format!("this is not line protocol {i}\n"));
            line_no += 1;
            bad_lines.push(line_no);
        }
    }
    s.push_str("\n# CONTEXT-RETENTION-POLICY:short\nother v=1 1\nother v=2 2\n");
    (s, bad_lines)
}

fn count(server: &RefServer, q: &str) -> String {
    server.query(q, None)
}

#[test]
fn import_reports_bad_lines_and_writes_the_rest() {
    let Some(server) = RefServer::start(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (text, bad) = export("imp_bad", 12_000, &[10, 4999, 11_000]);
    let path = dir.path().join("export.txt");
    std::fs::write(&path, &text).unwrap();
    let port = server.port.to_string();
    let o = run(
        &ours(),
        &[
            "-host",
            "127.0.0.1",
            "-port",
            &port,
            "-import",
            "-path",
            path.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(o.code, Some(1), "{o:?}");
    assert_eq!(
        strip_log_times(&o.stdout),
        "Processed 2 commands\nProcessed 12002 inserts\nFailed 3 inserts"
    );
    for (n, l) in bad.iter().zip([10, 4999, 11_000]) {
        let want = format!("line {n}: invalid field format: this is not line protocol {l}\n");
        assert!(o.stderr.contains(&want), "missing {want:?} in {}", o.stderr);
    }
    assert!(
        o.stderr.ends_with("ERROR: 3 points were not inserted\n"),
        "{}",
        o.stderr
    );
    let c = count(&server, "SELECT count(v) FROM imp_bad.autogen.m");
    assert!(c.contains("[\"1970-01-01T00:00:00Z\",12000]"), "{c}");
    let c = count(&server, "SELECT count(v) FROM imp_bad.short.other");
    assert!(c.contains(",2]"), "{c}");
}

#[test]
fn clean_gzip_import_matches_go_cli() {
    let Some(server) = RefServer::start(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (text, _) = export("imp_gz", 6000, &[]);
    let gz = dir.path().join("export.txt.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let port = server.port.to_string();
    let args = [
        "-host",
        "127.0.0.1",
        "-port",
        &port,
        "-import",
        "-compressed",
        "-pps",
        "100000",
        "-path",
        gz.to_str().unwrap(),
    ];
    let mine = run(&ours(), &args, None, &[]);
    assert_eq!(mine.code, Some(0), "{mine:?}");
    assert_eq!(
        strip_log_times(&mine.stdout),
        "Processed 2 commands\nProcessed 6002 inserts\nFailed 0 inserts"
    );
    assert_eq!(mine.stderr, "");
    if let Some(go) = go_influx() {
        let theirs = run(&go, &args, None, &[]);
        assert_eq!(
            strip_log_times(&theirs.stdout),
            strip_log_times(&mine.stdout)
        );
        assert_eq!(theirs.stderr, mine.stderr);
        assert_eq!(theirs.code, mine.code);
    }
    let c = count(&server, "SELECT count(v) FROM imp_gz.autogen.m");
    assert!(c.contains("[\"1970-01-01T00:00:00Z\",6000]"), "{c}");
}

#[test]
fn pps_throttles_the_import() {
    let Some(server) = RefServer::start(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (text, _) = export("imp_pps", 300, &[]);
    let path = dir.path().join("export.txt");
    std::fs::write(&path, &text).unwrap();
    let port = server.port.to_string();
    let started = std::time::Instant::now();
    let o = run(
        &ours(),
        &[
            "-host",
            "127.0.0.1",
            "-port",
            &port,
            "-import",
            "-pps",
            "200",
            "-path",
            path.to_str().unwrap(),
        ],
        None,
        &[],
    );
    let took = started.elapsed();
    assert_eq!(o.code, Some(0), "{o:?}");
    // 302 points at 200 points/s need at least ~1.5 s.
    assert!(took.as_secs_f64() >= 1.4, "took {took:?}");
}

#[test]
fn file_that_is_not_an_export_fails() {
    let Some(server) = RefServer::start(false) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.txt");
    std::fs::write(&path, "cpu v=1 1\ncpu v=2 2\n").unwrap();
    let port = server.port.to_string();
    let o = run(
        &ours(),
        &[
            "-host",
            "127.0.0.1",
            "-port",
            &port,
            "-import",
            "-path",
            path.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(o.code, Some(1), "{o:?}");
    assert_eq!(o.stdout, "");
    assert!(
        o.stderr.ends_with(&format!(
            "ERROR: 2 of 2 commands failed and no # DML section was found; is {} an influx_inspect export file?\n",
            path.display()
        )),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("error: error parsing query: found cpu"),
        "{}",
        o.stderr
    );
}
