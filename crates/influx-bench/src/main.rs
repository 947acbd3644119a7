//! `influx-bench`: the TSBS devops cpu-only workload against any InfluxDB
//! 1.x-compatible server — generate, load with N writers, run the devops
//! query types, print a table or JSON. This file only wires the phases.

mod cli;
mod client;
mod compare;
mod error;
mod load;
mod progress;
mod queries;
mod query_run;
mod report;
mod rng;
mod stats;
mod timefmt;
mod workload;

use clap::Parser;
use cli::{Cli, Command, DataArgs, LoadArgs, OutputArgs, QueryArgs, ServerArgs};
use client::Server;
use error::Result;
use progress::Progress;
use report::{Dataset, Report};
use std::io::Write;
use std::time::Duration;

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli.command) {
        eprintln!("influx-bench: {e}");
        std::process::exit(1);
    }
}

fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Run {
            server,
            data,
            load,
            query,
            out,
        } => bench(&server, &data, Some(&load), Some(&query), &out),
        Command::Load {
            server,
            data,
            load,
            out,
        } => bench(&server, &data, Some(&load), None, &out),
        Command::Query {
            server,
            data,
            query,
            out,
        } => bench(&server, &data, None, Some(&query), &out),
        Command::Generate { data } => generate(&data),
        Command::Compare { a, b } => {
            print!("{}", compare::compare_files(&a, &b)?);
            Ok(())
        }
        Command::PrintQueries { data, query } => print_queries(&data, &query),
    }
}

fn generate(data: &DataArgs) -> Result<()> {
    let mut g = workload::Generator::new(data.spec()?);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut buf = String::new();
    while g.next_batch(10_000, &mut buf) > 0 {
        out.write_all(buf.as_bytes())?;
        buf.clear();
    }
    out.flush()?;
    Ok(())
}

fn print_queries(data: &DataArgs, query: &QueryArgs) -> Result<()> {
    let spec = data.spec()?;
    let seed = query.query_seed.unwrap_or(spec.seed);
    let mut out = std::io::stdout().lock();
    for t in query.types()? {
        if !t.fits(&spec) {
            writeln!(
                out,
                "# {}: skipped, needs more than {} h of data and {} hosts",
                t.name, t.hours, t.hosts
            )?;
            continue;
        }
        for q in t.generate(&spec, seed, query.repeats.max(1)) {
            writeln!(out, "{}\t{q}", t.name)?;
        }
    }
    Ok(())
}

fn bench(
    s: &ServerArgs,
    data: &DataArgs,
    load: Option<&LoadArgs>,
    query: Option<&QueryArgs>,
    out: &OutputArgs,
) -> Result<()> {
    let spec = data.spec()?;
    let types = query.map(QueryArgs::types).transpose()?;
    if let Some(l) = load {
        l.validate()?;
    }
    let auth = s.username.as_deref().map(|u| (u, s.password.as_str()));
    let server = Server::new(&s.url, Duration::from_secs(s.timeout), auth)?;
    let ping = server.ping()?;
    if !(200..300).contains(&ping.status) {
        return Err(error::Error::Server {
            what: "GET /ping".into(),
            status: ping.status,
            body: ping.body,
        });
    }
    let progress = Progress::new(!out.no_progress);
    let mut report = Report {
        tool: format!("influx-bench {}", env!("CARGO_PKG_VERSION")),
        url: s.url.clone(),
        server_version: ping.version,
        db: s.db.clone(),
        dataset: Dataset::of(&spec),
        load: None,
        queries: Vec::new(),
        skipped_query_types: Vec::new(),
    };
    if let Some(l) = load {
        if l.drop_db {
            server.admin(&format!("DROP DATABASE \"{}\"", s.db))?;
        }
        server.admin(&format!("CREATE DATABASE \"{}\"", s.db))?;
        let opts = load::LoadOptions {
            db: s.db.clone(),
            workers: l.workers,
            batch_size: l.batch_size,
            gzip: !l.no_gzip,
            consistency: (l.consistency != "none").then(|| l.consistency.clone()),
            max_retries: l.max_retries,
            stream: l.stream,
        };
        report.load = Some(load::run(&server, &spec, &opts, &progress)?);
    }
    if let (Some(q), Some(types)) = (query, types) {
        let opts = query_run::QueryOptions {
            db: s.db.clone(),
            repeats: q.repeats,
            warmup: q.warmup,
            workers: q.query_workers,
            seed: q.query_seed.unwrap_or(spec.seed),
        };
        let (results, skipped) = query_run::run(&server, &spec, &types, &opts, &progress);
        report.queries = results;
        report.skipped_query_types = skipped.into_iter().map(String::from).collect();
    }
    let json = serde_json::to_string_pretty(&report)?;
    if let Some(path) = &out.json_out {
        std::fs::write(path, format!("{json}\n"))?;
    }
    let mut stdout = std::io::stdout().lock();
    if out.json {
        writeln!(stdout, "{json}")?;
    } else {
        write!(stdout, "{}", report.table())?;
    }
    Ok(())
}
