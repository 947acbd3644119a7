//! `influxd-meta`: the meta node binary. Parses Go-style flags and hands
//! over to `meta_service::server`; nothing else lives here.
//!
//! ```text
//! influxd-meta [run] [-config FILE] [-pidfile FILE] [-single-server] [-hostname NAME]
//! influxd-meta config      print the default configuration
//! influxd-meta version
//! ```

profiling::jemalloc_allocator!();

use meta_service::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "Configure and start an InfluxDB Enterprise meta node.

Usage: influxd-meta [[command] [arguments]]

The commands are:

    config               display the default configuration
    help                 display this help message
    run                  run node with existing configuration
    version              displays the InfluxDB Enterprise meta version

\"run\" is the default command.

Options for run:
    -config <path>       Set the path to the configuration file.
    -hostname <name>     Override the hostname.
    -pidfile <path>      Write process ID to a file.
    -single-server       Start the node as a single-server meta cluster.
";

#[derive(Default)]
struct RunFlags {
    config: Option<PathBuf>,
    pidfile: Option<PathBuf>,
    hostname: Option<String>,
    single_server: bool,
}

/// Go's flag syntax: `-name value`, `-name=value`, `--name`, booleans bare.
fn parse_run(args: &[String]) -> Result<RunFlags, String> {
    let mut f = RunFlags::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let Some(stripped) = a.strip_prefix("--").or_else(|| a.strip_prefix('-')) else {
            return Err(format!("unexpected argument: {a}"));
        };
        let (name, inline) = match stripped.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (stripped, None),
        };
        let value = |i: &mut usize| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            *i += 1;
            args.get(*i)
                .cloned()
                .ok_or_else(|| format!("flag needs an argument: -{name}"))
        };
        match name {
            "config" => f.config = Some(PathBuf::from(value(&mut i)?)),
            "pidfile" => f.pidfile = Some(PathBuf::from(value(&mut i)?)),
            "hostname" => f.hostname = Some(value(&mut i)?),
            "single-server" => {
                f.single_server = match inline.as_deref() {
                    None | Some("true") | Some("1") => true,
                    Some("false") | Some("0") => false,
                    Some(v) => {
                        return Err(format!("invalid boolean value {v:?} for -single-server"))
                    }
                }
            }
            _ => return Err(format!("flag provided but not defined: -{name}")),
        }
        i += 1;
    }
    Ok(f)
}

fn run(flags: RunFlags) -> Result<(), String> {
    let mut cfg = match &flags.config {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => {
            let mut c = Config::default();
            c.apply_env(|k| std::env::var(k).ok())
                .map_err(|e| e.to_string())?;
            c
        }
    };
    if let Some(h) = flags.hostname {
        cfg.hostname = h;
    }
    cfg.validate().map_err(|e| e.to_string())?;
    if let Some(p) = &flags.pidfile {
        std::fs::write(p, format!("{}\n", std::process::id()))
            .map_err(|e| format!("write pid file: {e}"))?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let res = rt.block_on(async move {
        let bound = meta_service::server::bind(cfg)
            .await
            .map_err(|e| e.to_string())?;
        bound
            .serve(flags.single_server, meta_service::server::signal())
            .await
            .map_err(|e| e.to_string())
    });
    if let Some(p) = &flags.pidfile {
        let _ = std::fs::remove_file(p);
    }
    res
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,openraft=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first().map(String::as_str) {
        Some("run") => ("run", &args[1..]),
        Some("config") => ("config", &args[1..]),
        Some("version") => ("version", &args[1..]),
        Some("help") | Some("-h") | Some("-help") | Some("--help") => ("help", &args[1..]),
        _ => ("run", &args[..]),
    };
    let res = match cmd {
        "config" => {
            print!("{}", Config::defaults_toml());
            Ok(())
        }
        "version" => {
            println!("influxd-meta v{}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        "help" => {
            print!("{USAGE}");
            Ok(())
        }
        _ => parse_run(rest).and_then(run),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("run: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn go_style_flags() {
        let f = parse_run(&args(&[
            "-config",
            "a.toml",
            "-single-server",
            "--pidfile=p",
        ]))
        .unwrap();
        assert_eq!(f.config, Some(PathBuf::from("a.toml")));
        assert_eq!(f.pidfile, Some(PathBuf::from("p")));
        assert!(f.single_server);
        assert!(parse_run(&args(&["-nope"])).is_err());
        assert!(parse_run(&args(&["-config"])).is_err());
    }
}
