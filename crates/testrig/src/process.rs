//! One spawned OS process with its output in a log file: spawn, SIGKILL,
//! SIGTERM with a bounded wait, and kill-on-drop (also while a test panics).
//! Knows nothing about configs, ports or readiness (see `node`).

use crate::{Error, Result};
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A child process whose stdout and stderr go to `log_path` (appended, with
/// a marker line per start). Killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Process {
    name: String,
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    cwd: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl Process {
    /// Describes a process; nothing is started until [`Process::spawn`].
    pub fn new(
        name: impl Into<String>,
        program: impl Into<PathBuf>,
        args: Vec<OsString>,
        cwd: impl Into<PathBuf>,
        log_path: impl Into<PathBuf>,
    ) -> Process {
        Process {
            name: name.into(),
            program: program.into(),
            args,
            env: Vec::new(),
            cwd: cwd.into(),
            log_path: log_path.into(),
            child: None,
            starts: 0,
        }
    }

    /// Adds an environment variable for every later start.
    pub fn env(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) {
        self.env.push((key.into(), value.into()));
    }

    /// Starts the process (an error if it is already running).
    pub fn spawn(&mut self) -> Result<()> {
        if self.is_running() {
            return Err(Error::Template(format!("{} is already running", self.name)));
        }
        self.starts += 1;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| Error::io(format!("open log {}", self.log_path.display()), e))?;
        let _ = writeln!(
            log,
            "=== testrig: start #{} of {}: {} {:?}",
            self.starts,
            self.name,
            self.program.display(),
            self.args
        );
        let err_log = log
            .try_clone()
            .map_err(|e| Error::io("clone log handle", e))?;
        let child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log)
            .spawn()
            .map_err(|e| Error::io(format!("spawn {}", self.program.display()), e))?;
        self.child = Some(child);
        Ok(())
    }

    /// The OS process id while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Whether the process has been started and has not exited.
    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none() && self.child.is_some()
    }

    /// The exit status if the process has exited (reaps it), else `None`.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        let c = self.child.as_mut()?;
        match c.try_wait() {
            Ok(Some(status)) => {
                self.child = None;
                Some(status)
            }
            _ => None,
        }
    }

    /// SIGKILL and reap: no shutdown path runs. A no-op if not running.
    pub fn kill9(&mut self) -> Result<()> {
        if let Some(mut c) = self.child.take() {
            // kill() fails only if the child already exited; wait() reaps it either way.
            let _ = c.kill();
            c.wait()
                .map_err(|e| Error::io(format!("wait for {}", self.name), e))?;
        }
        Ok(())
    }

    /// SIGTERM, then waits up to `timeout` for the exit; on timeout the
    /// process is SIGKILLed and [`Error::StopTimeout`] returned.
    pub fn stop(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let Some(pid) = self.pid() else {
            return Ok(None);
        };
        // The child is not reaped yet, so its pid cannot have been reused.
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.exit_status() {
                return Ok(Some(status));
            }
            std::thread::sleep(crate::wait::POLL_INTERVAL);
        }
        self.kill9()?;
        Err(Error::StopTimeout {
            node: self.name.clone(),
            waited: timeout,
            log: self.last_start_excerpt(),
        })
    }

    /// Everything the process wrote so far (all starts).
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log(), lines)
    }

    /// What the latest start wrote: whole if short, else its first and last
    /// lines (the first error line often precedes a long backtrace).
    pub fn last_start_excerpt(&self) -> String {
        excerpt(&self.log(), 15, 45)
    }

    /// Path of the log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The output after the last start marker: all of it when at most
/// `head + tail` lines, else the first `head` and last `tail` lines.
pub fn excerpt(log: &str, head: usize, tail_lines: usize) -> String {
    let start = log.rfind("=== testrig: start").unwrap_or(0);
    let lines: Vec<&str> = log[start..].lines().collect();
    if lines.len() <= head + tail_lines {
        return lines.join("\n");
    }
    format!(
        "{}\n[... {} lines ...]\n{}",
        lines[..head].join("\n"),
        lines.len() - head - tail_lines,
        lines[lines.len() - tail_lines..].join("\n")
    )
}

/// Runs a command to completion (e.g. `influxd-ctl add-data ...`), killing it
/// if it takes longer than `timeout`. Output is captured.
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    let out = std::fs::File::create(&out_path).map_err(|e| Error::io("create stdout", e))?;
    let err = std::fs::File::create(&err_path).map_err(|e| Error::io("create stderr", e))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| Error::io(format!("spawn {cmd:?}"), e))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(crate::wait::POLL_INTERVAL),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout(timeout, format!("{cmd:?} to finish")));
            }
            Err(e) => return Err(Error::io("wait for command", e)),
        }
    };
    let stdout = std::fs::read(&out_path).map_err(|e| Error::io("read stdout", e))?;
    let stderr = std::fs::read(&err_path).map_err(|e| Error::io("read stderr", e))?;
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_sends_sigterm_and_kill9_kills() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::new(
            "sleeper",
            "sleep",
            vec!["30".into()],
            dir.path(),
            dir.path().join("log"),
        );
        p.spawn().unwrap();
        assert!(p.is_running());
        let status = p.stop(Duration::from_secs(5)).unwrap().unwrap();
        assert!(!status.success(), "terminated by a signal");
        assert!(!p.is_running());
        p.spawn().unwrap();
        let pid = p.pid().unwrap();
        p.kill9().unwrap();
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
        assert!(p.log().matches("=== testrig: start").count() == 2);
    }

    #[test]
    fn stop_times_out_on_a_process_ignoring_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::new(
            "stubborn",
            "sh",
            vec!["-c".into(), "trap '' TERM; echo ready; sleep 30".into()],
            dir.path(),
            dir.path().join("log"),
        );
        p.spawn().unwrap();
        crate::wait::poll_until(Duration::from_secs(5), "trap installed", || {
            // A whole line: the start marker line quotes the script too.
            p.log().lines().any(|l| l == "ready").then_some(())
        })
        .unwrap();
        let err = p.stop(Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, Error::StopTimeout { .. }), "{err}");
        assert!(
            err.to_string().contains("\nready"),
            "log tail in error: {err}"
        );
        assert!(!p.is_running());
    }

    #[test]
    fn excerpt_keeps_head_and_tail_of_the_last_start() {
        let mut log = String::from("=== testrig: start #1\nold\n=== testrig: start #2\n");
        for i in 0..100 {
            log.push_str(&format!("line {i}\n"));
        }
        let e = excerpt(&log, 3, 2);
        assert_eq!(
            e,
            "=== testrig: start #2\nline 0\nline 1\n[... 96 lines ...]\nline 98\nline 99"
        );
        assert_eq!(excerpt("a\nb", 3, 2), "a\nb");
    }

    #[test]
    fn drop_kills() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = Process::new(
            "s",
            "sleep",
            vec!["30".into()],
            dir.path(),
            dir.path().join("l"),
        );
        p.spawn().unwrap();
        let pid = p.pid().unwrap();
        drop(p);
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
    }

    #[test]
    fn run_bounded_captures_and_times_out() {
        let out = run_bounded(
            Command::new("sh").args(["-c", "echo hi; echo err >&2"]),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(out.stdout, b"hi\n");
        assert_eq!(out.stderr, b"err\n");
        let err =
            run_bounded(Command::new("sleep").arg("30"), Duration::from_millis(200)).unwrap_err();
        assert!(matches!(err, Error::Timeout(..)));
    }
}
