//! The interactive shell driven through a pseudo-terminal (util-linux
//! `script`), against a real InfluxDB 1.x: welcome text, prompt, `use`
//! checks, query output, errors that keep the loop running, `auth` with a
//! hidden password, and the `~/.influx_history` file. The transcript is
//! compared with the Go CLI's when it is installed. Every wait is bounded.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{go_influx, ours, RefServer};

struct Pty {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(bin: &Path, port: u16, home: &Path) -> Option<Pty> {
        let cmd = format!("{} -host 127.0.0.1 -port {port}", bin.display());
        let mut child = Command::new("script")
            .args(["-q", "-e", "-c", &cmd, "/dev/null"])
            .env("HOME", home)
            .env("TERM", "dumb")
            .env_remove("INFLUX_USERNAME")
            .env_remove("INFLUX_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&out);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let stdin = child.stdin.take();
        Some(Pty { child, stdin, out })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).replace('\r', "")
    }

    /// Waits (at most 15 s) until the transcript contains `needle` `n` times.
    fn expect_n(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.text().matches(needle).count() >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "timed out waiting for {needle:?}; transcript:\n{}",
            self.text()
        );
    }

    /// Types a line.
    fn send(&mut self, line: &str) {
        let w = self.stdin.as_mut().unwrap();
        w.write_all(line.as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
        w.flush().unwrap();
    }

    fn finish(mut self) -> (String, Option<i32>) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(self.stdin.take());
        std::thread::sleep(Duration::from_millis(100));
        (self.text(), status)
    }
}

fn have_script() -> bool {
    Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const SESSION: &[(&str, &str)] = &[
    ("show databases", "shell"),
    ("use shell", "Using database shell"),
    ("use nodb", "DB does not exist!"),
    ("select * from cpu", "10   a    1"),
    ("bad query", "ERR: error parsing query"),
    ("insert cpu,host=b value=2 20", ">"),
    ("select count(value) from cpu", "0    2"),
    ("format json", ">"),
    (
        "select * from cpu where host = 'b'",
        "\"values\":[[20,\"b\",2]]",
    ),
    ("create user x with password 'secret'", ">"),
    ("drop user x", ">"),
];

/// Runs the scripted interactive session; returns transcript and status.
fn run_session(bin: &Path, port: u16, home: &Path) -> Option<(String, Option<i32>)> {
    let mut pty = Pty::spawn(bin, port, home)?;
    pty.expect_n("> ", 1);
    for (i, (line, want)) in SESSION.iter().enumerate() {
        pty.send(line);
        pty.expect_n(want, 1);
        pty.expect_n("\n> ", i + 2);
    }
    pty.send("exit");
    Some(pty.finish())
}

fn normalise(transcript: &str) -> String {
    transcript
        .lines()
        .filter(|l| !l.starts_with("InfluxDB shell version:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn interactive_session_matches_go_cli() {
    if !have_script() {
        eprintln!("note: `script` (util-linux) not available; skipping pty test");
        return;
    }
    let Some(server) = RefServer::start(false) else {
        return;
    };
    server.query("CREATE DATABASE shell", None);
    // The session re-inserts the second point: idempotent, so both CLIs
    // see the same data.
    server.write("shell", "cpu,host=a value=1 10\ncpu,host=b value=2 20\n");

    let home = tempfile::tempdir().unwrap();
    let (mine, code) = run_session(&ours(), server.port, home.path()).unwrap();
    assert_eq!(code, Some(0), "{mine}");
    assert!(
        mine.starts_with(&format!(
            "Connected to http://127.0.0.1:{} version 1.",
            server.port
        )),
        "{mine}"
    );
    assert!(mine.contains(&format!(
        "\nInfluxDB shell version: {}\n> ",
        env!("CARGO_PKG_VERSION")
    )));
    assert!(mine.contains(
        "ERR: Database nodb doesn't exist. Run SHOW DATABASES for a list of existing databases.\nDB does not exist!\n"
    ));
    assert!(
        mine.contains("name: cpu\ntime host value\n---- ---- -----\n10   a    1\n20   b    2\n> ")
    );
    let history = std::fs::read_to_string(home.path().join(".influx_history")).unwrap();
    let mut want: Vec<String> = SESSION.iter().map(|(l, _)| l.to_string()).collect();
    want[9] = "create user x with password [REDACTED]".to_string();
    want.push("exit".to_string());
    assert_eq!(history, want.join("\n") + "\n");

    if let Some(go) = go_influx() {
        let go_home = tempfile::tempdir().unwrap();
        let (theirs, go_code) = run_session(&go, server.port, go_home.path()).unwrap();
        assert_eq!(normalise(&theirs), normalise(&mine));
        assert_eq!(go_code, code);
        let go_history = std::fs::read_to_string(go_home.path().join(".influx_history")).unwrap();
        assert_eq!(go_history, history);
    }
}

#[test]
fn auth_prompts_for_hidden_password() {
    if !have_script() {
        eprintln!("note: `script` (util-linux) not available; skipping pty test");
        return;
    }
    let Some(server) = RefServer::start(false) else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let mut pty = Pty::spawn(&ours(), server.port, home.path()).unwrap();
    pty.expect_n("> ", 1);
    pty.send("auth");
    pty.expect_n("username: ", 1);
    pty.send("bob");
    pty.expect_n("password: ", 1);
    pty.send("s3cret-pw");
    pty.expect_n("\n> ", 2);
    pty.send("settings");
    pty.expect_n("Username          bob\n", 1);
    pty.expect_n("\n> ", 3);
    pty.send("exit");
    let (text, code) = pty.finish();
    assert_eq!(code, Some(0));
    assert!(!text.contains("s3cret-pw"), "password echoed:\n{text}");
    let history = std::fs::read_to_string(home.path().join(".influx_history")).unwrap();
    assert_eq!(history, "settings\nexit\n");
}
