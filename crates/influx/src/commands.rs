//! The shell's command interpreter, shared by `-execute`, piped input and
//! the interactive loop.
//!
//! Owns the session state ([`CommandLine`]: connection, database/retention
//! policy context, output settings) and every shell command (`use`,
//! `insert`, `format`, `settings`, ...), printing exactly what the 1.x CLI
//! prints. It must not own terminal handling (see `repl`) nor HTTP details
//! (see `client`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::client::{join_host_port, Client, ClientConfig, Query, WriteParams};
use crate::error::{Error, Result};
use crate::flags::{go_quote, Options, DEFAULT_HOST, DEFAULT_PORT};
use crate::format::{self, tabwriter::TabWriter};
use crate::response::Value;

/// Version of this client, printed by `-version` and the welcome text.
pub const CLIENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Interactive input the `auth` command needs (absent in scripted mode).
pub trait Prompter {
    /// Reads one line after printing `prompt`; `None` on EOF/error.
    fn prompt(&mut self, prompt: &str) -> Option<String>;
    /// Reads a password without echo; `None` on EOF/error.
    fn password(&mut self, prompt: &str) -> Option<String>;
    /// The command history, oldest first.
    fn history(&self) -> Vec<String>;
}

/// Why a command did not succeed (for the exit status of scripted runs).
#[derive(Debug)]
pub enum CommandError {
    /// The line was blank (`empty input`).
    Blank,
    /// The command failed; the message is what the 1.x CLI returns.
    Failed(String),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Blank => f.write_str("empty input"),
            CommandError::Failed(m) => f.write_str(m),
        }
    }
}

/// Session state of the shell.
pub struct CommandLine {
    pub host: String,
    pub port: i64,
    pub ssl: bool,
    pub unsafe_ssl: bool,
    pub username: String,
    pub password: String,
    pub database: String,
    pub retention_policy: String,
    pub format: String,
    pub pretty: bool,
    /// Query epoch / write precision; empty means RFC3339.
    pub precision: String,
    pub consistency: String,
    pub chunked: bool,
    pub chunk_size: i64,
    pub node_id: i64,
    pub server_version: String,
    /// Set by `exit`/`quit`.
    pub quit: bool,
    client: Option<Client>,
    out: Box<dyn Write>,
    /// Set by a SIGINT handler in interactive mode: aborts a running query.
    interrupt: Option<Arc<AtomicBool>>,
}

fn to_failed(e: Error) -> CommandError {
    CommandError::Failed(e.to_string())
}

/// Splits `db.rp` / `"db"."rp"` like the 1.x shell (quotes toggle, at most
/// one unquoted dot).
pub fn parse_database_and_rp(stmt: &str) -> Option<(String, String)> {
    let mut db = Vec::new();
    let mut rp = Vec::new();
    let mut quoted = false;
    let mut seps = 0;
    for &b in stmt.trim().as_bytes() {
        if b == b'"' {
            quoted = !quoted;
            continue;
        }
        if b == b'.' && !quoted {
            seps += 1;
            if seps > 1 {
                return None;
            }
            continue;
        }
        if seps == 1 {
            rp.push(b);
        } else {
            db.push(b);
        }
    }
    Some((
        String::from_utf8_lossy(&db).into_owned(),
        String::from_utf8_lossy(&rp).into_owned(),
    ))
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Next identifier of an `insert` statement: skips whitespace, then an
/// unquoted identifier or a double-quoted one. Returns (ident, remainder).
fn next_identifier(stmt: &str) -> (String, &str) {
    let s = stmt.trim_start_matches([' ', '\t', '\n']);
    let Some(first) = s.chars().next() else {
        return (String::new(), stmt);
    };
    if first.is_ascii_alphabetic() || first == '_' {
        let end = s.find(|c: char| !is_ident_char(c)).unwrap_or(s.len());
        return (s[..end].to_string(), &s[end..]);
    }
    if first == '"' {
        let body = &s[1..];
        let mut escape = false;
        for (i, c) in body.char_indices() {
            if c == '\\' {
                escape = true;
            } else if c == '"' {
                if !escape {
                    return (body[..i].to_string(), &body[i + 1..]);
                }
                escape = false;
            }
        }
        return (body.to_string(), "");
    }
    (String::new(), stmt)
}

/// Where an `insert` goes: (database, retention policy, line).
fn parse_insert<'a>(
    stmt: &'a str,
    db: &str,
    rp: &str,
) -> Result<(String, String, &'a str), String> {
    let (kw, point) = next_identifier(stmt);
    if !kw.eq_ignore_ascii_case("insert") {
        return Err(format!("found {kw}, expected INSERT"));
    }
    let (into, rest) = next_identifier(point);
    if !into.eq_ignore_ascii_case("into") {
        return Ok((db.to_string(), rp.to_string(), point));
    }
    let (mut ident, mut rest) = next_identifier(rest);
    let (mut db, mut rp) = (db.to_string(), rp.to_string());
    if let Some(r) = rest.strip_prefix('.') {
        db = ident;
        (ident, rest) = next_identifier(r);
    }
    if let Some(r) = rest.strip_prefix(' ') {
        rp = ident;
        rest = r;
    }
    Ok((db, rp, rest))
}

/// `ParseConnectionString`: host[:port] with the default port.
fn parse_connection_string(addr: &str) -> Result<(String, i64), String> {
    if addr.is_empty() {
        return Ok((DEFAULT_HOST.to_string(), DEFAULT_PORT));
    }
    let split = if let Some(rest) = addr.strip_prefix('[') {
        rest.find(']').and_then(|end| {
            rest[end + 1..]
                .strip_prefix(':')
                .map(|p| (rest[..end].to_string(), p.to_string()))
        })
    } else {
        match addr.rfind(':') {
            Some(i) if !addr[..i].contains(':') => {
                Some((addr[..i].to_string(), addr[i + 1..].to_string()))
            }
            _ => None,
        }
    };
    match split {
        None => Ok((addr.to_string(), DEFAULT_PORT)),
        Some((h, p)) => match p.parse::<i64>() {
            Ok(n)
                if p.bytes()
                    .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+') =>
            {
                Ok((h, n))
            }
            _ => Err(format!(
                "invalid port number {}: strconv.Atoi: parsing {}: invalid syntax\n",
                go_quote(addr),
                go_quote(&p)
            )),
        },
    }
}

impl CommandLine {
    /// A session configured from the flags, writing to `out`.
    pub fn new(opts: &Options, out: Box<dyn Write>) -> CommandLine {
        CommandLine {
            host: opts.host.clone(),
            port: opts.port,
            ssl: opts.ssl,
            unsafe_ssl: opts.unsafe_ssl,
            username: opts.username.clone(),
            password: opts.password.clone(),
            database: opts.database.clone(),
            retention_policy: String::new(),
            format: opts.format.clone(),
            pretty: opts.pretty,
            precision: opts.precision.clone(),
            consistency: opts.consistency.clone(),
            chunked: true,
            chunk_size: 0,
            node_id: opts.node,
            server_version: String::new(),
            quit: false,
            client: None,
            out,
            interrupt: None,
        }
    }

    /// Lets Ctrl-C (a flag raised by a signal handler) abort running
    /// queries with `ERR: aborted by user` instead of ending the shell.
    pub fn set_interrupt_flag(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = Some(flag);
    }

    /// Runs a query, abandoning it if the interrupt flag gets raised.
    fn run_query(&self, q: Query) -> Result<crate::response::Response> {
        let client = self.client()?.clone();
        let Some(flag) = self.interrupt.clone() else {
            return client.query(&q, |_| {});
        };
        flag.store(false, Ordering::SeqCst);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(client.query(&q, |_| {}));
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(r) => return r,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Transport("no data received".to_string()))
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if flag.swap(false, Ordering::SeqCst) {
                        return Err(Error::Transport("aborted by user".to_string()));
                    }
                }
            }
        }
    }

    fn say(&mut self, text: &str) {
        // Output errors (closed pipe) are not worth aborting a session for.
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }

    /// The connected client (after a successful or attempted `connect`).
    pub fn client(&self) -> Result<&Client> {
        self.client
            .as_ref()
            .ok_or_else(|| Error::Usage("not connected".to_string()))
    }

    /// Client settings for the current session.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            host: self.host.clone(),
            port: self.port,
            ssl: self.ssl,
            unsafe_ssl: self.unsafe_ssl,
            username: self.username.clone(),
            password: self.password.clone(),
            user_agent: format!("InfluxDBShell/{CLIENT_VERSION}"),
        }
    }

    /// `connect [host:port]`: (re)creates the client and pings the server.
    pub fn connect(&mut self, cmd: &str) -> Result<(), CommandError> {
        let lower = cmd.to_lowercase();
        let mut addr = lower.replace("connect", "").trim().to_string();
        if addr.is_empty() {
            addr = join_host_port(&self.host, self.port);
        }
        let (host, port) = parse_connection_string(&addr).map_err(CommandError::Failed)?;
        let mut cfg = self.client_config();
        cfg.host = host.clone();
        cfg.port = port;
        let client = Client::new(&cfg).map_err(|e| match e {
            Error::Usage(m) => CommandError::Failed(m),
            other => CommandError::Failed(format!("Could not create client {other}")),
        })?;
        let ping = client.ping();
        self.client = Some(client);
        self.server_version = ping.map_err(to_failed)?;
        self.host = host;
        self.port = port;
        Ok(())
    }

    /// Runs one shell line. `prompter` is available in interactive mode.
    pub fn parse_command(
        &mut self,
        cmd: &str,
        prompter: Option<&mut dyn Prompter>,
    ) -> Result<(), CommandError> {
        let lcmd = cmd.trim().to_lowercase();
        let Some(first) = lcmd.split_whitespace().next() else {
            return Err(CommandError::Blank);
        };
        match first {
            "exit" | "quit" => self.quit = true,
            "connect" => return self.connect(cmd),
            "auth" => self.set_auth(cmd, prompter),
            "help" => self.say(HELP),
            "history" => {
                if let Some(p) = prompter {
                    let mut text = String::new();
                    for h in p.history() {
                        text.push_str(&h);
                        text.push('\n');
                    }
                    self.say(&text);
                }
            }
            "format" => self.set_format(cmd),
            "precision" => self.set_precision(cmd),
            "consistency" => self.set_consistency(cmd),
            "settings" => self.settings(),
            "chunked" => {
                self.chunked = !self.chunked;
                if self.chunked {
                    self.say("chunked responses enabled\n");
                } else {
                    self.say("chunked reponses disabled\n");
                }
            }
            "chunk" => self.set_chunk_size(cmd),
            "pretty" => {
                self.pretty = !self.pretty;
                if self.pretty {
                    self.say("Pretty print enabled\n");
                } else {
                    self.say("Pretty print disabled\n");
                }
            }
            "use" => self.use_db(cmd),
            "node" => self.node(cmd),
            "insert" => self.insert(cmd),
            "clear" => self.clear(cmd),
            _ => return self.execute_query(cmd),
        }
        Ok(())
    }

    fn set_auth(&mut self, cmd: &str, prompter: Option<&mut dyn Prompter>) {
        let args: Vec<&str> = cmd.split_whitespace().collect();
        if args.len() == 3 {
            self.username = args[1].to_string();
            self.password = args[2].to_string();
        } else {
            let Some(p) = prompter else {
                self.say("Unable to process input: no terminal");
                return;
            };
            let Some(u) = p.prompt("username: ") else {
                self.say("Unable to process input: EOF");
                return;
            };
            self.username = u.trim().to_string();
            let Some(pw) = p.password("password: ") else {
                self.say("Unable to process input: EOF");
                return;
            };
            self.password = pw;
        }
        let (u, p) = (self.username.clone(), self.password.clone());
        if let Some(c) = self.client.as_mut() {
            c.set_auth(&u, &p);
        }
    }

    fn clear(&mut self, cmd: &str) {
        let trimmed = cmd.trim();
        let trimmed = trimmed.strip_suffix(';').unwrap_or(trimmed);
        let args: Vec<&str> = trimmed.split(' ').collect();
        let v = args[1..].join(" ").to_lowercase();
        match v.as_str() {
            "database" | "db" => {
                self.database.clear();
                self.say("database context cleared\n");
            }
            "retention policy" | "rp" => {
                self.retention_policy.clear();
                self.say("retention policy context cleared\n");
            }
            _ => {
                if args.len() > 1 {
                    self.say(&format!("invalid command {}.\n", go_quote(&v)));
                }
                self.say(CLEAR_HELP);
            }
        }
    }

    fn use_db(&mut self, cmd: &str) {
        let trimmed = cmd.trim();
        let trimmed = trimmed.strip_suffix(';').unwrap_or(trimmed);
        let Some((_, stmt)) = trimmed.split_once(' ') else {
            self.say(&format!(
                "Could not parse database name from {}.\n",
                go_quote(cmd)
            ));
            return;
        };
        let Some((db, rp)) = parse_database_and_rp(stmt) else {
            self.say(&format!(
                "Unable to parse database or retention policy from {stmt}"
            ));
            return;
        };
        if !self.database_exists(&db) {
            self.say("DB does not exist!\n");
            return;
        }
        self.database = db.clone();
        self.say(&format!("Using database {db}\n"));
        if !rp.is_empty() {
            if !self.retention_policy_exists(&db, &rp) {
                return;
            }
            self.retention_policy = rp.clone();
            self.say(&format!("Using retention policy {rp}\n"));
        }
    }

    /// Runs a helper query the way `use` does (not chunked, no database).
    fn meta_query(&mut self, command: String) -> Result<crate::response::Response, String> {
        let q = Query {
            command,
            epoch: self.precision.clone(),
            ..Query::default()
        };
        let client = self.client().map_err(|e| e.to_string())?;
        client.query(&q, |_| {}).map_err(|e| e.to_string())
    }

    /// Checks a query answer for `use`; `Some(exists)` decided, `None` when
    /// the answer could not be trusted and a warning was printed.
    fn check_meta(
        &mut self,
        resp: std::result::Result<crate::response::Response, String>,
    ) -> std::result::Result<crate::response::Response, bool> {
        match resp {
            Err(e) => {
                self.say(&format!("ERR: {e}\n"));
                Err(false)
            }
            Ok(r) => match r.first_error().map(str::to_string) {
                Some(e) if self.username.is_empty() => {
                    self.say(&format!("ERR: {e}\n"));
                    Err(false)
                }
                Some(e) => {
                    self.say(&format!("WARN: {e}\n"));
                    Err(true)
                }
                None => Ok(r),
            },
        }
    }

    fn database_exists(&mut self, db: &str) -> bool {
        let resp = self.meta_query("SHOW DATABASES".to_string());
        let r = match self.check_meta(resp) {
            Ok(r) => r,
            Err(decided) => return decided,
        };
        let found = r.results.iter().any(|res| {
            res.series.iter().any(|row| {
                row.name == "databases"
                    && row.values.iter().any(|vals| {
                        vals.iter()
                            .any(|v| matches!(v, Value::String(s) if s == db))
                    })
            })
        });
        if !found {
            self.say(&format!(
                "ERR: Database {db} doesn't exist. Run SHOW DATABASES for a list of existing databases.\n"
            ));
        }
        found
    }

    fn retention_policy_exists(&mut self, db: &str, rp: &str) -> bool {
        let resp = self.meta_query(format!("SHOW RETENTION POLICIES ON {}", go_quote(db)));
        let r = match self.check_meta(resp) {
            Ok(r) => r,
            Err(decided) => return decided,
        };
        let found = r.results.iter().any(|res| {
            res.series.iter().any(|row| {
                row.values
                    .iter()
                    .any(|vals| matches!(vals.first(), Some(Value::String(s)) if s == rp))
            })
        });
        if !found {
            self.say(&format!(
                "ERR: RETENTION POLICY {rp} doesn't exist. Run SHOW RETENTION POLICIES ON {} for a list of existing retention polices.\n",
                go_quote(db)
            ));
        }
        found
    }

    fn node(&mut self, cmd: &str) {
        let trimmed = cmd.trim();
        let trimmed = trimmed.strip_suffix(';').unwrap_or(trimmed);
        let args: Vec<&str> = trimmed.split(' ').collect();
        if args.len() != 2 {
            self.say("Improper number of arguments for 'node' command, requires exactly one.\n");
            return;
        }
        if args[1] == "clear" {
            self.node_id = 0;
            return;
        }
        match args[1].parse::<i64>() {
            Ok(n) => self.node_id = n,
            Err(_) => self.say(&format!(
                "Unable to parse node id from {}. Must be an integer or 'clear'.\n",
                args[1]
            )),
        }
    }

    fn set_chunk_size(&mut self, cmd: &str) {
        let norm = cmd
            .to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let rest = norm.strip_prefix("chunk size ").unwrap_or(&norm);
        let rest = rest.strip_prefix("chunk ").unwrap_or(rest);
        match rest.parse::<i64>() {
            Ok(n) => {
                self.chunk_size = n.max(0);
                let n = self.chunk_size;
                self.say(&format!("chunk size set to {n}\n"));
            }
            Err(_) => self.say(&format!(
                "unable to parse chunk size from {}\n",
                go_quote(rest)
            )),
        }
    }

    /// `precision <p>`; also applied to the `-precision` flag at start-up.
    pub fn set_precision(&mut self, cmd: &str) {
        let p = cmd
            .to_lowercase()
            .replace("precision", "")
            .trim()
            .to_string();
        match p.as_str() {
            "h" | "m" | "s" | "ms" | "u" | "ns" => self.precision = p,
            "rfc3339" => self.precision.clear(),
            _ => self.say(&format!(
                "Unknown precision {}. Please use rfc3339, h, m, s, ms, u or ns.\n",
                go_quote(&p)
            )),
        }
    }

    fn set_format(&mut self, cmd: &str) {
        let f = cmd.to_lowercase().replace("format", "").trim().to_string();
        match f.as_str() {
            "json" | "csv" | "column" => self.format = f,
            _ => self.say(&format!(
                "Unknown format {}. Please use json, csv, or column.\n",
                go_quote(&f)
            )),
        }
    }

    fn set_consistency(&mut self, cmd: &str) {
        let c = cmd
            .to_lowercase()
            .replace("consistency", "")
            .trim()
            .to_string();
        match c.as_str() {
            "any" | "one" | "quorum" | "all" => self.consistency = c,
            _ => self.say(&format!(
                "Unknown consistency level {}. Please use any, one, quorum, or all.\n",
                go_quote(&c)
            )),
        }
    }

    /// The `settings` table.
    pub fn settings_text(&self) -> String {
        let mut w = TabWriter::new(0, 1);
        w.line("Setting\tValue");
        w.line("--------\t--------");
        if self.port > 0 {
            w.line(&format!("Host\t{}:{}", self.host, self.port));
        } else {
            w.line(&format!("Host\t{}", self.host));
        }
        w.line(&format!("Username\t{}", self.username));
        w.line(&format!("Database\t{}", self.database));
        w.line(&format!("RetentionPolicy\t{}", self.retention_policy));
        w.line(&format!("Pretty\t{}", self.pretty));
        w.line(&format!("Format\t{}", self.format));
        w.line(&format!("Write Consistency\t{}", self.consistency));
        w.line(&format!("Chunked\t{}", self.chunked));
        w.line(&format!("Chunk Size\t{}", self.chunk_size));
        w.line("");
        w.finish()
    }

    fn settings(&mut self) {
        let t = self.settings_text();
        self.say(&t);
    }

    fn insert(&mut self, cmd: &str) {
        let (db, rp, line) = match parse_insert(cmd, &self.database, &self.retention_policy) {
            Ok(x) => x,
            Err(e) => {
                self.say(&format!("ERR: {e}\n"));
                return;
            }
        };
        let body = format!("{line}\n");
        let params = WriteParams {
            database: &db,
            retention_policy: &rp,
            precision: &self.precision,
            consistency: &self.consistency,
        };
        let result = self.client().and_then(|c| c.write(&body, &params));
        if let Err(e) = result {
            self.say(&format!("ERR: {e}\n"));
            if self.database.is_empty() {
                self.say(
                    "Note: error may be due to not setting a database or retention policy.\n\
                     Please set a database with the command \"use <database>\" or\n\
                     INSERT INTO <database>.<retention-policy> <point>\n",
                );
            }
        }
    }

    /// Sends any other line to the server as a query and prints the answer.
    pub fn execute_query(&mut self, query: &str) -> Result<(), CommandError> {
        let q = Query {
            command: query.to_string(),
            database: self.database.clone(),
            retention_policy: self.retention_policy.clone(),
            chunked: self.chunked,
            chunk_size: self.chunk_size,
            epoch: self.precision.clone(),
            node_id: self.node_id,
        };
        let result = self.run_query(q);
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                self.say(&format!("ERR: {msg}\n"));
                return Err(CommandError::Failed(msg));
            }
        };
        let text = format::render(&resp, &self.format, self.pretty);
        self.say(&text);
        if let Some(e) = resp.first_error() {
            let msg = e.to_string();
            self.say(&format!("ERR: {msg}\n"));
            if self.database.is_empty() {
                self.say(
                    "Warning: It is possible this error is due to not setting a database.\n\
                     Please set a database with the command \"use <database>\".\n",
                );
            }
            return Err(CommandError::Failed(msg));
        }
        Ok(())
    }
}

/// Output of `help`.
pub const HELP: &str = "Usage:
        connect <host:port>   connects to another node specified by host:port
        auth                  prompts for username and password
        pretty                toggles pretty print for the json format
        chunked               turns on chunked responses from server
        chunk size <size>     sets the size of the chunked responses.  Set to 0 to reset to the default chunked size
        use <db_name>         sets current database
        format <format>       specifies the format of the server responses: json, csv, or column
        precision <format>    specifies the format of the timestamp: rfc3339, h, m, s, ms, u or ns
        consistency <level>   sets write consistency level: any, one, quorum, or all
        history               displays command history
        settings              outputs the current settings for the shell
        clear                 clears settings such as database or retention policy.  run 'clear' for help
        exit/quit/ctrl+d      quits the influx shell

        show databases        show database names
        show series           show series information
        show measurements     show measurement information
        show tag keys         show tag key information
        show field keys       show field key information

        A full list of influxql commands can be found at:
        https://docs.influxdata.com/influxdb/latest/query_language/spec/
";

/// Output of `clear` without a valid argument.
pub const CLEAR_HELP: &str = "Possible commands for 'clear' are:
    # Clear the database context
    clear database
    clear db

    # Clear the retention policy context
    clear retention policy
    clear rp
\t\t
";

#[cfg(test)]
mod tests;
