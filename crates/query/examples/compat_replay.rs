//! Replays the compat harness cases (`/work/shared/compat`) directly
//! against the executor (no HTTP) over a real meta store, tsdb store and
//! points writer, and compares with the recorded InfluxDB answers. A
//! development aid: `cargo run -p query --example compat_replay -- [FILTER]`.

#![allow(clippy::unwrap_used)]

use query::result::{StatementResultSer, TimeFormat};
use query::{ExecutionContext, ExecutorConfig, QueryExecutor};
use serde_json::{json, Value as J};
use std::sync::Arc;

fn render(s: &str, now: i64) -> String {
    let re = regex::Regex::new(r"\{\{now\|([a-z0-9]+)\|([+-]?\d+)(?:\|([^}]*))?\}\}").unwrap();
    re.replace_all(s, |c: &regex::Captures| {
        let unit = &c[1];
        let delta: i64 = c[2].parse().unwrap();
        if unit == "rfc3339" {
            return query::result::format_rfc3339_nano(now + delta);
        }
        let m = match unit {
            "ns" => 1,
            "u" => 1_000,
            "ms" => 1_000_000,
            _ => 1_000_000_000,
        };
        (now / m + delta).to_string()
    })
    .into_owned()
}

fn norm(v: &J) -> J {
    match v {
        J::Number(n) => json!(n.as_f64().unwrap_or(0.0)),
        J::Array(a) => J::Array(a.iter().map(norm).collect()),
        J::Object(o) => J::Object(o.iter().map(|(k, v)| (k.clone(), norm(v))).collect()),
        other => other.clone(),
    }
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let verbose = std::env::var("V").is_ok();
    let re = regex::Regex::new(&filter).unwrap();
    let cases = std::fs::read_to_string("/work/shared/compat/cases/upstream.jsonl").unwrap();
    let expected: J = serde_json::from_str(
        &std::fs::read_to_string("/work/shared/compat/expected.json").unwrap(),
    )
    .unwrap();
    let (mut pass, mut fail) = (0, 0);
    for line in cases.lines() {
        let case: J = serde_json::from_str(line).unwrap();
        let name = case["name"].as_str().unwrap();
        if !re.is_match(name) {
            continue;
        }
        let exp = &expected["groups"][name];
        let now = exp["now_ns"]
            .as_i64()
            .unwrap_or_else(|| models::now_nanos() / 1_000_000_000 * 1_000_000_000);
        let dir = tempfile::tempdir().unwrap();
        let meta: Arc<dyn meta::MetaStore> =
            Arc::new(meta::local::LocalMetaStore::open(&dir.path().join("meta")).unwrap());
        meta.execute(meta::Command::CreateDataNode {
            host: "localhost:8086".into(),
            tcp_host: "localhost:8088".into(),
            passive: false,
        })
        .unwrap();
        let cfg = tsdb::EngineConfig {
            dir: dir.path().join("data"),
            wal_dir: dir.path().join("wal"),
            ..Default::default()
        };
        let store = Arc::new(tsdb::Store::open(cfg).unwrap());
        let writer = Arc::new(cluster::PointsWriter::new(meta.clone(), store.clone(), 1));
        let ex = QueryExecutor::new(
            meta.clone(),
            store,
            writer.clone(),
            ExecutorConfig::default(),
        );
        let run = |cmd: &str, params: &J| -> J {
            let db = params["db"].as_str().unwrap_or("").to_string();
            let rp = params["rp"].as_str().unwrap_or("").to_string();
            let tf = match params["epoch"].as_str() {
                Some(e) => TimeFormat::Epoch(models::Precision::parse(e).unwrap_or_default()),
                None => TimeFormat::Rfc3339,
            };
            let q = match influxql::parse_query(cmd) {
                Ok(q) => q,
                Err(e) => return json!({"error": format!("error parsing query: {e}")}),
            };
            let ctx = ExecutionContext {
                database: db,
                retention_policy: rp,
                now,
                ..Default::default()
            };
            let res = ex.execute(&q, &ctx);
            let rs: Vec<J> = res
                .iter()
                .map(|r| serde_json::to_value(StatementResultSer(r, tf)).unwrap())
                .collect();
            json!({ "results": rs })
        };
        let write = |w: &J| {
            let body = render(w["body"].as_str().unwrap_or(""), now);
            let prec =
                models::Precision::parse(w["precision"].as_str().unwrap_or("")).unwrap_or_default();
            let pts = lineproto::parse_points(body.as_bytes(), prec, now);
            if !pts.errors.is_empty() && verbose {
                println!("parse errors: {:?}", pts.errors);
            }
            let r = writer.write(
                w["db"].as_str().unwrap_or(""),
                w["rp"].as_str().unwrap_or(""),
                pts.points,
                cluster::Consistency::One,
                now,
            );
            if verbose {
                println!("write: {r:?}");
            }
        };
        for st in case["setup"].as_array().unwrap() {
            if let Some(c) = st["command"].as_str() {
                run(&render(c, now), &st["params"]);
            } else {
                write(st);
            }
        }
        let steps = exp["steps"].as_array().unwrap();
        for (si, q) in case["queries"].as_array().unwrap().iter().enumerate() {
            let Some(step) = steps.get(si) else { break };
            if q["skip"].as_bool() == Some(true) {
                continue;
            }
            if let Some(w) = q.get("write") {
                write(w);
                continue;
            }
            let cmd = render(q["command"].as_str().unwrap_or(""), now);
            let got = run(&cmd, &q["params"]);
            let want = &step["body"];
            let vol = q["volatile"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>())
                .unwrap_or_default();
            let same = if vol.contains(&"status") {
                got.to_string().contains("\"error\"") == want.to_string().contains("\"error\"")
            } else {
                norm(&got) == norm(want)
            };
            if same {
                pass += 1;
                if verbose {
                    println!("PASS {name}: {cmd}");
                }
            } else {
                fail += 1;
                println!(
                    "FAIL {name}: {cmd}\n  want {}\n  got  {}",
                    want.to_string().chars().take(700).collect::<String>(),
                    got.to_string().chars().take(700).collect::<String>()
                );
            }
        }
    }
    println!("replay: {pass} passed, {fail} failed");
}
