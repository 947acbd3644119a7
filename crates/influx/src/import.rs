//! `-import`: replays an `influx_inspect export` file against a server.
//!
//! Owns reading the file (plain or gzip), the `# DDL` section (each line run
//! as a query), the `# DML` section (`# CONTEXT-DATABASE:` /
//! `# CONTEXT-RETENTION-POLICY:` switches, line protocol forwarded verbatim in
//! batches of 5000), `-pps` throttling, per-line failure reports and the 1.x
//! summary. Lines are not parsed here: the server validates them.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client::{Client, Query, WriteParams};
use crate::error::{Error, Result};

/// Lines per write request, like the 1.x importer.
pub const BATCH_SIZE: usize = 5000;

/// What to import and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportConfig {
    pub path: String,
    pub compressed: bool,
    /// Points per second; 0 means unthrottled.
    pub pps: i64,
    pub precision: String,
    pub consistency: String,
}

/// Counters of one import run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportStats {
    pub commands: u64,
    /// DDL commands the server rejected.
    pub failed_commands: u64,
    /// Whether a `# DML` section was found.
    pub saw_dml: bool,
    pub inserts: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

/// `2009/01/23 01:23:23 ` like Go's `log.LstdFlags` (UTC).
pub fn log_prefix(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}/{m:02}/{d:02} {:02}:{:02}:{:02} ",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Go's `time.Duration.String()` for non-negative durations.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", trim_frac(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", trim_frac(ns, 1_000_000));
    }
    let total_s = ns / 1_000_000_000;
    let frac_ns = ns % 1_000_000_000;
    let (h, m, s) = (total_s / 3600, (total_s / 60) % 60, total_s % 60);
    let sec = trim_frac(
        u128::from(s as u64) * 1_000_000_000 + frac_ns,
        1_000_000_000,
    );
    if h > 0 {
        format!("{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

fn trim_frac(v: u128, unit: u128) -> String {
    let whole = v / unit;
    let frac = v % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = unit.to_string().len() - 1;
    let s = format!("{frac:0digits$}");
    format!("{whole}.{}", s.trim_end_matches('0'))
}

/// One line waiting in the batch, with its 1-based line number in the file.
struct Pending {
    number: u64,
    text: Vec<u8>,
}

/// Which lines of a failed batch the server named, and how many it dropped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BatchFailure {
    /// Indices into the batch of lines the server could not parse.
    pub unparsable: Vec<(usize, String)>,
    /// `dropped=N` of a partial write.
    pub dropped: u64,
    /// Whether the server wrote the other points (a partial write).
    pub partial: bool,
}

/// Interprets a `/write` error body against the batch that caused it.
pub fn analyse_failure(body: &str, batch: &[&str]) -> BatchFailure {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .unwrap_or_else(|| body.to_string());
    let mut out = BatchFailure {
        partial: message.starts_with("partial write:"),
        ..BatchFailure::default()
    };
    if !out.partial {
        return out;
    }
    if let Some(pos) = message.rfind("dropped=") {
        let digits: String = message[pos + 8..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        out.dropped = digits.parse().unwrap_or(0);
    }
    let mut by_text: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, l) in batch.iter().enumerate() {
        by_text.entry(l.trim()).or_default().push(i);
    }
    const MARK: &str = "unable to parse '";
    for segment in message.split(MARK).skip(1) {
        let mut found = None;
        for (pos, _) in segment.match_indices("': ") {
            if let Some(idxs) = by_text.get(&segment[..pos]) {
                let reason = segment[pos + 3..].lines().next().unwrap_or("");
                let reason = reason
                    .rfind(" dropped=")
                    .map_or(reason, |p| &reason[..p])
                    .to_string();
                found = Some((idxs.clone(), reason));
                break;
            }
        }
        if let Some((idxs, reason)) = found {
            for i in idxs {
                if !out.unparsable.iter().any(|(j, _)| *j == i) {
                    out.unparsable.push((i, reason.clone()));
                }
            }
        }
    }
    out.unparsable.sort();
    out
}

/// Runs an import. Summary lines go to `out` (stdout in the CLI), errors and
/// per-line failure reports to `err`; progress is shown on `err` when
/// `progress` is set (stderr is a terminal).
pub struct Importer<'a> {
    client: &'a Client,
    cfg: ImportConfig,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    progress: bool,
    database: String,
    retention_policy: String,
    batch: Vec<Pending>,
    stats: ImportStats,
    throttle_points: u64,
    last_write: Instant,
    start: Instant,
}

impl<'a> Importer<'a> {
    /// An importer writing through `client`.
    pub fn new(
        client: &'a Client,
        cfg: ImportConfig,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        progress: bool,
    ) -> Self {
        Importer {
            client,
            cfg,
            out,
            err,
            progress,
            database: String::new(),
            retention_policy: String::new(),
            batch: Vec::with_capacity(BATCH_SIZE),
            stats: ImportStats::default(),
            throttle_points: 0,
            last_write: Instant::now(),
            start: Instant::now(),
        }
    }

    fn log_err(&mut self, text: &str) {
        let _ = write!(self.err, "{}{}", log_prefix(SystemTime::now()), text);
        if !text.ends_with('\n') {
            let _ = writeln!(self.err);
        }
    }

    fn log_out(&mut self, text: &str) {
        let _ = writeln!(self.out, "{}{}", log_prefix(SystemTime::now()), text);
    }

    /// Imports the file; returns the counters, or the error the CLI prints
    /// after `ERROR: `. Failed points make it an error too.
    pub fn run(mut self) -> Result<ImportStats> {
        self.client
            .ping()
            .map_err(|_| Error::Usage(format!("failed to connect to {}\n", self.client.addr())))?;
        if self.cfg.path.is_empty() {
            return Err(Error::Usage("file argument required".to_string()));
        }
        let file = File::open(&self.cfg.path)
            .map_err(|e| Error::Usage(format!("open {}: {}", self.cfg.path, io_text(&e))))?;
        let reader: Box<dyn Read> = if self.cfg.compressed {
            Box::new(flate2::read::GzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let mut reader = BufReader::new(reader);
        if self.cfg.compressed {
            // Surface a bad header now, like Go's gzip.NewReader.
            reader.fill_buf().map_err(|e| {
                if e.kind() == std::io::ErrorKind::InvalidInput
                    || e.kind() == std::io::ErrorKind::InvalidData
                {
                    Error::Usage("gzip: invalid header".to_string())
                } else {
                    Error::Usage(format!("gzip: {}", io_text(&e)))
                }
            })?;
        }
        let result = self.process(reader);
        self.stats.elapsed = self.start.elapsed();
        if self.progress {
            let _ = writeln!(self.err);
        }
        if self.stats.inserts > 0 {
            let (c, i, f) = (self.stats.commands, self.stats.inserts, self.stats.failed);
            self.log_out(&format!("Processed {c} commands"));
            self.log_out(&format!("Processed {i} inserts"));
            self.log_out(&format!("Failed {f} inserts"));
        }
        result?;
        // Not in 1.x (which exits 0 here): a file without a `# DML` section
        // whose lines the server rejected is almost surely not an export.
        if !self.stats.saw_dml && self.stats.failed_commands > 0 {
            return Err(Error::Usage(format!(
                "{} of {} commands failed and no # DML section was found; is {} an influx_inspect export file?",
                self.stats.failed_commands, self.stats.commands, self.cfg.path
            )));
        }
        if self.stats.failed > 0 {
            let plural = if self.stats.failed > 1 {
                "s were"
            } else {
                " was"
            };
            return Err(Error::Usage(format!(
                "{} point{plural} not inserted",
                self.stats.failed
            )));
        }
        Ok(self.stats)
    }

    fn process(&mut self, mut reader: impl BufRead) -> Result<()> {
        let mut in_dml = false;
        let mut number = 0u64;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| Error::Usage(format!("reading standard input: {}", io_text(&e))))?;
            if n == 0 {
                break;
            }
            number += 1;
            let mut line: &[u8] = &buf;
            if let Some(l) = line.strip_suffix(b"\n") {
                line = l;
            }
            if let Some(l) = line.strip_suffix(b"\r") {
                line = l;
            }
            if !in_dml {
                if line.starts_with(b"# DML") {
                    in_dml = true;
                    self.stats.saw_dml = true;
                    continue;
                }
                if line.starts_with(b"#") || line.trim_ascii().is_empty() {
                    continue;
                }
                let command = String::from_utf8_lossy(line).into_owned();
                self.execute(&command);
                continue;
            }
            if let Some(v) = line.strip_prefix(b"# CONTEXT-DATABASE:") {
                self.flush();
                self.database = String::from_utf8_lossy(v).trim().to_string();
                continue;
            }
            if let Some(v) = line.strip_prefix(b"# CONTEXT-RETENTION-POLICY:") {
                self.flush();
                self.retention_policy = String::from_utf8_lossy(v).trim().to_string();
                continue;
            }
            if line.starts_with(b"#") || line.trim_ascii().is_empty() {
                continue;
            }
            self.batch.push(Pending {
                number,
                text: line.to_vec(),
            });
            if self.batch.len() >= BATCH_SIZE {
                self.flush();
                let processed = self.stats.inserts + self.stats.failed;
                if processed.is_multiple_of(100_000) {
                    let since = self.start.elapsed();
                    let pps = processed as f64 / since.as_secs_f64().max(1e-9);
                    self.log_out(&format!(
                        "Processed {processed} lines.  Time elapsed: {}.  Points per second (PPS): {}",
                        go_duration(since),
                        pps as i64
                    ));
                }
            }
        }
        self.flush();
        Ok(())
    }

    fn execute(&mut self, command: &str) {
        self.stats.commands += 1;
        let q = Query {
            command: command.to_string(),
            database: self.database.clone(),
            epoch: self.cfg.precision.clone(),
            ..Query::default()
        };
        match self.client.query(&q, |_| {}) {
            Err(e) => {
                self.stats.failed_commands += 1;
                self.log_err(&format!("error: {e}"));
            }
            Ok(r) => {
                if let Some(e) = r.first_error().map(str::to_string) {
                    self.stats.failed_commands += 1;
                    self.log_err(&format!("error: {e}"));
                }
            }
        }
    }

    fn throttle(&mut self) {
        if self.cfg.pps <= 0 {
            return;
        }
        let pps = self.cfg.pps as f64;
        let points = self.throttle_points as f64;
        let elapsed = self.last_write.elapsed().as_secs_f64();
        let needed = points / pps;
        if needed > elapsed {
            std::thread::sleep(Duration::from_secs_f64(needed - elapsed));
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.batch);
        self.throttle_points += batch.len() as u64;
        self.throttle();
        let mut body = Vec::new();
        for (i, p) in batch.iter().enumerate() {
            if i > 0 {
                body.push(b'\n');
            }
            body.extend_from_slice(&p.text);
        }
        let params = WriteParams {
            database: &self.database,
            retention_policy: &self.retention_policy,
            precision: &self.cfg.precision,
            consistency: &self.cfg.consistency,
        };
        match self.client.write_bytes(&body, &params) {
            Ok(()) => self.stats.inserts += batch.len() as u64,
            Err(e) => self.report_failure(&e, &batch),
        }
        self.throttle_points = 0;
        self.last_write = Instant::now();
        if self.progress {
            let _ = write!(
                self.err,
                "\rImported {} points ({} failed) in {}",
                self.stats.inserts,
                self.stats.failed,
                go_duration(self.start.elapsed())
            );
            let _ = self.err.flush();
        }
        self.batch = batch;
        self.batch.clear();
    }

    fn report_failure(&mut self, e: &Error, batch: &[Pending]) {
        let text = e.to_string();
        if self.progress {
            let _ = writeln!(self.err);
        }
        self.log_err(&format!("error writing batch:  {text}"));
        let lines: Vec<String> = batch
            .iter()
            .map(|p| String::from_utf8_lossy(&p.text).into_owned())
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let failure = match e {
            Error::Server(body) => analyse_failure(body, &refs),
            _ => BatchFailure::default(),
        };
        if failure.partial {
            for (i, reason) in &failure.unparsable {
                let _ = writeln!(
                    self.err,
                    "line {}: {}: {}",
                    batch[*i].number, reason, lines[*i]
                );
            }
            if failure.dropped > 0 {
                let _ = writeln!(
                    self.err,
                    "{} point(s) of lines {}-{} were dropped by the server",
                    failure.dropped,
                    batch.first().map_or(0, |p| p.number),
                    batch.last().map_or(0, |p| p.number)
                );
            }
            let failed =
                (failure.unparsable.len() as u64 + failure.dropped).min(batch.len() as u64);
            self.stats.failed += failed;
            self.stats.inserts += batch.len() as u64 - failed;
        } else {
            for (p, l) in batch.iter().zip(&lines) {
                let _ = writeln!(self.err, "line {}: {}", p.number, l);
            }
            self.stats.failed += batch.len() as u64;
        }
    }
}

/// An I/O error's text without Rust's " (os error N)" suffix, like Go.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error") {
        Some(p) => s[..p].to_string(),
        None => s,
    };
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_prefix_formats_utc() {
        let t = UNIX_EPOCH + Duration::from_secs(1_234_567_890);
        assert_eq!(log_prefix(t), "2009/02/13 23:31:30 ");
    }

    #[test]
    fn go_duration_strings() {
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_micros(2500)), "2.5ms");
        assert_eq!(go_duration(Duration::from_secs(125)), "2m5s");
        assert_eq!(go_duration(Duration::from_nanos(0)), "0s");
    }

    #[test]
    fn finds_unparsable_lines_in_partial_write() {
        let body = r#"{"error":"partial write: unable to parse 'bad1': missing fields\nunable to parse 'bad 2': invalid field format dropped=0"}"#;
        let f = analyse_failure(body, &["cpu v=1 1", "bad1", "cpu v=2 2", "bad 2"]);
        assert!(f.partial);
        assert_eq!(f.dropped, 0);
        assert_eq!(
            f.unparsable,
            vec![
                (1, "missing fields".to_string()),
                (3, "invalid field format".to_string())
            ]
        );
    }

    #[test]
    fn non_partial_failure_names_no_line() {
        let f = analyse_failure(r#"{"error":"database not found: \"x\""}"#, &["a v=1"]);
        assert!(!f.partial);
        assert!(f.unparsable.is_empty());
    }

    #[test]
    fn dropped_count_is_read() {
        let f = analyse_failure(
            r#"{"error":"partial write: field type conflict: input field \"v\" on measurement \"cpu\" is type string, already exists as type float dropped=2"}"#,
            &["cpu v=\"s\" 3"],
        );
        assert_eq!(f.dropped, 2);
    }
}
