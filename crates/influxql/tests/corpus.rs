//! Corpus test: every command of InfluxDB's own integration tests (fixture
//! copied from shared/compat) either parses — and then prints to text that
//! parses back to an equal AST — or fails with exactly the error text InfluxDB
//! answered (recorded in shared/compat/expected.json).

#![allow(clippy::unwrap_used)]

use influxql::{parse_query, Query};

#[derive(Debug)]
struct Case {
    command: String,
    error: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/upstream_commands.jsonl");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Case {
                command: v["command"].as_str().unwrap().to_string(),
                error: v["error"].as_str().map(str::to_string),
            }
        })
        .collect()
}

fn round_trip(q: &Query) -> Result<(), String> {
    let printed = q.unredacted().to_string();
    let again = parse_query(&printed).map_err(|e| format!("reparse of {printed:?}: {e}"))?;
    if &again != q {
        return Err(format!("round trip changed the AST: {printed:?}"));
    }
    Ok(())
}

#[test]
fn upstream_corpus() {
    let cases = cases();
    assert!(cases.len() > 700, "fixture has {} commands", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        match (parse_query(&c.command), &c.error) {
            (Ok(q), None) => {
                if let Err(e) = round_trip(&q) {
                    failures.push(format!("{}: {e}", c.command));
                }
            }
            (Ok(_), Some(want)) => {
                failures.push(format!("{}: parsed, want error {want:?}", c.command))
            }
            (Err(e), None) => failures.push(format!("{}: unexpected error {e}", c.command)),
            (Err(e), Some(want)) => {
                if &e.to_string() != want {
                    failures.push(format!(
                        "{}: error {:?}, want {want:?}",
                        c.command,
                        e.to_string()
                    ))
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Throughput check (run with `cargo test --release -p influxql --test corpus -- --ignored --nocapture`).
#[test]
#[ignore]
fn parse_throughput() {
    let cases: Vec<String> = cases().into_iter().map(|c| c.command).collect();
    let bytes: usize = cases.iter().map(String::len).sum();
    let rounds = 200;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        for c in &cases {
            std::hint::black_box(parse_query(c).ok());
        }
    }
    let el = start.elapsed();
    let n = (rounds * cases.len()) as f64;
    println!(
        "{} statements in {:?}: {:.2} µs/statement, {:.1} MB/s",
        n,
        el,
        el.as_secs_f64() * 1e6 / n,
        (rounds * bytes) as f64 / el.as_secs_f64() / 1e6
    );
}
