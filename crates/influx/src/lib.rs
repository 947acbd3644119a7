//! `influx`: the InfluxDB 1.x command-line client, compatible with the Go
//! `influx` 1.x shell (flags, commands, output formats, import).
//!
//! Talks to any server speaking the 1.x HTTP API (`/ping`, `/query`,
//! `/write`), Tidemark's `influxd` included. It depends on no storage or
//! server crate. Entry point: [`run`]; building blocks are public so tests
//! (and an end-to-end suite) can drive them directly.
//!
//! Deliberate differences from the Go 1.6 CLI:
//! - a retention policy set with `use db.rp` is sent as the `rp` query
//!   parameter (which 1.x servers honour) instead of rewriting the query
//!   text client-side, so parse errors come from the server;
//! - `-import` counts only the points the server rejected (1.6 counts a
//!   whole 5000-line batch as failed on a partial write), reports bad lines
//!   with their line numbers, shows progress on a terminal, and fails a file
//!   without a `# DML` section whose lines were all rejected as queries;
//! - `/ping` must answer 204 (1.6 accepted any HTTP answer);
//! - `-ssl` needs the `tls` cargo feature; `-socket` is not supported;
//! - Ctrl-C is ignored at the prompt and aborts a running query;
//! - `history` in `-execute` mode prints nothing (1.6 crashes); no `gopher`.

pub mod client;
pub mod commands;
pub mod error;
pub mod flags;
pub mod format;
pub mod import;
pub mod repl;
pub mod response;

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use commands::{CommandError, CommandLine, CLIENT_VERSION};
pub use error::{Error, Result};

/// Runs the CLI with the given arguments (without the program name) and
/// returns the process exit status, like the 1.x `influx` binary.
pub fn run(args: &[String]) -> ExitCode {
    let opts = match flags::parse(args) {
        Ok(o) => o,
        Err(e) => {
            if let Some(m) = e.message() {
                eprintln!("{m}");
            }
            print!("{}", flags::USAGE);
            return ExitCode::from(e.exit_code());
        }
    };
    if opts.show_version {
        println!("InfluxDB shell version: {CLIENT_VERSION}");
        return ExitCode::SUCCESS;
    }
    match run_session(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            let _ = std::io::stdout().flush();
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}

/// Everything after flag parsing. `Err` carries the text for stderr.
fn run_session(mut opts: flags::Options) -> std::result::Result<(), String> {
    let has_tty = std::io::stdin().is_terminal();
    if opts.prompt_password && !has_tty {
        return Err("unable to prompt for a password with no TTY".to_string());
    }
    if opts.username.is_empty() {
        opts.username = std::env::var("INFLUX_USERNAME").unwrap_or_default();
    }
    if opts.prompt_password {
        opts.password = rpassword::prompt_password("password: ")
            .map_err(|_| "Unable to parse password".to_string())?;
    } else if opts.password.is_empty() {
        opts.password = std::env::var("INFLUX_PASSWORD").unwrap_or_default();
    }
    if !opts.socket.is_empty() {
        return Err(
            "ERR: unix socket connections (-socket) are not supported by this client".to_string(),
        );
    }

    let mut cl = CommandLine::new(&opts, Box::new(std::io::stdout()));
    if let Err(e) = cl.connect("") {
        let addr = cl.client().map(|c| c.addr().to_string()).ok();
        return Err(match (e, addr) {
            (CommandError::Failed(m), Some(addr)) => {
                let hint = if !opts.ssl && m.contains("HTTP request to an HTTPS server") {
                    "Please use the -ssl flag to connect using SSL."
                } else if opts.ssl && !opts.unsafe_ssl && m.contains("certificate") {
                    "You may use -unsafeSsl to connect anyway, but the SSL connection will not be secure."
                } else {
                    "Please check your connection settings and ensure 'influxd' is running."
                };
                format!("Failed to connect to {addr}: {m}\n{hint}")
            }
            (other, _) => other.to_string(),
        });
    }
    let precision = opts.precision.clone();
    cl.set_precision(&precision);

    if !opts.execute.is_empty() {
        for line in opts.execute.split('\n') {
            cl.parse_command(line, None).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }

    if opts.import {
        let client = cl.client().map_err(|e| e.to_string())?;
        let cfg = import::ImportConfig {
            path: opts.path.clone(),
            compressed: opts.compressed,
            pps: opts.pps,
            precision: cl.precision.clone(),
            consistency: cl.consistency.clone(),
        };
        let mut out = std::io::stdout();
        let mut err = std::io::stderr();
        let progress = err.is_terminal();
        return import::Importer::new(client, cfg, &mut out, &mut err, progress)
            .run()
            .map(|_| ())
            .map_err(|e| format!("ERROR: {e}"));
    }

    if !has_tty {
        let mut input = Vec::new();
        std::io::stdin()
            .read_to_end(&mut input)
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&input).into_owned();
        return cl.execute_query(&text).map_err(|e| e.to_string());
    }

    let addr = cl
        .client()
        .map(|c| c.addr().to_string())
        .unwrap_or_default();
    repl::run(&mut cl, &addr).map_err(|e| e.to_string())
}
