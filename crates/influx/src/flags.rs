//! Go `flag`-package compatible command-line parsing for `influx`.
//!
//! Owns the option set of the InfluxDB 1.x CLI with its defaults, the
//! single-dash long-flag syntax (`-port 8086`, `-port=8086`, `--port`), and the
//! usage text. It must not perform any I/O besides returning texts: printing
//! and exiting is the caller's job.

/// Default server host.
pub const DEFAULT_HOST: &str = "localhost";
/// Default server port.
pub const DEFAULT_PORT: i64 = 8086;

/// All options of the CLI, with the 1.x defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub host: String,
    pub port: i64,
    pub socket: String,
    pub username: String,
    pub password: String,
    pub database: String,
    pub ssl: bool,
    pub unsafe_ssl: bool,
    pub execute: String,
    pub format: String,
    pub precision: String,
    pub consistency: String,
    pub pretty: bool,
    pub node: i64,
    pub show_version: bool,
    pub import: bool,
    pub pps: i64,
    pub path: String,
    pub compressed: bool,
    /// True when a `-password`/`--password` flag was given but left empty:
    /// the CLI must prompt for it.
    pub prompt_password: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            host: DEFAULT_HOST.to_string(),
            port: DEFAULT_PORT,
            socket: String::new(),
            username: String::new(),
            password: String::new(),
            database: String::new(),
            ssl: false,
            unsafe_ssl: false,
            execute: String::new(),
            format: "column".to_string(),
            precision: "ns".to_string(),
            consistency: "all".to_string(),
            pretty: false,
            node: 0,
            show_version: false,
            import: false,
            pps: 0,
            path: String::new(),
            compressed: false,
            prompt_password: false,
        }
    }
}

/// Outcome of a failed parse, mirroring what Go's `flag.ExitOnError` and the
/// 1.x `main` do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagError {
    /// `-h`/`-help`: print usage on stdout, exit 0.
    Help,
    /// A flag error: print the message on stderr, the usage on stdout, exit 2.
    Invalid(String),
    /// Positional arguments left over: message on stderr, usage, exit 1.
    UnknownArguments(String),
}

impl FlagError {
    /// Process exit status the Go CLI uses for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            FlagError::Help => 0,
            FlagError::Invalid(_) => 2,
            FlagError::UnknownArguments(_) => 1,
        }
    }

    /// The message printed on stderr (none for `Help`).
    pub fn message(&self) -> Option<&str> {
        match self {
            FlagError::Help => None,
            FlagError::Invalid(m) | FlagError::UnknownArguments(m) => Some(m),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Str,
    Int,
}

fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "ssl" | "unsafeSsl" | "pretty" | "version" | "import" | "compressed" => Kind::Bool,
        "host" | "socket" | "username" | "password" | "database" | "execute" | "format"
        | "precision" | "consistency" | "path" => Kind::Str,
        "port" | "node" | "pps" => Kind::Int,
        _ => return None,
    })
}

/// Parses a boolean the way Go's `strconv.ParseBool` does.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Parses an integer the way Go's `strconv.ParseInt(s, 0, 64)` does
/// (sign, `0x`/`0o`/`0b`/leading-`0` prefixes, `_` separators with a prefix).
/// Returns the Go error word (`parse error` / `value out of range`) on failure.
fn parse_go_int(s: &str) -> Result<i64, &'static str> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err("parse error");
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed {
        if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
            return Err("parse error");
        }
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err("parse error");
    }
    let mag = u128::from_str_radix(&digits, radix).map_err(|_| "value out of range")?;
    let v: i128 = if neg { -(mag as i128) } else { mag as i128 };
    i64::try_from(v).map_err(|_| "value out of range")
}

impl Options {
    fn set(&mut self, name: &str, value: &str) -> Result<(), FlagError> {
        let kind = kind_of(name)
            .ok_or_else(|| FlagError::Invalid(format!("flag provided but not defined: -{name}")))?;
        match kind {
            Kind::Bool => {
                let b = parse_go_bool(value).ok_or_else(|| {
                    FlagError::Invalid(format!(
                        "invalid boolean value {} for -{name}: parse error",
                        go_quote(value)
                    ))
                })?;
                match name {
                    "ssl" => self.ssl = b,
                    "unsafeSsl" => self.unsafe_ssl = b,
                    "pretty" => self.pretty = b,
                    "version" => self.show_version = b,
                    "import" => self.import = b,
                    _ => self.compressed = b,
                }
            }
            Kind::Int => {
                let n = parse_go_int(value).map_err(|why| {
                    FlagError::Invalid(format!(
                        "invalid value {} for flag -{name}: {why}",
                        go_quote(value)
                    ))
                })?;
                match name {
                    "port" => self.port = n,
                    "node" => self.node = n,
                    _ => self.pps = n,
                }
            }
            Kind::Str => {
                let v = value.to_string();
                match name {
                    "host" => self.host = v,
                    "socket" => self.socket = v,
                    "username" => self.username = v,
                    "password" => self.password = v,
                    "database" => self.database = v,
                    "execute" => self.execute = v,
                    "format" => self.format = v,
                    "precision" => self.precision = v,
                    "consistency" => self.consistency = v,
                    _ => self.path = v,
                }
            }
        }
        Ok(())
    }
}

/// Quotes a string like Go's `%q` for the printable-ASCII cases that matter
/// in error messages.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Parses the arguments (without the program name).
pub fn parse<I, S>(args: I) -> Result<Options, FlagError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<String> = args.into_iter().map(|s| s.as_ref().to_string()).collect();
    let mut opts = Options::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg.len() < 2 || !arg.starts_with('-') {
            break;
        }
        let mut name = &arg[1..];
        if let Some(rest) = name.strip_prefix('-') {
            if rest.is_empty() {
                // "--" terminates the flags.
                i += 1;
                break;
            }
            name = rest;
        }
        if name.is_empty() || name.starts_with('-') || name.starts_with('=') {
            return Err(FlagError::Invalid(format!("bad flag syntax: {arg}")));
        }
        i += 1;
        let (name, inline) = match name.find('=') {
            Some(eq) => (&name[..eq], Some(&name[eq + 1..])),
            None => (name, None),
        };
        if (name == "help" || name == "h") && kind_of(name).is_none() {
            return Err(FlagError::Help);
        }
        let kind = kind_of(name)
            .ok_or_else(|| FlagError::Invalid(format!("flag provided but not defined: -{name}")))?;
        let value = match (inline, kind) {
            (Some(v), _) => v.to_string(),
            (None, Kind::Bool) => "true".to_string(),
            (None, _) => match args.get(i) {
                Some(v) => {
                    i += 1;
                    v.clone()
                }
                None => {
                    return Err(FlagError::Invalid(format!(
                        "flag needs an argument: -{name}"
                    )))
                }
            },
        };
        opts.set(name, &value)?;
    }
    let rest = &args[i.min(args.len())..];
    if !rest.is_empty() {
        return Err(FlagError::UnknownArguments(format!(
            "unknown arguments: {}",
            rest.join(" ")
        )));
    }
    // Like 1.x: a `-password` flag given with an empty value means "prompt".
    opts.prompt_password = opts.password.is_empty()
        && args.iter().any(|a| {
            let a = a.to_lowercase();
            a.starts_with("-password") || a.starts_with("--password")
        });
    Ok(opts)
}

/// The usage text printed by `-help` and on flag errors (stdout).
pub const USAGE: &str = r#"Usage of influx:
  -version
       Display the version and exit.
  -host 'host name'
       Host to connect to.
  -port 'port #'
       Port to connect to.
  -socket 'unix domain socket'
       Unix socket to connect to.
  -database 'database name'
       Database to connect to the server.
  -password 'password'
      Password to connect to the server.  Leaving blank will prompt for password (--password '').
  -username 'username'
       Username to connect to the server.
  -ssl
        Use https for requests.
  -unsafeSsl
        Set this when connecting to the cluster using https and not use SSL verification.
  -execute 'command'
       Execute command and quit.
  -format 'json|csv|column'
       Format specifies the format of the server responses:  json, csv, or column.
  -precision 'rfc3339|h|m|s|ms|u|ns'
       Precision specifies the format of the timestamp:  rfc3339, h, m, s, ms, u or ns.
  -consistency 'any|one|quorum|all'
       Set write consistency level: any, one, quorum, or all
  -pretty
       Turns on pretty print for the json format.
  -import
       Import a previous database export from file
  -pps
       How many points per second the import will allow.  By default it is zero and will not throttle importing.
  -path
       Path to file to import
  -compressed
       Set to true if the import file is compressed

Examples:

    # Use influx in a non-interactive mode to query the database "metrics" and pretty print json:
    $ influx -database 'metrics' -execute 'select * from cpu' -format 'json' -pretty

    # Connect to a specific database on startup and set database context:
    $ influx -database 'metrics' -host 'localhost' -port '8086'
"#;

#[cfg(test)]
mod tests;
