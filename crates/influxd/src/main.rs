//! `influxd`: the Tidemark data node. Thin: parses the command line the way
//! InfluxDB 1.x's `influxd` does (`run`, `config`, `version`; Go-style
//! single-dash flags) and hands over to the `server` crate.

profiling::jemalloc_allocator!();

use anyhow::{bail, Context, Result};
use server::Config;
use std::path::PathBuf;
use std::time::Duration;

/// After the server has stopped (HTTP drained, engine closed), how long the
/// runtime waits for blocking-pool work still running before the process
/// exits anyway.
const RUNTIME_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

const USAGE: &str = "Configure and start a Tidemark data node (InfluxDB 1.x compatible).

Usage: influxd [[command] [arguments]]

The commands are:

    config               display the default configuration
    run                  run node with existing configuration
    version              displays the version

\"run\" is the default command.

Options of run and config:
    -config <path>       configuration file (default: none, built-in defaults;
                         also INFLUXDB_CONFIG_PATH)
    -pidfile <path>      write the process id to this file (run only)
";

struct Args {
    command: String,
    config: Option<PathBuf>,
    pidfile: Option<PathBuf>,
}

fn parse_args(mut args: Vec<String>) -> Result<Args> {
    let command = match args.first() {
        Some(c) if !c.starts_with('-') => args.remove(0),
        _ => "run".to_string(),
    };
    let mut out = Args {
        command,
        config: std::env::var_os("INFLUXDB_CONFIG_PATH").map(PathBuf::from),
        pidfile: None,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let flag = a.trim_start_matches('-');
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.to_string(), None),
        };
        let mut value = || -> Result<String> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => it
                    .next()
                    .with_context(|| format!("flag needs an argument: -{name}")),
            }
        };
        match name.as_str() {
            "config" => out.config = Some(PathBuf::from(value()?)),
            "pidfile" => out.pidfile = Some(PathBuf::from(value()?)),
            "h" | "help" => out.command = "help".into(),
            other => bail!("flag provided but not defined: -{other}\n\n{USAGE}"),
        }
    }
    Ok(out)
}

fn load_config(path: &Option<PathBuf>) -> Result<Config> {
    match path {
        Some(p) => Ok(Config::load(p)?),
        None => Ok(Config::default()),
    }
}

fn main() -> Result<()> {
    let args = parse_args(std::env::args().skip(1).collect())?;
    match args.command.as_str() {
        "version" => {
            println!(
                "Tidemark influxd v{} (InfluxDB {} API)",
                env!("CARGO_PKG_VERSION"),
                server::http::VERSION
            );
            Ok(())
        }
        "config" => {
            print!("{}", load_config(&args.config)?.to_toml());
            Ok(())
        }
        "run" => run(args),
        "help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

fn run(args: Args) -> Result<()> {
    let config = load_config(&args.config)?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("INFLUXD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Some(p) = &args.pidfile {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .with_context(|| format!("write pid file {}", p.display()))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start async runtime")?;
    let result = rt.block_on(async move {
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return std::future::pending().await,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            tracing::info!("signal received, shutting down");
        };
        server::run(config, shutdown, |addr| {
            tracing::info!("Listening for signals; HTTP API on http://{addr}");
        })
        .await
    });
    rt.shutdown_timeout(RUNTIME_SHUTDOWN_TIMEOUT);
    if result.as_ref().ok() == Some(&server::RunOutcome::Rejoin) {
        return reexec();
    }
    if let Some(p) = &args.pidfile {
        let _ = std::fs::remove_file(p);
    }
    result.context("influxd").map(|_| ())
}

/// Replaces this process with a fresh `influxd` with the same arguments
/// (same pid, so pid files and supervisors keep tracking it): the node
/// joined a cluster (`influxd-ctl add-data`) and opens as a member.
fn reexec() -> Result<()> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().context("find the influxd binary to restart")?;
    tracing::info!("restarting {} as a cluster member", exe.display());
    let err = std::process::Command::new(&exe)
        .args(std::env::args_os().skip(1))
        .exec();
    Err(err).with_context(|| format!("restart {}", exe.display()))
}
