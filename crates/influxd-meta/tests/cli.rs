//! The `influxd-meta` command line: `config` prints the defaults with
//! Enterprise option names; bad flags and config files fail clearly.

#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_influxd-meta"))
}

#[test]
fn config_prints_enterprise_defaults() {
    let out = bin().arg("config").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "hostname = \"localhost\"",
        "[meta]",
        "dir = \"/var/lib/influxdb/meta\"",
        "bind-address = \":8089\"",
        "http-bind-address = \":8091\"",
        "https-enabled = false",
        "lease-duration = \"1m0s\"",
        "election-timeout = \"1s\"",
        "heartbeat-timeout = \"1s\"",
        "commit-timeout = \"50ms\"",
        "auth-enabled = false",
        "internal-shared-secret = \"\"",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn bad_flags_and_configs_fail_clearly() {
    let out = bin().args(["run", "-bogus"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("flag provided but not defined: -bogus"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("meta.toml");
    std::fs::write(&cfg, "[meta]\nlease-duration = \"soon\"\n").unwrap();
    let out = bin().arg("-config").arg(&cfg).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("invalid duration \"soon\""), "{err}");
}

#[test]
fn single_server_bootstraps_and_restarts_as_leader() {
    let tmp = tempfile::tempdir().unwrap();
    let mut node = common::Node::new(tmp.path(), 0, 1000);
    let pid = tmp.path().join("meta.pid");
    node.start_with(&["-single-server", "-pidfile", pid.to_str().unwrap()]);
    assert!(common::wait_until(Duration::from_secs(10), || node
        .status()
        .is_some_and(|s| s["state"] == "Leader")));
    assert!(std::fs::read_to_string(&pid)
        .unwrap()
        .trim()
        .parse::<u32>()
        .is_ok());
    let (s, v) = common::create_db(&node.http, "db0").unwrap();
    assert_eq!(s, 200, "{v}");
    // Restarted without the flag, it is still a one-node cluster.
    node.kill9();
    node.start();
    assert!(common::wait_until(Duration::from_secs(10), || node
        .status()
        .is_some_and(|s| s["state"] == "Leader")));
    assert!(common::databases(&node.http).contains(&"db0".to_string()));
}
