//! Command-line arguments (clap derive) and their validation into the
//! options the phases take. Owns no behaviour beyond parsing.

use crate::error::{Error, Result};
use crate::timefmt::{parse_duration_s, parse_rfc3339};
use crate::workload::Spec;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// TSBS devops cpu-only load and query benchmark for any InfluxDB
/// 1.x-compatible server.
#[derive(Debug, Parser)]
#[command(name = "influx-bench", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load the dataset, then run the queries.
    Run {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        load: LoadArgs,
        #[command(flatten)]
        query: QueryArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Load the dataset only.
    Load {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        load: LoadArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Run the queries only (against data loaded earlier with the same dataset options).
    Query {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        query: QueryArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Print the dataset as line protocol on stdout.
    Generate {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Compare two saved runs (`--json-out`): B relative to A.
    Compare { a: PathBuf, b: PathBuf },
    /// Print the queries that would run, one per line, prefixed by their type.
    PrintQueries {
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        query: QueryArgs,
    },
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Server base URL.
    #[arg(long, default_value = "http://127.0.0.1:8086")]
    pub url: String,
    /// Database to load into and query.
    #[arg(long, default_value = "benchmark")]
    pub db: String,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long, default_value = "")]
    pub password: String,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct DataArgs {
    /// Number of hosts.
    #[arg(long, default_value_t = 100)]
    pub scale: u64,
    /// Time span of the data (e.g. 1d, 12h, 90m).
    #[arg(long, default_value = "1d")]
    pub duration: String,
    /// First timestamp (RFC 3339, UTC).
    #[arg(long, default_value = "2016-01-01T00:00:00Z")]
    pub start: String,
    /// Time between two points of a host.
    #[arg(long, default_value = "10s")]
    pub interval: String,
    /// Random seed of the dataset (and of the queries unless --query-seed).
    #[arg(long, default_value_t = 123)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Concurrent writers (one keep-alive connection each).
    #[arg(long, default_value_t = 4)]
    pub workers: usize,
    /// Points per /write request.
    #[arg(long, default_value_t = 10_000)]
    pub batch_size: usize,
    /// Send plain bodies instead of gzip'd ones.
    #[arg(long)]
    pub no_gzip: bool,
    /// Write consistency (any, one, quorum, all); "none" sends no parameter.
    #[arg(long, default_value = "all")]
    pub consistency: String,
    /// DROP DATABASE before creating it.
    #[arg(long)]
    pub drop_db: bool,
    /// Generate batches while loading instead of all before the clock starts.
    #[arg(long)]
    pub stream: bool,
    /// Retries per batch on backoff messages, 5xx and transport errors.
    #[arg(long, default_value_t = 10)]
    pub max_retries: u32,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Query types, comma-separated, or "all".
    #[arg(long, default_value = "all")]
    pub queries: String,
    /// Timed queries per type.
    #[arg(long, default_value_t = 20)]
    pub repeats: usize,
    /// Untimed warm-up queries per type.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Concurrent query clients.
    #[arg(long, default_value_t = 1)]
    pub query_workers: usize,
    /// Seed of the random hosts and windows (default: --seed).
    #[arg(long)]
    pub query_seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print the results as JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Also write the JSON results to this file.
    #[arg(long)]
    pub json_out: Option<PathBuf>,
    /// No progress display on stderr (it is shown only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

impl DataArgs {
    /// The dataset spec these options describe.
    pub fn spec(&self) -> Result<Spec> {
        if self.scale == 0 {
            return Err(Error::Invalid {
                what: "--scale",
                value: "0".into(),
                hint: "need at least one host",
            });
        }
        Ok(Spec {
            scale: self.scale,
            duration_s: parse_duration_s(&self.duration)?,
            start_ns: parse_rfc3339(&self.start)?,
            interval_s: parse_duration_s(&self.interval)?,
            seed: self.seed,
        })
    }
}

impl QueryArgs {
    /// The chosen query types, in TSBS order for "all", else as listed.
    pub fn types(&self) -> Result<Vec<crate::queries::QueryType>> {
        if self.queries == "all" {
            return Ok(crate::queries::ALL.to_vec());
        }
        self.queries
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|n| {
                crate::queries::by_name(n).ok_or_else(|| Error::Invalid {
                    what: "query type",
                    value: n.into(),
                    hint: "see `influx-bench print-queries`; e.g. single-groupby-1-1-1, lastpoint",
                })
            })
            .collect()
    }
}

impl LoadArgs {
    pub fn validate(&self) -> Result<()> {
        if self.workers == 0 || self.batch_size == 0 {
            return Err(Error::Invalid {
                what: "--workers/--batch-size",
                value: format!("{}/{}", self.workers, self.batch_size),
                hint: "both must be at least 1",
            });
        }
        if !["any", "one", "quorum", "all", "none"].contains(&self.consistency.as_str()) {
            return Err(Error::Invalid {
                what: "--consistency",
                value: self.consistency.clone(),
                hint: "one of any, one, quorum, all, none",
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_run() {
        let cli = Cli::try_parse_from([
            "influx-bench",
            "run",
            "--url",
            "http://h:1",
            "--scale",
            "10",
            "--duration",
            "2h",
            "--workers",
            "2",
            "--no-gzip",
            "--consistency",
            "one",
            "--queries",
            "lastpoint,high-cpu-1",
            "--json",
        ])
        .unwrap();
        let Command::Run {
            server,
            data,
            load,
            query,
            out,
        } = cli.command
        else {
            panic!("not run")
        };
        assert_eq!(server.url, "http://h:1");
        let spec = data.spec().unwrap();
        assert_eq!(
            (spec.scale, spec.duration_s, spec.interval_s, spec.seed),
            (10, 7200, 10, 123)
        );
        assert!(load.no_gzip && load.workers == 2);
        load.validate().unwrap();
        let names: Vec<&str> = query.types().unwrap().iter().map(|t| t.name).collect();
        assert_eq!(names, ["lastpoint", "high-cpu-1"]);
        assert!(out.json);
    }

    #[test]
    fn rejects_bad_values() {
        let cli = Cli::try_parse_from(["influx-bench", "load", "--consistency", "most"]).unwrap();
        let Command::Load { load, .. } = cli.command else {
            panic!()
        };
        assert!(load
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--consistency"));
        let cli =
            Cli::try_parse_from(["influx-bench", "print-queries", "--queries", "nope"]).unwrap();
        let Command::PrintQueries { query, .. } = cli.command else {
            panic!()
        };
        assert!(query.types().is_err());
        let cli = Cli::try_parse_from(["influx-bench", "generate", "--duration", "1y"]).unwrap();
        let Command::Generate { data } = cli.command else {
            panic!()
        };
        assert!(data.spec().is_err());
    }
}
