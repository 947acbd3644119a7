//! `influxd-ctl`: manages a meta cluster through a meta node's HTTP API
//! (global `-bind host:port`, default `localhost:8091`). Commands:
//! `add-meta`, `remove-meta`, `join`, `leave`, `force-leave`, `add-data`,
//! `remove-data`, `update-data`, `show`, `show-shards`. Output is laid out
//! like InfluxDB Enterprise's. HTTP client only: it never touches a node's
//! files.

pub mod flags;
pub mod render;

use meta_service::client::{ClientOptions, JwtAuth, MetaClient};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CtlError {
    #[error("{0}")]
    Usage(String),
    #[error("{USAGE}")]
    Help,
    #[error("{0}")]
    Meta(#[from] meta_service::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = CtlError> = std::result::Result<T, E>;

pub const USAGE: &str = "Usage: influxd-ctl [options] <command> [options] [<args>]

Available commands are:
   add-data          Add a data node
   add-meta          Add a meta node
   force-leave       Forcefully remove a meta node
   join              Join a meta or data node
   leave             Remove a meta or data node
   remove-data       Remove a data node
   remove-meta       Remove a meta node
   remove-shard      Remove a shard from a data node
   show              Show cluster members
   show-shards       Shows the shards in a cluster
   token             Generates a signed JWT token
   truncate-shards   Truncate current shards
   update-data       Update a data node

Options:
   -auth-type string
         Type of authentication to use (none, basic, jwt) (default \"none\")
   -bind string
         Bind HTTP address of a meta node (default \"localhost:8091\")
   -bind-tls
         Use TLS
   -config string
         Config file path
   -k    Skip certificate verification (ignored with no TLS)
   -pwd string
         Password (basic auth only)
   -secret string
         JWT shared secret (ignored without -auth-type jwt)
   -user string
         User name (basic auth only)";

/// Global options.
struct Global {
    bind: String,
    client: MetaClient,
    jwt: Option<JwtAuth>,
}

fn global(args: &[String]) -> Result<(Global, Vec<String>)> {
    let p = flags::parse(
        args,
        &flags::Spec {
            values: &["bind", "config", "auth-type", "secret", "user", "pwd"],
            bools: &["bind-tls", "k", "v"],
        },
    )?;
    if p.flag("bind-tls") {
        return Err(CtlError::Usage(
            "-bind-tls: TLS is not supported yet".into(),
        ));
    }
    let bind = p.value("bind").unwrap_or("localhost:8091").to_string();
    let mut opts = ClientOptions {
        retry_for: Duration::from_secs(5),
        request_timeout: Duration::from_secs(90),
        ..Default::default()
    };
    match p.value("auth-type").unwrap_or("none") {
        "none" => {}
        "basic" => {
            let user = p.value("user").unwrap_or_default().to_string();
            if user.is_empty() {
                return Err(CtlError::Usage(
                    "-user is required with -auth-type basic".into(),
                ));
            }
            opts.basic_auth = Some((user, p.value("pwd").unwrap_or_default().to_string()));
        }
        "jwt" => {
            let secret = p.value("secret").unwrap_or_default();
            if secret.is_empty() {
                return Err(CtlError::Usage(
                    "-secret is required with -auth-type jwt".into(),
                ));
            }
            opts.jwt = Some(JwtAuth {
                secret: secret.to_string(),
                username: p.value("user").unwrap_or_default().to_string(),
            });
        }
        other => return Err(CtlError::Usage(format!("unknown auth type: {other}"))),
    }
    let jwt = opts.jwt.clone();
    let client = MetaClient::with_options(vec![bind.clone()], opts);
    Ok((Global { bind, client, jwt }, p.rest))
}

fn one_arg(cmd: &str, rest: &[String], what: &str) -> Result<String> {
    match rest {
        [a] => Ok(a.clone()),
        _ => Err(CtlError::Usage(format!(
            "{cmd}: expected one argument: {what}"
        ))),
    }
}

/// Runs `influxd-ctl` with `args` (without the program name).
pub fn run(args: &[String], out: &mut dyn Write) -> Result<()> {
    let (g, rest) = global(args)?;
    let Some((cmd, rest)) = rest.split_first() else {
        return Err(CtlError::Help);
    };
    let c = &g.client;
    match cmd.as_str() {
        "add-meta" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &[],
                    bools: &[],
                },
            )?;
            let addr = one_arg(cmd, &p.rest, "<meta node HTTP address>")?;
            let node = c.request_json("POST", "/add-meta", Some(&json!({ "addr": addr })))?;
            writeln!(out, "Added meta node {} at {}", node["id"], addr)?;
        }
        "remove-meta" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &["tcpAddr"],
                    bools: &["force", "y"],
                },
            )?;
            let addr = one_arg(cmd, &p.rest, "<meta node HTTP address>")?;
            let target = match (p.flag("force"), p.value("tcpAddr")) {
                (true, Some(tcp)) => tcp.to_string(),
                _ => addr.clone(),
            };
            let node = c.request_json("POST", "/remove-meta", Some(&json!({ "addr": target })))?;
            writeln!(out, "Removed meta node {} at {}", node["id"], addr)?;
        }
        "join" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &[],
                    bools: &["v", "p"],
                },
            )?;
            let status = c.request_json("GET", "/status", None)?;
            let me = status["httpAddr"].as_str().unwrap_or(&g.bind).to_string();
            writeln!(out, "Joining meta node at {}", g.bind)?;
            writeln!(out, "Searching for meta node on {me}...")?;
            let node = match p.rest.as_slice() {
                [] => c.request_json("POST", "/add-meta", Some(&json!({ "addr": me })))?,
                [cluster] => c.request_json("POST", "/join", Some(&json!({ "addr": cluster })))?,
                _ => {
                    return Err(CtlError::Usage(
                        "join: expected at most one argument".into(),
                    ))
                }
            };
            writeln!(out)?;
            if p.rest.is_empty() {
                writeln!(out, "Successfully created cluster")?;
            } else {
                writeln!(out, "Successfully joined cluster")?;
            }
            writeln!(out)?;
            writeln!(out, "  * Added meta node {} at {}", node["id"], me)?;
            writeln!(out)?;
            writeln!(
                out,
                "  To join additional nodes to this cluster, run the following command:"
            )?;
            writeln!(out)?;
            writeln!(out, "  influxd-ctl join {me}")?;
        }
        "leave" => {
            flags::parse(
                rest,
                &flags::Spec {
                    values: &[],
                    bools: &["y", "v"],
                },
            )?;
            let status = c.request_json("GET", "/status", None)?;
            let me = status["httpAddr"].as_str().unwrap_or(&g.bind).to_string();
            writeln!(out, "Searching for meta node on {me}...")?;
            writeln!(out)?;
            writeln!(out, "Removing meta node at {me}")?;
            let node = c.request_json("POST", "/leave", Some(&json!({})))?;
            writeln!(out)?;
            writeln!(out, "Successfully left cluster")?;
            writeln!(out)?;
            writeln!(out, "  * Removed meta node {} at {}", node["id"], me)?;
        }
        "force-leave" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &[],
                    bools: &["y", "v", "force"],
                },
            )?;
            // Without -force a node the cluster still counts as a voter
            // refuses to wipe itself.
            let body = json!({ "force": p.flag("force") });
            let r = c.request_json("POST", "/force-leave", Some(&body))?;
            writeln!(
                out,
                "Forcefully removed meta node at {}",
                r["addr"].as_str().unwrap_or(&g.bind)
            )?;
        }
        "add-data" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &["http"],
                    bools: &["p"],
                },
            )?;
            let addr = one_arg(cmd, &p.rest, "<data node TCP address>")?;
            let mut body = json!({ "addr": addr, "passive": p.flag("p") });
            if let Some(h) = p.value("http") {
                body["httpAddr"] = json!(h);
            }
            let r = c.request_json("POST", "/add-data", Some(&body))?;
            let id = &r["node"]["id"];
            if p.flag("p") {
                writeln!(out, "Added passive data node {id} at {addr}")?;
            } else {
                writeln!(out, "Added data node {id} at {addr}")?;
            }
        }
        "remove-data" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &[],
                    bools: &["force", "y"],
                },
            )?;
            let addr = one_arg(cmd, &p.rest, "<data node TCP address>")?;
            let r = c.request_json("POST", "/remove-data", Some(&json!({ "addr": addr })))?;
            writeln!(out, "Removed data node at {addr}")?;
            if let Some(orphans) = r["orphanedShards"].as_array().filter(|a| !a.is_empty()) {
                let ids: Vec<String> = orphans.iter().map(|v| v.to_string()).collect();
                writeln!(out, "Shards left without an owner: {}", ids.join(", "))?;
            }
        }
        "update-data" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &[],
                    bools: &[],
                },
            )?;
            let [old, new] = p.rest.as_slice() else {
                return Err(CtlError::Usage(
                    "update-data: expected <old TCP address> <new TCP address>".into(),
                ));
            };
            let r = c.request_json(
                "POST",
                "/update-data",
                Some(&json!({ "old": old, "new": new })),
            )?;
            writeln!(out, "updated data node {} to {}", r["id"], new)?;
        }
        "truncate-shards" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &["delay"],
                    bools: &[],
                },
            )?;
            let delay = p.value("delay").unwrap_or("1m0s");
            meta_service::duration::parse(delay).map_err(CtlError::Usage)?;
            c.request_json("POST", "/truncate-shards", Some(&json!({ "delay": delay })))?;
            writeln!(out, "Truncated shards.")?;
        }
        "remove-shard" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &[],
                    bools: &[],
                },
            )?;
            let [addr, id] = p.rest.as_slice() else {
                return Err(CtlError::Usage(
                    "remove-shard: expected <data node TCP address> <shard id>".into(),
                ));
            };
            let id: u64 = id
                .parse()
                .map_err(|_| CtlError::Usage(format!("remove-shard: invalid shard id {id:?}")))?;
            c.request_json(
                "POST",
                "/remove-shard",
                Some(&json!({ "addr": addr, "id": id })),
            )?;
            writeln!(out, "Removed shard {id} from {addr}")?;
        }
        "show" => {
            let v = c.request_json("GET", "/show-cluster", None)?;
            out.write_all(render::show(&v).as_bytes())?;
        }
        "show-shards" => {
            let v: Value = c.request_json("GET", "/show-shards", None)?;
            out.write_all(render::show_shards(&v).as_bytes())?;
        }
        "token" => {
            let p = flags::parse(
                rest,
                &flags::Spec {
                    values: &["exp"],
                    bools: &[],
                },
            )?;
            let Some(j) = &g.jwt else {
                return Err(CtlError::Usage(
                    "token requires -auth-type jwt and -secret".into(),
                ));
            };
            let exp = match p.value("exp") {
                Some(e) => meta_service::duration::parse(e).map_err(CtlError::Usage)?,
                None => Duration::from_secs(60),
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            let token = meta_service::jwt::sign(&j.secret, &j.username, now + exp.as_secs() as i64);
            writeln!(out, "{token}")?;
        }
        "help" => return Err(CtlError::Help),
        other => {
            return Err(CtlError::Usage(format!(
                "unknown command: {other}\n\n{USAGE}"
            )))
        }
    }
    Ok(())
}
