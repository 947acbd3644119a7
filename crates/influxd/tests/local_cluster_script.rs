//! `scripts/local-cluster` itself, run once with small counts on the debug
//! binaries (`TIDEMARK_BIN_DIR`, no release build): it builds a real
//! cluster (data nodes joined with `influxd-ctl add-data <TCP address>`),
//! a write on one data node is read back on the other, and `status` and
//! `down` handle the node count it was started with.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use testrig::HttpClient;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/local-cluster")
}

/// Ports below the ephemeral range (where the test rig's free ports come
/// from), spread by pid so concurrent runs do not meet.
fn port_base() -> u32 {
    10_000 + (std::process::id() % 50) * 200
}

fn run(args: &[&str], dir: &Path) -> (bool, String) {
    let bin_dir = testrig::find_binary("influxd")
        .expect("influxd")
        .parent()
        .unwrap()
        .to_path_buf();
    testrig::find_binary("influxd-meta").expect("influxd-meta");
    testrig::find_binary("influxd-ctl").expect("influxd-ctl");
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .args(args)
        .arg(dir)
        .env("TIDEMARK_BIN_DIR", bin_dir)
        .env("TIDEMARK_PORT_BASE", port_base().to_string());
    let out = testrig::process::run_bounded(&mut cmd, Duration::from_secs(180)).unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Stops the cluster whatever the test's outcome.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = run(&["down"], self.0);
    }
}

#[test]
fn local_cluster_up_builds_a_real_cluster_with_the_given_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cluster");
    let _down = Down(&dir);
    let (ok, out) = run(&["up", "--meta", "1", "--data", "2"], &dir);
    assert!(ok, "local-cluster up failed:\n{out}");
    assert!(out.contains("WITH REPLICATION 2"), "{out}");
    assert!(
        out.contains("Passive"),
        "`influxd-ctl show` is printed:\n{out}"
    );

    let base = port_base();
    let node = |i: u32| {
        HttpClient::new(
            format!("http://127.0.0.1:{}", 8086 + 100 * i + base),
            Duration::from_secs(10),
        )
    };
    let r = node(0)
        .query(None, "CREATE DATABASE mydb WITH REPLICATION 2", "")
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let r = node(0)
        .write(
            "mydb",
            "consistency=all",
            "cpu,host=a value=1 1600000000000000000\n",
        )
        .unwrap();
    assert_eq!(r.status, 204, "{}", r.body);
    let r = node(1)
        .query(Some("mydb"), "SELECT count(value) FROM cpu", "")
        .unwrap();
    let j = r.json().unwrap();
    assert_eq!(j["results"][0]["series"][0]["values"][0][1], 1, "{j}");

    let (ok, status) = run(&["status"], &dir);
    assert!(ok, "{status}");
    for n in ["meta-0", "data-0", "data-1"] {
        assert!(status.contains(&format!("{n}: running")), "{status}");
    }
    assert!(!status.contains("meta-1"), "{status}");

    let (ok, down) = run(&["down"], &dir);
    assert!(ok, "{down}");
    let (_, status) = run(&["status"], &dir);
    for n in ["meta-0", "data-0", "data-1"] {
        assert!(status.contains(&format!("{n}: stopped")), "{status}");
    }
}
